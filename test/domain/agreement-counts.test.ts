import { eq } from 'drizzle-orm';
import type postgres from 'postgres';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { users } from '../../db/schema/index.ts';
import { listForReview, reviewCounts } from '../../domain/agreements/review.ts';
import { actorOf, type Actor } from '../../domain/auth/sessions.ts';
import { foldAgreementCounts } from '../../jobs/agreement-counts.ts';
import { setupApp, type TestApp } from '../helpers/app.ts';

// Issue 14: the count cards and tab totals of 在线签约管理 and 补登管理, and 数据统计's signing pipeline, sum agreement_counts, to which
// statement triggers append each change (migration 0022) and which a job folds. Whatever writes agreements (the workflows, the jobs, a
// hand-written statement, many at once), the counters equal a count of the rows.
let t: TestApp;
let school: Actor;

test.before(async () => {
  t = await setupApp();
  school = actorOf((await t.db.select().from(users).where(eq(users.login, '10001-admin')))[0]!, 'counts', false);
});
test.after(async () => {
  await t.close();
});

/** Keys whose counter differs from a count of the agreements (none when they agree). */
async function drift(): Promise<unknown[]> {
  return [
    ...(await t.db.$client`
      select school_id, department_id, kind, state, cohort, a.n as rows, c.n as counter
        from (select school_id, department_id, kind, state, cohort, count(*)::int as n from agreements group by 1, 2, 3, 4, 5) a
        full join (select school_id, department_id, kind, state, cohort, sum(n)::int as n from agreement_counts group by 1, 2, 3, 4, 5 having sum(n) <> 0) c using (school_id, department_id, kind, state, cohort)
       where a.n is distinct from c.n`),
  ];
}

async function seed(n: number, state = 'school_review'): Promise<number[]> {
  const rows = await t.db.$client`insert into agreements (kind, state, employer_id, graduate_id, school_id, department_id, cohort, position_category, position_name, archive_mode, unit_snapshot, invited_at, validity_days, deadline, contact_name, contact_phone, work_place)
    select 'online', ${state}::agreement_state, e.id, g.id, g.school_id, g.department_id, g.cohort, '13', '工程师', 'none',
           jsonb_build_object('name', e.name, 'uscc', e.uscc, 'employerType', e.employer_type, 'industry', e.industry, 'region', e.region, 'address', e.address, 'contactName', '王经理', 'contactPhone', '010-88886666', 'contactMobile', '13911112222', 'contactEmail', 'hr@yue.example.com'),
           now(), 3, now() + interval '3 days', '王经理', '010-88886666', '北京'
      from (select g.* from graduates g join schools s on s.id = g.school_id where s.code = '10001' and g.removed_at is null
               and not exists (select 1 from agreements a where a.graduate_id = g.id) order by g.id limit ${n}) g,
           (select * from employers where verification = 'verified' order by id limit 1) e
    returning id`;
  return rows.map((r) => Number(r.id));
}

test('issue 14: the counters equal the agreements after the demo data, inserts, moves between states, departments and cohorts, and deletes', async () => {
  assert.equal(await drift(), []);
  const ids = await seed(6);
  await t.db.$client`update agreements set state = 'signed', signed_at = now() where id = ${ids[0]!}`;
  await t.db.$client`update agreements set department_id = (select id from departments where school_id = agreements.school_id and id <> agreements.department_id limit 1) where id = ${ids[1]!}`;
  await t.db.$client`update agreements set cohort = cohort - 1 where id = ${ids[3]!}`;
  await t.db.$client`update agreements set reminded_at = now() where id = any(${ids})`;
  await t.db.$client`delete from agreements where id = ${ids[2]!}`;
  assert.equal(await drift(), []);
});

test('issue 14: the cards and the total read the counters and agree with counting the rows', async () => {
  const kinds = ['online', 'offline'] as const;
  const cards = await reviewCounts(t.db, school, '审核', kinds);
  const [{ n }] = (await t.db.$client`select count(*)::int as n from agreements a join schools s on s.id = a.school_id where s.code = '10001' and a.state = 'school_review' and a.kind in ('online', 'offline')`) as unknown as [{ n: number }];
  assert.is(cards.find((c) => c.label === '等待学校审核')!.n, n);
  const page = await listForReview(t.db, school, { kinds, states: ['school_review'], page: 1 });
  assert.is(page.total, n);
});

