import { idOf } from '../helpers/graduates.ts';
import { and, eq } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agreements, favourites, graduates, idempotencyKeys, schools, users } from '../../db/schema/index.ts';
import { ABANDONED_AFTER_MS } from '../../domain/idempotency.ts';
import { setupApp, studentLogins, type TestApp } from '../helpers/app.ts';
import { parseHtml, textOf } from '../helpers/html.ts';

let t: TestApp;
let g: typeof graduates.$inferSelect;
test.before(async () => {
  t = await setupApp();
  const [u] = await t.db.select().from(users).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
  g = (await t.db.select().from(graduates).where(eq(graduates.id, u!.graduateId!)))[0]!;
});
test.after(async () => {
  await t.close();
});

const LETTER = { positionCategory: '13', positionName: '后端开发工程师', validityDays: '5', contactName: '王经理', contactPhone: '010-62750009', workPlace: '北京市海淀区', archiveMode: 'accept', archiveUnit: '北京市海淀区人才服务中心', archiveAddress: '北京市海淀区苏州街 1 号', archivePostcode: '100080', archiveContact: '李老师', archivePhone: '010-82600001', hukouAddress: '北京市海淀区苏州街 1 号', supplement: '提供住房补贴。' };
let agreementId = 0;

test('E4 学生收藏夹: 添加学生 by exact details (a POST, no ID number in the URL) → 加入收藏夹', async () => {
  const c = await t.signInAs('employer');
  const search = await c.post('/employer/favourites/search', { name: g.name, idNumber: idOf(g), school: '示范大学', cohort: '2026' });
  assert.is(search.status, 200);
  assert.match(textOf(search.doc, '#found')!, g.name);
  assert.match(textOf(search.doc, '#found')!, /\*{8}/);
  const miss = await c.post('/employer/favourites/search', { name: '不存在', idNumber: idOf(g), school: '示范大学', cohort: '2026' });
  assert.is(miss.status, 404);
  assert.match(textOf(miss.doc, '#form-error')!, '未找到符合条件的毕业生');
  const add = await c.post('/employer/favourites', { name: g.name, idNumber: idOf(g), school: '示范大学', cohort: '2026' });
  assert.is(add.status, 303);
  const list = await c.get(add.location!);
  assert.match(textOf(list.doc, '#favourites')!, g.name);
  assert.is((await c.post('/employer/favourites', { name: g.name, idNumber: idOf(g), school: '示范大学', cohort: '2026' })).status, 409);
});

test('E5 签约邀请函: pre-filled from 户档 and the last letter; the deadline is shown; the first 户档 is saved', async () => {
  const c = await t.signInAs('employer');
  const [fav] = await t.db.select().from(favourites).where(eq(favourites.graduateId, g.id));
  const form = await c.post('/employer/invitations/new', { favourite: String(fav!.id) });
  assert.match(textOf(form.doc, '#invitees')!, g.name);
  assert.match(textOf(form.doc, '#deadline-preview')!, /\d{4}-\d{2}-\d{2} 00:00/);
  const bad = await c.post('/employer/invitations', { favourite: String(fav!.id), ...LETTER, validityDays: '0', supplement: '长'.repeat(1001) });
  assert.is(bad.status, 422);
  assert.is(textOf(bad.doc, '#validityDays-error'), '应约有效期为 1 至 30 天');
  assert.is(textOf(bad.doc, '#supplement-error'), '协议补充内容不超过 1000 字');
  const sent = await c.post('/employer/invitations', { favourite: String(fav!.id), ...LETTER });
  assert.match(textOf(sent.doc, '#invited')!, g.name);
  const [a] = await t.db.select().from(agreements).where(and(eq(agreements.graduateId, g.id), eq(agreements.state, 'invited')));
  agreementId = a!.id;
  assert.is(a!.unitSnapshot.name, '越综合企业');
  assert.is((await c.get('/employer/archive')).doc.querySelector('#archiveUnit')!.getAttribute('value'), LETTER.archiveUnit);
  const again = await c.post('/employer/invitations/new', { favourite: String(fav!.id) });
  assert.is(again.doc.querySelector('#positionName')!.getAttribute('value'), LETTER.positionName, 'the next letter pre-fills the last');
  const twice = await c.post('/employer/invitations', { favourite: String(fav!.id), ...LETTER });
  assert.match(textOf(twice.doc, '#skipped')!, g.name, 'G6');
});

