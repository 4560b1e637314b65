import { and, desc, eq } from 'drizzle-orm';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agreementDrafts, agreements, assistLinks, employers, outbox, schools, users } from '../../db/schema/index.ts';
import { setupApp, type TestApp } from '../helpers/app.ts';
import { graduateClient, signable, type Graduate } from '../helpers/graduates.ts';
import { textOf } from '../helpers/html.ts';

// Offline signing (未签就业协议申请签约) and its stamped copy, by the graduate or the unit through an
// SMS link; 补登 through 补登管理; G4 across every path. All over HTTP, as the parties use it.
let t: TestApp;
let png: Uint8Array<ArrayBuffer>;

test.before(async () => {
  t = await setupApp();
  png = new Uint8Array(await sharp({ create: { width: 120, height: 170, channels: 3, background: '#ffffff' } }).png().toBuffer());
});
test.after(async () => {
  await t.close();
});

const departmentOf = async (g: Graduate) => ((await t.db.select().from(users).where(eq(users.login, '10001-cs')))[0]!.departmentId === g.departmentId ? 'department' : 'department2');
const stateOf = async (id: number) => (await t.db.select().from(agreements).where(eq(agreements.id, id)))[0]!;

/** A typed-in unit not on the platform, and the terms. */
const FORM = {
  unitName: '闽江数据科技有限公司', uscc: '91350100M000100Y43', employerType: '39', industry: '34', region: '350100', address: '福建省福州市鼓楼区五四路 100 号',
  positionCategory: '13', positionName: '数据分析师', contactName: '林经理', contactPhone: '', contactMobile: '13700001111', contactEmail: 'hr@minjiang.example.com',
  probation: '3个月', probationPay: '6000', regularPay: '8000', penalty: '', reportPlace: '', reportDeadline: '', workPlace: '福州', archiveMode: 'none', supplement: '',
};

let offlineId = 0;
let offlineGraduate: Graduate;

