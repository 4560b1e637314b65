import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type postgres from 'postgres';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MIGRATIONS_DIR, migrateDatabase } from '../../db/client.ts';
import type { Db } from '../../db/client.ts';
import { idNumberLookup, isSealedIdNumber, openedIdNumber } from '../../db/id-number-keys.ts';
import { agreements, users } from '../../db/schema/index.ts';
import { loadAgreementDocument, verifyAgreement } from '../../domain/agreements/document.ts';
import { agreementTimeline } from '../../domain/agreements/queries.ts';
import { actorOf } from '../../domain/auth/sessions.ts';
import { appOnDb } from '../helpers/app.ts';
import { emptyDatabase, freshDatabase, type TestDatabase } from '../helpers/db.ts';

// One migration reshapes agreements for every kind (0007). A database filled by the main of before
// it — agreements in every state, their event rows, numbers and codes, notifications — migrates with
// nothing lost, and what was signed still verifies and prints.
let d: TestDatabase;
let folder: string;
const BEFORE = '0006_partial_number_index';

test.before(async () => {
  d = await emptyDatabase();
  // The migrations as they were up to 0006: the same files, the journal cut there.
  folder = await mkdtemp(join(tmpdir(), 'wq-migrations-'));
  await cp(MIGRATIONS_DIR, folder, { recursive: true });
  const journal = JSON.parse(await readFile(join(folder, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
  journal.entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === BEFORE) + 1);
  await writeFile(join(folder, 'meta/_journal.json'), JSON.stringify(journal));
});
test.after(async () => {
  await d.drop();
  await rm(folder, { recursive: true, force: true });
});

/**
 * The demo data as the main of those days stored it: today's seed, copied from a fresh clone into the
 * columns the old schema has, with the ID numbers in plain text (graduates.id_number, a graduate's
 * login) as they were before migration 0018.
 */
async function seedDemoDataAsItWas(old: Db): Promise<void> {
  const demo = await freshDatabase();
  try {
    const plain = new Map<number, string>();
    for (const table of ['provinces', 'schools', 'departments', 'employers', 'graduates', 'users']) {
      const columns = (await old.$client`select column_name from information_schema.columns where table_schema = 'public' and table_name = ${table}`).map((r) => r.column_name as string);
      const rows = (await demo.db.$client.unsafe(`select * from ${table} order by id`)).map((r) => {
        if (table === 'graduates') plain.set(r.id, openedIdNumber(r.id_number_sealed));
        const row: Record<string, unknown> = { ...r, id_number: table === 'graduates' ? plain.get(r.id) : undefined };
        if (table === 'users' && r.portal === 'student') row.login = plain.get(r.graduate_id);
        return Object.fromEntries(columns.map((c) => [c, row[c] ?? null]));
      });
      await old.$client`insert into ${old.$client(table)} ${old.$client(rows as Record<string, postgres.SerializableParameter>[], ...columns)}`;
      await old.$client.unsafe(`select setval(pg_get_serial_sequence('${table}', 'id'), (select max(id) from ${table}))`);
    }
  } finally {
    await demo.drop();
  }
}

const OLD_STATES = ['invited', 'declined', 'expired', 'invalidated', 'department_review', 'school_review', 'signed', 'review_rejected'] as const;
const NUMBERED = new Set(['department_review', 'school_review', 'signed', 'review_rejected']);

test('migrations 0007 and 0018: a database of an old main keeps every agreement, event and notification, what was signed still verifies, and its ID numbers end up sealed (13)', async () => {
  await migrate(d.db, { migrationsFolder: folder });
  await seedDemoDataAsItWas(d.db);
  const sql = d.db.$client;
  const [unit] = await sql`select * from employers where name = '越综合企业'`;
  // The unit of the old days gave only an e-mail: its agreements' contact rows were blank.
  await sql`update employers set contact_name = null, contact_phone = null, contact_mobile = null, contact_email = 'hr@yue.example.com' where id = ${unit!.id}`;
  const [school] = await sql`select * from schools where code = '10001'`;
  const roster = await sql`select g.*, d.name as department from graduates g join departments d on d.id = g.department_id where g.school_id = ${school!.id} and g.training_mode = '1' order by g.id limit 8`;
  const [employerUser] = await sql`select id from users where login = '13800000001'`;
  const invitedAt = '2026-05-05T08:05:24Z';
  let serial = 0;
  for (const [i, state] of OLD_STATES.entries()) {
    const g = roster[i]!;
    const numbered = NUMBERED.has(state);
    const number = numbered ? `2026-10001-${String(++serial).padStart(6, '0')}` : null;
    const unitSnapshot = { name: unit!.name, uscc: unit!.uscc, employerType: unit!.employer_type, industry: unit!.industry, region: unit!.region, address: unit!.address, contactName: null, contactPhone: null, contactMobile: null, contactEmail: null };
    const graduateSnapshot = numbered ? { examNo: g.exam_no, name: g.name, sex: g.sex, idNumber: g.id_number, ethnicity: g.ethnicity, politicalStatus: g.political_status, birthDate: g.birth_date, school: school!.name, department: g.department, educationLevel: g.education_level, majorName: g.major_name, trainingMode: g.training_mode, originRegion: g.origin_region, studentNo: g.student_no, programYears: g.program_years, enrolledOn: g.enrolled_on, graduatesOn: g.graduates_on, phone: g.phone, email: g.email } : null;
    const schoolSnapshot = numbered ? { name: school!.name, code: school!.code, handlerName: school!.handler_name, handlerPhone: school!.handler_phone, address: school!.address, postcode: school!.postcode, agreementType: 'three_party' } : null;
    const [a] = await sql`
      insert into agreements (kind, state, number, verification_code, employer_id, graduate_id, school_id, department_id, cohort, invited_by, invited_at,
        position_category, position_name, validity_days, deadline, contact_name, contact_phone, probation, work_place, archive_mode, supplement,
        unit_snapshot, graduate_snapshot, school_snapshot, responded_at, signed_at, review_reason, invalid_reason)
      values ('online', ${state}, ${number}, ${numbered ? `CODE${i}XYZ` : null}, ${unit!.id}, ${g.id}, ${school!.id}, ${g.department_id}, 2026, ${employerUser!.id}, ${invitedAt},
        '13', ${`岗位${i}`}, 3, ${'2026-05-09T16:00:00Z'}, '王经理', '13911112222', '3个月', '北京市海淀区', 'none', ${`补充${i}`},
        ${JSON.stringify(unitSnapshot)}::jsonb, ${graduateSnapshot ? JSON.stringify(graduateSnapshot) : null}::jsonb, ${schoolSnapshot ? JSON.stringify(schoolSnapshot) : null}::jsonb,
        ${numbered ? '2026-05-06T02:00:00Z' : null}, ${state === 'signed' ? '2026-05-08T03:00:00Z' : null},
        ${state === 'review_rejected' ? '岗位信息与实际不符' : null}, ${state === 'invalidated' ? '学生已被学校移出毕业生名单' : null})
      returning id`;
    await sql`insert into events (actor_role, subject_type, subject_id, school_id, action, to_state) values ('employer', 'agreement', ${String(a!.id)}, ${school!.id}, 'agreement.invite', 'invited')`;
    if (state !== 'invited') await sql`insert into events (actor_role, subject_type, subject_id, school_id, action, from_state, to_state) values ('system', 'agreement', ${String(a!.id)}, ${school!.id}, ${`agreement.${state}`}, 'invited', ${state})`;
  }
  await sql`insert into agreement_counters (school_id, cohort, last) values (${school!.id}, 2026, ${serial})`;
  await sql`insert into notifications (user_id, title, link) select id, '有新的签约待审核', '/school/agreements' from users where login = '10001-cs'`;

  const read = async () => ({
    agreements: await sql`select * from agreements order by id`,
    events: await sql`select * from events order by id`,
    notifications: await sql`select id, user_id, title, link from notifications order by id`,
    counters: await sql`select * from agreement_counters`,
  });
  // An import's rejected row keeps its cells as uploaded, the ID number among them.
  const [importer] = await sql`select id, school_id from users where login = '10001-admin'`;
  const [run] = await sql`insert into roster_imports (school_id, cohort, uploaded_by, file_name, stored_as, status) values (${importer!.school_id}, 2026, ${importer!.id}, 'r.xlsx', 'x', 'done') returning id`;
  await sql`insert into roster_import_errors (import_id, row_number, reasons, "values") values (${run!.id}, 2, '出生日期不正确', ${JSON.stringify({ 姓名: '张三', '身份证号*': '110105200305061000', 性别: '男' })}::jsonb)`;
  const plainBefore = await sql`select id, id_number from graduates order by id`;
  const studentsBefore = await sql`select u.id, u.login, u.graduate_id from users u where u.portal = 'student' order by u.id`;

  const before = await read();
  await migrateDatabase(d.db);
  const after = await read();

  // Every column the event rows had keeps its value; columns added since (the time since the
  // subject's previous event, 0016) are filled from the trail itself.
  const columns = Object.keys(before.events[0]!);
  const project = (rows: readonly Record<string, unknown>[]) => rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c]])));
  assert.equal(project(after.events.slice(0, before.events.length)), project(before.events), 'the event rows there were are unchanged');
  const last = new Map<string, number>();
  for (const e of after.events.slice(0, before.events.length)) {
    const key = `${e.subject_type}/${e.subject_id}`;
    const at = new Date(e.occurred_at).getTime();
    const previous = last.get(key);
    if (previous === undefined) assert.is(e.seconds_since_previous, null, `event ${e.id} is its subject's first`);
    else assert.ok(Math.abs(e.seconds_since_previous - (at - previous) / 1000) < 0.01, `event ${e.id}: ${e.seconds_since_previous} s since the previous`);
    last.set(key, at);
  }
  const filled = after.events.slice(before.events.length);
  assert.equal(filled.map((e) => [e.subject_id, e.action, e.actor_role]), before.agreements.map((a) => [String(a.id), 'agreement.contacts_filled', 'system']), 'each filled agreement says so in its trail');
  assert.equal(filled[0]!.data, { filled: { contactName: '王经理', contactPhone: '13911112222', contactMobile: '13911112222', contactEmail: 'hr@yue.example.com' } });
  assert.equal(after.notifications, before.notifications, 'notifications unchanged');
  assert.equal(after.counters, before.counters, 'counters unchanged');
  assert.is(after.agreements.length, OLD_STATES.length);
  for (const [i, old] of before.agreements.entries()) {
    const now = after.agreements[i]!;
    for (const [column, value] of Object.entries(old)) {
      if (column === 'unit_snapshot' || column === 'graduate_snapshot') continue;
      assert.equal(now[column], value, `agreement ${old.id} ${column}`);
    }
    assert.equal(now.created_at, old.invited_at, 'an online agreement came to be when its letter was sent');
    // The snapshot keeps every value it had; its blank contact rows are the letter's now.
    for (const [key, value] of Object.entries(old.unit_snapshot as Record<string, unknown>)) if (value !== null) assert.equal(now.unit_snapshot[key], value, key);
    assert.equal([now.unit_snapshot.contactName, now.unit_snapshot.contactPhone, now.unit_snapshot.contactMobile, now.unit_snapshot.contactEmail], ['王经理', '13911112222', '13911112222', 'hr@yue.example.com']);
    // 0018: the snapshot's ID number is sealed, every other value as it was.
    if (old.graduate_snapshot === null) assert.is(now.graduate_snapshot, null);
    else {
      const { idNumber, ...rest } = old.graduate_snapshot as Record<string, string>;
      const { idNumberSealed, ...kept } = now.graduate_snapshot as Record<string, string>;
      assert.equal(kept, rest, `agreement ${old.id} snapshot`);
      assert.ok(isSealedIdNumber(idNumberSealed!), 'sealed');
      assert.is(openedIdNumber(idNumberSealed!), idNumber);
    }
  }

  // 0018: every ID number sealed, indexed and masked; logins by index; the check validated.
  const sealed = await sql`select id, id_number_sealed, id_number_index, id_number_masked from graduates order by id`;
  assert.is(sealed.length, plainBefore.length);
  for (const [i, g] of sealed.entries()) {
    const number = plainBefore[i]!.id_number as string;
    assert.ok(isSealedIdNumber(g.id_number_sealed), `graduate ${g.id} sealed`);
    assert.is(openedIdNumber(g.id_number_sealed), number);
    assert.is(g.id_number_index, idNumberLookup(number));
    assert.is(g.id_number_masked, `${number.slice(0, 6)}********${number.slice(14)}`);
  }
  const studentsAfter = await sql`select id, login from users where portal = 'student' order by id`;
  assert.equal(studentsAfter.map((u) => u.login), studentsBefore.map((u) => idNumberLookup(u.login)));
  const [check] = await sql`select convalidated from pg_constraint where conname = 'graduates_id_number_sealed_check'`;
  assert.is(check!.convalidated, true);
  const [errorRow] = await sql`select "values" from roster_import_errors where import_id = ${run!.id}`;
  assert.is(errorRow!.values.姓名, '张三');
  assert.ok(isSealedIdNumber(errorRow!.values['身份证号*']));
  assert.is(openedIdNumber(errorRow!.values['身份证号*']), '110105200305061000');
  const dump = JSON.stringify(await sql`select g.*, u.login from graduates g left join users u on u.graduate_id = g.id`) + JSON.stringify(await sql`select graduate_snapshot from agreements`);
  for (const g of plainBefore) assert.not.match(dump, g.id_number as string, 'no plain ID number is left');
  // The graduate still signs in with the number, and a second start changes nothing.
  const { client } = appOnDb(d.db);
  assert.is((await client().post('/student/login', { login: studentsBefore[0]!.login, password: 'Student#2026' })).status, 303);
  const again = JSON.stringify(await sql`select id_number_sealed from graduates order by id`);
  await migrateDatabase(d.db);
  assert.is(JSON.stringify(await sql`select id_number_sealed from graduates order by id`), again);

  const signed = after.agreements.find((a) => a.state === 'signed')!;
  const verified = await verifyAgreement(d.db, { no: signed.number, code: signed.verification_code }, '10.9.9.9');
  assert.equal(verified, { status: 'valid', number: signed.number, kind: '线上签约', signedOn: '2026-05-08', schoolName: '示范大学', unitName: '越综合企业' });
  const [graduateUser] = await d.db.insert(users).values({ role: 'student', portal: 'student', login: String(signed.graduate_id), displayName: 'x', passwordHash: 'x', graduateId: signed.graduate_id, schoolId: signed.school_id }).returning();
  const doc = await loadAgreementDocument(d.db, { actor: actorOf(graduateUser!, 't', false), ip: null }, signed.id, 'http://localhost');
  assert.is(doc.number, signed.number);
  assert.is(doc.signing.kind, '线上签约');
  assert.is(doc.letter?.invitedAt, '2026-05-05 16:05');
  assert.equal([doc.unit.contactName, doc.unit.contactPhone, doc.unit.contactMobile, doc.unit.contactEmail], ['王经理', '13911112222', '13911112222', 'hr@yue.example.com']);
  const timeline = await agreementTimeline(d.db, { id: signed.id, kind: 'online', verb: '审核' });
  assert.match(timeline.at(-1)!.what, '补全了协议书中空缺的单位联系人信息');
  const [{ kind }] = await d.db.select({ kind: agreements.kind }).from(agreements).where(eq(agreements.id, signed.id)) as [{ kind: string }];
  assert.is(kind, 'online');
});

test.run();