test('G3 the graduate sees the invitation on the home page and accepts it after a confirmation', async () => {
  const c = await t.signInAs('student');
  const home = await c.get('/student');
  assert.match(textOf(home.doc, `#invitation-${agreementId}`)!, '越综合企业');
  const detail = await c.get(`/student/invitations/${agreementId}`);
  assert.ok(detail.doc.querySelector('#accept'));
  const confirm = await c.get(`/student/invitations/${agreementId}/acceptance`);
  assert.ok(confirm.doc.querySelector('#confirm'));
  const res = await c.post(`/student/invitations/${agreementId}/acceptance`, {});
  assert.is(res.status, 303);
  const after = await c.get(res.location!);
  assert.is(textOf(after.doc, '#agreement-state'), '学生已应约提交审核中');
  assert.match(textOf(after.doc, '#agreement-number')!, /^2026-10001-\d{6}$/);
  assert.not.ok(after.doc.querySelector('#accept'));
  assert.match(textOf((await c.get('/student')).doc, '#status-summary')!, '学校（院系）审核中');
});

test('E6 签约中 shows the row; the detail has the progress steps and the same timeline as the graduate', async () => {
  const c = await t.signInAs('employer');
  const tab = await c.get('/employer/agreements?tab=signing&cohort=2026');
  assert.match(textOf(tab.doc, `#agreement-${agreementId}`)!, '学生已应约提交审核中');
  const detail = await c.get(`/employer/agreements/${agreementId}`);
  assert.equal([...detail.doc.querySelectorAll('#progress li')].map((li) => li.textContent), ['单位已发起邀请', '等待学生应约', '学校（学院）审核', '签约完成']);
  const employerTimeline = textOf(detail.doc, '#timeline ol');
  const studentTimeline = textOf((await (await t.signInAs('student')).get(`/student/invitations/${agreementId}`)).doc, '#timeline ol');
  assert.is(employerTimeline, studentTimeline);
  assert.match(employerTimeline!, '学生接受签约邀请');
});

test('S6/S7 在线签约管理: the department approves with htmx (row and counts swapped), then the school signs', async () => {
  const dept = await t.signInAs('department');
  const list = await dept.get('/school/agreements');
  assert.match(textOf(list.doc, `#agreement-${agreementId}-row`)!, '等待院系审核');
  assert.match(textOf(list.doc, `#agreement-${agreementId}-row`)!, '审核', '北京 is 三方协议: 审核');
  assert.is(textOf((await dept.get('/school/agreements?initiator=student')).doc, '#total'), '共 0 条');
  const swapped = await dept.post(`/school/agreements/${agreementId}/review`, { decision: 'approve' }, { 'hx-request': 'true' });
  assert.is(swapped.status, 200);
  assert.match(swapped.text, new RegExp(`^<tr id="agreement-${agreementId}-row">`));
  // A bare <tr> is not a document; read the fragment as htmx does, inside a table.
  const fragment = parseHtml(`<table>${swapped.text}</table>`);
  assert.match(textOf(fragment, `#agreement-${agreementId}-row .state`)!, '等待学校审核');
  assert.match(swapped.text, /<ul class="counts" id="review-counts" hx-swap-oob="true">/);
  // The swapped cards (their statement built once per scope) say what the department's list says.
  const swappedCards = textOf(parseHtml(swapped.text.slice(swapped.text.indexOf('<ul class="counts"'))), '#review-counts');
  assert.ok(swappedCards && /\d/.test(swappedCards));
  assert.is(swappedCards, textOf((await dept.get('/school/agreements')).doc, '#review-counts'));
  const school = await t.signInAs('school');
  const page = await school.get(`/school/agreements/${agreementId}`);
  assert.ok(page.doc.querySelector('#graduate-info') && page.doc.querySelector('#unit-info') && page.doc.querySelector('#letter'), 'S6');
  const noReason = await school.post(`/school/agreements/${agreementId}/review`, { decision: 'reject' });
  assert.is(noReason.status, 422);
  assert.is(textOf(noReason.doc, '#reason-error'), '不通过时请填写原因及具体问题');
  assert.is((await school.post(`/school/agreements/${agreementId}/review`, { decision: 'approve' })).status, 303);
  assert.is((await t.db.select().from(agreements).where(eq(agreements.id, agreementId)))[0]!.state, 'signed');
  const employer = await t.signInAs('employer');
  assert.match(textOf((await employer.get('/employer/agreements?tab=signed&cohort=2026')).doc, '#agreements')!, g.name);
  assert.match(textOf((await (await t.signInAs('student')).get('/student')).doc, '#status-summary')!, '已签约');
});

