import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeIdNumber } from '../../domain/codes/id-number.ts';
import { setupApp, type Client, type DemoAccount, type TestApp } from '../helpers/app.ts';

// Issue 13, defect 7: code-table look-ups take only their own codes. A select, a filter or a form
// field saying constructor, __proto__ or toString is refused or ignored: never stored, never a 500.
let t: TestApp;
test.before(async () => {
  t = await setupApp();
});
test.after(async () => {
  await t.close();
});

const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
const PORTALS: Array<[DemoAccount, string]> = [['school', '/school'], ['department', '/school'], ['employer', '/employer'], ['student', '/student'], ['province', '/province'], ['admin', '/admin']];

/** The portal's pages that take no parameter. */
function pagesOf(prefix: string): string[] {
  const paths = t.app.routes.filter((r) => r.method === 'GET' && r.path.startsWith(prefix) && !r.path.includes(':') && !r.path.includes('*') && !/\.(xlsx|pdf|csv)$/.test(r.path) && !r.path.endsWith('/logout'));
  return [...new Set(paths.map((r) => r.path))];
}

test('every page\'s filters: a query naming a JavaScript property is ignored, never a 500', async () => {
  let requests = 0;
  for (const [account, prefix] of PORTALS) {
    const c = await t.signInAs(account);
    for (const path of pagesOf(prefix)) {
      for (const name of NAMES) {
        const query = ['tab', 'type', 'cohort', 'department', 'code', 'state', 'page', 'q', 'province', 'education', 'kind', 'initiator', 'status', 'major', 'category', 'sex', 'origin'].map((k) => `${k}=${encodeURIComponent(name)}`).join('&');
        const res = await c.get(`${path}?${query}`);
        requests++;
        assert.ok(res.status < 500, `${account} GET ${path} with ${name}: ${res.status}`);
      }
    }
  }
  assert.ok(requests >= 100, `${requests} requests`);
});

/** Each POST form on the page, with its fields as the page filled them. */
function formsOf(page: Awaited<ReturnType<Client['get']>>): Array<{ action: string; fields: Record<string, string>; selects: string[] }> {
  return [...page.doc.querySelectorAll('form[method="post"]')].map((form) => {
    const fields: Record<string, string> = {};
    for (const input of form.querySelectorAll('input[name], textarea[name]')) {
      const type = input.getAttribute('type');
      if (type === 'file' || ((type === 'checkbox' || type === 'radio') && !input.hasAttribute('checked'))) continue;
      fields[input.getAttribute('name')!] = input.getAttribute('value') ?? input.textContent ?? '';
    }
    const selects = [...form.querySelectorAll('select[name]')].map((s) => s.getAttribute('name')!);
    return { action: form.getAttribute('action') ?? '', fields, selects };
  });
}

test('every form\'s selects: a code naming a JavaScript property is refused, never stored and never a 500', async () => {
  let posts = 0;
  for (const [account, prefix] of PORTALS) {
    const c = await t.signInAs(account);
    for (const path of pagesOf(prefix)) {
      const page = await c.get(path);
      if (page.status !== 200) continue;
      for (const form of formsOf(page)) {
        if (form.selects.length === 0 || !form.action.startsWith('/') || /logout|removal|void|withdrawal/.test(form.action)) continue;
        for (const name of NAMES) {
          const fields = { ...form.fields, ...Object.fromEntries(form.selects.map((s) => [s, name])) };
          const res = await c.post(form.action, fields);
          posts++;
          assert.ok(res.status < 500, `${account} POST ${form.action} (${form.selects.join(', ')}) = ${name}: ${res.status}`);
          // Fresh keys for the next try: the page's key is now spent.
          const again = await c.get(path);
          const next = formsOf(again).find((f) => f.action === form.action);
          if (next) Object.assign(form.fields, next.fields);
        }
      }
    }
  }
  assert.ok(posts >= 20, `${posts} posts`);
  const stored = await t.db.$client`
    select (select count(*) from graduates where ethnicity like '%function%' or political_status like '%function%' or education_level like '%function%' or sex like '%function%' or training_mode like '%function%' or origin_region like '%function%')::int
         + (select count(*) from employers where coalesce(employer_type, '') like '%function%' or coalesce(industry, '') like '%function%' or coalesce(region, '') like '%function%')::int as n`;
  assert.is(stored[0]!.n, 0);
});

test('添加学生 refuses 民族 constructor and 政治面貌 __proto__ with a message on the field; nothing is stored, and the same form with real codes is', async () => {
  const school = await t.signInAs('school');
  const graduate = {
    cohort: '2026', examNo: '', name: '原型', sex: '1', idNumber: makeIdNumber('110108', '2003-05-06', 457, '1'), ethnicity: '01', politicalStatus: '03', birthDate: '2003-05-06',
    departmentName: '计算机学院', educationLevel: '31', majorName: '软件工程', majorCode: '080902', trainingMode: '1', originRegion: '110108', studentNo: '2022017777',
    programYears: '4', enrolledOn: '2022-09', graduatesOn: '2026-06', phone: '13912340000', email: '',
  };
  for (const [field, value, label] of [['ethnicity', 'constructor', '民族'], ['politicalStatus', '__proto__', '政治面貌'], ['educationLevel', 'toString', '学历层次'], ['sex', 'valueOf', '性别'], ['trainingMode', 'hasOwnProperty', '培养方式']] as const) {
    const res = await school.post('/school/graduates', { ...graduate, [field]: value });
    assert.is(res.status, 422, field);
    assert.ok(res.doc.querySelector(`[name="${field}"]`)?.closest('.field, p, div')?.textContent?.includes(label), `${field}'s message`);
    const [row] = await t.db.$client`select count(*)::int as n from graduates where name = '原型'`;
    assert.is(row!.n, 0, field);
  }
  const ok = await school.post('/school/graduates', graduate);
  assert.is(ok.status, 303);
  const [row] = await t.db.$client`select ethnicity, political_status from graduates where name = '原型'`;
  assert.equal({ ...row }, { ethnicity: '01', political_status: '03' });
});

test.run();