test('G7 未签就业协议申请签约: 暂存 keeps the form, 提交 asks to confirm, 撤回修改 before a reviewer acts, then 退回修改 and resubmission', async () => {
  offlineGraduate = (await signable(t, '10001'))[0]!;
  const c = await graduateClient(t, offlineGraduate);
  assert.ok((await c.get('/student')).doc.querySelector('#start-offline'), 'the entrance is on the home');
  const empty = await c.get('/student/offline-signing');
  assert.match(textOf(empty.doc, '#one-at-a-time')!, '一次只能生成一份协议书');
  assert.ok(empty.doc.querySelector('#student-info'), 'the 学生信息 section, read-only');

  assert.is((await c.post('/student/offline-signing', { intent: 'save', unitName: '闽江', positionName: '数据分析师' })).status, 303);
  const kept = await c.get('/student/offline-signing');
  assert.is(kept.doc.querySelector('#positionName')!.getAttribute('value'), '数据分析师', '暂存 kept it on the server');

  const incomplete = await c.post('/student/offline-signing', { intent: 'submit', ...FORM, contactEmail: '', uscc: 'ABC' });
  assert.is(incomplete.status, 422);
  assert.is(textOf(incomplete.doc, '#contactEmail-error'), '请填写正确的联系人邮箱');
  assert.is(textOf(incomplete.doc, '#uscc-error'), '统一社会信用代码为 18 位数字或大写字母');

  const confirm = await c.post('/student/offline-signing', { intent: 'submit', ...FORM });
  assert.is(confirm.status, 200);
  assert.match(textOf(confirm.doc, '#confirm-summary')!, '闽江数据科技有限公司');
  assert.ok(confirm.doc.querySelector('#confirm'));
  const submitted = await c.post('/student/offline-signing/submission', {});
  assert.is(submitted.status, 303);
  offlineId = Number(/applications\/(\d+)/.exec(submitted.location!)![1]);
  const a = await stateOf(offlineId);
  assert.equal([a.kind, a.state, a.employerId, a.invitedAt, a.unitSnapshot.name], ['offline', 'agreement_department_review', null, null, '闽江数据科技有限公司']);
  assert.equal(await t.db.select().from(agreementDrafts).where(eq(agreementDrafts.graduateId, offlineGraduate.id)), [], 'the draft is done with');

  const page = await c.get(`/student/applications/${offlineId}`);
  assert.is(textOf(page.doc, '#application-state'), '就业协议审核中');
  assert.ok(page.doc.querySelector('#withdraw'));
  assert.is((await c.post(`/student/applications/${offlineId}/withdrawal`, {})).location, '/student/offline-signing?done=withdrawn');
  assert.is((await stateOf(offlineId)).state, 'withdrawn');
  const editing = await c.get('/student/offline-signing');
  assert.ok(editing.doc.querySelector('#editing'));
  assert.is(editing.doc.querySelector('#unitName')!.getAttribute('value'), '闽江数据科技有限公司', 'the form opens with what was submitted');
  await c.post('/student/offline-signing', { intent: 'submit', ...FORM, positionName: '高级数据分析师' });
  assert.is((await c.post('/student/offline-signing/submission', {})).status, 303);
  assert.equal([(await stateOf(offlineId)).state, (await stateOf(offlineId)).positionName], ['agreement_department_review', '高级数据分析师']);

  const dept = await t.signInAs(await departmentOf(offlineGraduate));
  const review = await dept.get(`/school/agreements/${offlineId}`);
  assert.match(textOf(review.doc, 'h1')!, '就业协议审核');
  assert.equal([...review.doc.querySelectorAll('#review-form input[name=decision]')].map((i) => i.getAttribute('value')), ['approve', 'return', 'reject']);
  const noReason = await dept.post(`/school/agreements/${offlineId}/review`, { decision: 'return' });
  assert.is(noReason.status, 422);
  assert.is(textOf(noReason.doc, '#reason-error'), '退回修改或不通过时请填写原因及具体问题');
  assert.is((await dept.post(`/school/agreements/${offlineId}/review`, { decision: 'return', reason: '单位地址请写到门牌号' })).status, 303);
  const returned = await c.get(`/student/applications/${offlineId}`);
  assert.is(textOf(returned.doc, '#application-state'), '协议审核待提交（老师退回）');
  assert.match(textOf(returned.doc, '#review-reason')!, '单位地址请写到门牌号');
  await c.post('/student/offline-signing', { intent: 'submit', ...FORM, address: '福建省福州市鼓楼区五四路 100 号 8 层' });
  await c.post('/student/offline-signing/submission', {});
  assert.is((await dept.post(`/school/agreements/${offlineId}/review`, { decision: 'approve' })).status, 303);
  assert.is((await stateOf(offlineId)).state, 'agreement_school_review');
  assert.is((await c.post(`/student/applications/${offlineId}/withdrawal`, {})).status, 409, 'G7: a reviewer acted');
});

test('就业协议审核 通过: the agreement exists with its number, marked as awaiting the stamp; /verify does not say 有效 yet', async () => {
  const school = await t.signInAs('school');
  assert.is((await school.post(`/school/agreements/${offlineId}/review`, { decision: 'approve' })).status, 303);
  const a = await stateOf(offlineId);
  assert.is(a.state, 'awaiting_stamped_copy');
  assert.match(a.number!, /^2026-10001-\d{6}$/);
  const c = await graduateClient(t, offlineGraduate);
  const page = await c.get(`/student/applications/${offlineId}`);
  assert.is(textOf(page.doc, '#application-state'), '就业协议审核通过');
  assert.is(page.doc.querySelector('#download-document')!.getAttribute('href'), `/student/agreements/${offlineId}/document.pdf`);
  assert.ok(page.doc.querySelector('#copy-form') && page.doc.querySelector('#assist-form'));
  const doc = await c.get(`/student/agreements/${offlineId}/document`);
  assert.is(doc.status, 200);
  assert.ok(doc.doc.querySelector('#awaiting-stamp'));
  assert.is(textOf(doc.doc, '#agreement-number'), a.number);
  const rows = new Map([...doc.doc.querySelectorAll('#agreement-signing th[scope=row]')].map((th) => [th.textContent!.trim(), th.nextElementSibling!.textContent!.trim()]));
  assert.is(rows.get('签约类型'), '线下签约');
  assert.not.ok(rows.has('邀约时间'), 'no letter rows for an offline agreement');
  const verify = await t.client('198.51.100.40').get(`/verify?no=${a.number}&code=${a.verificationCode}`);
  assert.match(textOf(verify.doc, '#verify-result')!, '尚未生效');
  assert.not.match(textOf(verify.doc, '#verify-result')!, offlineGraduate.name);
  assert.is((await (await t.signInAs('employer')).get(`/employer/agreements/${offlineId}`)).status, 404, 'a unit not on the agreement sees nothing');
});

