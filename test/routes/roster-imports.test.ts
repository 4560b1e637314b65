import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rosterImports, users } from '../../db/schema/index.ts';
import { makeIdNumber } from '../../domain/codes/id-number.ts';
import { S5_FIELDS } from '../../domain/graduates/record.ts';
import { setupApp, type TestApp } from '../helpers/app.ts';
import { textOf } from '../helpers/html.ts';

let t: TestApp;
let dataDir: string;
test.before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wq-import-routes-'));
  t = await setupApp({ DATA_DIR: dataDir });
});
test.after(async () => {
  await t.close();
  await rm(dataDir, { recursive: true, force: true });
});

function row(i: number, overrides: Record<string, string> = {}): string[] {
  const birth = `2004-0${(i % 9) + 1}-1${i % 10}`;
  const values: Record<string, string> = {
    考生号: '', 姓名: `导入${i}`, 性别: '1', 身份证号: makeIdNumber('110108', birth, 500 + i * 2, '1'), 民族: '01', 政治面貌: '03', 出生日期: birth,
    毕业院校: '示范大学', 院系: '新闻学院', 学历层次: '31', 专业: '新闻学', 培养方式: '1', 生源所在地: '110108', 学号: `20270${i}`, 学制: '4',
    入学时间: '2023-09', 毕业时间: '2027-06', 手机号码: `1370000${String(1000 + i)}`, 电子邮箱: '', ...overrides,
  };
  return S5_FIELDS.map((f) => values[f.header]!);
}

async function workbook(rows: string[][]): Promise<Uint8Array<ArrayBuffer>> {
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('学生名单');
  sheet.addRow(S5_FIELDS.map((f) => f.header));
  for (const r of rows) sheet.addRow(r);
  return new Uint8Array(await wb.xlsx.writeBuffer());
}

