import { and, desc, eq, isNull } from 'drizzle-orm';
import { Hono } from 'hono';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agreements, employers, favourites, graduates, notifications, outbox, schools, users } from '../../db/schema/index.ts';
import { ACTIVATE_HINT } from '../../domain/agreements/notify.ts';
import type { AppEnv } from '../../routes/context.ts';
import { verifiedUnitRoutes } from '../../routes/employer/index.ts';
import { pageOrFragments } from '../../routes/render.ts';
import { createViews } from '../../views/index.ts';
import { setupApp, type Client, type TestApp } from '../helpers/app.ts';
import { graduateClient, signable, type Graduate } from '../helpers/graduates.ts';
import { parseHtml, textOf, type Doc } from '../helpers/html.ts';
import { fieldValue, latestSmsCode } from '../helpers/sms.ts';

// The review chain and the guards of online signing as each party meets them over HTTP: the S4
// switch, the deadline and G4; the province's verb on a 鉴证 school's screens (S3); the reviewer's
// inbox; the agreement's unit contacts; an invitation to a graduate without an account (G11); the
// guide's words; and the plumbing: E3 on one sub-app, fragments with idempotency keys.
let t: TestApp;
const LETTER = { positionCategory: '13', positionName: '后端开发工程师', validityDays: '5', contactName: '王经理', contactPhone: '010-62750009', workPlace: '北京市海淀区', archiveMode: 'none' };

test.before(async () => {
  t = await setupApp();
});
test.after(async () => {
  await t.close();
});

/** The unit adds the graduate to its favourites and sends the letter; the page and the new invitation's id. */
async function invite(unit: Client, g: Graduate, school: string, letter: Record<string, string> = LETTER) {
  await unit.post('/employer/favourites', { name: g.name, idNumber: g.idNumber, school, cohort: String(g.cohort) });
  const [fav] = await t.db.select().from(favourites).where(and(eq(favourites.graduateId, g.id), isNull(favourites.invalidatedAt))).orderBy(desc(favourites.id)).limit(1);
  const sent = await unit.post('/employer/invitations', { favourite: String(fav!.id), ...letter });
  const [a] = await t.db.select().from(agreements).where(eq(agreements.graduateId, g.id)).orderBy(desc(agreements.id)).limit(1);
  return { sent, id: a?.id ?? 0, favourite: fav!.id };
}

const setOnlineSigning = (code: string, on: boolean) => t.db.update(schools).set({ onlineSigning: on }).where(eq(schools.code, code));

test('S4 with 在线签约 off the unit cannot invite the school\'s graduates, nor a graduate accept; back on, both work', async () => {
  const [g] = await signable(t, '10001');
  const unit = await t.signInAs('employer');
  await unit.post('/employer/favourites', { name: g!.name, idNumber: g!.idNumber, school: '示范大学', cohort: '2026' });
  const [fav] = await t.db.select().from(favourites).where(eq(favourites.graduateId, g!.id));
  await setOnlineSigning('10001', false);
  const refused = await unit.post('/employer/invitations', { favourite: String(fav!.id), ...LETTER });
  assert.is(refused.status, 200);
  assert.match(textOf(refused.doc, '#skipped')!, g!.name);
  assert.match(textOf(refused.doc, '#skipped')!, '该学生所在学校暂未开启在线签约');
  assert.equal(await t.db.select().from(agreements).where(eq(agreements.graduateId, g!.id)), []);

  await setOnlineSigning('10001', true);
  const { id } = await invite(unit, g!, '示范大学');
  await setOnlineSigning('10001', false);
  const student = await graduateClient(t, g!);
  const page = await student.get(`/student/invitations/${id}`);
  assert.not.ok(page.doc.querySelector('#accept'), 'no 接受 while the switch is off');
  assert.ok(page.doc.querySelector('#decline'), 'the switch governs accepting, not declining');
  assert.is(textOf(page.doc, '#read-only'), '你的学校暂未开启在线签约，暂不能接受签约邀请。');
  const accept = await student.post(`/student/invitations/${id}/acceptance`, {});
  assert.is(accept.status, 409);
  assert.match(textOf(accept.doc, '#form-error')!, '你的学校暂未开启在线签约');
  assert.is((await t.db.select().from(agreements).where(eq(agreements.id, id)))[0]!.state, 'invited');

  await setOnlineSigning('10001', true);
  assert.is((await student.post(`/student/invitations/${id}/acceptance`, {})).status, 303);
  assert.is((await t.db.select().from(agreements).where(eq(agreements.id, id)))[0]!.state, 'department_review');
});