let token = '';

test('用人单位协助回传协议书: an SMS link to the unit\'s 联系人手机; a new one revokes the old; its page shows the agreement and nothing else', async () => {
  const c = await graduateClient(t, offlineGraduate);
  assert.is((await c.post(`/student/applications/${offlineId}/assist`, {})).status, 303);
  const first = /\/assist\/([A-Za-z0-9_-]{32})/.exec((await t.db.select().from(outbox).where(eq(outbox.recipient, FORM.contactMobile)).orderBy(desc(outbox.id)).limit(1))[0]!.body)![1]!;
  assert.is((await c.post(`/student/applications/${offlineId}/assist`, {})).status, 303);
  const [sms] = await t.db.select().from(outbox).where(eq(outbox.recipient, FORM.contactMobile)).orderBy(desc(outbox.id)).limit(1);
  token = /\/assist\/([A-Za-z0-9_-]{32})/.exec(sms!.body)![1]!;
  assert.is.not(token, first);
  const [link] = await t.db.select().from(assistLinks).where(eq(assistLinks.agreementId, offlineId)).orderBy(desc(assistLinks.id)).limit(1);
  assert.is.not(link!.tokenHash, token, 'only a hash is kept');

  const unit = t.client('203.0.113.7');
  assert.is((await unit.get(`/assist/${first}`)).status, 404, 'resending revoked the first link');
  const page = await unit.get(`/assist/${token}`);
  assert.is(page.status, 200);
  assert.is(page.headers.get('cache-control'), 'no-store');
  assert.is(textOf(page.doc, '#agreement-number'), (await stateOf(offlineId)).number);
  assert.ok(page.doc.querySelector('#assist-upload'));
  page.doc.querySelector('#agreement-document')!.remove();
  const outside = page.doc.querySelector('main')!.textContent!;
  for (const personal of [offlineGraduate.idNumber, offlineGraduate.phone, offlineGraduate.email ?? '@', offlineGraduate.studentNo]) assert.not.match(outside, personal, 'nothing of the graduate beyond the agreement');
  assert.not.ok(page.doc.querySelector('nav.nav'), 'no portal menu');
});

test('the assist link refuses a tampered, another\'s or an expired token, and counts wrong ones per IP', async () => {
  const stranger = t.client('203.0.113.99');
  const tampered = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
  assert.is((await stranger.get(`/assist/${tampered}`)).status, 404);
  assert.is((await stranger.get('/assist/short')).status, 404);
  const [link] = await t.db.select().from(assistLinks).where(eq(assistLinks.agreementId, offlineId)).orderBy(desc(assistLinks.id)).limit(1);
  await t.db.update(assistLinks).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(assistLinks.id, link!.id));
  assert.is((await stranger.get(`/assist/${token}`)).status, 404, 'expired');
  await t.db.update(assistLinks).set({ expiresAt: new Date(Date.now() + 86400000) }).where(eq(assistLinks.id, link!.id));
  const guesser = t.client('203.0.113.100');
  const answers = [];
  for (let i = 0; i < 21; i++) answers.push((await guesser.get(`/assist/${'x'.repeat(32)}`)).status);
  assert.is(answers.at(-1), 429, 'wrong tokens are limited per IP');
});

