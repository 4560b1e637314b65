import { idOf } from '../helpers/graduates.ts';
import { storageFor } from '../../db/storage.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq, isNull } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agreements, departments, destinationRegistrations, events, graduateDestinations, graduates, ministryExports, schools } from '../../db/schema/index.ts';
import { snapshotOfUnit } from '../../domain/agreements/snapshots.ts';
import { regionName } from '../../domain/codes/regions.ts';
import { DESTINATIONS, EMPLOYER_TYPES, ETHNICITIES, INDUSTRIES, POSITION_CATEGORIES, SEXES, TRAINING_MODES } from '../../domain/codes/tables.ts';
import { expireMinistryExports, MINISTRY_COLUMNS } from '../../domain/statistics/ministry.ts';
import { setupApp, type Client, type TestApp } from '../helpers/app.ts';
import { textOf } from '../helpers/html.ts';

// 导出就业方案 (issue 12 item 4): the header and every graduate's row against the mapping table, with
// codes from the code tables; progress as the roster import shows it; each download logged; the
// school's employment office only.
let t: TestApp;
let schoolId: number;
type G = typeof graduates.$inferSelect;
let roster: G[];
const UNIT = { uscc: '91110108MA01A00010', name: '越综合企业', employerType: '39', industry: '34', region: '110108', address: '北京', contactName: null, contactPhone: null, contactMobile: null, contactEmail: null };

test.before(async () => {
  t = await setupApp();
  schoolId = (await t.db.select().from(schools).where(eq(schools.code, '10001')))[0]!.id;
  roster = await t.db.select().from(graduates).where(and(eq(graduates.schoolId, schoolId), eq(graduates.cohort, 2026), isNull(graduates.removedAt))).orderBy(graduates.id);
  // Graduate 0 signed online; 1 registered 自主创业 (approved); 2 registered 升学; 3 a 补登 still in review; the rest 未登记.
  const [a, b, c, d] = roster;
  await t.db.insert(agreements).values({
    kind: 'online', state: 'signed', graduateId: a!.id, schoolId, departmentId: a!.departmentId, cohort: 2026, positionCategory: '13', positionName: '工程师', archiveMode: 'none',
    unitSnapshot: snapshotOfUnit(UNIT as never), employerId: 1, invitedAt: new Date(), validityDays: 3, deadline: new Date(Date.now() + 86_400_000), contactName: '王', contactPhone: '010-1', workPlace: '北京',
  });
  await t.db.insert(agreements).values({ kind: 'registered', state: 'registration_department_review', graduateId: d!.id, schoolId, departmentId: d!.departmentId, cohort: 2026, positionCategory: '13', positionName: '工程师', archiveMode: 'none', unitSnapshot: snapshotOfUnit(UNIT as never) });
  await t.db.insert(destinationRegistrations).values([
    { state: 'approved', graduateId: b!.id, schoolId, departmentId: b!.departmentId, cohort: 2026, type: 'startup', code: '75', details: { unitName: '越创科技有限公司', uscc: '91310000MA1FL8XQ30', industry: '65', region: '310104' } },
    { state: 'approved', graduateId: c!.id, schoolId, departmentId: c!.departmentId, cohort: 2026, type: 'postgraduate', code: '80', details: { schoolName: '示例大学', major: '计算机科学与技术', studyLevel: '硕士' } },
  ]);
  await t.db.insert(graduateDestinations).values([
    { graduateId: a!.id, schoolId, code: '10' },
    { graduateId: b!.id, schoolId, code: '75' },
    { graduateId: c!.id, schoolId, code: '80' },
  ]);
});
test.after(async () => {
  await t.close();
});

/** Requests an export and follows its progress region until it has finished, as the page does. */
async function exportCohort(school: Client): Promise<{ id: number; page: Awaited<ReturnType<Client['get']>> }> {
  const res = await school.post('/school/statistics/ministry-exports', { cohort: '2026' });
  assert.is(res.status, 303);
  const id = Number(res.location!.split('/').pop());
  let page = await school.get(res.location!);
  assert.is(page.status, 200);
  while (page.doc.querySelector('#export-progress')!.hasAttribute('hx-get')) {
    await new Promise((r) => setImmediate(r));
    page = await school.get(`/school/statistics/ministry-exports/${id}/progress`);
  }
  return { id, page };
}

