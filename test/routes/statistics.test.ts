import { and, eq, isNull, sql } from 'drizzle-orm';
import { withStoredIdNumber } from '../../db/id-number-keys.ts';
import ExcelJS from 'exceljs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agreements, departments, graduateDestinations, graduates, schools } from '../../db/schema/index.ts';
import { snapshotOfUnit } from '../../domain/agreements/snapshots.ts';
import type { AgreementKind, AgreementState } from '../../domain/agreements/states.ts';
import { DESTINATIONS } from '../../domain/codes/tables.ts';
import { PIPELINE_STAGE_OF, PLACED_CODES } from '../../domain/statistics/definitions.ts';
import { refreshSchoolFigures } from '../../domain/statistics/overview.ts';
import { setupApp, type TestApp } from '../helpers/app.ts';
import type { Doc } from '../helpers/html.ts';
import { textOf } from '../helpers/html.ts';

// 数据统计 (school guide 10, S11): figures on a known data set against counts computed here, from
// the rows, without the statistics code; department and school scoping; charts and the .xlsx.
let t: TestApp;
let schoolId: number;
type G = typeof graduates.$inferSelect;
let roster: G[];
const codeOf = new Map<number, string>();
const CODES = [...Object.keys(DESTINATIONS), null] as const;

/** A small deterministic generator, so a failure reproduces. */
function prng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

test.before(async () => {
  t = await setupApp();
  schoolId = (await t.db.select().from(schools).where(eq(schools.code, '10001')))[0]!.id;
  // Two graduates leave the roster; one of another cohort joins: neither counts in 2026.
  const all = await t.db.select().from(graduates).where(eq(graduates.schoolId, schoolId)).orderBy(graduates.id);
  await t.db.update(graduates).set({ removedAt: new Date() }).where(sql`${graduates.id} in (${all[38]!.id}, ${all[39]!.id})`);
  const { id: _, idNumberSealed: _s, idNumberIndex: _i, idNumberMasked: _m, ...other } = all[0]!;
  await t.db.insert(graduates).values(withStoredIdNumber({ ...other, cohort: 2025, idNumber: '110105200305061000' }));
  roster = await t.db.select().from(graduates).where(and(eq(graduates.schoolId, schoolId), eq(graduates.cohort, 2026), isNull(graduates.removedAt))).orderBy(graduates.id);
  // Every graduate (the removed ones too) gets a destination, or none.
  const random = prng(11);
  for (const g of all) {
    const code = CODES[Math.floor(random() * CODES.length)]!;
    if (code === null) continue;
    codeOf.set(g.id, code);
    await t.db.insert(graduateDestinations).values({ graduateId: g.id, schoolId, code });
  }
  // Agreements on every path in several states (one active per graduate).
  const unit = snapshotOfUnit({ uscc: '91110108MA01A00010', name: '越综合企业', employerType: '39', industry: '34', region: '110108', address: '北京', contactName: null, contactPhone: null, contactMobile: null, contactEmail: null } as never);
  const plan: Array<[AgreementKind, AgreementState]> = [
    ['online', 'invited'], ['online', 'invited'], ['online', 'department_review'], ['online', 'signed'], ['online', 'signed'], ['online', 'terminated'], ['online', 'declined'], ['online', 'expired'],
    ['offline', 'withdrawn'], ['offline', 'awaiting_stamped_copy'], ['offline', 'signing_school_review'], ['offline', 'signed'], ['offline', 'agreement_rejected'],
    ['registered', 'registration_department_review'], ['registered', 'signed'], ['registered', 'terminated'],
  ];
  for (const [i, [kind, state]] of plan.entries()) {
    const g = all[i]!;
    await t.db.insert(agreements).values({
      kind, state, graduateId: g.id, schoolId, departmentId: g.departmentId, cohort: g.cohort, positionCategory: '13', positionName: '工程师', archiveMode: 'none', unitSnapshot: unit,
      ...(kind === 'online' ? { employerId: 1, invitedAt: new Date(), validityDays: 3, deadline: new Date(Date.now() + 86_400_000), contactName: '王', contactPhone: '010-1', workPlace: '北京' } : {}),
    });
  }
});
test.after(async () => {
  await t.close();
});

