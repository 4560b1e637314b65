import postgres from 'postgres';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

// Issue 14, goal 6 (migration 0034): a PL/pgSQL trigger function plans each statement once per
// connection, for the rows its transition tables held on that first call, and keeps the plan. A
// join of the new rows to the old ones, planned for one row, is a nested loop that a later statement
// of 2,500 rows on the same connection paid quadratically (the expiry of a busy hour: 7.5 s, not
// 0.7 s). Every statement trigger here runs first for one row (or none), then for many, on one
// connection, and auto_explain shows each plan that reads a transition table: none may hold a nested
// loop (one that looks a table up by index for each transition row would be linear, but its plan for
// many rows, a hash join, would then scan the table for one: = ANY (array(…)) is right for both).
let d: TestDatabase;

test.before(async () => {
  d = await freshDatabase();
});
test.after(async () => {
  await d.drop();
});

test('issue 14: no statement trigger plans a nested loop over its transition tables, for one row then for many on one connection', async () => {
  const plans: string[] = [];
  const sql = postgres(d.url, { max: 1, onnotice: (n) => plans.push(String(n.message)) });
  const functions = await sql<{ name: string; source: string }[]>`
    select distinct p.proname as name, p.prosrc as source from pg_trigger t join pg_proc p on p.oid = t.tgfoid
     where not t.tgisinternal and (t.tgoldtable is not null or t.tgnewtable is not null)`;
  assert.ok(functions.length >= 10, `${functions.length} trigger functions with transition tables`);
  try {
    await sql
      .begin(async (tx) => {
        await tx`load 'auto_explain'`;
        await tx`set local auto_explain.log_min_duration = 0`;
        await tx`set local auto_explain.log_nested_statements = on`;
        await tx`set local auto_explain.log_level = notice`;
        // Rows of our own, so that deleting them leaves nothing dangling; rolled back at the end.
        await tx`insert into agreements (kind, state, employer_id, graduate_id, school_id, department_id, cohort, position_category, position_name, archive_mode, unit_snapshot, invited_at, validity_days, deadline, contact_name, contact_phone, work_place)
          select 'online', 'declined', e.id, g.id, g.school_id, g.department_id, g.cohort, '13', '工程师', 'none', jsonb_build_object('name', '计划单位'), now(), 3, now(), '联系人', '13800000000', '北京'
            from graduates g, (select id from employers order by id limit 3) e`;
        await tx`insert into sessions (id, user_id, expires_at) select 'plan-' || id, id, now() + interval '1 hour' from users`;
        await tx`insert into users (role, portal, login, display_name, password_hash, province_id, school_id, department_id, employer_id, graduate_id)
          select role, portal, 'plan-' || login, display_name, password_hash, province_id, school_id, department_id, employer_id, graduate_id from users`;
        await tx`insert into notifications (user_id, title, body) select id, '计划', '计划' from users where login like 'plan-%'`;
        await tx`insert into graduates (school_id, department_id, cohort, name, sex, id_number_sealed, id_number_index, id_number_masked, ethnicity, political_status, birth_date, education_level, major_name, training_mode, origin_region, student_no, program_years, enrolled_on, graduates_on, phone)
          select school_id, department_id, cohort, name, sex, id_number_sealed, 'plan-' || id_number_index, id_number_masked, ethnicity, political_status, birth_date, education_level, major_name, training_mode, origin_region, 'plan-' || student_no, program_years, enrolled_on, graduates_on, phone
            from graduates where removed_at is null`;
        const [one] = await tx`select min(id) as id from agreements where unit_snapshot->>'name' = '计划单位'`;
        // Each statement first for one row or none, which plans the trigger's statements; then for every row.
        for (const where of [tx`id = ${one!.id}`, tx`true`]) {
          await tx`update agreements set state = 'expired' where unit_snapshot->>'name' = '计划单位' and ${where}`;
          await tx`update graduates set major_name = major_name || '·' where ${where}`;
          await tx`update departments set name = name || '·' where ${where}`;
          await tx`update provinces set agreement_type = agreement_type where ${where}`;
          await tx`update employers set verification = 'unverified' where ${where}`;
          await tx`update users set disabled = disabled where ${where}`;
          await tx`update sessions set expires_at = expires_at + interval '1 minute' where id like 'plan-%' and ${where}`;
          await tx`update schools set cache_version = cache_version + 1 where ${where}`;
          await tx`update notifications set read_at = now() where ${where}`;
          await tx`delete from agreements where unit_snapshot->>'name' = '计划单位' and ${where}`;
          await tx`delete from sessions where id like 'plan-%' and ${where}`;
          await tx`delete from notifications where title = '计划' and ${where}`;
          await tx`delete from users where login like 'plan-%' and ${where}`;
          await tx`delete from graduates where id_number_index like 'plan-%' and ${where}`;
        }
        throw new Rollback();
      })
      .catch((e) => {
        if (!(e instanceof Rollback)) throw e;
      });
  } finally {
    await sql.end();
  }
  const overTransitionTables = plans.filter((p) => p.includes('Named Tuplestore Scan'));
  assert.equal(
    overTransitionTables.filter((p) => !queryTextOf(p)),
    [],
    'every plan shows its statement',
  );
  // Every trigger function with transition tables ran under auto_explain (the test is not vacuous).
  const unexercised = functions.filter((f) => !overTransitionTables.some((p) => f.source.includes(queryTextOf(p))));
  assert.equal(
    unexercised.map((f) => f.name),
    [],
  );
  const nested = overTransitionTables.filter((p) => p.includes('Nested Loop'));
  assert.equal(nested, [], 'a trigger statement planned a nested loop over its transition tables');
});

class Rollback extends Error {}

/** The statement auto_explain showed ("Query Text: …" up to the plan). */
function queryTextOf(plan: string): string {
  const text = (/Query Text: ([\s\S]*?)\n(?=\S)/.exec(plan)?.[1] ?? '').trim();
  // PL/pgSQL sends a PERFORM as a SELECT.
  return text.replace(/^SELECT /, '');
}

test.run();
