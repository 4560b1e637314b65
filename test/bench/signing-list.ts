import { eq } from 'drizzle-orm';
import { users } from '../../db/schema/index.ts';
import { listForReview, reviewCounts } from '../../domain/agreements/review.ts';
import { actorOf } from '../../domain/auth/sessions.ts';
import { BENCH_SEALED_ID_NUMBER } from '../helpers/keys.ts';
import { best, onBenchDatabase, runAlone } from './standalone.ts';

// 在线签约管理 at a million agreements in one school (issue 14's worst case): 50,000 graduates with
// twenty agreements each, one standing (signed, in review or invited) and nineteen that failed
// (declined, expired). Every page, the count cards and the searches, each the best of three warm runs.
const GRADUATES = 50_000;
const PER_GRADUATE = 20;
const BUDGET_PAGE_MS = 50;
const BUDGET_SEARCH_MS = 100;
const KINDS = ['online', 'offline'] as const;

export async function measureSigningList(serverUrl: string): Promise<{ rows: string[][]; over: number }> {
  return onBenchDatabase(serverUrl, 'bench_signing', async (db) => {
    const sql = db.$client;
    const started = performance.now();
    await sql`insert into graduates (school_id, department_id, cohort, name, sex, id_number_sealed, id_number_index, id_number_masked, ethnicity, political_status, birth_date, education_level, major_name, training_mode, origin_region, student_no, program_years, enrolled_on, graduates_on, phone)
      select d.school_id, d.id, 2026, '压测' || g, '1', ${BENCH_SEALED_ID_NUMBER}, 'S' || lpad(g::text, 17, '0'), '110105********0011', '01', '03', '2004-01-01', '31', '软件工程', '1', '110105', 'S' || g, '4', '2022-09', '2026-06', '13900000000'
      from generate_series(1, ${GRADUATES}) g
      join (select id, school_id, row_number() over (order by id) - 1 as n from departments where school_id = (select id from schools where code = '10001')) d on d.n = g % 2`;
    await sql`insert into agreements (kind, state, employer_id, graduate_id, school_id, department_id, cohort, position_category, position_name, archive_mode, unit_snapshot, invited_at, validity_days, deadline, contact_name, contact_phone, work_place, updated_at)
      select (case when k = 0 and g.id % 10 >= 8 then 'offline' else 'online' end)::agreement_kind,
             (case when k > 0 then (case when k % 2 = 0 then 'declined' else 'expired' end)
                   when g.id % 10 >= 8 then (array['agreement_school_review', 'signing_school_review'])[1 + g.id % 2]
                   else (array['signed', 'signed', 'signed', 'school_review', 'department_review', 'invited', 'signed', 'signed'])[1 + g.id % 8] end)::agreement_state,
             (select id from employers order by id limit 1), g.id, g.school_id, g.department_id, 2026, '13', '工程师', 'none',
             jsonb_build_object('name', '压测单位' || ((g.id * ${PER_GRADUATE} + k) % 5000)), now(), 3, now(), '联系人', '13800000000', '北京',
             now() - random() * interval '300 days'
        from graduates g, generate_series(0, ${PER_GRADUATE - 1}) k where g.id_number_index like 'S%'`;
    await sql`vacuum analyze`;
    const seeded = ((performance.now() - started) / 1000).toFixed(0);
    const actorOfLogin = async (login: string) => actorOf((await db.select().from(users).where(eq(users.login, login)))[0]!, 'bench', false);
    const school = await actorOfLogin('10001-admin');
    const department = await actorOfLogin('10001-cs');
    const list = (actor: typeof school, more: Partial<Parameters<typeof listForReview>[2]> = {}) => listForReview(db, actor, { kinds: KINDS, page: 1, ...more });
    const rows: string[][] = [];
    let over = 0;
    for (const [label, ms, budget] of [
      [`在线签约管理 ${(GRADUATES * PER_GRADUATE).toLocaleString('en')} agreements in one school (seeded in ${seeded} s): page 1, every state`, await best(() => list(school)), BUDGET_PAGE_MS],
      ['  page 500 (the last the capped count offers)', await best(() => list(school, { page: 500 })), BUDGET_PAGE_MS],
      ['  page 40,000 (typed in the URL: read as the last)', await best(() => list(school, { page: 40_000 })), BUDGET_PAGE_MS],
      ['  等待学校审核 (one state) page 1', await best(() => list(school, { states: ['school_review'] })), BUDGET_PAGE_MS],
      ['  签约发起方 学生 page 1', await best(() => list(school, { initiator: 'student' })), BUDGET_PAGE_MS],
      ['  a department user, page 1', await best(() => list(department)), BUDGET_PAGE_MS],
      ['  the four count cards (capped at 10000)', await best(() => reviewCounts(db, school, '审核', KINDS)), BUDGET_PAGE_MS],
      ['  search by graduate name', await best(() => list(school, { q: '压测25000' })), BUDGET_SEARCH_MS],
      ['  search by unit name', await best(() => list(school, { q: '压测单位4321' })), BUDGET_SEARCH_MS],
    ] as const) {
      rows.push([label, `${ms.toFixed(1)} ms`, `≤ ${budget} ms`]);
      over += Number(ms > budget);
    }
    return { rows, over };
  });
}

if (import.meta.main) {
  await runAlone(measureSigningList);
}