const cellsOf = (doc: Doc, id: string) => [...doc.querySelectorAll(`#${id} tbody tr`)].map((tr) => [...tr.children].map((c) => c.textContent!.trim()));
const footOf = (doc: Doc, id: string) => [...doc.querySelectorAll(`#${id} tfoot tr > *`)].map((c) => c.textContent!.trim());
const pct = (part: number, whole: number) => (whole === 0 ? '—' : `${((part * 100) / whole).toFixed(1)}%`);
const isPlaced = (g: G) => PLACED_CODES.includes(codeOf.get(g.id) as never);

test('S11 the school\'s figures equal counts made from the rows: totals, 毕业去向, 落实率 with its definition, 院系 × 毕业去向, 专业, 学历层次, 性别, 生源所在地', async () => {
  const school = await t.signInAs('school');
  const page = await school.get('/school/statistics?cohort=2026');
  assert.is(page.status, 200);
  const doc = page.doc;
  const placed = roster.filter(isPlaced).length;
  assert.is(textOf(doc, '#total'), String(roster.length));
  assert.is(textOf(doc, '#placed'), String(placed));
  assert.is(textOf(doc, '#rate'), pct(placed, roster.length));
  assert.match(textOf(doc, '#definition')!, '落实率 =（单位就业 + 自主创业 + 自由职业 + 升学）÷ 毕业生总数');

  // 毕业去向: every code in the table's order, then 未登记.
  const byDestination = cellsOf(doc, 'by-destination');
  const expectedDestinations = [...Object.keys(DESTINATIONS).sort(), ''].map((code) => {
    const n = roster.filter((g) => (codeOf.get(g.id) ?? '') === code).length;
    return [code || '—', code ? DESTINATIONS[code as keyof typeof DESTINATIONS] : '未登记', String(n), pct(n, roster.length)];
  });
  assert.equal(byDestination, expectedDestinations);

  // 院系 × 毕业去向: the columns present, each cell, the department's 落实率.
  const head = [...doc.querySelectorAll('#by-department thead th')].map((th) => th.textContent!.trim());
  const columns = head.slice(2, -2).map((h) => (h === '未登记' ? '' : h.split(' ')[0]!));
  assert.ok(columns.every((c) => c === '' || roster.some((g) => codeOf.get(g.id) === c)), 'only codes someone has');
  assert.ok(columns.includes(''));
  const deptRows = await t.db.select().from(departments).where(eq(departments.schoolId, schoolId));
  const expectedDept = deptRows
    .map((d) => {
      const mine = roster.filter((g) => g.departmentId === d.id);
      const p = mine.filter(isPlaced).length;
      return [d.name, String(mine.length), ...columns.map((c) => String(mine.filter((g) => (codeOf.get(g.id) ?? '') === c).length)), String(p), pct(p, mine.length)];
    })
    .sort((a, b) => a[0]!.localeCompare(b[0]!, 'zh-CN'));
  assert.equal(cellsOf(doc, 'by-department'), expectedDept);
  assert.equal(footOf(doc, 'by-department').slice(0, 2), ['合计', String(roster.length)]);

  // 专业 within 院系.
  const majors = new Map<string, G[]>();
  for (const g of roster) majors.set(`${g.departmentId}:${g.majorName}`, [...(majors.get(`${g.departmentId}:${g.majorName}`) ?? []), g]);
  assert.is(cellsOf(doc, 'by-major').length, majors.size);
  for (const r of cellsOf(doc, 'by-major')) {
    const d = deptRows.find((x) => x.name === r[0])!;
    const mine = majors.get(`${d.id}:${r[1]}`)!;
    assert.equal(r.slice(2), [String(mine.length), String(mine.filter(isPlaced).length), pct(mine.filter(isPlaced).length, mine.length)], r.join(' '));
  }

  // 学历层次, 性别 and 生源所在地 (province).
  const count = (f: (g: G) => boolean) => roster.filter(f).length;
  const levelRows = cellsOf(doc, 'by-level');
  assert.equal(levelRows.map((r) => r[1]), ['01', '11', '31'].filter((l) => count((g) => g.educationLevel === l)).map((l) => String(count((g) => g.educationLevel === l))));
  assert.equal(levelRows.map((r) => r[0]), ['博士生毕业', '硕士生毕业', '本科生毕业']);
  assert.equal(cellsOf(doc, 'by-sex').map((r) => [r[0], r[1]]), [['男', String(count((g) => g.sex === '1'))], ['女', String(count((g) => g.sex === '2'))]]);
  const origin = cellsOf(doc, 'by-origin');
  const provinces = [...new Set(roster.map((g) => g.originRegion.slice(0, 2)))].sort();
  assert.equal(origin.map((r) => r[1]), provinces.map((p) => String(count((g) => g.originRegion.startsWith(p)))));
  assert.ok(origin.some((r) => r[0] === '北京市'), 'a province by its name');
});