test('G4 once one invitation is accepted, another unit\'s invitation is read-only and its acceptance refused', async () => {
  const [g] = await signable(t, '10001');
  const student = await graduateClient(t, g!);
  const { id } = await invite(await t.signInAs('employer2'), g!, '示范大学');
  const page = await student.get(`/student/invitations/${id}`);
  assert.not.ok(page.doc.querySelector('#accept') || page.doc.querySelector('#decline'), 'view-only');
  assert.is(textOf(page.doc, '#read-only'), '你已接受其他单位的签约邀请，其他签约邀请只能查看，无法操作。');
  assert.is((await student.post(`/student/invitations/${id}/acceptance`, {})).status, 409);
  assert.is((await student.post(`/student/invitations/${id}/refusal`, {})).status, 409);
});

test('X3 past 应约截止时间 the invitation is shown as such, and answering it expires it instead', async () => {
  const [, g] = await signable(t, '10001');
  const student = await graduateClient(t, g!);
  const { id } = await invite(await t.signInAs('employer'), g!, '示范大学');
  await t.db.update(agreements).set({ deadline: new Date(Date.now() - 1000) }).where(eq(agreements.id, id));
  const page = await student.get(`/student/invitations/${id}`);
  assert.not.ok(page.doc.querySelector('#accept'));
  assert.is(textOf(page.doc, '#read-only'), '已超过应约截止时间，该签约邀请已失效。');
  const declined = await student.post(`/student/invitations/${id}/refusal`, {});
  assert.is(declined.status, 409);
  assert.is(textOf(declined.doc, '#form-error'), '已超过应约截止时间，该签约邀请已失效。');
  assert.is((await t.db.select().from(agreements).where(eq(agreements.id, id)))[0]!.state, 'expired');
});

/** The text a person reads on a page: the body without scripts. */
const words = (doc: Doc) => doc.querySelector('body')!.textContent!.replace(/\s+/g, ' ');
/**
 * What a 鉴证 school reads of online signing. Offline signing's first review is 就业协议审核 in every
 * province (school guide 5.2 ①), and destinations are 审核 everywhere (school guide 8: 鉴证 is of
 * agreements): their names, and the status filter listing their states, are left out.
 */
const verbWords = (doc: Doc) => {
  doc.querySelector('#state')?.remove();
  doc.querySelector('#inbox-offline_agreement')?.remove();
  doc.querySelector('#inbox-destination')?.remove();
  return words(doc).replaceAll('就业协议审核', '');
};

test('S3 a 鉴证 school\'s list, review page, 工作台 and agreement say 鉴证, never 审核', async () => {
  const [g] = await signable(t, '10002');
  const { id } = await invite(await t.signInAs('employer2'), g!, '示例理工大学');
  assert.is((await (await graduateClient(t, g!)).post(`/student/invitations/${id}/acceptance`, {})).status, 303);
  const school = await t.signInAs('school2');

  const list = await school.get('/school/agreements');
  assert.match(textOf(list.doc, `#agreement-${id}-row`)!, '学生已同意签约，等待学校鉴证');
  assert.equal([...list.doc.querySelectorAll('#review-counts li')].map((li) => li.textContent!.replace(/\d+/g, '').trim()), ['等待院系鉴证', '等待学校鉴证', '已签约', '鉴证不通过']);
  const review = await school.get(`/school/agreements/${id}`);
  assert.equal([...review.doc.querySelectorAll('#progress li')].map((li) => li.textContent), ['单位已发起邀请', '等待学生应约', '学校（学院）鉴证', '签约完成']);
  assert.match(textOf(review.doc, 'h1')!, '签约鉴证');
  const home = await school.get('/school');
  assert.match(textOf(home.doc, '#inbox-online_signing')!, '等待学校鉴证');
  const notices = await school.get('/school/notifications');
  assert.match(words(notices.doc), '有新的签约待鉴证');
  for (const [name, doc] of [['list', list.doc], ['review page', review.doc], ['工作台', home.doc], ['notices', notices.doc]] as const) assert.not.match(verbWords(doc), '审核', name);

  assert.is((await school.post(`/school/agreements/${id}/review`, { decision: 'approve' })).status, 303);
  const signed = await school.get(`/school/agreements/${id}`);
  assert.match(textOf(signed.doc, '#timeline')!, '学校鉴证通过，签约完成');
  const doc = await school.get(`/school/agreements/${id}/document`);
  assert.is(doc.status, 200);
  for (const [name, d] of [['signed review page', signed.doc], ['agreement', doc.doc]] as const) assert.not.match(verbWords(d), '审核', name);
});