test('the unit uploads the stamped copy through the link, which is then used up; 签约审核 passes it; /verify says 有效', async () => {
  const unit = t.client('203.0.113.8');
  const bad = await unit.upload(`/assist/${token}`, {}, { pages: { name: 'x.txt', bytes: new Uint8Array(new TextEncoder().encode('not an image')) } });
  assert.is(bad.status, 422);
  assert.is((await stateOf(offlineId)).state, 'awaiting_stamped_copy', 'a refused upload changes nothing, and the link still works');
  const done = await unit.upload(`/assist/${token}`, {}, { pages: { name: '协议第1页.png', bytes: png } });
  assert.is(done.status, 200);
  assert.ok(done.doc.querySelector('#assist-done'));
  const a = await stateOf(offlineId);
  assert.is(a.state, 'signing_department_review');
  assert.is(a.copyUploadIds.length, 1);
  assert.is((await unit.get(`/assist/${token}`)).status, 404, 'single-use');

  const dept = await t.signInAs(await departmentOf(offlineGraduate));
  const review = await dept.get(`/school/agreements/${offlineId}`);
  assert.match(textOf(review.doc, 'h1')!, '签约审核');
  assert.ok(review.doc.querySelector('#uploaded-pages img'), 'the reviewer sees the uploaded page');
  const file = await dept.get(review.doc.querySelector('#uploaded-pages img')!.getAttribute('src')!);
  assert.is(file.status, 200);
  assert.is(file.headers.get('content-type'), 'image/png');
  const timeline = textOf(review.doc, '#timeline')!;
  assert.match(timeline, '用人单位（协助回传）');
  assert.is((await dept.post(`/school/agreements/${offlineId}/review`, { decision: 'return', reason: '公章不清晰' })).status, 303);
  assert.is((await stateOf(offlineId)).state, 'copy_returned');

  const c = await graduateClient(t, offlineGraduate);
  assert.is((await c.upload(`/student/applications/${offlineId}/copy`, {}, { pages: { name: 'p1.png', bytes: png } })).status, 303);
  await dept.post(`/school/agreements/${offlineId}/review`, { decision: 'approve' });
  assert.is((await (await t.signInAs('school')).post(`/school/agreements/${offlineId}/review`, { decision: 'approve' })).status, 303);
  const signed = await stateOf(offlineId);
  assert.is(signed.state, 'signed');
  assert.ok(signed.signedAt);
  const verify = await t.client('198.51.100.41').get(`/verify?no=${signed.number}&code=${signed.verificationCode}`);
  assert.match(textOf(verify.doc, '#verify-result')!, '有效');
  assert.match(textOf(verify.doc, '#verify-result')!, '线下签约');
  assert.match(textOf((await c.get('/student')).doc, '#status-summary')!, '已签约');
});

test('boundaries: another graduate, school or department gets 404 on the application and its pages', async () => {
  const [, other] = await signable(t, '10001');
  const c = await graduateClient(t, other!);
  assert.is((await c.get(`/student/applications/${offlineId}`)).status, 404);
  assert.is((await c.post(`/student/applications/${offlineId}/assist`, {})).status, 404);
  const [pageId] = (await stateOf(offlineId)).copyUploadIds;
  assert.is((await c.get(`/student/files/${pageId}`)).status, 404);
  assert.is((await (await t.signInAs('school2')).get(`/school/agreements/${offlineId}`)).status, 404);
  assert.is((await (await t.signInAs('school2')).get(`/school/files/${pageId}`)).status, 404);
  const otherDept = (await departmentOf(offlineGraduate)) === 'department' ? 'department2' : 'department';
  assert.is((await (await t.signInAs(otherDept)).get(`/school/agreements/${offlineId}`)).status, 404);
});