async function workbookOf(bytes: Uint8Array) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  return wb;
}

test('the export has the Ministry columns in the mapping table\'s order and one row per graduate, each cell from the roster, the destination and the unit, codes from the code tables', async () => {
  const school = await t.signInAs('school');
  const stats = await school.get('/school/statistics?cohort=2026');
  assert.ok(stats.doc.querySelector('#ministry-export-form'), 'the school sees 导出就业方案 on 数据统计');
  const { id, page } = await exportCohort(school);
  assert.is(textOf(page.doc, '#export-status'), '已完成');
  assert.is(textOf(page.doc, '#export-count'), `共 ${roster.length} 名毕业生。`);
  const res = await school.get(page.doc.querySelector('#download-export')!.getAttribute('href')!);
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-disposition')!, encodeURIComponent('10001示范大学-2026届就业方案.xlsx'));
  assert.is(res.headers.get('cache-control'), 'no-store');
  const wb = await workbookOf(res.bytes);
  const sheet = wb.worksheets[0]!;
  const header = (sheet.getRow(1).values as unknown[]).slice(1);
  assert.equal(header, MINISTRY_COLUMNS.map((c) => c.column));
  for (const must of ['Ksh', 'Xm', 'Sfzh', 'Byqxdm', 'Dwmc', 'Dwzzjgdm', 'Dwxzdm', 'Dwhydm', 'Dwszddm', 'Gzzwlbdm']) assert.ok(header.includes(must), must);
  assert.is(sheet.actualRowCount, roster.length + 1, 'a row per graduate');

  const rows = new Map<string, Record<string, string>>();
  sheet.eachRow((row, n) => {
    if (n === 1) return;
    const values = (row.values as unknown[]).slice(1);
    rows.set(String(values[2]), Object.fromEntries(header.map((h, i) => [h as string, values[i] === undefined || values[i] === null ? '' : String(values[i])])));
  });
  const depts = new Map((await t.db.select().from(departments)).map((d) => [d.id, d.name]));
  for (const g of roster) {
    const r = rows.get(idOf(g));
    assert.ok(r, `${g.name} is in the file with the full ID number`);
    assert.equal(
      [r!.Ksh, r!.Xm, r!.Xbdm, r!.Xb, r!.Mzdm, r!.Mz, r!.Yxdm, r!.Szyx, r!.Xh, r!.Xldm, r!.Zy, r!.Pyfsdm, r!.Pyfs, r!.Syszddm, r!.Syszd, r!.Xz, r!.Rxsj, r!.Bysj],
      [g.examNo ?? '', g.name, g.sex, SEXES[g.sex as keyof typeof SEXES], g.ethnicity, ETHNICITIES[g.ethnicity as keyof typeof ETHNICITIES], '10001', depts.get(g.departmentId), g.studentNo, g.educationLevel, g.majorName, g.trainingMode, TRAINING_MODES[g.trainingMode as keyof typeof TRAINING_MODES], g.originRegion, regionName(g.originRegion), g.programYears, g.enrolledOn, g.graduatesOn],
    );
  }
  const [a, b, c, d, e] = roster;
  const signed = rows.get(idOf(a!))!;
  assert.equal([signed.Byqxdm, signed.Byqx, signed.Dwmc, signed.Dwzzjgdm, signed.Dwxzdm, signed.Dwxz, signed.Dwhydm, signed.Dwhy, signed.Dwszddm, signed.Gzzwlbdm, signed.Gzzwlb], ['10', DESTINATIONS['10'], UNIT.name, UNIT.uscc, '39', EMPLOYER_TYPES['39'], '34', INDUSTRIES['34'], '110108', '13', POSITION_CATEGORIES['13']]);
  const startup = rows.get(idOf(b!))!;
  assert.equal([startup.Byqxdm, startup.Dwmc, startup.Dwzzjgdm, startup.Dwhydm, startup.Dwszddm, startup.Dwszd], ['75', '越创科技有限公司', '91310000MA1FL8XQ30', '65', '310104', regionName('310104')]);
  const study = rows.get(idOf(c!))!;
  assert.equal([study.Byqxdm, study.Byqx, study.Dwmc, study.Dwzzjgdm], ['80', '升学', '', ''], '升学 has no unit');
  for (const g of [d!, e!]) assert.equal([rows.get(idOf(g))!.Byqxdm, rows.get(idOf(g))!.Dwmc], ['', ''], 'a 补登 in review is not a destination yet');
  // Every code cell is text, so 01 stays 01 and an 18-digit number keeps its digits.
  assert.is(sheet.getRow(2).getCell(3).type, ExcelJS.ValueType.String);
  const notes = wb.getWorksheet('字段说明')!;
  assert.equal((notes.getRow(2).values as unknown[]).slice(1), [MINISTRY_COLUMNS[0]!.column, MINISTRY_COLUMNS[0]!.label, MINISTRY_COLUMNS[0]!.source]);

  // Every download is a logged reveal of the cohort's personal data.
  const logged = await t.db.select().from(events).where(and(eq(events.subjectType, 'ministry_export'), eq(events.subjectId, String(id))));
  assert.equal(logged.map((l) => l.action).sort(), ['ministry_export.downloaded', 'ministry_export.requested']);
  assert.equal(logged.find((l) => l.action === 'ministry_export.downloaded')!.data, { cohort: 2026, rows: roster.length });

  // The list shows it with the mapping; the mapping table on the page is the one the file used.
  const list = await school.get('/school/statistics/ministry-exports');
  assert.is(list.doc.querySelectorAll('#exports tbody tr').length, 1);
  assert.equal([...list.doc.querySelectorAll('#mapping tbody th')].map((th) => th.textContent), MINISTRY_COLUMNS.map((c) => c.column));
});