test('issue 14: twenty review decisions at once through the app leave the counters right, with no deadlock', async () => {
  const ids = await seed(20);
  const before = (await reviewCounts(t.db, school, '审核', ['online', 'offline'])).find((c) => c.label === '等待学校审核')!.n;
  const reviewers = await Promise.all(ids.map(() => t.signInAs('school')));
  const answers = await Promise.all(ids.map((id, i) => reviewers[i]!.post(`/school/agreements/${id}/review`, { decision: 'approve' })));
  assert.equal(answers.map((a) => a.status), ids.map(() => 303));
  assert.equal(await drift(), []);
  const after = (await reviewCounts(t.db, school, '审核', ['online', 'offline'])).find((c) => c.label === '等待学校审核')!.n;
  assert.is(after, before - ids.length);
});

test('issue 14: folding the counters keeps every sum, leaves one row a key, and runs beside decisions without waiting on them', async () => {
  const rows = async () => Number((await t.db.$client`select count(*)::int as n from agreement_counts`)[0]!.n);
  const ids = await seed(10);
  const before = await rows();
  const reviewers = await Promise.all(ids.map(() => t.signInAs('school')));
  const [answers] = await Promise.all([Promise.all(ids.map((id, i) => reviewers[i]!.post(`/school/agreements/${id}/review`, { decision: 'approve' }))), foldAgreementCounts(t.db), foldAgreementCounts(t.db)]);
  assert.equal(answers.map((a) => a.status), ids.map(() => 303));
  assert.equal(await drift(), []);
  await foldAgreementCounts(t.db);
  assert.equal(await drift(), []);
  const keys = Number((await t.db.$client`select count(*)::int as n from (select distinct school_id, department_id, kind, state, cohort from agreement_counts) k`)[0]!.n);
  assert.is(await rows(), keys);
  assert.ok(keys < before, `${keys} rows after folding, ${before} before`);
});

test('issue 14: a fold rewrites only the keys changed since the last one, and a fold with nothing changed rewrites nothing', async () => {
  await foldAgreementCounts(t.db);
  const snapshot = async () => new Map((await t.db.$client`select school_id || '/' || department_id || '/' || kind || '/' || cohort || '/' || state as key, ctid::text as at from agreement_counts`).map((r) => [String(r.key), String(r.at)]));
  const before = await snapshot();
  assert.is(await foldAgreementCounts(t.db), 0);
  assert.equal(await snapshot(), before, 'nothing changed, nothing rewritten');
  // One agreement moves: its two keys are folded again, every other key's row stays where it was.
  const [moved] = await t.db.$client`update agreements set state = 'signed' where id = (select id from agreements where state = 'school_review' order by id limit 1) returning school_id, department_id, kind, cohort`;
  await foldAgreementCounts(t.db);
  const after = await snapshot();
  const touched = [...after.keys()].filter((k) => before.get(k) !== after.get(k)).sort();
  const prefix = `${moved!.school_id}/${moved!.department_id}/${moved!.kind}/${moved!.cohort}/`;
  assert.equal(touched, [`${prefix}school_review`, `${prefix}signed`].filter((k) => after.has(k)).sort());
  assert.equal(await drift(), []);
  const [{ unfolded }] = (await t.db.$client`select count(*)::int as unfolded from agreement_counts where not folded`) as unknown as [{ unfolded: number }];
  assert.is(unfolded, 0);
});

/** Agreements whose row in agreement_unit_names is missing, extra or says another school or name (none when they agree). */
async function unitNamesDrift(): Promise<unknown[]> {
  return [
    ...(await t.db.$client`
      select coalesce(a.id, u.agreement_id) as id, a.school_id, a.unit_snapshot->>'name' as unit, u.school_id as kept_school, u.name as kept
        from agreements a full join agreement_unit_names u on u.agreement_id = a.id
       where (a.school_id, coalesce(a.unit_snapshot->>'name', '')) is distinct from (u.school_id, u.name)`),
  ];
}