test('a unit on the platform (same USCC) sees the offline agreement once it exists, and in 已签约 once signed', async () => {
  const [, , g] = await signable(t, '10001');
  const c = await graduateClient(t, g!);
  const search = await c.post('/student/offline-signing', { intent: 'search', unitName: '越综合' });
  const pick = search.doc.querySelector('#unit-results button[name=pick]')!.getAttribute('value')!;
  await c.post('/student/offline-signing', { pick });
  const filled = await c.get('/student/offline-signing');
  assert.is(filled.doc.querySelector('#uscc')!.getAttribute('value'), (await t.db.select().from(employers).where(eq(employers.name, '越综合企业')))[0]!.uscc);
  assert.is(filled.doc.querySelector('#region option[selected]')!.getAttribute('value'), '110000', 'the unit\'s district becomes its 省市 option');
  assert.is(filled.doc.querySelector('#contactMobile')!.getAttribute('value'), '', 'the unit\'s contacts are not handed to a graduate');
  assert.is((await c.post('/student/offline-signing', { pick: 'x' })).status, 404);
  const values = Object.fromEntries([...filled.doc.querySelectorAll('#application-form input[name], #application-form select[name]')].map((e) => [e.getAttribute('name')!, e.getAttribute('value') ?? e.querySelector('option[selected]')?.getAttribute('value') ?? '']));
  await c.post('/student/offline-signing', { ...values, intent: 'submit', positionCategory: '13', positionName: '工程师', archiveMode: 'none', contactName: '王经理', contactMobile: '13800000001', contactEmail: 'hr@yue.example.com' });
  assert.is((await c.post('/student/offline-signing/submission', {})).status, 303);
  const [a] = await t.db.select().from(agreements).where(eq(agreements.graduateId, g!.id)).orderBy(desc(agreements.id)).limit(1);
  assert.ok(a!.employerId, 'linked to the platform unit');
  const unit = await t.signInAs('employer');
  assert.is((await unit.get(`/employer/agreements/${a!.id}`)).status, 404, 'not while the school reviews the application');
  const dept = await t.signInAs(await departmentOf(g!));
  const school = await t.signInAs('school');
  await dept.post(`/school/agreements/${a!.id}/review`, { decision: 'approve' });
  await school.post(`/school/agreements/${a!.id}/review`, { decision: 'approve' });
  assert.is((await unit.get(`/employer/agreements/${a!.id}`)).status, 200, 'the agreement exists: the unit sees what it is asked to stamp');
  assert.is((await c.upload(`/student/applications/${a!.id}/copy`, {}, { pages: { name: 'p.png', bytes: png } })).status, 303);
  await dept.post(`/school/agreements/${a!.id}/review`, { decision: 'approve' });
  await school.post(`/school/agreements/${a!.id}/review`, { decision: 'approve' });
  const tab = await unit.get('/employer/agreements?tab=signed&cohort=2026');
  assert.match(textOf(tab.doc, '#agreements')!, g!.name);
});

test('G4 across channels: an offline application blocks accepting an invitation, and an acceptance blocks applying', async () => {
  const [, , , g] = await signable(t, '10001');
  const c = await graduateClient(t, g!);
  const unit = await t.signInAs('employer2');
  await unit.post('/employer/favourites', { name: g!.name, idNumber: g!.idNumber, school: '示范大学', cohort: '2026' });
  const [fav] = await t.db.select().from(agreements).where(eq(agreements.graduateId, g!.id));
  assert.is(fav, undefined);
  const favs = await t.db.execute<{ id: number }>(`select id from favourites where graduate_id = ${g!.id}`);
  await unit.post('/employer/invitations', { favourite: String(favs[0]!.id), positionCategory: '13', positionName: '工程师', validityDays: '3', contactName: '赵主管', contactPhone: '021-50800002', workPlace: '上海', archiveMode: 'none' });
  const [invitation] = await t.db.select().from(agreements).where(and(eq(agreements.graduateId, g!.id), eq(agreements.kind, 'online')));
  await c.post('/student/offline-signing', { intent: 'submit', ...FORM });
  assert.is((await c.post('/student/offline-signing/submission', {})).status, 303);
  const accept = await c.post(`/student/invitations/${invitation!.id}/acceptance`, {});
  assert.is(accept.status, 409);
  assert.is((await c.get('/student')).doc.querySelector('#start-registration'), null, 'no second application while one is active');
  const refused = await c.post('/student/registration', { intent: 'submit', ...FORM });
  assert.ok(refused.status === 409 || refused.doc.querySelector('#not-available'));
});

