import { BENCH_SEALED_ID_NUMBER } from '../helpers/keys.ts';
import { eq } from 'drizzle-orm';
import { users } from '../../db/schema/index.ts';
import { actorOf } from '../../domain/auth/sessions.ts';
import { listRegistrations, registrationCounts, type DestinationTab } from '../../domain/destinations/register.ts';
import { best, onBenchDatabase, runAlone } from './standalone.ts';

// 去向登记管理 at a million rows, all in one school (the worst case): 200,000 graduates with five
// registrations each — four ended (作废 or 不通过) and one standing (80% 审核通过, 20% spread over
// the four states of 去向登记审核中). A page of a tab, the tab counts, a search and a type filter,
// each the best of three warm runs.
const GRADUATES = 200_000;
const BUDGET_PAGE_MS = 50;
// Issue 14, goal 2: a search of a list at scale within 100 ms (the destination issue had asked 300).
const BUDGET_SEARCH_MS = 100;

export async function measureDestinationList(serverUrl: string): Promise<{ rows: string[][]; over: number }> {
  return onBenchDatabase(serverUrl, 'bench_destinations', async (db) => {
    const sql = db.$client;
    const started = performance.now();
    await sql`insert into graduates (school_id, department_id, cohort, name, sex, id_number_sealed, id_number_index, id_number_masked, ethnicity, political_status, birth_date, education_level, major_name, training_mode, origin_region, student_no, program_years, enrolled_on, graduates_on, phone)
      select d.school_id, d.id, 2026, '压测' || g, '1', ${BENCH_SEALED_ID_NUMBER}, 'D' || lpad(g::text, 17, '0'), '110105********0011', '01', '03', '2004-01-01', '31', '软件工程', '1', '110105', 'S' || g, '4', '2022-09', '2026-06', '13900000000'
      from generate_series(1, ${GRADUATES}) g, (select id, school_id from departments order by id limit 1) d`;
    await sql`insert into destination_registrations (state, graduate_id, school_id, department_id, cohort, type, code, details, updated_at)
      select (case when k < 4 then (case when k < 3 then 'voided' else 'rejected' end)
                   when g.id % 5 = 0 then (array['department_review', 'school_review', 'returned', 'withdrawn'])[1 + (g.id / 5) % 4]
                   else 'approved' end)::destination_state,
        g.id, g.school_id, g.department_id, 2026, (array['freelance', 'postgraduate', 'labour_contract', 'awaiting_work'])[1 + (g.id + k) % 4],
        (array['76', '80', '11', '70'])[1 + (g.id + k) % 4], '{}'::jsonb, now() - random() * interval '300 days'
      from graduates g, generate_series(0, 4) k where g.id_number_index like 'D%'`;
    await sql`vacuum analyze`;
    const seeded = ((performance.now() - started) / 1000).toFixed(0);
    const [schoolUser] = await db.select().from(users).where(eq(users.login, '10001-admin'));
    const actor = actorOf(schoolUser!, 'bench', false);
    const rows: string[][] = [];
    let over = 0;
    const page = (tab: DestinationTab, n: number) => listRegistrations(db, actor, { tab, page: n });
    for (const [label, ms, budget] of [
      [`去向登记管理 1,000,000 rows (seeded in ${seeded} s): 审核通过 page 1`, await best(() => page('approved', 1)), BUDGET_PAGE_MS],
      ['  审核通过 page 50', await best(() => page('approved', 50)), BUDGET_PAGE_MS],
      ['  去向登记审核中 page 1 (four states)', await best(() => page('review', 1)), BUDGET_PAGE_MS],
      ['  the four tab counts (capped at 10000)', await best(() => registrationCounts(db, actor)), BUDGET_PAGE_MS],
      ['  去向登记审核中 filtered by type', await best(() => listRegistrations(db, actor, { tab: 'review', page: 1, type: 'postgraduate' })), BUDGET_PAGE_MS],
      ['  search by name in 审核通过', await best(() => listRegistrations(db, actor, { tab: 'approved', page: 1, q: '压测5000' })), BUDGET_SEARCH_MS],
    ] as const) {
      rows.push([label, `${ms.toFixed(1)} ms`, `≤ ${budget} ms${ms > budget ? ' OVER' : ''}`]);
      over += Number(ms > budget);
    }
    return { rows, over };
  });
}

if (import.meta.main) {
  await runAlone(measureDestinationList);
}