test('boundaries: another unit, school, department or graduate gets 404; an unverified unit gets no signing page', async () => {
  assert.is((await (await t.signInAs('employer2')).get(`/employer/agreements/${agreementId}`)).status, 404);
  assert.is((await (await t.signInAs('school2')).get(`/school/agreements/${agreementId}`)).status, 404);
  assert.is((await (await t.signInAs('department2')).get(`/school/agreements/${agreementId}`)).status, 404);
  const [, other] = await studentLogins(t.db);
  const c = t.client();
  await c.post('/student/login', { login: other!, password: 'Student#2026' });
  await c.post('/student/check', {});
  assert.is((await c.get(`/student/invitations/${agreementId}`)).status, 404);
  assert.is((await c.post(`/student/invitations/${agreementId}/acceptance`, {})).status, 404);
  const unverified = await t.signInAs('employerUnverified');
  for (const path of ['/employer/favourites', '/employer/agreements', '/employer/favourites/new']) assert.is((await unverified.get(path)).status, 303, path);
  assert.is((await unverified.post('/employer/invitations', { favourite: '1', ...LETTER })).status, 303);
  const [s2] = await t.db.select().from(schools).where(eq(schools.code, '10002'));
  assert.ok(s2);
});

test('E4 下载批量导入模板 and 导入学生名单: each row answered on its own', async () => {
  const c = await t.signInAs('employer2');
  const template = await c.get('/employer/favourites/template.xlsx');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(template.bytes.buffer.slice(template.bytes.byteOffset, template.bytes.byteOffset + template.bytes.byteLength) as ArrayBuffer);
  const sheet = wb.worksheets[0]!;
  assert.equal((sheet.getRow(1).values as unknown[]).slice(1), ['学生姓名', '身份证号', '毕业院校']);
  const others = await t.db.select().from(graduates).where(and(eq(graduates.schoolId, g.schoolId), eq(graduates.trainingMode, '1'))).orderBy(graduates.id).offset(10).limit(2);
  sheet.addRow([others[0]!.name, idOf(others[0]!), '示范大学']);
  sheet.addRow([others[1]!.name, idOf(others[1]!), '示范大学']);
  sheet.addRow(['查无此人', idOf(others[1]!), '示范大学']);
  sheet.addRow([others[0]!.name, idOf(others[0]!), '示范大学']);
  const bytes = new Uint8Array(await wb.xlsx.writeBuffer());
  const res = await c.upload('/employer/favourites/import', { cohort: '2026' }, { file: { name: '名单.xlsx', bytes } });
  assert.is(res.status, 200);
  assert.is(textOf(res.doc, '#import-summary'), '共 4 行，加入收藏夹 2 人。');
  assert.equal([...res.doc.querySelectorAll('#import-results tbody tr')].map((r) => r.getAttribute('class')), ['result-added', 'result-added', 'result-not_found', 'result-already']);
});