test('X4 ten simultaneous submissions of one application, and an acceptance racing a submission: exactly one is active', async () => {
  const [, , , , g, h] = await signable(t, '10001');
  const c = await graduateClient(t, g!);
  await c.post('/student/offline-signing', { intent: 'save', ...FORM });
  const results = await Promise.all(Array.from({ length: 10 }, () => c.post('/student/offline-signing/submission', {})));
  assert.is(results.filter((r) => r.status === 303).length, 1, results.map((r) => r.status).join(','));
  assert.is((await t.db.select().from(agreements).where(eq(agreements.graduateId, g!.id))).length, 1);

  const d = await graduateClient(t, h!);
  const unit = await t.signInAs('employer');
  await unit.post('/employer/favourites', { name: h!.name, idNumber: h!.idNumber, school: '示范大学', cohort: '2026' });
  const favs = await t.db.execute<{ id: number }>(`select id from favourites where graduate_id = ${h!.id}`);
  await unit.post('/employer/invitations', { favourite: String(favs[0]!.id), positionCategory: '13', positionName: '工程师', validityDays: '3', contactName: '王经理', contactPhone: '010-62750009', workPlace: '北京', archiveMode: 'none' });
  const [invitation] = await t.db.select().from(agreements).where(and(eq(agreements.graduateId, h!.id), eq(agreements.kind, 'online')));
  await d.post('/student/offline-signing', { intent: 'save', ...FORM });
  const raced = await Promise.all([d.post(`/student/invitations/${invitation!.id}/acceptance`, {}), d.post('/student/offline-signing/submission', {})]);
  const active = await t.db.execute<{ n: number }>(`select count(*)::int as n from agreements where graduate_id = ${h!.id} and state in ('department_review','school_review','signed','agreement_department_review','agreement_school_review')`);
  assert.is(active[0]!.n, 1, raced.map((r) => r.status).join(','));
});