test('inbox: each reviewer\'s 工作台 counts the items waiting at their own stage, in their own department', async () => {
  const [, , g] = await signable(t, '10001');
  const { id } = await invite(await t.signInAs('employer'), g!, '示范大学');
  const waitingOf = async (c: Client) => Number(textOf((await c.get('/school')).doc, '#inbox-online_signing strong'));
  const cs = await t.signInAs(g!.departmentId === (await t.db.select().from(users).where(eq(users.login, '10001-cs')))[0]!.departmentId ? 'department' : 'department2');
  const before = await waitingOf(cs);
  await (await graduateClient(t, g!)).post(`/student/invitations/${id}/acceptance`, {});
  assert.is(await waitingOf(cs), before + 1);
  const home = await cs.get('/school');
  assert.is(home.doc.querySelector('#inbox-online_signing a')!.getAttribute('href'), '/school/agreements?state=department_review');
  assert.match(textOf(home.doc, '#inbox-online_signing')!, '等待院系审核');
});

test('boundaries: another school, and another department of the same school, deciding an agreement get 404 and change nothing; its own department decides', async () => {
  const g = (await signable(t, '10001')).at(-2);
  const { id } = await invite(await t.signInAs('employer'), g!, '示范大学');
  await (await graduateClient(t, g!)).post(`/student/invitations/${id}/acceptance`, {});
  const own = g!.departmentId === (await t.db.select().from(users).where(eq(users.login, '10001-cs')))[0]!.departmentId ? 'department' : 'department2';
  const other = own === 'department' ? 'department2' : 'department';
  for (const outsider of ['school2', other] as const) {
    assert.is((await (await t.signInAs(outsider)).post(`/school/agreements/${id}/review`, { decision: 'approve' })).status, 404, outsider);
  }
  assert.is((await t.db.select().from(agreements).where(eq(agreements.id, id)))[0]!.state, 'department_review');
  assert.is((await (await t.signInAs(own)).post(`/school/agreements/${id}/review`, { decision: 'approve' })).status, 303);
  assert.is((await t.db.select().from(agreements).where(eq(agreements.id, id)))[0]!.state, 'school_review');
});

test('section 7: the demo unit\'s agreement has its contact rows for every party — the letter\'s 签约联系人, the unit\'s 手机 and 邮箱', async () => {
  const [, , , g] = await signable(t, '10001');
  const { id } = await invite(await t.signInAs('employer'), g!, '示范大学');
  await (await graduateClient(t, g!)).post(`/student/invitations/${id}/acceptance`, {});
  const dept = g!.departmentId === (await t.db.select().from(users).where(eq(users.login, '10001-cs')))[0]!.departmentId ? 'department' : 'department2';
  await (await t.signInAs(dept)).post(`/school/agreements/${id}/review`, { decision: 'approve' });
  await (await t.signInAs('school')).post(`/school/agreements/${id}/review`, { decision: 'approve' });
  const rowsOf = (doc: Doc) => new Map([...doc.querySelectorAll('#agreement-unit th[scope=row]')].map((th) => [th.textContent!.trim(), th.nextElementSibling!.textContent!.trim()]));
  for (const [party, client, path] of [
    ['unit', await t.signInAs('employer'), `/employer/agreements/${id}/document`],
    ['graduate', await graduateClient(t, g!), `/student/agreements/${id}/document`],
    ['school', await t.signInAs('school'), `/school/agreements/${id}/document`],
  ] as const) {
    const rows = rowsOf((await client.get(path)).doc);
    assert.is(rows.get('单位联系人'), '王经理', party);
    assert.is(rows.get('联系人电话'), '010-62750009', party);
    assert.is(rows.get('联系人手机'), '13800000001', party);
    assert.is(rows.get('联系人邮箱'), 'hr@yue.example.com', party);
  }
});