test('the file is deleted after its keeping time; the record stays and says so', async () => {
  const school = await t.signInAs('school');
  const { id } = await exportCohort(school);
  const [row] = await t.db.select().from(ministryExports).where(eq(ministryExports.id, id));
  // A transient file (every graduate's ID number in clear): DATA_DIR/work, which no backup copies.
  assert.match(row!.storedAs!, /^w\//);
  assert.ok(existsSync(join(t.config.dataDir, 'work', row!.storedAs!.slice(2))));
  assert.is(await expireMinistryExports(t.db, storageFor(t.config), new Date(Date.now() + 25 * 3600_000)), 2);
  assert.not.ok(existsSync(join(t.config.dataDir, 'work', row!.storedAs!.slice(2))));
  const page = await school.get(`/school/statistics/ministry-exports/${id}`);
  assert.ok(page.doc.querySelector('#export-expired'));
  assert.is((await school.get(`/school/statistics/ministry-exports/${id}/download`)).status, 404);
});

test('only the school\'s employment office exports: a department, another school, a province and a unit get 403/404', async () => {
  const school = await t.signInAs('school');
  const { id } = await exportCohort(school);
  const dept = await t.signInAs('department');
  assert.not.ok((await dept.get('/school/statistics?cohort=2026')).doc.querySelector('#ministry-export-form'));
  assert.is((await dept.post('/school/statistics/ministry-exports', { cohort: '2026' })).status, 403);
  for (const path of ['/school/statistics/ministry-exports', `/school/statistics/ministry-exports/${id}`, `/school/statistics/ministry-exports/${id}/download`]) {
    assert.is((await dept.get(path)).status, 403, path);
  }
  const other = await t.signInAs('school2');
  assert.is((await other.get(`/school/statistics/ministry-exports/${id}`)).status, 404);
  assert.is((await other.get(`/school/statistics/ministry-exports/${id}/download`)).status, 404);
  for (const who of ['province', 'employer', 'admin', 'student'] as const) {
    const c = await t.signInAs(who);
    assert.ok([403, 404].includes((await c.get(`/school/statistics/ministry-exports/${id}/download`)).status), who);
  }
  const before = await t.db.select().from(events).where(and(eq(events.subjectId, String(id)), eq(events.action, 'ministry_export.downloaded')));
  assert.is(before.length, 0, 'a refused download is not a reveal');
});

test.run();