test('补登: hidden and refused with the 补登 switch off; pages, 提交, 补登管理 通过 → 签约审核通过, and /verify', async () => {
  const [g] = await signable(t, '10002');
  const c = await graduateClient(t, g!);
  await t.db.update(schools).set({ paperRegistration: false }).where(eq(schools.code, '10002'));
  assert.is((await c.get('/student')).doc.querySelector('#start-registration'), null);
  const off = await c.get('/student/registration');
  assert.match(textOf(off.doc, '#not-available')!, '学校暂未开启补登');
  await c.post('/student/registration', { intent: 'save', ...FORM });
  const refused = await c.post('/student/registration/submission', {});
  assert.is(refused.status, 409);
  await t.db.update(schools).set({ paperRegistration: true }).where(eq(schools.code, '10002'));

  assert.ok((await c.get('/student')).doc.querySelector('#start-registration'));
  const noPages = await c.post('/student/registration', { intent: 'submit', ...FORM });
  assert.is(noPages.status, 422);
  assert.is(textOf(noPages.doc, '#pages-error'), '请上传纸质就业协议书的照片或扫描件');
  assert.is((await c.upload('/student/registration', { intent: 'save', ...FORM }, { pages: { name: '纸质协议.png', bytes: png } })).status, 303);
  const form = await c.get('/student/registration');
  assert.match(textOf(form.doc, '#pages-heading')!, '已上传 1 页');
  const [pageLink] = form.doc.querySelectorAll('#uploaded-pages a');
  const other = await graduateClient(t, (await signable(t, '10002'))[1]!);
  assert.is((await other.get(pageLink!.getAttribute('href')!)).status, 404, 'a draft page is its uploader\'s alone');
  assert.is(form.doc.querySelector('#positionName')!.getAttribute('value'), FORM.positionName, 'the draft kept what was typed');
  await c.post('/student/registration', { intent: 'submit', ...FORM });
  const submitted = await c.post('/student/registration/submission', {});
  assert.is(submitted.status, 303);
  const id = Number(/applications\/(\d+)/.exec(submitted.location!)![1]);
  assert.equal([(await stateOf(id)).kind, (await stateOf(id)).state], ['registered', 'registration_school_review'], '示例理工大学 reviews alone');

  const school = await t.signInAs('school2');
  const list = await school.get('/school/registrations');
  assert.match(textOf(list.doc, `#agreement-${id}-row`)!, '签约鉴证中，等待学校鉴证');
  assert.equal([...list.doc.querySelectorAll('#registration-tabs a')].map((a) => a.textContent), ['签约鉴证中', '签约鉴证不通过', '签约鉴证通过']);
  const page = await school.get(`/school/registrations/${id}`);
  assert.ok(page.doc.querySelector('#uploaded-pages img'));
  assert.is((await school.post(`/school/registrations/${id}/review`, { decision: 'approve' })).status, 303);
  const a = await stateOf(id);
  assert.is(a.state, 'signed');
  assert.match(textOf((await school.get('/school/registrations?tab=approved')).doc, '#agreements')!, g!.name);
  const verify = await t.client('198.51.100.42').get(`/verify?no=${a.number}&code=${a.verificationCode}`);
  assert.match(textOf(verify.doc, '#verify-result')!, '纸质协议补登');
  const mine = await c.get(`/student/applications/${id}`);
  assert.is(textOf(mine.doc, '#application-state'), '签约审核通过');
});

test('inbox: the department sees offline and 补登 items waiting at its stage', async () => {
  const [, , , , , , g] = await signable(t, '10001');
  const c = await graduateClient(t, g!);
  await c.upload('/student/registration', { intent: 'save', ...FORM }, { pages: { name: 'a.png', bytes: png } });
  await c.post('/student/registration', { intent: 'submit', ...FORM });
  assert.is((await c.post('/student/registration/submission', {})).status, 303);
  const home = await (await t.signInAs(await departmentOf(g!))).get('/school');
  assert.ok(Number(textOf(home.doc, '#inbox-registration strong')) >= 1);
  assert.is(home.doc.querySelector('#inbox-registration a')!.getAttribute('href'), '/school/registrations?state=registration_department_review');
});