test('issue 14 (goal 6): agreement_unit_names keeps each agreement\'s unit name through inserts, a changed snapshot and deletes, and a change of state writes nothing there', async () => {
  assert.equal(await unitNamesDrift(), []);
  const ids = await seed(3, 'invited');
  assert.equal(await unitNamesDrift(), []);
  await t.db.$client`update agreements set unit_snapshot = unit_snapshot || '{"name":"更名后的单位"}'::jsonb where id = ${ids[0]!}`;
  assert.equal(await unitNamesDrift(), []);
  const before = await t.db.$client`select agreement_id, ctid::text as at from agreement_unit_names where agreement_id = any(${ids}) order by agreement_id`;
  await t.db.$client`update agreements set state = 'expired', updated_at = now() where id = any(${ids})`;
  await t.db.$client`update agreements set unit_snapshot = unit_snapshot where id = ${ids[1]!}`;
  assert.equal(await t.db.$client`select agreement_id, ctid::text as at from agreement_unit_names where agreement_id = any(${ids}) order by agreement_id`, before, 'the same row versions: nothing rewritten');
  // The reviewers' search finds the agreement by its new name.
  const found = await listForReview(t.db, school, { kinds: ['online'], page: 1, q: '更名后的单位' });
  assert.equal(found.rows.map((r) => r.id), [ids[0]!]);
  await t.db.$client`delete from agreements where id = ${ids[2]!}`;
  assert.equal(await unitNamesDrift(), []);
});

test('issue 14 (goal 6): unit_uscc is the snapshot\'s credit code after inserts, a changed snapshot and a stray write, and a change of state updates the row once', async () => {
  const apart = async () => [...(await t.db.$client`select id, unit_uscc, unit_snapshot->>'uscc' as uscc from agreements where unit_uscc is distinct from unit_snapshot->>'uscc'`)];
  assert.equal(await apart(), []);
  const ids = await seed(3, 'invited');
  const [{ n }] = (await t.db.$client`select count(*)::int as n from agreements where id = any(${ids}) and unit_uscc is not null`) as unknown as [{ n: number }];
  assert.is(n, 3);
  /** Rows of agreements the statement updated, the trigger's own update included. */
  const updates = (statement: (tx: postgres.TransactionSql) => postgres.PendingQuery<postgres.Row[]>) =>
    t.db.$client.begin(async (tx) => {
      // The backend's counts not yet reported may include its earlier transactions': the difference.
      const counted = async () => Number((await tx`select n_tup_upd::int as n from pg_stat_xact_user_tables where relname = 'agreements'`)[0]?.n ?? 0);
      const before = await counted();
      await statement(tx);
      return (await counted()) - before;
    });
  // An edited application's unit (apply.ts writes the whole snapshot): the trigger follows it.
  assert.is(await updates((tx) => tx`update agreements set unit_snapshot = unit_snapshot || '{"uscc":"91110000MA00000001"}'::jsonb where id = ${ids[0]!}`), 2);
  await t.db.$client`update agreements set unit_uscc = 'not the snapshot' where id = ${ids[1]!}`;
  assert.equal(await apart(), []);
  const [{ uscc }] = (await t.db.$client`select unit_uscc as uscc from agreements where id = ${ids[0]!}`) as unknown as [{ uscc: string }];
  assert.is(uscc, '91110000MA00000001');
  // A change of state names neither column: no second update.
  assert.is(await updates((tx) => tx`update agreements set state = 'expired', updated_at = now() where id = ${ids[2]!}`), 1);
  await t.db.$client`delete from agreements where id = any(${ids})`;
});

// Last: it empties the agreements.
test('issue 14: a TRUNCATE of the agreements empties their counters and unit names too', async () => {
  await t.db.$client`truncate agreements cascade`;
  assert.equal(await drift(), []);
  assert.equal(await unitNamesDrift(), []);
  const [{ n }] = (await t.db.$client`select (select count(*) from agreement_counts) + (select count(*) from agreement_unit_names) as n`) as unknown as [{ n: string }];
  assert.is(Number(n), 0);
});

test.run();