test('G11 each decision\'s notices name the graduate: the school\'s reviewers when the department passes it, the unit when it is signed', async () => {
  const [, , , , , g] = await signable(t, '10001');
  const { id } = await invite(await t.signInAs('employer'), g!, '示范大学');
  await (await graduateClient(t, g!)).post(`/student/invitations/${id}/acceptance`, {});
  const dept = g!.departmentId === (await t.db.select().from(users).where(eq(users.login, '10001-cs')))[0]!.departmentId ? 'department' : 'department2';
  const noticesOf = async (login: string) => {
    const [u] = await t.db.select().from(users).where(eq(users.login, login));
    return (await t.db.select().from(notifications).where(eq(notifications.userId, u!.id))).filter((n) => n.link?.endsWith(`/${id}`));
  };
  assert.is((await (await t.signInAs(dept)).post(`/school/agreements/${id}/review`, { decision: 'approve' })).status, 303);
  assert.ok((await noticesOf('10001-admin')).some((n) => n.body === `${g!.name}的签约已通过院系审核。`), 'the school is told whose agreement waits');
  assert.is((await (await t.signInAs('school')).post(`/school/agreements/${id}/review`, { decision: 'approve' })).status, 303);
  assert.ok((await noticesOf('13800000001')).some((n) => n.title === `与${g!.name}签约完成`), 'the unit is told with whom it signed');
});

test('section 7: a unit whose information lacks an e-mail is asked for 联系人邮箱 on the letter, and its answer is printed', async () => {
  await t.db.update(employers).set({ contactEmail: null, contactMobile: null }).where(eq(employers.name, '申城智能制造有限公司'));
  const [, , , , g] = await signable(t, '10001');
  const unit = await t.signInAs('employer2');
  const { sent, favourite } = await invite(unit, g!, '示范大学', { ...LETTER, contactPhone: '021-50800002' });
  assert.is(sent.status, 422);
  assert.is(textOf(sent.doc, '#contactEmail-error'), '请填写联系人邮箱（就业协议书需要）');
  assert.is(textOf(sent.doc, '#contactMobile-error'), '请填写联系人手机（就业协议书需要）');
  const ok = await unit.post('/employer/invitations', { favourite: String(favourite), ...LETTER, contactPhone: '021-50800002', contactMobile: '13700000002', contactEmail: 'zhao@shencheng.example.com' });
  assert.is(ok.status, 200);
  const [a] = await t.db.select().from(agreements).where(eq(agreements.graduateId, g!.id)).orderBy(desc(agreements.id)).limit(1);
  assert.equal([a!.unitSnapshot.contactName, a!.unitSnapshot.contactPhone, a!.unitSnapshot.contactMobile, a!.unitSnapshot.contactEmail], ['王经理', '021-50800002', '13700000002', 'zhao@shencheng.example.com']);
  const next = await unit.post('/employer/invitations/new', { favourite: String(favourite) });
  assert.is(fieldValue(next.doc, 'contactEmail'), 'zhao@shencheng.example.com', 'the next letter starts from this one');
});