test('assist links: one agreement\'s token reaches only that agreement; a link sent before a copy was returned stays dead; a repeated upload is answered as done; uploads past the limit are refused', async () => {
  const [, , , , , , , , a1, b1] = await signable(t, '10001');
  const dept = await t.signInAs('department');
  const dept2 = await t.signInAs('department2');
  const school = await t.signInAs('school');
  const ready = async (g: Graduate) => {
    const c = await graduateClient(t, g);
    await c.post('/student/offline-signing', { intent: 'submit', ...FORM });
    const id = Number(/applications\/(\d+)/.exec((await c.post('/student/offline-signing/submission', {})).location!)![1]);
    await (g.departmentId === (await t.db.select().from(users).where(eq(users.login, '10001-cs')))[0]!.departmentId ? dept : dept2).post(`/school/agreements/${id}/review`, { decision: 'approve' });
    await school.post(`/school/agreements/${id}/review`, { decision: 'approve' });
    return { c, id };
  };
  const A = await ready(a1!);
  const B = await ready(b1!);
  await A.c.post(`/student/applications/${A.id}/assist`, {});
  const tokenA = /\/assist\/([A-Za-z0-9_-]{32})/.exec((await t.db.select().from(outbox).where(eq(outbox.recipient, FORM.contactMobile)).orderBy(desc(outbox.id)).limit(1))[0]!.body)![1]!;
  const unit = t.client('203.0.113.20');
  assert.is((await unit.upload(`/assist/${tokenA}`, {}, { pages: { name: 'a.png', bytes: png } })).status, 200);
  assert.is((await stateOf(A.id)).state, 'signing_department_review');
  assert.is((await stateOf(B.id)).state, 'awaiting_stamped_copy', 'the other agreement is untouched');
  const again = await unit.upload(`/assist/${tokenA}`, {}, { pages: { name: 'a.png', bytes: png } });
  assert.is(again.status, 200, 'a repeat on a flaky network is answered as done');
  assert.ok(again.doc.querySelector('#assist-done'));
  assert.is((await stateOf(A.id)).copyUploadIds.length, 1, 'and uploads nothing more');

  await B.c.post(`/student/applications/${B.id}/assist`, {});
  const tokenB = /\/assist\/([A-Za-z0-9_-]{32})/.exec((await t.db.select().from(outbox).where(eq(outbox.recipient, FORM.contactMobile)).orderBy(desc(outbox.id)).limit(1))[0]!.body)![1]!;
  assert.is((await B.c.upload(`/student/applications/${B.id}/copy`, {}, { pages: { name: 'b.png', bytes: png } })).status, 303, 'the graduate uploads it herself');
  const bDept = b1!.departmentId === (await t.db.select().from(users).where(eq(users.login, '10001-cs')))[0]!.departmentId ? dept : dept2;
  await bDept.post(`/school/agreements/${B.id}/review`, { decision: 'return', reason: '请重新盖章' });
  assert.is((await stateOf(B.id)).state, 'copy_returned');
  assert.is((await t.client('203.0.113.21').get(`/assist/${tokenB}`)).status, 404, 'the earlier link does not come back to life');

  const big = new Uint8Array(31 * 1024 * 1024);
  await B.c.post(`/student/applications/${B.id}/assist`, {});
  const tokenC = /\/assist\/([A-Za-z0-9_-]{32})/.exec((await t.db.select().from(outbox).where(eq(outbox.recipient, FORM.contactMobile)).orderBy(desc(outbox.id)).limit(1))[0]!.body)![1]!;
  assert.is((await t.client('203.0.113.22').upload(`/assist/${tokenC}`, {}, { pages: { name: 'big.png', bytes: big } })).status, 413);
  const wrong = t.client('203.0.113.23');
  for (let i = 0; i < 20; i++) await wrong.get(`/assist/${'y'.repeat(32)}`);
  assert.is((await wrong.upload(`/assist/${tokenC}`, {}, { pages: { name: 'c.png', bytes: png } })).status, 429, 'an IP that guessed too often cannot upload either');
  assert.is((await stateOf(B.id)).state, 'copy_returned');
});

test('放弃申请 when the unit will not stamp; 暂存 is refused while an application is under review', async () => {
  const [, , , , , , , , , , g] = await signable(t, '10001');
  const c = await graduateClient(t, g!);
  await c.post('/student/offline-signing', { intent: 'submit', ...FORM });
  const id = Number(/applications\/(\d+)/.exec((await c.post('/student/offline-signing/submission', {})).location!)![1]);
  assert.is((await c.post('/student/offline-signing', { intent: 'save', ...FORM })).status, 409, 'nothing to draft while the application is under review');
  const deptName = await departmentOf(g!);
  await (await t.signInAs(deptName)).post(`/school/agreements/${id}/review`, { decision: 'approve' });
  await (await t.signInAs('school')).post(`/school/agreements/${id}/review`, { decision: 'approve' });
  const page = await c.get(`/student/applications/${id}`);
  assert.ok(page.doc.querySelector('#abandon'));
  assert.is((await c.get(`/student/applications/${id}/abandonment`)).status, 200);
  assert.is((await c.post(`/student/applications/${id}/abandonment`, {})).status, 303);
  assert.is((await stateOf(id)).state, 'abandoned');
  assert.ok((await c.get('/student')).doc.querySelector('#start-offline'), 'free to apply again or sign another way');
});

test.run();
