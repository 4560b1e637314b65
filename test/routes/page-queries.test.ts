import { and, desc, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { gunzipSync, gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Db } from '../../db/client.ts';
import * as schema from '../../db/schema/index.ts';
import { gzipPage } from '../../routes/gzip.ts';
import { agreements, graduates, notifications, provinces, schools } from '../../db/schema/index.ts';
import { appOnDb, DEMO_ACCOUNTS, firstStudentLogin, type Client, type DemoAccount } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { textOf } from '../helpers/html.ts';

// Issue 14, goal 1: a signed-in page spends few queries. The session look-up brings the unread
// count, the graduate's G1 gate and the school's cache version; what a school's pages read on every
// view (cohorts, filter options, settings, the verb) is kept per school while that version holds;
// totals and count cards ride on the list's own statement. Two apps on one database stand for two
// processes: a change made through one, or straight in the database, is seen by the other.
let d: TestDatabase;
let traced: Db;
let sent: string[] = [];
let app: ReturnType<typeof appOnDb>;
let other: ReturnType<typeof appOnDb>;

test.before(async () => {
  d = await freshDatabase();
  traced = drizzle(postgres(d.url, { max: 4, onnotice: () => {}, debug: (_c, query) => sent.push(query) }), { schema }) as Db;
  app = appOnDb(traced);
  other = appOnDb(d.db);
  // Agreements in every review state of the demo school, so 在线签约管理 has rows to read (of graduates without an account: the demo graduate keeps an open home).
  await d.db.$client`insert into agreements (kind, state, employer_id, graduate_id, school_id, department_id, cohort, position_category, position_name, archive_mode, unit_snapshot, invited_at, validity_days, deadline, contact_name, contact_phone, work_place)
    select 'online', (array['signed', 'school_review', 'department_review'])[g.n]::agreement_state, (select id from employers order by id limit 1), g.id, g.school_id, g.department_id, g.cohort, '13', '工程师', 'none', '{"name": "查询单位"}'::jsonb, now(), 3, now(), '联系人', '13800000000', '北京'
      from (select g.*, row_number() over (order by g.id) as n from graduates g join schools s on s.id = g.school_id
             where s.code = '10001' and g.id not in (select graduate_id from agreements) and g.id not in (select graduate_id from users where graduate_id is not null) order by g.id limit 3) g`;
});
test.after(async () => {
  await Promise.all([app.pdf.close(), other.pdf.close()]);
  await traced.$client.end();
  await d.drop();
});

async function signIn(on: ReturnType<typeof appOnDb>, account: DemoAccount): Promise<Client> {
  const c = on.client();
  const { portal, login, password } = DEMO_ACCOUNTS[account];
  assert.is((await c.post(`/${portal}/login`, { login: login || (await firstStudentLogin(d.db)), password })).status, 303);
  if (portal === 'student') assert.is((await c.post('/student/check', {})).status, 303);
  return c;
}

/** The statements one GET sends, the second time it is asked (the first fills the school's cache). */
async function queriesOf(c: Client, path: string): Promise<string[]> {
  assert.is((await c.get(path)).status, 200, path);
  sent = [];
  const page = await c.get(path);
  assert.is(page.status, 200, path);
  return sent;
}

for (const [account, path, most] of [
  ['employer', '/employer/favourites', 3],
  ['employer', '/employer/agreements', 3],
  ['school', '/school/graduates', 3],
  ['school', '/school/agreements', 3],
  ['department', '/school/agreements', 3],
  ['school', '/school/terminations', 4],
  ['school', '/school/destinations', 4],
  // The home reads the graduate, the agreements, the drafts and the registrations in one statement.
  ['student', '/student', 2],
] as const) {
  test(`issue 14: ${path} as ${account} sends at most ${most} queries`, async () => {
    const queries = await queriesOf(await signIn(app, account), path);
    assert.ok(queries.length <= most, `${queries.length} queries:\n${queries.join('\n')}`);
    assert.ok(/from "sessions"/.test(queries[0]!), 'the first is the session look-up');
  });
}

test('issue 14: a rendered page is gzipped when the browser takes gzip, and sent plain when it does not', async () => {
  const c = await signIn(app, 'school');
  const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const get = (encoding: string) => app.app.request('/school/graduates', { headers: { cookie, 'accept-encoding': encoding } });
  for (const taken of ['deflate, GZIP;q=0.5', 'gzip']) assert.is((await get(taken)).headers.get('content-encoding'), 'gzip', taken);
  const zipped = await get('gzip, deflate, br');
  assert.is(zipped.headers.get('content-encoding'), 'gzip');
  assert.match(zipped.headers.get('vary') ?? '', 'Accept-Encoding');
  assert.match(gunzipSync(Buffer.from(await zipped.arrayBuffer())).toString(), '学生名单管理');
  for (const refused of ['identity', 'gzip;q=0, identity', 'x-gzip, gzip; q=0.0', 'deflate, br']) {
    const plain = await get(refused);
    assert.is(plain.headers.get('content-encoding'), null, refused);
    assert.match(await plain.text(), '学生名单管理');
  }
});

test('issue 14: the static files are gzipped once, when loaded, and sent gzipped or plain as the browser takes them', async () => {
  const page = await (await app.app.request('/school/login')).text();
  for (const href of [/href="(\/assets\/app\.[0-9a-f]+\.css)"/.exec(page)![1]!, /src="(\/assets\/htmx-[^"]+\.js)"/.exec(page)![1]!]) {
    const plain = await app.app.request(href, { headers: { 'accept-encoding': 'identity' } });
    assert.is(plain.headers.get('content-encoding'), null, href);
    const body = Buffer.from(await plain.arrayBuffer());
    const zipped = await app.app.request(href, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.is(zipped.headers.get('content-encoding'), 'gzip', href);
    assert.match(zipped.headers.get('vary') ?? '', 'Accept-Encoding');
    assert.match(zipped.headers.get('cache-control') ?? '', 'immutable');
    const bytes = Buffer.from(await zipped.arrayBuffer());
    assert.ok(bytes.length < body.length / 2, `${href}: ${bytes.length} of ${body.length} bytes`);
    assert.ok(gunzipSync(bytes).equals(body), href);
  }
  // Nothing else is streamed through a compressor: /healthz is a few bytes, sent as they are.
  const health = await app.app.request('/healthz', { headers: { 'accept-encoding': 'gzip' } });
  assert.is(health.headers.get('content-encoding'), null);
  assert.equal(await health.json(), { status: 'ok', database: 'reachable' });
});

test('issue 14: the kept deflate state gives each page its own whole gzip member, as gzipSync at the same level would', () => {
  // One state serves every page, reset between them: a page must not carry the one before it, and
  // one longer than the 64 KB output chunk (an export preview, a long list) comes out whole.
  const long = Array.from({ length: 40_000 }, (_, i) => `<tr><td>${(i * 7919) % 100_003}</td><td>学生${i}</td></tr>`).join('');
  for (const page of ['<p>短页</p>'.repeat(200), long, '', '甲', long.slice(0, 70_000)]) {
    const zipped = gzipPage(page);
    assert.is(gunzipSync(zipped).toString(), page, `${page.length} characters`);
    assert.ok(Buffer.from(zipped).equals(gzipSync(page, { level: 1 })), `${page.length} characters: as gzipSync`);
  }
});

test('issue 14: the queries built once keep each tenant to its own rows (another unit, another department)', async () => {
  const cohortOf = async (signed: boolean) => ((await d.db.$client`select cohort from agreements where unit_snapshot->>'name' = '查询单位' and (state = 'signed') = ${signed} limit 1`)[0] as { cohort: number }).cohort;
  const rowsOf = async (account: DemoAccount, path: string, selector: string) => (await (await signIn(app, account)).get(path)).doc.querySelectorAll(selector).length;
  for (const tab of ['signing', 'signed']) {
    const cohort = await cohortOf(tab === 'signed');
    const own = await rowsOf('employer', `/employer/agreements?tab=${tab}&cohort=${cohort}`, '#agreements tbody tr[id^=agreement-]');
    const others = await rowsOf('employer2', `/employer/agreements?tab=${tab}&cohort=${cohort}`, '#agreements tbody tr[id^=agreement-]');
    assert.ok(own > 0, `${tab}: the unit's own`);
    assert.is(others, 0, `${tab}: not another unit's`);
  }
  const cohort = await cohortOf(false);
  const cs = (await (await signIn(app, 'department')).get(`/school/graduates?cohort=${cohort}`)).doc;
  const em = (await (await signIn(app, 'department2')).get(`/school/graduates?cohort=${cohort}`)).doc;
  const departmentsIn = (doc: typeof cs) => new Set([...doc.querySelectorAll('table tbody tr')].map((tr) => tr.querySelectorAll('td')[3]?.textContent?.trim()));
  assert.is(departmentsIn(cs).size, 1);
  assert.is(departmentsIn(em).size, 1);
  assert.not.equal([...departmentsIn(cs)], [...departmentsIn(em)]);
});

test('G11 the header count comes with the session look-up and follows new notifications', async () => {
  const c = await signIn(app, 'school');
  const count = async () => Number(/（(\d+)）/.exec(textOf((await c.get('/school')).doc, '#notification-count') ?? '')![1]);
  const before = await count();
  const [user] = await d.db.select().from(schema.users).where(eq(schema.users.login, '10001-admin'));
  await d.db.insert(schema.notifications).values({ userId: user!.id, title: '测试通知' });
  assert.is(await count(), before + 1);
});

test('issue 14: 学生名单管理 filter options are kept per school and follow a roster change made by another process', async () => {
  const c = await signIn(app, 'school');
  const majors = async () => [...(await c.get('/school/graduates')).doc.querySelectorAll('#major option')].map((o) => o.textContent!.trim());
  assert.not.ok((await majors()).includes('缓存验证专业'));
  const [g] = await d.db.select().from(graduates).innerJoin(schools, eq(schools.id, graduates.schoolId)).where(eq(schools.code, '10001')).limit(1);
  const { majorName, phone } = g!.graduates;
  // Another process (here: straight in the database) changes a major: the version moves, the page follows.
  await d.db.update(graduates).set({ majorName: '缓存验证专业' }).where(eq(graduates.id, g!.graduates.id));
  assert.ok((await majors()).includes('缓存验证专业'));
  // A change of nothing the cache keeps (a phone number) leaves the version, and the school row, alone.
  const version = async () => (await d.db.select({ v: schools.cacheVersion }).from(schools).where(eq(schools.code, '10001')))[0]!.v;
  const unchanged = await version();
  await d.db.update(graduates).set({ phone: '13900009999' }).where(eq(graduates.id, g!.graduates.id));
  assert.is(await version(), unchanged);
  // 移出名单 through the other app: the only graduate of that major leaves the options, and the cohort's kept total drops by one.
  const total = async () => Number(/共 (\d+) 人/.exec(textOf((await c.get(`/school/graduates?cohort=${g!.graduates.cohort}`)).doc, '#total') ?? '')![1]);
  const before = await total();
  const admin = await signIn(other, 'school');
  assert.is((await admin.post(`/school/graduates/${g!.graduates.id}/removal`, {})).status, 303);
  assert.not.ok((await majors()).includes('缓存验证专业'));
  assert.is(await total(), before - 1);
  await d.db.update(graduates).set({ majorName, phone, removedAt: null }).where(eq(graduates.id, g!.graduates.id));
});

test('issue 14: a department user is never served the school-wide cached lists, nor the school user the department’s', async () => {
  const school = await signIn(app, 'school');
  const department = await signIn(app, 'department');
  const options = async (c: Client) => [...(await c.get('/school/graduates')).doc.querySelectorAll('#department option')].map((o) => o.textContent!.trim()).filter((t) => t !== '全部');
  // Filled by the school user first, then asked by the department's: each its own scope.
  const all = await options(school);
  const own = await options(department);
  assert.ok(all.length > 1, all.join());
  assert.equal(own.length, 1, own.join());
  assert.equal(await options(school), all);
});

test('S3 the cached verb follows the province: 鉴证 after the province switches to 两方协议', async () => {
  const c = await signIn(app, 'school');
  const cards = async () => textOf((await c.get('/school/agreements')).doc, '#review-counts') ?? '';
  assert.match(await cards(), '等待学校审核');
  const [school] = await d.db.select().from(schools).where(eq(schools.code, '10001'));
  await d.db.update(provinces).set({ agreementType: 'two_party' }).where(eq(provinces.id, school!.provinceId));
  assert.match(await cards(), '等待学校鉴证');
  await d.db.update(provinces).set({ agreementType: 'three_party' }).where(eq(provinces.id, school!.provinceId));
});

test('S4 the graduate home follows the school settings changed through another process', async () => {
  const graduate = await signIn(app, 'student');
  const entrance = async () => !!(await graduate.get('/student')).doc.querySelector('a[href="/student/offline-signing"]');
  assert.ok(await entrance());
  // 签约设置 saved through the other app, with 在线签约 unticked.
  const admin = await signIn(other, 'school');
  assert.is((await admin.post('/school/settings', { reviewMode: 'school_only', maxTerminations: '3', handlerName: '李老师', handlerPhone: '010-62750002', address: '北京市海淀区示范路 1 号', postcode: '100871' })).status, 303);
  assert.not.ok(await entrance(), 'online signing off: no 申请签约 entrance');
});

test('S3 a decision reads the school\'s settings from the request\'s cache, which follows the province: the notice says 鉴证 once it switched', async () => {
  const [pending] = await d.db.select().from(agreements).where(and(eq(agreements.state, 'school_review'), eq(agreements.positionName, '工程师')));
  assert.ok(pending, 'an agreement waits for the school');
  const c = await signIn(app, 'school');
  assert.match(textOf((await c.get('/school/agreements')).doc, '#review-counts') ?? '', '等待学校审核'); // the cache holds 审核 now
  const [school] = await d.db.select().from(schools).where(eq(schools.id, pending!.schoolId));
  await d.db.update(provinces).set({ agreementType: 'two_party' }).where(eq(provinces.id, school!.provinceId));
  try {
    sent = [];
    assert.is((await c.request('POST', `/school/agreements/${pending!.id}/review`, { form: { decision: 'approve' }, headers: { 'hx-request': 'true' } })).status, 200);
    // Read once, for the cache (its version moved with the province), and not again in the transaction.
    assert.is(sent.filter((q) => /from "schools" inner join "provinces"/.test(q)).length, 1, 'the settings read once');
    const [notice] = await d.db.select().from(notifications).where(eq(notifications.graduateId, pending!.graduateId)).orderBy(desc(notifications.id)).limit(1);
    assert.match(notice?.body ?? '', '学校鉴证通过');
  } finally {
    await d.db.update(provinces).set({ agreementType: 'three_party' }).where(eq(provinces.id, school!.provinceId));
  }
});

test.run();