test('G11 an invitation to a roster graduate without an account goes by SMS to the roster phone with how to activate; the notice waits for the account', async () => {
  const accounts = new Set((await t.db.select({ id: users.graduateId }).from(users).where(eq(users.role, 'student'))).map((u) => u.id));
  const g = (await signable(t, '10001')).reverse().find((x) => !accounts.has(x.id))!;
  const { id } = await invite(await t.signInAs('employer'), g, '示范大学');
  const [sms] = await t.db.select().from(outbox).where(eq(outbox.recipient, g.phone)).orderBy(desc(outbox.id)).limit(1);
  assert.match(sms!.body, '越综合企业向你发起了签约邀请');
  assert.match(sms!.body, ACTIVATE_HINT);
  const [waiting] = await t.db.select().from(notifications).where(and(eq(notifications.graduateId, g.id), isNull(notifications.userId)));
  assert.is(waiting!.link, `/student/invitations/${id}`);

  const c = t.client('10.40.0.1');
  const step = await c.post('/student/activation', { name: g.name, id_number: g.idNumber });
  const done = await c.post('/student/activation', { ticket: fieldValue(step.doc, 'ticket'), code: await latestSmsCode(t.db, g.phone), password: 'Activate#2026', password_confirmation: 'Activate#2026' });
  assert.is(done.status, 303);
  await c.post('/student/check', {});
  const list = await c.get('/student/notifications');
  assert.match(textOf(list.doc, 'main')!, '越综合企业向你发起了签约邀请');
  assert.match(textOf(list.doc, '#notification-count')!, '（1）');
});

test('glossary: the letter says 职位类别 and 岗位名称; every party\'s agreement link says 下载协议', async () => {
  const [fav] = await t.db.select().from(favourites).innerJoin(employers, eq(employers.id, favourites.employerId)).where(eq(employers.name, '越综合企业')).limit(1);
  const letter = await (await t.signInAs('employer')).post('/employer/invitations/new', { favourite: String(fav!.favourites.id) });
  assert.is(textOf(letter.doc, 'label[for=positionCategory]'), '职位类别 *');
  assert.is(textOf(letter.doc, 'label[for=positionName]'), '岗位名称 *');
  assert.not.match(letter.text, '拟录用');
  const [yue] = await t.db.select().from(employers).where(eq(employers.name, '越综合企业'));
  const [signed] = await t.db.select().from(agreements).where(and(eq(agreements.state, 'signed'), eq(agreements.employerId, yue!.id))).limit(1);
  const [owner] = await t.db.select().from(graduates).where(eq(graduates.id, signed!.graduateId));
  for (const [client, path] of [
    [await t.signInAs('employer'), `/employer/agreements/${signed!.id}`],
    [await graduateClient(t, owner!), `/student/invitations/${signed!.id}`],
    [await t.signInAs('school'), `/school/agreements/${signed!.id}`],
  ] as const) {
    const page = await client.get(path);
    assert.is(textOf(page.doc, '#download-agreement'), '下载协议', path);
    assert.not.match(page.text, '下载协议书', path);
    assert.not.match(page.text, '下载就业协议书', path);
  }
});

test('E4 添加学生 with an ID number whose check digit is wrong says the number is invalid, not 未找到', async () => {
  const [g] = await signable(t, '10001');
  const last = g!.idNumber.at(-1) === '1' ? '2' : '1';
  const res = await (await t.signInAs('employer')).post('/employer/favourites/search', { name: g!.name, idNumber: g!.idNumber.slice(0, 17) + last, school: '示范大学', cohort: '2026' });
  assert.is(res.status, 422);
  assert.is(textOf(res.doc, '#idNumber-error'), '身份证号校验位错误，请核对是否输错');
  assert.not.match(res.text, '未找到');
});

test('E3 every room of the verified units\' sub-app sends an unverified unit to its verification, whatever the method', async () => {
  const unverified = await t.signInAs('employerUnverified');
  const routes = verifiedUnitRoutes.routes.filter((r) => r.method !== 'ALL');
  assert.ok(routes.length >= 15, `${routes.length} routes`);
  for (const r of routes) {
    const path = '/employer' + r.path.replace(/:\w+\{[^}]+\}/g, '1').replace(/\/$/, '');
    const res = r.method === 'GET' ? await unverified.get(path) : await unverified.post(path, {});
    assert.is(res.status, 303, `${r.method} ${path}`);
    assert.is(res.location, '/employer', `${r.method} ${path}`);
  }
});

