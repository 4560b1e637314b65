import { eq, inArray, TransactionRollbackError } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, genericPlans, type Db } from '../../db/client.ts';
import * as schema from '../../db/schema/index.ts';
import { users } from '../../db/schema/index.ts';
import { notifyGraduate, notifyReviewers, notifyUnit } from '../../domain/agreements/notify.ts';
import { expireDueInvitations } from '../../domain/agreements/online/expiry.ts';
import { listForReview, reviewCounts } from '../../domain/agreements/review.ts';
import { searchUnits } from '../../domain/agreements/applications/apply.ts';
import { listUnits } from '../../domain/employers/unit.ts';
import { issueVerificationCode } from '../../domain/auth/verification-codes.ts';
import { actorOf, type Actor } from '../../domain/auth/sessions.ts';
import { listRegistrations } from '../../domain/destinations/register.ts';
import { listGraduates } from '../../domain/graduates/roster.ts';
import { listTerminations } from '../../domain/terminations/terminate.ts';
import { refreshSchoolFigures } from '../../domain/statistics/overview.ts';
import { schoolStatistics, statisticsScope } from '../../domain/statistics/school.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { BENCH_SEALED_ID_NUMBER } from '../helpers/keys.ts';

// Issue 14: the reviewers' lists stay fast at a million rows only while their indexes serve them.
// The queries the list functions really send are captured and EXPLAINed as the planner would treat
// big tables (sequential scans and sorts priced out): each must read through its index, so a dropped
// or reshaped index, or a query that no longer fits it, fails here rather than in production.
let d: TestDatabase;
let sent: Array<{ query: string; params: unknown[] }> = [];
let traced: Db;
let school: Actor;

test.before(async () => {
  d = await freshDatabase();
  traced = drizzle(postgres(d.url, { max: 1, onnotice: () => {}, debug: (_c, query, params) => sent.push({ query, params: params as unknown[] }) }), { schema }) as Db;
  school = actorOf((await d.db.select().from(users).where(eq(users.login, '10001-admin')))[0]!, 'plans', false);
  // Enough rows for the planner's statistics to look like a school's (it prefers any small index on an empty table).
  const sql = d.db.$client;
  await sql`insert into graduates (school_id, department_id, cohort, name, sex, id_number_sealed, id_number_index, id_number_masked, ethnicity, political_status, birth_date, education_level, major_name, training_mode, origin_region, student_no, program_years, enrolled_on, graduates_on, phone)
    select d.school_id, d.id, 2026, '计划' || g, '1', ${BENCH_SEALED_ID_NUMBER}, 'P' || g, '110105********0011', '01', '03', '2004-01-01', '31', '软件工程', '1', '110105', 'P' || g, '4', '2022-09', '2026-06', '13900000000'
      from generate_series(1, 3000) g join (select id, school_id, row_number() over (order by id) - 1 as n from departments) d on d.n = g % 4`;
  await sql`insert into agreements (kind, state, employer_id, graduate_id, school_id, department_id, cohort, position_category, position_name, archive_mode, unit_snapshot, invited_at, validity_days, deadline, contact_name, contact_phone, work_place, updated_at)
    select 'online', (case when k > 0 then 'declined' else (array['signed', 'school_review', 'department_review', 'invited'])[1 + g.id % 4] end)::agreement_state,
           (select id from employers order by id limit 1), g.id, g.school_id, g.department_id, 2026, '13', '工程师', 'none', jsonb_build_object('name', '计划单位' || ((g.id * 10 + k) % 700)),
           now(), 3, now(), '联系人', '13800000000', '北京', now() - random() * interval '300 days'
      from graduates g, generate_series(0, 9) k where g.id_number_index like 'P%'`;
  await sql`insert into terminations (agreement_id, path, initiator, state, graduate_id, employer_id, school_id, department_id, cohort, requested_by, reason, updated_at)
    select a.id, 'online', 'graduate', (array['failed', 'terminated', 'awaiting_unit'])[1 + a.id % 3]::termination_state, a.graduate_id, a.employer_id, a.school_id, a.department_id, 2026,
           (select id from users order by id limit 1), '计划', now() - random() * interval '300 days'
      from agreements a where a.state = 'declined'`;
  await sql`insert into destination_registrations (state, graduate_id, school_id, department_id, cohort, type, code, details, updated_at)
    select (case when k = 0 then 'approved' else (array['voided', 'rejected'])[1 + k % 2] end)::destination_state, g.id, g.school_id, g.department_id, 2026, 'freelance', '76', '{}'::jsonb, now() - random() * interval '300 days'
      from graduates g, generate_series(0, 4) k where g.id_number_index like 'P%'`;
  // A school's size of roster beside them (no agreements): what makes the planner weigh the trigram
  // indexes against reading the school's graduates, as it must at 50,000.
  await sql`insert into graduates (school_id, department_id, cohort, name, sex, id_number_sealed, id_number_index, id_number_masked, ethnicity, political_status, birth_date, education_level, major_name, training_mode, origin_region, student_no, program_years, enrolled_on, graduates_on, phone)
    select d.school_id, d.id, 2025, '名册' || g, '1', ${BENCH_SEALED_ID_NUMBER}, 'Q' || g, '110105********0011', '01', '03', '2003-01-01', '31', '软件工程', '1', '110105', 'Q' || g, '4', '2021-09', '2025-06', '13900000000'
      from generate_series(3001, 50000) g, (select id, school_id from departments order by id limit 1) d`;
  await sql`analyze`;
});
test.after(async () => {
  await traced.$client.end();
  await d.drop();
});