test('S11 the signing pipeline per path (线上签约, 线下签约, 纸质协议补登) counts agreements by stage from the workflow tables', async () => {
  const school = await t.signInAs('school');
  const doc = (await school.get('/school/statistics?cohort=2026')).doc;
  const rows = await t.db.select({ kind: agreements.kind, state: agreements.state }).from(agreements).where(and(eq(agreements.schoolId, schoolId), eq(agreements.cohort, 2026)));
  const stages = ['open', 'review', 'signed', 'terminated', 'failed'] as const;
  const expected = (['online', 'offline', 'registered'] as const).map((kind) => {
    const mine = rows.filter((r) => r.kind === kind);
    return [...stages.map((s) => String(mine.filter((r) => PIPELINE_STAGE_OF[kind][r.state] === s).length)), String(mine.length)];
  });
  assert.equal(cellsOf(doc, 'pipeline').map((r) => r.slice(1)), expected);
  assert.equal(cellsOf(doc, 'pipeline').map((r) => r[0]), ['线上签约', '线下签约', '纸质协议补登']);
  // The hand-made plan, stage by stage: online 2 invited, 1 in review, 2 signed, 1 terminated, 2 failed.
  assert.equal(expected[0], ['2', '1', '2', '1', '2', '8']);
  assert.equal(expected[1], ['2', '1', '1', '0', '1', '5']);
});

test('S11 a department user sees only its 院系; a unit, a graduate and the other school\'s figures stay out', async () => {
  const dept = await t.signInAs('department');
  const page = await dept.get('/school/statistics?cohort=2026');
  assert.is(page.status, 200);
  const mine = roster.filter((g) => g.departmentId === roster.find((x) => x.departmentId)!.departmentId);
  const [cs] = await t.db.select().from(departments).where(eq(departments.name, '计算机学院'));
  const own = roster.filter((g) => g.departmentId === cs!.id);
  assert.ok(mine.length > 0);
  assert.is(textOf(page.doc, '#total'), String(own.length));
  assert.equal(cellsOf(page.doc, 'by-department').map((r) => r[0]), ['计算机学院']);
  assert.match(textOf(page.doc, '#scope')!, '计算机学院');
  const sheet = await dept.get('/school/statistics/export.xlsx?cohort=2026');
  assert.is(sheet.status, 200);

  const other = await t.signInAs('school2');
  const theirs = await other.get('/school/statistics?cohort=2026');
  assert.is(textOf(theirs.doc, '#total'), String((await t.db.select().from(graduates).innerJoin(schools, eq(schools.id, graduates.schoolId)).where(eq(schools.code, '10002'))).length));
  assert.ok(!theirs.doc.querySelector('#by-department tbody')!.textContent!.includes('计算机学院'));
  for (const who of ['employer', 'province', 'admin'] as const) {
    const c = await t.signInAs(who);
    const res = await c.get('/school/statistics');
    assert.ok([403, 404].includes(res.status), `${who}: ${res.status}`);
  }
  const student = await t.signInAs('student');
  assert.ok([403, 404].includes((await student.get('/school/statistics')).status));
});

