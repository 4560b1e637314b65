import { BENCH_SEALED_ID_NUMBER } from '../helpers/keys.ts';
import { eq } from 'drizzle-orm';
import { users } from '../../db/schema/index.ts';
import { actorOf } from '../../domain/auth/sessions.ts';
import { listTerminations, terminationCounts, type TerminationTab } from '../../domain/terminations/terminate.ts';
import { best, onBenchDatabase, runAlone } from './standalone.ts';

// 解约管理 at a million rows, all in one school (the worst case): 100,000 signed agreements with ten
// terminations each (70% 解约失败, 20% 已解约, 10% waiting for the unit). A page of a tab, the
// tab counts and a search, each the best of three warm runs.
const AGREEMENTS = 100_000;
const BUDGET_PAGE_MS = 50;
const BUDGET_SEARCH_MS = 300;

export async function measureTerminationList(serverUrl: string): Promise<{ rows: string[][]; over: number }> {
  return onBenchDatabase(serverUrl, 'bench_terminations', async (db) => {
    const sql = db.$client;
    const started = performance.now();
    await sql`insert into graduates (school_id, department_id, cohort, name, sex, id_number_sealed, id_number_index, id_number_masked, ethnicity, political_status, birth_date, education_level, major_name, training_mode, origin_region, student_no, program_years, enrolled_on, graduates_on, phone)
      select d.school_id, d.id, 2026, '压测' || g, '1', ${BENCH_SEALED_ID_NUMBER}, 'B' || lpad(g::text, 17, '0'), '110105********0011', '01', '03', '2004-01-01', '31', '软件工程', '1', '110105', 'S' || g, '4', '2022-09', '2026-06', '13900000000'
      from generate_series(1, ${AGREEMENTS}) g, (select id, school_id from departments order by id limit 1) d`;
    await sql`insert into agreements (kind, state, employer_id, graduate_id, school_id, department_id, cohort, position_category, position_name, archive_mode, unit_snapshot, invited_at, validity_days, deadline, contact_name, contact_phone, work_place)
      select 'online', 'signed', (select id from employers order by id limit 1), g.id, g.school_id, g.department_id, 2026, '13', '工程师', 'none', jsonb_build_object('name', '压测单位' || (g.id % 1000)), now(), 3, now(), '联系人', '13800000000', '北京'
      from graduates g where id_number_index like 'B%'`;
    await sql`insert into terminations (agreement_id, path, initiator, state, graduate_id, employer_id, school_id, department_id, cohort, requested_by, reason, updated_at)
      select a.id, 'online', 'graduate', (case when k < 7 then 'failed' when k < 9 then 'terminated' else 'awaiting_unit' end)::termination_state,
        a.graduate_id, a.employer_id, a.school_id, a.department_id, 2026, (select id from users order by id limit 1), '压测', now() - random() * interval '300 days'
      from agreements a, generate_series(0, 9) k where a.unit_snapshot->>'name' like '压测单位%'`;
    await sql`vacuum analyze`;
    const seeded = ((performance.now() - started) / 1000).toFixed(0);
    const [schoolUser] = await db.select().from(users).where(eq(users.login, '10001-admin'));
    const actor = actorOf(schoolUser!, 'bench', false);
    const rows: string[][] = [];
    let over = 0;
    const page = (tab: TerminationTab, n: number) => listTerminations(db, actor, { tab, page: n });
    for (const [label, ms, budget] of [
      [`解约管理 1,000,000 rows (seeded in ${seeded} s): 解约失败 page 1`, await best(() => page('failed', 1)), BUDGET_PAGE_MS],
      ['  解约失败 page 50', await best(() => page('failed', 50)), BUDGET_PAGE_MS],
      ['  学生发起解约等待单位应约 page 1 (two states merged)', await best(() => page('awaiting', 1)), BUDGET_PAGE_MS],
      ['  the five tab counts (capped at 10000)', await best(() => terminationCounts(db, actor)), BUDGET_PAGE_MS],
      ['  search by name in 解约失败', await best(() => listTerminations(db, actor, { tab: 'failed', page: 1, q: '压测5000' })), BUDGET_SEARCH_MS],
    ] as const) {
      rows.push([label, `${ms.toFixed(1)} ms`, `≤ ${budget} ms`]);
      over += Number(ms > budget);
    }
    return { rows, over };
  });
}

if (import.meta.main) {
  await runAlone(measureTerminationList);
}