/**
 * The plans of every query `run` sends, as text, with sequential scans and sorts made prohibitive.
 * `generic`: the plan PostgreSQL may keep for the prepared statement, made without the parameters' values.
 */
async function plansOf(run: () => Promise<unknown>, generic = false, bitmaps = true): Promise<string[]> {
  sent = [];
  await run();
  const plans: string[] = [];
  await d.db.$client.begin(async (tx) => {
    await tx`set local enable_seqscan = off`;
    await tx`set local enable_sort = off`;
    if (!bitmaps) await tx`set local enable_bitmapscan = off`;
    for (const { query, params } of sent) {
      if (/^\s*(begin|commit|rollback)\b/i.test(query)) continue;
      const rows = generic ? await tx.unsafe(`explain (generic_plan) ${query}`) : await tx.unsafe(`explain ${query}`, params as postgres.ParameterOrJSON<never>[]);
      plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
  });
  return plans;
}

const uses = (plans: string[], index: string) => plans.some((p) => p.includes(index));
const seqScans = (plans: string[], table: string) => plans.filter((p) => new RegExp(`Seq Scan on ${table}\\b`).test(p));

test('在线签约管理: a page and its count read agreements_school_state_updated_idx per state; a deep page is merged by PostgreSQL; no scan of agreements', async () => {
  const first = await plansOf(() => listForReview(traced, school, { kinds: ['online', 'offline'], page: 3 }));
  assert.ok(uses(first, 'agreements_school_state_updated_idx'), first.join('\n---\n'));
  assert.equal(seqScans(first, 'agreements'), []);
  const deep = await plansOf(() => listForReview(traced, school, { kinds: ['online', 'offline'], page: 40 }));
  assert.ok(deep.some((p) => p.includes('Merge Append') && p.includes('agreements_school_state_updated_idx')), `the states are merged in index order, not sorted:\n${deep.join('\n---\n')}`);
  assert.equal(seqScans(deep, 'agreements'), []);
});

test('prepared statements: the generic plans of a first page, a deep page and the count cards read the same index, whatever the school', async () => {
  for (const page of [1, 40]) {
    const plans = await plansOf(() => listForReview(traced, school, { kinds: ['online', 'offline'], page }, { verb: '审核', signedLabel: '已签约' }), true);
    assert.ok(uses(plans, 'agreements_school_state_updated_idx'), plans.join('\n---\n'));
    assert.equal(seqScans(plans, 'agreements'), []);
  }
});

test('在线签约管理: the generic plan of a page\'s rows (a decision\'s row too) reads them by primary key, whatever the school', async () => {
  const plans = await plansOf(() => listForReview(traced, school, { kinds: ['online', 'offline'], page: 1 }), true);
  const rows = plans.filter((p) => p.includes('graduates'));
  assert.is(rows.length, 1, plans.join('\n---\n'));
  assert.ok(uses(rows, 'agreements_pkey'), rows.join('\n---\n'));
  assert.equal(seqScans(rows, 'agreements'), []);
});

test('在线签约管理: the count cards read the counters (agreement_counts), not the agreements', async () => {
  const plans = await plansOf(() => reviewCounts(traced, school, '审核', ['online', 'offline']));
  assert.ok(plans.every((p) => p.includes('agreement_counts_key_idx')), plans.join('\n---\n'));
  assert.ok(plans.every((p) => !/ on agreements\b/.test(p)), plans.join('\n---\n'));
});

test('在线签约管理 and 解约管理: a search by unit name goes through the trigram index of agreement_unit_names', async () => {
  for (const run of [() => listForReview(traced, school, { kinds: ['online', 'offline'], page: 1, q: '越综合企业' }), () => listTerminations(traced, school, { tab: 'terminated', page: 1, q: '越综合企业' })]) {
    const plans = await plansOf(run);
    assert.ok(uses(plans, 'agreement_unit_names_name_trgm_idx'), plans.join('\n---\n'));
    assert.equal(seqScans(plans, 'agreements'), []);
    assert.equal(seqScans(plans, 'agreement_unit_names'), []);
  }
});

test('数据统计: a school\'s and a department\'s signing pipeline, and the province\'s refresh of every school, sum the counters, not the agreements', async () => {
  const department = { ...school, role: 'department' as const, departmentId: (await d.db.$client`select id from departments where school_id = ${school.schoolId!} order by id limit 1`)[0]!.id as number };
  for (const run of [() => schoolStatistics(traced, statisticsScope(school), 2026), () => schoolStatistics(traced, statisticsScope(department), 2026)]) {
    const plans = (await plansOf(run)).filter((p) => /agreement/.test(p));
    assert.is(plans.length, 1, plans.join('\n---\n'));
    assert.ok(uses(plans, 'agreement_counts_key_idx'), plans.join('\n---\n'));
    assert.ok(plans.every((p) => !/ on agreements\b/.test(p)), plans.join('\n---\n'));
  }
  const refresh = await plansOf(() =>
    traced
      .transaction(async (tx) => {
        await refreshSchoolFigures(tx);
        tx.rollback();
      })
      .catch((e: unknown) => {
        if (!(e instanceof TransactionRollbackError)) throw e;
      }),
  );
  assert.ok(refresh.some((p) => / on agreement_counts\b/.test(p)), refresh.join('\n---\n'));
  assert.ok(refresh.every((p) => !/ on agreements\b/.test(p)), refresh.join('\n---\n'));
});

test('a search by a graduate\'s name or 学号 (去向登记管理, 在线签约管理) finds them through the trigram indexes, not by reading the school\'s graduates', async () => {
  for (const run of [() => listRegistrations(traced, school, { tab: 'approved', page: 1, q: '名册1234' }), () => listForReview(traced, school, { kinds: ['online', 'offline'], page: 1, q: '名册1234' })]) {
    const plans = await plansOf(run);
    assert.ok(uses(plans, 'graduates_name_trgm_idx') && uses(plans, 'graduates_student_no_trgm_idx'), plans.join('\n---\n'));
    assert.equal(seqScans(plans, 'graduates'), []);
  }
});

test('在线签约管理: the matches of a search travel as one array, so a deep page (one branch per state) stays far below the parameter limit of PostgreSQL', async () => {
  sent = [];
  const page = await listForReview(traced, school, { kinds: ['online', 'offline'], page: 40, q: '计划' });
  assert.ok(page.rows.length > 0 || page.total > 0, 'the search matched');
  const most = Math.max(...sent.map((q) => q.params.length));
  assert.ok(most < 200, `a query of the page carries ${most} parameters`);
});

test('a page past the end of its tab shows the last page', async () => {
  const page = await listForReview(traced, school, { kinds: ['online', 'offline'], states: ['school_review'], page: 400 });
  assert.is(page.page, page.pages);
  assert.ok(page.rows.length > 0);
});

test('解约管理 and 去向登记管理: their pages read their (school, state, updated_at, id) indexes', async () => {
  const terminations = await plansOf(() => listTerminations(traced, school, { tab: 'failed', page: 2 }));
  assert.ok(uses(terminations, 'terminations_school_state_updated_idx'), terminations.join('\n---\n'));
  assert.equal(seqScans(terminations, 'terminations'), []);
  const registrations = await plansOf(() => listRegistrations(traced, school, { tab: 'approved', page: 2 }));
  assert.ok(uses(registrations, 'destination_registrations_school_state_updated_idx'), registrations.join('\n---\n'));
  assert.equal(seqScans(registrations, 'destination_registrations'), []);
});

test('去向登记管理 filtered by type, and a department\'s tab, read the index alone: its type and department columns spare a heap fetch per row of the tab', async () => {
  const department = actorOf((await d.db.select().from(users).where(eq(users.login, '10001-cs')))[0]!, 'plans', false);
  for (const [label, run] of [
    ['by type', () => listRegistrations(traced, school, { tab: 'approved', page: 1, type: 'freelance' })],
    ['a department', () => listRegistrations(traced, department, { tab: 'approved', page: 1 })],
  ] as const) {
    // Bitmap scans priced out too: a bitmap scan of the index reads the heap whatever the index holds.
    const plans = (await plansOf(run, false, false)).filter((p) => p.includes('destination_registrations_school_state_updated_idx'));
    assert.ok(plans.length > 0, label);
    for (const plan of plans) {
      assert.ok(/Index Only Scan using destination_registrations_school_state_updated_idx/.test(plan), `${label}: the tab and its count from the index alone\n${plan}`);
      assert.not.ok(/Index Scan using destination_registrations_school_state_updated_idx/.test(plan), `${label}: no heap fetch per row\n${plan}`);
    }
  }
});

test('a list statement kept for reuse (issue 14) is keyed by everything it is made of: each reviewer keeps to its own school and department, and a search is never kept', async () => {
  const other = actorOf((await d.db.select().from(users).where(eq(users.login, '10002-admin')))[0]!, 'plans', false);
  const department = actorOf((await d.db.select().from(users).where(eq(users.login, '10001-cs')))[0]!, 'plans', false);
  const list = (actor: Actor) => listForReview(traced, actor, { kinds: ['online', 'offline'], page: 1 });
  const schoolOf = async (ids: number[]) => new Set((await d.db.select({ s: schema.agreements.schoolId, dep: schema.agreements.departmentId }).from(schema.agreements).where(inArray(schema.agreements.id, ids))).map((r) => `${r.s}/${r.dep}`));
  const first = await list(school);
  const theirs = await list(other);
  const dept = await list(department);
  const again = await list(school);
  assert.equal(again.rows.map((r) => r.id), first.rows.map((r) => r.id));
  assert.ok(theirs.rows.length > 0 && dept.rows.length > 0);
  for (const s of await schoolOf(theirs.rows.map((r) => r.id))) assert.ok(s.startsWith(`${other.schoolId}/`), s);
  for (const s of await schoolOf(dept.rows.map((r) => r.id))) assert.is(s, `${department.schoolId}/${department.departmentId}`);
  for (const s of await schoolOf(first.rows.map((r) => r.id))) assert.ok(s.startsWith(`${school.schoolId}/`), s);
  assert.is.not(theirs.total, 0);
  const terms = await listTerminations(traced, other, { tab: 'failed', page: 1 });
  const mine = await listTerminations(traced, school, { tab: 'failed', page: 1 });
  assert.not.equal(terms.rows.map((r) => r.id), mine.rows.map((r) => r.id));
});

test('the notices of a decision and of the expiry find their readers through indexes on users, not by reading every account (a province has a million graduates with one)', async () => {
  const [graduate] = await d.db.$client`select id from graduates where id_number_index like 'P%' order by id limit 1`;
  const [unit] = await d.db.$client`select id from employers order by id limit 1`;
  const notice = { title: '计划', body: '计划', link: '/' };
  const item = { schoolId: school.schoolId!, departmentId: (await d.db.$client`select department_id from graduates where id = ${graduate!.id}`)[0]!.department_id as number };
  const plans = await plansOf(() =>
    traced.transaction(async (tx) => {
      await notifyGraduate(tx, Number(graduate!.id), notice, '计划');
      await notifyUnit(tx, Number(unit!.id), notice, '计划');
      await notifyReviewers(tx, item, 'department', notice);
      await notifyReviewers(tx, item, 'school', notice);
      throw new Error('rolled back');
    }).catch(() => undefined),
  );
  const expiry = await plansOf(() => expireDueInvitations(traced, new Date(), 1));
  assert.is(plans.length, 4);
  assert.equal([...plans, ...expiry].filter((p) => /Seq Scan on users\b/.test(p)), []);
  for (const index of ['users_graduate_idx', 'users_employer_idx', 'users_department_role_idx', 'users_school_role_idx']) assert.ok(uses([...plans, ...expiry], index), `${index}:\n${plans.join('\n---\n')}`);
});

test('X3 the expiry reads the due ids from the partial index on pending deadlines alone (an index-only scan) and expires each batch through an index', async () => {
  // Twenty pending invitations past their deadline (one per graduate, as G6 wants).
  await d.db.$client`update agreements set state = 'invited', deadline = now() - interval '1 minute'
    where id in (select distinct on (graduate_id) id from agreements where state = 'declined' order by graduate_id, id limit 20)`;
  const plans = await plansOf(() => expireDueInvitations(traced, new Date(), 2, 5));
  assert.ok(plans.some((p) => p.includes('Index Only Scan using agreements_pending_deadline_idx')), plans.join('\n---\n'));
  const batches = plans.filter((p) => p.includes('Update on agreements'));
  assert.is(batches.length, 4, plans.join('\n---\n'));
  // By primary key at a million rows; here, with the index emptied by the run, the planner may take the partial index instead.
  for (const p of batches) assert.match(p, /Index Scan using (agreements_pkey|agreements_pending_deadline_idx) on agreements/, p);
  assert.equal(seqScans(batches, 'agreements'), []);
  const [{ left }] = (await d.db.$client`select count(*)::int as left from agreements where state = 'invited' and deadline <= now()`) as unknown as [{ left: number }];
  assert.is(left, 0);
});

test('a graduate\'s 点击搜索 and the platform\'s unit list find unit names through the trigram index; a new SMS code retires the open ones through its index', async () => {
  const search = await plansOf(() => searchUnits(traced, '越综合'));
  assert.ok(uses(search, 'employers_name_trgm_idx'), search.join('\n---\n'));
  const admin = actorOf((await d.db.select().from(users).where(eq(users.role, 'admin')).limit(1))[0]!, 'plans', false);
  const list = await plansOf(() => listUnits(traced, admin, { q: '综合', page: 1 }));
  assert.ok(uses(list, 'employers_name_trgm_idx'), list.join('\n---\n'));
  const codes = await plansOf(() =>
    traced.transaction((tx) => issueVerificationCode(tx, { purpose: 'change_phone', phone: '13900000001', subject: 'graduate:1', ip: '127.0.0.1', message: (code) => code }).then(() => Promise.reject(new Error('rolled back')))).catch(() => undefined),
  );
  assert.equal(codes.filter((p) => /Seq Scan on verification_codes\b/.test(p)), [], codes.join('\n---\n'));
  assert.ok(uses(codes, 'verification_codes_open_subject_idx'), codes.join('\n---\n'));
});

test('学生名单管理: the cohort page and its count keep one generic plan that reads the school\'s cohort through an index', async () => {
  const plans = await plansOf(() => listGraduates(traced, school, { cohort: 2025, page: 3 }), true);
  assert.is(plans.length, 2);
  assert.ok(uses(plans, 'graduates_school_cohort_department_idx'), plans.join('\n---\n'));
  for (const plan of plans) assert.match(plan, /Index Cond: \(\(school_id = \$1\) AND \(cohort = \$2\)/);
  assert.equal(seqScans(plans, 'graduates'), []);
});

test('the app\'s pool runs the kept list statements and the roster\'s cohort pages with generic plans, planned once, not on every view', async () => {
  // One lane, so every view's statements and the look-up below meet on one connection.
  const db = connect(d.url, 3, 60, 1);
  try {
    for (let i = 0; i < 8; i++) {
      await listForReview(db, school, { kinds: ['online', 'offline'], page: 1 });
      await listGraduates(db, school, { cohort: 2025, page: 1 });
    }
    const kept = await genericPlans(db).$client`select statement, generic_plans, custom_plans from pg_prepared_statements`;
    const of = (text: RegExp) => kept.filter((r) => text.test(String(r.statement)));
    for (const [what, rows] of [['在线签约管理', of(/^select array\(select id from/)], ['在线签约管理 rows', of(/"agreements"."id" = any\(\$1::int\[\]\)/)], ['学生名单管理', of(/from "graduates"/)]] as const) {
      assert.ok(rows.length > 0, `${what}: on the generic connections`);
      for (const r of rows) {
        assert.is(Number(r.custom_plans), 0, `${what}: ${String(r.statement).slice(0, 80)}`);
        assert.ok(Number(r.generic_plans) >= 8);
      }
    }
  } finally {
    await db.$client.end();
  }
});

test.run();