test('E4 导入学生名单 stops reading at the first row past 2,000: a larger file is refused without reading the rest (here a sheet broken at row 2,800), and nothing is added', async () => {
  const c = await t.signInAs('employer2');
  const before = (await t.db.select().from(favourites)).length;
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('学生名单导入模板');
  sheet.addRow(['学生姓名', '身份证号', '毕业院校']);
  for (let i = 0; i < 3000; i++) sheet.addRow([`学生${i}`, `11010520020506${String(1000 + i).slice(-4)}`, '示范大学']);
  const zip = await JSZip.loadAsync(await wb.xlsx.writeBuffer());
  const xml = await zip.file('xl/worksheets/sheet1.xml')!.async('string');
  const brokenAt = async (row: number) => {
    const at = xml.indexOf(`<row r="${row}"`);
    zip.file('xl/worksheets/sheet1.xml', `${xml.slice(0, at)}</broken>${xml.slice(at)}`);
    return new Uint8Array(await zip.generateAsync({ type: 'uint8array' }));
  };
  // Broken after the limit: a reader that went that far would fail on it; ours stops first.
  const res = await c.upload('/employer/favourites/import', { cohort: '2026' }, { file: { name: '名单.xlsx', bytes: await brokenAt(2800) } });
  assert.is(res.status, 422);
  assert.match(res.text, '每次最多导入 2000 名学生');
  assert.is((await t.db.select().from(favourites)).length, before);
  // Broken before the limit: the file is unreadable, and the page says so.
  const early = await c.upload('/employer/favourites/import', { cohort: '2026' }, { file: { name: '名单.xlsx', bytes: await brokenAt(1500) } });
  assert.is(early.status, 422);
  assert.match(early.text, '不是有效的 .xlsx 文件');
  assert.is((await t.db.select().from(favourites)).length, before);
});

test('E4 导入学生名单: an ID number Excel stored as a number is answered with what Excel did and how to fix the column', async () => {
  const c = await t.signInAs('employer2');
  const others = await t.db.select().from(graduates).where(and(eq(graduates.schoolId, g.schoolId), eq(graduates.trainingMode, '1'))).orderBy(graduates.id).offset(12).limit(1);
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('学生名单导入模板');
  sheet.addRow(['学生姓名', '身份证号', '毕业院校']);
  sheet.addRow([others[0]!.name, Number(idOf(others[0]!).replace(/X$/, '0')), '示范大学']);
  const res = await c.upload('/employer/favourites/import', { cohort: '2026' }, { file: { name: '名单.xlsx', bytes: new Uint8Array(await wb.xlsx.writeBuffer()) } });
  assert.is(res.status, 200);
  assert.equal([...res.doc.querySelectorAll('#import-results tbody tr')].map((r) => r.getAttribute('class')), ['result-invalid']);
  assert.match(textOf(res.doc, '#import-results')!, 'Excel 把这一列存成了数字');
});

test('E4 导入学生名单 from a CSV (UTF-8 with BOM), as Excel saves one; an old .xls is refused with what to do', async () => {
  const c = await t.signInAs('employer2');
  const [one] = await t.db.select().from(graduates).where(and(eq(graduates.schoolId, g.schoolId), eq(graduates.trainingMode, '1'))).orderBy(graduates.id).offset(14).limit(1);
  const text = `学生姓名,身份证号,毕业院校\r\n${one!.name},${idOf(one!)},示范大学\r\n`;
  const res = await c.upload('/employer/favourites/import', { cohort: '2026' }, { file: { name: '名单.csv', bytes: new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]) } });
  assert.is(res.status, 200);
  assert.equal([...res.doc.querySelectorAll('#import-results tbody tr')].map((r) => r.getAttribute('class')), ['result-added']);
  const xls = await c.upload('/employer/favourites/import', { cohort: '2026' }, { file: { name: '名单.xls', bytes: new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]) } });
  assert.is(xls.status, 422);
  assert.match(xls.text, '另存为” .xlsx');
});

test('E4 导入学生名单 from a unit\'s own sheet: an instructions sheet first, a title row, the three columns decorated and in another order among others', async () => {
  const c = await t.signInAs('employer2');
  const [one] = await t.db.select().from(graduates).where(and(eq(graduates.schoolId, g.schoolId), eq(graduates.trainingMode, '1'))).orderBy(graduates.id).offset(16).limit(1);
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('说明').addRow(['请填写拟签约学生']);
  const sheet = wb.addWorksheet('名单');
  sheet.addRow(['2026 届拟录用人员']);
  sheet.addRow(['序号', '*毕业院校', ' 身份证号（文本）', '学生姓名 *', '岗位']);
  sheet.addRow(['1', '示范大学', idOf(one!), one!.name, '工程师']);
  const res = await c.upload('/employer/favourites/import', { cohort: '2026' }, { file: { name: '名单.xlsx', bytes: new Uint8Array(await wb.xlsx.writeBuffer()) } });
  assert.is(res.status, 200);
  assert.equal([...res.doc.querySelectorAll('#import-results tbody tr')].map((r) => r.getAttribute('class')), ['result-added']);
});