test('fragments: htmx gets the partials with idempotency keys on their forms; anyone else gets the page', async () => {
  const views = createViews({ cache: false });
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set('app', { views, config: { origin: undefined } } as never);
    await next();
  });
  const row = { id: 7, name: '王', idNumber: '1', department: '计', unit: '越', positionName: '岗', stateLabel: '等待', canDecide: true, quickApprove: true, verb: '审核' };
  app.post('/x', (c) => pageOrFragments(c, () => c.redirect('/page', 303), [{ view: 'school/agreements/_row', data: { r: row, verb: '审核' } }]));
  const htmx = await app.request('/x', { method: 'POST', headers: { 'hx-request': 'true' } });
  const fragment = parseHtml(`<table>${await htmx.text()}</table>`);
  assert.ok(fragment.querySelector('#agreement-7-row form input[name=_idem]'));
  const plain = await app.request('/x', { method: 'POST' });
  assert.is(plain.status, 303);
  const restore = await app.request('/x', { method: 'POST', headers: { 'hx-request': 'true', 'hx-history-restore-request': 'true' } });
  assert.is(restore.status, 303, 'a history restore needs the whole page');
});

test('X2 an htmx answer settles the form\'s key with 200 before its fragments\' reads have answered (beside them), and a plain answer leaves it to the response', async () => {
  const views = createViews({ cache: false });
  const app = new Hono<AppEnv>();
  const settled: Array<[number, string | null]> = [];
  let readsAnswer!: () => void;
  const reads = new Promise<void>((resolve) => (readsAnswer = resolve));
  let settledBeforeReads: boolean | undefined;
  app.use(async (c, next) => {
    c.set('app', { views, config: { origin: undefined } } as never);
    c.set('settleForm', async (status, location) => void settled.push([status, location]));
    await next();
  });
  app.post('/x', (c) =>
    pageOrFragments(
      c,
      () => c.redirect('/page', 303),
      async () => {
        await Promise.resolve();
        settledBeforeReads = settled.length === 1;
        readsAnswer();
        await reads;
        return [];
      },
    ),
  );
  assert.is((await app.request('/x', { method: 'POST', headers: { 'hx-request': 'true' } })).status, 200);
  assert.ok(settledBeforeReads, 'settled while the reads were under way');
  assert.equal(settled, [[200, null]]);
  assert.is((await app.request('/x', { method: 'POST' })).status, 303);
  assert.equal(settled, [[200, null]], 'a redirect is settled by the middleware with the response');
});

test('X2 an htmx decision with its key: a repeat of the key is told it was submitted, and the decision happens once', async () => {
  const [a] = await t.db.$client`insert into agreements (kind, state, employer_id, graduate_id, school_id, department_id, cohort, position_category, position_name, archive_mode, unit_snapshot, invited_at, validity_days, deadline, contact_name, contact_phone, work_place)
    select 'online', 'school_review', (select id from employers where verification = 'verified' order by id limit 1), g.id, g.school_id, g.department_id, g.cohort, '13', '工程师', 'none', '{"name": "幂等单位"}'::jsonb, now(), 3, now() + interval '3 days', '联系人', '13800000000', '北京'
      from graduates g join schools s on s.id = g.school_id
     where s.code = '10001' and g.removed_at is null and not exists (select 1 from agreements x where x.graduate_id = g.id) and not exists (select 1 from users u where u.graduate_id = g.id)
     order by g.id limit 1 returning id`;
  const school = await t.signInAs('school');
  const decide = () => school.request('POST', `/school/agreements/${a!.id}/review`, { form: { _idem: 'htmx-decision-key', decision: 'approve' }, headers: { 'hx-request': 'true' } });
  const first = await decide();
  assert.is(first.status, 200);
  assert.match(first.text, `id="agreement-${a!.id}-row"`, 'the decided row');
  const [key] = await t.db.$client`select k.status, k.location from idempotency_keys k join users u on u.id = k.user_id where u.login = '10001-admin' and k.key = 'htmx-decision-key'`;
  assert.equal({ ...key }, { status: 200, location: null });
  const repeat = await decide();
  assert.is(repeat.status, 409);
  assert.match(repeat.text, '该表单已提交');
  const [{ n }] = (await t.db.$client`select count(*)::int as n from events where subject_type = 'agreement' and subject_id = ${String(a!.id)} and action = 'agreement.approve'`) as unknown as [{ n: number }];
  assert.is(n, 1);
});

test.run();