async function upload(c: Awaited<ReturnType<TestApp["signInAs"]>>, bytes: Uint8Array<ArrayBuffer>, name = '名单.xlsx', cohort = '2027') {
  const form = new FormData();
  form.set('cohort', cohort);
  form.set('file', new File([bytes], name));
  const res = await t.app.request('/school/roster-imports', { method: 'POST', body: form, headers: { origin: 'http://localhost', cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}

/** Uploads a file, waits for the import to end, and opens its page: the import, the page and the refused rows' reasons. */
async function imported(c: Awaited<ReturnType<TestApp['signInAs']>>, bytes: Uint8Array<ArrayBuffer>, name: string, cohort: string) {
  const res = await upload(c, bytes, name, cohort);
  assert.is(res.status, 303, res.text.slice(0, 300));
  const done = await untilFinished(Number(res.location!.split('/').pop()));
  const page = await c.get(res.location!);
  const reasons = [...page.doc.querySelectorAll('#import-errors tbody tr td:nth-child(4)')].map((td) => td.textContent!);
  return { done, page, reasons };
}

async function untilFinished(id: number) {
  for (let i = 0; i < 100; i++) {
    const [r] = await t.db.select().from(rosterImports).where(eq(rosterImports.id, id));
    if (r!.status === 'done' || r!.status === 'failed') return r!;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('import did not finish');
}

test('S5 下载导入模板: an .xlsx whose first sheet has the 19 roster headers and a second sheet of codes', async () => {
  const c = await t.signInAs('school');
  const res = await t.app.request('/school/roster-imports/template', { headers: { cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
  assert.is(res.headers.get('content-type'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  assert.match(res.headers.get('content-disposition')!, 'attachment');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(await res.arrayBuffer());
  assert.is(wb.worksheets.length, 2);
  assert.equal((wb.worksheets[0]!.getRow(1).values as unknown[]).slice(1), S5_FIELDS.map((f) => f.header));
});

test('S5 导入学生名单 through the pages: progress, counts, the rejected rows with reasons, and their .xlsx', async () => {
  const c = await t.signInAs('school');
  const res = await upload(c, await workbook([row(1), row(2), row(3, { 身份证号: '110108200403130000' }), row(4, { 培养方式: '99' })]));
  assert.is(res.status, 303);
  const id = Number(res.location!.split('/').pop());
  const done = await untilFinished(id);
  assert.is(done.status, 'done');
  const page = await c.get(res.location!);
  assert.is(textOf(page.doc, '#count-inserted'), '2');
  assert.is(textOf(page.doc, '#count-rejected'), '2');
  assert.not.ok(page.doc.querySelector('#import-progress[hx-trigger]'), 'polling stops once done');
  assert.not.ok(page.doc.querySelector('noscript meta'), 'no reload once done');
  const reasons = [...page.doc.querySelectorAll('#import-errors tbody tr td:nth-child(4)')].map((td) => td.textContent!);
  assert.is(reasons.length, 2);
  assert.match(reasons.join(), '培养方式代码不存在：99');
  const errors = await t.app.request(`/school/roster-imports/${id}/errors.xlsx`, { headers: { cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
  assert.is(errors.status, 200);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(await errors.arrayBuffer());
  assert.is(wb.worksheets[0]!.rowCount, 3, 'header + 2 rejected rows');
  const list = await c.get('/school/graduates?cohort=2027');
  assert.is(textOf(list.doc, '#total'), '共 2 人');
});

test('S5 a code cell saying constructor, __proto__ or toString refuses its own row only; the valid rows of the file are imported', async () => {
  const c = await t.signInAs('school');
  const { done, page, reasons: refused } = await imported(c, await workbook([row(11), row(12, { 民族: 'constructor' }), row(13, { 政治面貌: '__proto__' }), row(14, { 学历层次: 'toString' }), row(15)]), '名单.xlsx', '2028');
  assert.is(done.status, 'done');
  assert.is(textOf(page.doc, '#count-inserted'), '2');
  assert.is(textOf(page.doc, '#count-rejected'), '3');
  const reasons = refused.join('\n');
  assert.match(reasons, '民族');
  assert.match(reasons, '政治面貌');
  assert.match(reasons, '学历层次');
  const stored = await t.db.$client`select count(*)::int as n from graduates where ethnicity like '%function%' or political_status like '%function%' or education_level like '%function%'`;
  assert.is(stored[0]!.n, 0);
});

test('an ID number Excel stored as a number (a number cell, or 1.10105E+17 as text) is refused with what Excel did and how to fix it, never as a typo; the other rows import', async () => {
  const c = await t.signInAs('school');
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('学生名单');
  sheet.addRow(S5_FIELDS.map((f) => f.header));
  const idColumn = S5_FIELDS.findIndex((f) => f.header === '身份证号');
  const numberRow = row(31);
  const asNumber: (string | number)[] = [...numberRow];
  asNumber[idColumn] = Number(numberRow[idColumn]);
  sheet.addRow(asNumber);
  sheet.addRow(row(32, { 身份证号: '1.10108E+17' }));
  // What a CSV saved from a 数值 column holds: 15 digits kept, 000 after them (the check digit fails).
  const damaged = `${numberRow[idColumn]!.slice(0, 15)}000`;
  sheet.addRow(row(34, { 身份证号: damaged === numberRow[idColumn] ? `${numberRow[idColumn]!.slice(0, 14)}1000` : damaged }));
  sheet.addRow(row(33));
  const { done, page, reasons } = await imported(c, new Uint8Array(await wb.xlsx.writeBuffer()), '名单.xlsx', '2029');
  assert.is(done.status, 'done');
  assert.is(textOf(page.doc, '#count-inserted'), '1');
  assert.is(textOf(page.doc, '#count-rejected'), '3');
  assert.is(reasons.length, 3);
  for (const r of reasons) {
    assert.match(r, 'Excel 把这一列存成了数字');
    assert.match(r, '设为“文本”格式');
    assert.not.match(r, '校验位错误', 'not sent hunting for a typo');
  }
});

test('生源所在地 as a name: a county under its city or province, a city or a province becomes its code, and the page says which; an ambiguous or unknown name is refused with the candidates', async () => {
  const c = await t.signInAs('school');
  const { done, page, reasons: refused } = await imported(c, await workbook([
    row(41, { 生源所在地: '北京市海淀区' }),
    row(42, { 生源所在地: '河北省石家庄市长安区' }),
    row(43, { 生源所在地: '石家庄市' }),
    row(44, { 生源所在地: '北京市' }),
    row(45, { 生源所在地: '朝阳区' }),
    row(46, { 生源所在地: '火星市' }),
  ]), '名单.xlsx', '2030');
  assert.is(done.status, 'done');
  assert.is(textOf(page.doc, '#count-inserted'), '4');
  const named = [...page.doc.querySelectorAll('#region-names tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
  assert.equal(named, [
    ['北京市', '北京市', '110000'],
    ['北京市海淀区', '北京市海淀区', '110108'],
    ['河北省石家庄市长安区', '河北省石家庄市长安区', '130102'],
    ['石家庄市', '河北省石家庄市', '130100'],
  ].sort((a, b) => a[0]!.localeCompare(b[0]!, 'zh')));
  const stored = await t.db.$client`select origin_region from graduates where cohort = 2030 order by student_no`;
  assert.equal(stored.map((r) => r.origin_region), ['110108', '130102', '130100', '110000']);
  const reasons = refused.join('\n');
  assert.match(reasons, '“朝阳区”有多个同名地区：北京市朝阳区（110105）、吉林省长春市朝阳区（220104）');
  assert.match(reasons, '生源所在地无法识别：火星市');
});

test('a school\'s own export: an instructions sheet first, a title row above the header, headers with *, spaces and （notes）, columns in another order with an extra one, dates as 2022年9月, 2022.9 and Excel dates', async () => {
  const c = await t.signInAs('school');
  const wb = new ExcelJS.Workbook();
  const notes = wb.addWorksheet('填写说明');
  notes.addRow(['请按以下说明填写：']);
  notes.addRow(['1. 身份证号列请设为文本格式']);
  const sheet = wb.addWorksheet('学生名单');
  sheet.addRow(['示范大学 2031 届毕业生名单（学籍系统导出）']);
  sheet.addRow([]);
  const headers = S5_FIELDS.map((f) => f.header);
  const order = [...headers.keys()].reverse();
  const decorate = (h: string, i: number) => (i % 3 === 0 ? `*${h}` : i % 3 === 1 ? ` ${h} （必填）` : h);
  sheet.addRow([...order.map((i) => decorate(headers[i]!, i)), '备注']);
  for (const [n, when] of [[51, ['2022年9月', '2026年6月']], [52, ['2022.9', '2026.6']], [53, [new Date(Date.UTC(2022, 8, 1)), new Date(Date.UTC(2026, 5, 30))]]] as const) {
    const r: Array<string | Date> = row(n);
    r[headers.indexOf('入学时间')] = when[0];
    r[headers.indexOf('毕业时间')] = when[1];
    sheet.addRow([...order.map((i) => r[i]!), '转专业']);
  }
  const { done, page } = await imported(c, new Uint8Array(await wb.xlsx.writeBuffer()), '学籍导出.xlsx', '2031');
  assert.is(done.status, 'done', done.error ?? '');
  assert.is(textOf(page.doc, '#count-inserted'), '3', textOf(page.doc, '#import-errors') ?? '');
  const stored = await t.db.$client`select enrolled_on, graduates_on from graduates where cohort = 2031 order by student_no`;
  assert.equal(stored.map((r) => [r.enrolled_on, r.graduates_on]), [['2022-09', '2026-06'], ['2022-09', '2026-06'], ['2022-09', '2026-06']]);
});

/** GBK bytes of a text, by inverting the platform's GB18030 decoder over the two-byte range (Node ships no GBK encoder). */
const GBK = (() => {
  const map = new Map<string, number[]>();
  const decoder = new TextDecoder('gb18030');
  for (let hi = 0x81; hi <= 0xfe; hi++) for (let lo = 0x40; lo <= 0xfe; lo++) if (lo !== 0x7f) map.set(decoder.decode(new Uint8Array([hi, lo])), [hi, lo]);
  return (text: string) => new Uint8Array([...text].flatMap((ch) => (ch.charCodeAt(0) < 0x80 ? [ch.charCodeAt(0)] : map.get(ch)!)));
})();

const csv = (rows: string[][]) => [S5_FIELDS.map((f) => f.header), ...rows].map((r) => r.map((v) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)).join(',')).join('\r\n');

test('CSV in UTF-8 with and without BOM and in GBK imports; garbled text is refused showing the line as read; an old .xls is refused before anything else', async () => {
  const c = await t.signInAs('school');
  const importCsv = async (bytes: Uint8Array<ArrayBuffer>, cohort: string) => (await imported(c, bytes, '名单.csv', cohort)).done;
  const utf8 = new TextEncoder().encode(csv([row(61, { 姓名: '欧阳“小”明' })]));
  const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(csv([row(62)]))]);
  const gbk = GBK(csv([row(63, { 姓名: '张三丰' })]));
  for (const [bytes, cohort] of [[utf8, '2032'], [bom, '2033'], [gbk, '2034']] as const) {
    const done = await importCsv(new Uint8Array(bytes), cohort);
    assert.equal([done.status, done.inserted, done.rejected], ['done', 1, 0], `${cohort}: ${done.error ?? ''}`);
  }
  const names = await t.db.$client`select name from graduates where cohort in (2032, 2034) order by cohort`;
  assert.equal(names.map((r) => r.name), ['欧阳“小”明', '张三丰']);

  // UTF-8 read as if it were GBK: what a wrong encoding looks like; the message shows it.
  const garbled = GBK(new TextDecoder('gb18030').decode(new TextEncoder().encode('姓名,身份证号,性别\r\n')).replace(/\uFFFD/g, '?')).subarray(0, 40);
  const wrong = await importCsv(new Uint8Array([...garbled, 0xff, 0xfe]), '2035');
  assert.is(wrong.status, 'failed');
  assert.match(wrong.error!, 'CSV 文件中没有找到表头');
  assert.match(wrong.error!, '如果是乱码，说明文件的文字编码无法识别');
  // A CSV without its header starts with a graduate's row: quoted in the message (stored with the
  // import and in its event), the ID number is masked (issue 13).
  const headless = await importCsv(new TextEncoder().encode('张三,110101200001011234,男,汉族\r\n'), '2037');
  assert.is(headless.status, 'failed');
  assert.match(headless.error!, '110101********1234');
  const stored = JSON.stringify(await t.db.$client`select i.error, e.data, e.reason from roster_imports i left join events e on e.subject_type = 'roster_import' and e.subject_id = i.id::text where i.cohort = 2037`);
  assert.not.match(stored, '110101200001011234');

  const xls = new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, ...new Uint8Array(504)]);
  const refused = await upload(c, xls, '名单.xls', '2036');
  assert.is(refused.status, 422);
  assert.match(refused.text, '另存为” .xlsx');
});

test('手机号码, 考生号 and 学号 in number cells (as Excel stores them) import as their digits', async () => {
  const c = await t.signInAs('school');
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('学生名单');
  const headers = S5_FIELDS.map((f) => f.header);
  sheet.addRow(headers);
  const r: Array<string | number> = row(71);
  r[headers.indexOf('手机号码')] = 13712345678;
  r[headers.indexOf('考生号')] = 22110101150001;
  r[headers.indexOf('学号')] = 2022010071;
  sheet.addRow(r);
  const { done } = await imported(c, new Uint8Array(await wb.xlsx.writeBuffer()), '名单.xlsx', '2037');
  assert.equal([done.status, done.inserted], ['done', 1], done.error ?? '');
  const [g] = await t.db.$client`select phone, exam_no, student_no from graduates where cohort = 2037`;
  assert.equal({ ...g }, { phone: '13712345678', exam_no: '22110101150001', student_no: '2022010071' });
});

test('S5 while an import runs the page polls with htmx, and reloads itself without JavaScript', async () => {
  const c = await t.signInAs('school');
  const [u] = await t.db.select().from(users).where(eq(users.login, '10001-admin'));
  const [queued] = await t.db.insert(rosterImports).values({ schoolId: u!.schoolId!, cohort: 2027, uploadedBy: u!.id, fileName: 'x.xlsx', storedAs: 'imports/none.xlsx', status: 'running', heartbeatAt: new Date(), processedRows: 1000 }).returning();
  const page = await c.get(`/school/roster-imports/${queued!.id}`);
  assert.is(page.doc.querySelector('#import-progress')!.getAttribute('hx-trigger'), 'every 2s');
  assert.is(page.doc.querySelector('noscript meta[http-equiv=refresh]')!.getAttribute('content'), '3');
  const partial = await c.get(`/school/roster-imports/${queued!.id}/progress`);
  assert.match(partial.text, /^<section class="card" id="import-progress"/);
  assert.match(textOf(partial.doc, '#import-processed')!, '已处理 1000');
});

test('S5 a file that cannot be read (an old .xls) is refused with a clear message, nothing queued', async () => {
  const c = await t.signInAs('school');
  const before = (await t.db.select().from(rosterImports)).length;
  const res = await upload(c, new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), '名单.xls');
  assert.is(res.status, 422);
  assert.match(res.text, '请在 Excel 中“另存为” .xlsx');
  assert.is((await t.db.select().from(rosterImports)).length, before);
});

test('S5 import boundaries: department users get 403; another school gets 404 on the import and its errors', async () => {
  const [anImport] = await t.db.select().from(rosterImports).limit(1);
  const dept = await t.signInAs('department');
  assert.is((await dept.get('/school/roster-imports')).status, 403);
  const other = await t.signInAs('school2');
  assert.is((await other.get(`/school/roster-imports/${anImport!.id}`)).status, 404);
  assert.is((await other.get(`/school/roster-imports/${anImport!.id}/errors.xlsx`)).status, 404);
  assert.is((await other.get(`/school/roster-imports/${anImport!.id}/progress`)).status, 404);
});

test.run();
