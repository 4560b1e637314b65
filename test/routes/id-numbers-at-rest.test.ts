import { spawnSync } from 'node:child_process';
import { localStorage, uploadsDir } from '../../db/storage.ts';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { and, eq, isNull, sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { migrateDatabase } from '../../db/client.ts';
import { idNumberIndex, installedIdNumberKeys, installIdNumberKeys, isSealedIdNumber, keyIdOf, loadIdNumberKeys, openedIdNumber, storedIdNumber, withNewKey } from '../../db/id-number-keys.ts';
import { agreements, events, graduates, rosterImportErrors, users } from '../../db/schema/index.ts';
import { actorOf } from '../../domain/auth/sessions.ts';
import { makeIdNumber } from '../../domain/codes/id-number.ts';
import { S5_FIELDS } from '../../domain/graduates/record.ts';
import { processRosterImport, queueRosterImport, rosterImportErrorsWorkbook } from '../../domain/graduates/roster-import.ts';
import { setupApp, type TestApp } from '../helpers/app.ts';
import { freshDatabase } from '../helpers/db.ts';
import { idOf, signable } from '../helpers/graduates.ts';
import { textOf } from '../helpers/html.ts';
import { TEST_ID_NUMBER_ENV, TEST_ID_NUMBER_KEYS } from '../helpers/keys.ts';
import { insertAgreement } from '../helpers/signed-agreement.ts';
import { fieldValue, latestSmsCode } from '../helpers/sms.ts';

// Issue 13, 身份证号 at rest: every place a full number is written holds it sealed (AES-256-GCM under a
// key id) with a blind index for look-ups; nothing in any table holds a plain number; the number
// comes back only where it is meant to (own check page, logged reveal, agreement, import error file).

let t: TestApp;
let dataDir: string;
test.before(async () => {
  t = await setupApp();
  dataDir = await mkdtemp(join(tmpdir(), 'wq-at-rest-'));
});
test.after(async () => {
  installIdNumberKeys(TEST_ID_NUMBER_KEYS);
  await t.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** Every text and jsonb value of every table as text: where a plain number would show if it were stored. */
async function everyStoredValue(): Promise<string> {
  const sql = t.db.$client;
  const columns = await sql`
    select table_name, column_name from information_schema.columns
     where table_schema = 'public' and data_type in ('text', 'jsonb', 'json', 'character varying', 'ARRAY')`;
  const parts: string[] = [];
  for (const c of columns) {
    const rows = await sql.unsafe(`select "${c.column_name}"::text as v from "${c.table_name}" where "${c.column_name}" is not null`);
    parts.push(rows.map((r) => r.v as string).join('\n'));
  }
  return parts.join('\n');
}

/** 添加学生 as the school's form sends it: a 计算机学院 本科 graduate born on `birth`, numbered `n`. */
async function addGraduate(name: string, birth: string, n: number): Promise<string> {
  const idNumber = makeIdNumber('110108', birth, n, '1');
  const res = await (await t.signInAs('school')).post('/school/graduates', {
    name, idNumber, sex: '1', ethnicity: '01', politicalStatus: '03', birthDate: birth, departmentName: '计算机学院', educationLevel: '31',
    majorCode: '080901', majorName: '计算机科学与技术', trainingMode: '1', originRegion: '110108', studentNo: `2022017${n}`, programYears: '4', enrolledOn: '2022-09', graduatesOn: '2026-06',
    phone: `13912347${n}`, email: '',
  });
  assert.is(res.status, 303);
  return idNumber;
}

test('13 at rest: 添加学生, an import (its rejected rows too), an activation and a signed agreement store no plain ID number anywhere', async () => {
  const added = await addGraduate('秦安', '2003-05-06', 771);

  // An import: one good row, one rejected (its birth date disagrees with the number).
  const imported = makeIdNumber('310104', '2004-02-03', 772, '2');
  const rejected = makeIdNumber('310104', '2004-02-04', 774, '2');
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('学生名单');
  sheet.addRow(S5_FIELDS.map((f) => f.header));
  const row = (name: string, id: string, birth: string, no: string) =>
    S5_FIELDS.map((f) => ({ name, idNumber: id, sex: '2', ethnicity: '01', politicalStatus: '03', birthDate: birth, educationLevel: '31', majorName: '软件工程', trainingMode: '1', originRegion: '310104', studentNo: no, programYears: '4', enrolledOn: '2022-09', graduatesOn: '2027-06', phone: `139${no.slice(-8)}`, departmentName: '计算机学院', school: '示范大学' } as Record<string, string>)[f.key] ?? '');
  sheet.addRow(row('许言', imported, '2004-02-03', '2023017772'));
  sheet.addRow(row('郑雨', rejected, '2004-02-05', '2023017774'));
  // A cell that looks sealed already is sealed like any other (it must not reach the table as typed).
  const lookalike = 'v1:zz:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA';
  sheet.addRow(row('冯夜', lookalike, '2004-02-05', '2023017776'));
  const [admin] = await t.db.select().from(users).where(eq(users.login, '10001-admin'));
  const actor = actorOf(admin!, 't', false);
  const importId = await queueRosterImport(t.db, localStorage(uploadsDir(dataDir)), actor, { cohort: 2027, fileName: '名单.xlsx', bytes: new Uint8Array(await wb.xlsx.writeBuffer()) });
  await processRosterImport(t.db, localStorage(uploadsDir(dataDir)), importId);
  const errorRows = await t.db.select().from(rosterImportErrors).where(eq(rosterImportErrors.importId, importId)).orderBy(rosterImportErrors.rowNumber);
  assert.is(errorRows.length, 2, 'the second and third rows were rejected');
  const lookalikeCell = Object.values(errorRows[1]!.values).find((v) => v.startsWith('v1:'))!;
  assert.is.not(lookalikeCell, lookalike);
  assert.is(openedIdNumber(lookalikeCell), lookalike);
  // The school corrects the error file: it carries the number as uploaded.
  const errors = new ExcelJS.Workbook();
  await errors.xlsx.load((await rosterImportErrorsWorkbook(t.db, { actor, ip: '10.44.0.9' }, importId)) as unknown as ExcelJS.Buffer);
  const [downloaded] = await t.db.select().from(events).where(and(eq(events.action, 'roster_import.errors_downloaded'), eq(events.subjectId, String(importId))));
  assert.ok(downloaded, 'the download of full numbers is logged');
  assert.ok(JSON.stringify(errors.worksheets[0]!.getSheetValues()).includes(rejected), 'the error file has the full number to correct');

  // An activation and a signed agreement.
  const [free] = (await signable(t, '10001')).slice(12);
  const c = t.client('10.44.0.1');
  const sent = await c.post('/student/activation', { name: free!.name, id_number: free!.idNumber });
  const done = await c.post('/student/activation', { ticket: fieldValue(sent.doc, 'ticket'), code: await latestSmsCode(t.db, free!.phone), password: 'Newpass#2026', password_confirmation: 'Newpass#2026' });
  assert.is(done.status, 303);
  const [signedFor] = (await signable(t, '10001')).slice(13);
  await insertAgreement(t.db, { graduateId: signedFor!.id, number: '2026-10001-009771', code: 'ATREST77' });

  const stored = await everyStoredValue();
  const everyNumber = (await t.db.select({ sealed: graduates.idNumberSealed }).from(graduates)).map((g) => openedIdNumber(g.sealed));
  assert.ok(everyNumber.includes(added) && everyNumber.includes(imported) && everyNumber.includes(free!.idNumber));
  assert.ok(stored.includes(`${added.slice(0, 6)}********${added.slice(14)}`), 'the scan reads the graduates table (its masked column)');
  for (const number of [...everyNumber, rejected]) assert.not.ok(stored.includes(number), `${number.slice(0, 6)}… is stored in plain text somewhere`);

  const [account] = await t.db.select().from(users).where(eq(users.graduateId, free!.id));
  assert.is.not(account!.login, free!.idNumber);
  assert.is(account!.login, (await t.db.select().from(graduates).where(eq(graduates.id, free!.id)))[0]!.idNumberIndex, 'the login is the blind index');
  const [a] = await t.db.select().from(agreements).where(eq(agreements.number, '2026-10001-009771'));
  assert.ok(isSealedIdNumber(a!.graduateSnapshot!.idNumberSealed));
  assert.not.ok('idNumber' in a!.graduateSnapshot!, 'no plain number in the snapshot');
});

test('13 at rest: the full number comes back only where it is meant to — the graduate’s own check, the logged reveal, the agreement', async () => {
  const [g] = await signable(t, '10001');
  const graduate = t.client('10.44.0.2');
  assert.is((await graduate.post('/student/login', { login: g!.idNumber, password: 'Student#2026' })).status, 303, 'sign-in by ID number (blind index)');
  assert.match((await graduate.get('/student/check')).text, g!.idNumber, 'G1: the graduate checks the full number');
  assert.is((await graduate.post('/student/check', {})).status, 303);
  const home = await graduate.get('/student');
  assert.not.match(home.text, g!.idNumber, 'the home shows it masked');
  assert.match(home.text, g!.idNumberMasked);

  const school = await t.signInAs('school');
  const list = await school.get('/school/graduates');
  assert.not.match(list.text, /\d{17}[\dX]/, 'the roster list masks every number');
  const detail = await school.get(`/school/graduates/${g!.id}`);
  assert.match(textOf(detail.doc, '#id-number')!, g!.idNumberMasked);
  assert.not.match(detail.text, g!.idNumber);
  const revealed = await school.post(`/school/graduates/${g!.id}/id-number`, {});
  assert.match(textOf(revealed.doc, '#id-number')!, g!.idNumber);

  const [agreementOf] = (await signable(t, '10001')).slice(14);
  const fixture = await insertAgreement(t.db, { graduateId: agreementOf!.id, number: '2026-10001-009772', code: 'ATREST78' });
  const page = await school.get(`/school/agreements/${fixture.id}/document`);
  assert.is(page.status, 200);
  assert.match(page.text, agreementOf!.idNumber, 'the agreement document shows the full number');
});

test('13 rotation: a new current key seals new numbers under its id; numbers sealed before still open, index and sign in', async () => {
  const before = installedIdNumberKeys();
  installIdNumberKeys(withNewKey(before, 'test2'));
  try {
    const id = await addGraduate('陶然', '2003-07-08', 781);
    const [fresh] = await t.db.select().from(graduates).where(and(eq(graduates.name, '陶然'), isNull(graduates.removedAt)));
    assert.is(keyIdOf(fresh!.idNumberSealed), 'test2');
    assert.is(idOf(fresh!), id);
    const [old] = await signable(t, '10001');
    assert.is(keyIdOf(old!.idNumberSealed), 'test1');
    assert.is((await t.client('10.44.0.3').post('/student/login', { login: old!.idNumber, password: 'Student#2026' })).status, 303);
    // An agreement whose snapshot holds a number sealed under the new key (as after npm run rotate-id-key).
    const { id: agreementId } = await insertAgreement(t.db, { graduateId: old!.id, number: '2026-10001-009774', code: 'ATREST80' });
    await t.db.execute(sql`update agreements set graduate_snapshot = jsonb_set(graduate_snapshot, '{idNumberSealed}', to_jsonb(${storedIdNumber(old!.idNumber).idNumberSealed}::text)) where id = ${agreementId}`);
    await migrateDatabase(t.db); // the start-up check passes with both keys
  } finally {
    installIdNumberKeys(before);
  }
  // Without the new key, a start refuses, naming it: a graduate is sealed under it …
  const refused = () =>
    migrateDatabase(t.db).then(
      () => assert.unreachable('a start without the key must refuse'),
      (e: Error) => assert.match(e.message, '使用密钥 test2 加密，当前没有该密钥'),
    );
  await refused();
  // … and, with that graduate gone, still an agreement's snapshot.
  await t.db.delete(graduates).where(eq(graduates.name, '陶然'));
  await refused();
  await t.db.delete(agreements).where(eq(agreements.number, '2026-10001-009774'));
  await migrateDatabase(t.db);
});

test('13 rotation, npm run rotate-id-key: a new key in the file, every stored number sealed again under it, and all still open', async () => {
  const d = await freshDatabase();
  const data = await mkdtemp(join(tmpdir(), 'wq-rotate-'));
  try {
    await insertAgreement(d.db, { graduateId: (await signable({ db: d.db }, '10001'))[5]!.id, number: '2026-10001-009773', code: 'ATREST79' });
    // The tests' keys, as the key file of a DATA_DIR.
    await mkdir(join(data, 'keys'), { recursive: true });
    const file = join(data, 'keys', 'id-number-keys.json');
    await writeFile(file, JSON.stringify({ current: 'test1', keys: { test1: TEST_ID_NUMBER_ENV.ID_NUMBER_KEYS.split(':')[1] }, hmac: TEST_ID_NUMBER_ENV.ID_NUMBER_HMAC_KEY }), { mode: 0o600 });
    const { ID_NUMBER_KEYS: _k, ID_NUMBER_KEY_CURRENT: _c, ID_NUMBER_HMAC_KEY: _h, ...env } = process.env;
    const script = fileURLToPath(new URL('../../scripts/rotate-id-number-key.ts', import.meta.url));
    // Step 1 only adds the key: the running platform does not know it yet, so nothing is sealed under it.
    const add = spawnSync(process.execPath, [script], { env: { ...env, DATABASE_URL: d.url, DATA_DIR: data }, encoding: 'utf8' });
    assert.is(add.status, 0, add.stderr);
    assert.match(add.stdout, '请先重启平台');
    assert.ok((await d.db.select().from(graduates)).every((g) => keyIdOf(g.idNumberSealed) === 'test1'), 'nothing resealed before the restart');
    // Step 3, after the restart: every stored number under the new key.
    const run = spawnSync(process.execPath, [script, '--reseal'], { env: { ...env, DATABASE_URL: d.url, DATA_DIR: data }, encoding: 'utf8' });
    assert.is(run.status, 0, run.stderr);
    const rotated = JSON.parse(await readFile(file, 'utf8')) as { current: string; keys: Record<string, string> };
    assert.is.not(rotated.current, 'test1');
    assert.equal(Object.keys(rotated.keys).sort(), ['test1', rotated.current].sort(), 'the old key stays until nothing needs it');
    assert.is((await stat(file)).mode & 0o777, 0o600);
    assert.match(run.stdout, `使用中的密钥：${rotated.current}（`);
    assert.not.match(run.stdout, 'test1（', 'nothing is sealed under the old key any more');

    // With the new keys, every number opens to what it was and indexes the same.
    const keys = await loadIdNumberKeys({ dataDir: data, env: {} });
    installIdNumberKeys(keys);
    const rows = await d.db.select().from(graduates);
    for (const g of rows) {
      assert.is(keyIdOf(g.idNumberSealed), rotated.current);
      assert.is(idNumberIndex(keys, openedIdNumber(g.idNumberSealed)), g.idNumberIndex);
    }
    const [a] = await d.db.select().from(agreements).where(eq(agreements.number, '2026-10001-009773'));
    assert.is(keyIdOf(a!.graduateSnapshot!.idNumberSealed), rotated.current);
    await migrateDatabase(d.db); // a start with the new keys accepts the database
    const again = spawnSync(process.execPath, [script, '--reseal'], { env: { ...env, DATABASE_URL: d.url, DATA_DIR: data }, encoding: 'utf8' });
    assert.is(again.status, 0, again.stderr);
    assert.match(again.stdout, '重新加密了 0 个身份证号');
  } finally {
    installIdNumberKeys(TEST_ID_NUMBER_KEYS);
    await d.drop();
    await rm(data, { recursive: true, force: true });
  }
});

test.run();