test('charts are server-drawn SVG with a title, no script and no inline style; the tables download as .xlsx with the same cells', async () => {
  const school = await t.signInAs('school');
  const page = await school.get('/school/statistics?cohort=2026');
  for (const id of ['destination-chart', 'rate-chart']) {
    const svg = page.doc.querySelector(`svg#${id}`);
    assert.ok(svg, id);
    assert.is(svg!.getAttribute('role'), 'img');
    assert.ok(svg!.querySelector('title')!.textContent!.includes('2026'));
    assert.ok(svg!.querySelectorAll('path, rect').length > 2);
  }
  assert.not.match(page.text, /<script(?![^>]*src=)/, 'no inline script');
  assert.not.match(page.text, /style="/, 'no inline style (CSP style-src self)');
  assert.not.match(page.text, /<style/);
  assert.ok(page.doc.querySelector('#rate-chart')!.textContent!.includes('计算机学院'));

  const res = await school.get('/school/statistics/export.xlsx?cohort=2026');
  assert.is(res.headers.get('content-type'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  assert.match(res.headers.get('content-disposition')!, /filename\*=UTF-8''/);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(res.bytes.buffer.slice(res.bytes.byteOffset, res.bytes.byteOffset + res.bytes.byteLength) as ArrayBuffer);
  assert.equal(wb.worksheets.map((s) => s.name), ['毕业去向', '落实情况', '院系 × 毕业去向', '学历层次 × 毕业去向', '专业', '性别', '生源所在地', '签约进度（协议份数）']);
  const sheet = wb.getWorksheet('院系 × 毕业去向')!;
  const pageRows = cellsOf(page.doc, 'by-department');
  for (const [i, r] of pageRows.entries()) {
    const values = (sheet.getRow(3 + i).values as unknown[]).slice(1);
    assert.is(values[0], r[0]);
    assert.is(values[1], Number(r[1]), 'a count is a number');
    const rate = values[values.length - 1] as number;
    assert.is(`${(rate * 100).toFixed(1)}%`, r[r.length - 1], 'a rate is a percentage Excel can add');
  }
});

test('S11 a province sees its own schools\' figures (as the job last counted them), opens one as the school does, and never another province\'s school', async () => {
  const bj = await t.signInAs('province');
  // Before the job has run, the page says so rather than showing zeros as facts.
  await t.db.execute(sql`delete from school_figures`);
  const empty = await bj.get('/province/statistics');
  assert.is(empty.status, 200);
  assert.match(textOf(empty.doc, '#freshness')!, '尚未生成统计');

  const at = new Date('2026-11-30T02:05:00Z');
  await t.db.transaction((tx) => refreshSchoolFigures(tx, at));
  const page = await bj.get('/province/statistics?cohort=2026');
  assert.is(page.status, 200);
  assert.is(textOf(page.doc, '#freshness'), '统计时间 2026-11-30 10:05，每 10 分钟更新');
  const placed = roster.filter(isPlaced).length;
  // Only 示范大学 is in 北京; its row equals the counts made from the rows.
  const rows = cellsOf(page.doc, 'schools');
  assert.equal(rows.map((r) => r.slice(0, 2)), [['示范大学', '10001']]);
  const head = [...page.doc.querySelectorAll('#schools thead th')].map((th) => th.textContent!.trim());
  const cell = (name: string) => rows[0]![head.indexOf(name)];
  assert.is(cell('毕业生数'), String(roster.length));
  assert.is(cell('落实数'), String(placed));
  assert.is(cell('落实率'), pct(placed, roster.length));
  assert.is(cell('未登记'), String(roster.filter((g) => !codeOf.has(g.id)).length));
  assert.is(cell('升学'), String(roster.filter((g) => ['80', '85'].includes(codeOf.get(g.id) ?? '')).length));
  const mine = await t.db.select({ kind: agreements.kind, state: agreements.state }).from(agreements).where(and(eq(agreements.schoolId, schoolId), eq(agreements.cohort, 2026)));
  assert.is(cell('已签约'), String(mine.filter((r) => PIPELINE_STAGE_OF[r.kind][r.state] === 'signed').length));
  assert.is(textOf(page.doc, '#total'), String(roster.length));
  assert.is(textOf(page.doc, '#school-count'), '1');
  assert.ok(page.doc.querySelector('svg#rate-chart')!.textContent!.includes('示范大学'));
  assert.equal(cellsOf(page.doc, 'by-destination').find((r) => r[0] === '—')!.slice(2, 3), [String(roster.filter((g) => !codeOf.has(g.id)).length)]);

  // The drill-down is the school's own page; 上海's school is not found from 北京.
  const link = page.doc.querySelector('#schools tbody a')!.getAttribute('href')!;
  const school = await bj.get(link);
  assert.is(school.status, 200);
  assert.is(textOf(school.doc, '#total'), String(roster.length));
  assert.is(school.doc.querySelector('#back')!.getAttribute('href'), '/province/statistics?cohort=2026');
  assert.is((await bj.get('/province/statistics/schools/10002')).status, 404);
  assert.is((await bj.get('/province/statistics/schools/10002/export.xlsx')).status, 404);
  assert.is((await bj.get('/province/statistics/schools/10001/export.xlsx?cohort=2026')).status, 200);

  const sh = await t.signInAs('province2');
  const theirs = await sh.get('/province/statistics?cohort=2026');
  assert.equal(cellsOf(theirs.doc, 'schools').map((r) => r[0]), ['示例理工大学']);
  assert.is((await sh.get('/province/statistics/schools/10001')).status, 404);
  const sheet = await sh.get('/province/statistics/export.xlsx?cohort=2026');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(sheet.bytes.buffer.slice(sheet.bytes.byteOffset, sheet.bytes.byteOffset + sheet.bytes.byteLength) as ArrayBuffer);
  assert.equal(wb.worksheets.map((w) => w.name), ['毕业去向', '各高校']);
  assert.not.ok(JSON.stringify(wb.getWorksheet('各高校')!.getSheetValues()).includes('示范大学'));

  for (const who of ['school', 'department', 'employer', 'admin', 'student'] as const) {
    const c = await t.signInAs(who);
    for (const path of ['/province/statistics', '/province/statistics/schools/10001']) {
      const res = await c.get(path);
      assert.ok([403, 404].includes(res.status), `${who} ${path}: ${res.status}`);
    }
  }
});

test('S11 platform staff see every province\'s and every school\'s figures, filter by province, and open any school; nobody else does', async () => {
  await t.db.transaction((tx) => refreshSchoolFigures(tx));
  const admin = await t.signInAs('admin');
  const page = await admin.get('/admin/statistics?cohort=2026');
  assert.is(page.status, 200);
  const all = await t.db.select({ schoolCode: schools.code, g: graduates }).from(graduates).innerJoin(schools, eq(schools.id, graduates.schoolId)).where(and(eq(graduates.cohort, 2026), isNull(graduates.removedAt)));
  assert.is(textOf(page.doc, '#total'), String(all.length));
  const provinces = cellsOf(page.doc, 'provinces');
  assert.equal(provinces.map((r) => r.slice(0, 3)), [['北京市', '1', String(roster.length)], ['上海市', '1', String(all.filter((r) => r.schoolCode === '10002').length)]]);
  assert.equal(cellsOf(page.doc, 'schools').map((r) => r[0]), ['示范大学', '示例理工大学']);
  assert.is(footOf(page.doc, 'schools')[3], String(all.length));

  const sh = page.doc.querySelectorAll('#provinces tbody a')[1]!.getAttribute('href')!;
  const filtered = await admin.get(sh);
  assert.equal(cellsOf(filtered.doc, 'schools').map((r) => r[0]), ['示例理工大学']);
  assert.is(filtered.doc.querySelector('#province option[selected]')!.textContent, '上海市');
  const school = await admin.get('/admin/statistics/schools/10001?cohort=2026');
  assert.is(school.status, 200);
  assert.is(textOf(school.doc, '#total'), String(roster.length));
  assert.is((await admin.get('/admin/statistics/schools/99999')).status, 404);
  const sheet = await admin.get('/admin/statistics/export.xlsx?cohort=2026');
  assert.is(sheet.status, 200);

  for (const who of ['school', 'department', 'employer', 'province', 'student'] as const) {
    const c = await t.signInAs(who);
    for (const path of ['/admin/statistics', '/admin/statistics/schools/10001', '/admin/statistics/export.xlsx']) {
      const res = await c.get(path);
      assert.ok([403, 404].includes(res.status), `${who} ${path}: ${res.status}`);
    }
  }
});

test.run();