test('X2 every form carries an idempotency key; the same invitation sent twice with it has one effect', async () => {
  const c = await t.signInAs('employer2');
  const [other] = await t.db.select().from(graduates).where(and(eq(graduates.schoolId, g.schoolId), eq(graduates.trainingMode, '1'))).orderBy(graduates.id).offset(5).limit(1);
  await c.post('/employer/favourites', { name: other!.name, idNumber: idOf(other!), school: '示范大学', cohort: '2026' });
  const [fav] = await t.db.select().from(favourites).where(eq(favourites.graduateId, other!.id));
  const form = await c.post('/employer/invitations/new', { favourite: String(fav!.id) });
  const key = form.doc.querySelector('#invitation-form input[name=_idem]')!.getAttribute('value')!;
  assert.ok(key.length >= 16);
  for (const f of form.doc.querySelectorAll('form[method=post]')) assert.ok(f.querySelector('input[name=_idem]'), 'every POST form has its key');
  const results = await Promise.all([1, 2, 3].map(() => c.post('/employer/invitations', { _idem: key, favourite: String(fav!.id), ...LETTER })));
  assert.is(results.filter((r) => r.status === 200).length, 1);
  assert.ok(results.every((r) => r.status === 200 || r.status === 409));
  assert.is((await t.db.select().from(agreements).where(eq(agreements.graduateId, other!.id))).length, 1);
  const retry = await c.post('/employer/invitations', { _idem: key, favourite: String(fav!.id), ...LETTER });
  assert.is(retry.status, 409);
  assert.is(textOf(retry.doc, 'h1'), '重复提交');
  const refused = await c.post('/employer/accounts/me', { _idem: 'abcdefghijkl', displayName: '' });
  assert.is(refused.status, 422);
  assert.is((await c.post('/employer/accounts/me', { _idem: 'abcdefghijkl', displayName: '申城 人事' })).status, 303, 'a refused form can be corrected and sent with its key');
  assert.is((await c.post('/employer/accounts/me', { _idem: 'abcdefghijkl', displayName: '申城 人事' })).location, '/employer/accounts?saved=info', 'a repeat after a redirect gets the same redirect');
});

test('X2 a form whose first submission was cut off (a crash left its key in progress) runs when sent again after the request timeout; a recent one still answers 409', async () => {
  const c = await t.signInAs('employer2');
  const [user] = await t.db.select().from(users).where(eq(users.login, '13800000002'));
  // A key claimed by a request that never finished: recent, and older than any request can live.
  await t.db.insert(idempotencyKeys).values([
    { userId: user!.id, key: 'inflight-recent', createdAt: new Date() },
    { userId: user!.id, key: 'inflight-abandoned', createdAt: new Date(Date.now() - ABANDONED_AFTER_MS - 1000) },
  ]);
  const recent = await c.post('/employer/accounts/me', { _idem: 'inflight-recent', displayName: '申城 人事二' });
  assert.is(recent.status, 409);
  assert.match(textOf(recent.doc, 'main')!, '正在提交');
  const abandoned = await c.post('/employer/accounts/me', { _idem: 'inflight-abandoned', displayName: '申城 人事三' });
  assert.is(abandoned.status, 303);
  const [after] = await t.db.select().from(users).where(eq(users.id, user!.id));
  assert.is(after!.displayName, '申城 人事三');
  const [key] = await t.db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.userId, user!.id), eq(idempotencyKeys.key, 'inflight-abandoned')));
  assert.is(key!.status, 303, 'the key now holds the resubmission\'s answer');
});

test.run();
