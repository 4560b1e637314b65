import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, desc, eq } from 'drizzle-orm';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { employerVerifications, employers, events, notifications, outbox, uploads, users } from '../../db/schema/index.ts';
import { makeUscc } from '../../domain/codes/uscc.ts';
import { type Client, setupApp, type TestApp } from '../helpers/app.ts';
import { textOf } from '../helpers/html.ts';

let t: TestApp;
let dataDir: string;
let png: Uint8Array<ArrayBuffer>;
const pdf = new Uint8Array(new TextEncoder().encode('%PDF-1.4\n1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\n%%EOF\n'));

test.before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wq-employer-'));
  t = await setupApp({ DATA_DIR: dataDir });
  png = new Uint8Array(await sharp({ create: { width: 60, height: 40, channels: 3, background: '#e33' } }).png().toBuffer());
});
test.after(async () => {
  await t.close();
  await rm(dataDir, { recursive: true, force: true });
});

const UNIT = {
  applicantName: '周人事',
  applicantPosition: '人事经理',
  applicantEmail: 'hr@example.com',
  unitName: '星河数据科技有限公司',
  uscc: makeUscc('91110108MA02B0004'),
  employerType: '39',
  industry: '34',
  region: '110108',
  address: '北京市海淀区知春路 1 号',
  contactName: '周人事',
  contactPhone: '',
  contactMobile: '13912340000',
  contactEmail: '',
};

async function register(phone: string): Promise<Client> {
  const [admin] = await t.db.select().from(users).where(eq(users.login, '13800000009'));
  await t.db.insert(users).values({ role: 'employer', portal: 'employer', login: phone, phone, displayName: phone, passwordHash: admin!.passwordHash });
  const c = t.client();
  assert.is((await c.post('/employer/login', { login: phone, password: 'Employer#2026' })).status, 303);
  return c;
}

const latestOf = async (phone: string) => {
  const [u] = await t.db.select().from(users).where(eq(users.login, phone));
  const [v] = await t.db.select().from(employerVerifications).where(eq(employerVerifications.userId, u!.id)).orderBy(desc(employerVerifications.id)).limit(1);
  return { user: u!, v: v! };
};

test('E3 an unverified unit sees the verification status and steps only', async () => {
  const c = await t.signInAs('employerUnverified');
  const home = await c.get('/employer');
  assert.ok(home.doc.querySelector('#verification-required'));
  assert.ok(home.doc.querySelector('#verification-form'));
  assert.equal([...home.doc.querySelectorAll('.nav a')].map((a) => a.textContent), ['身份认证', '操作指南']);
  for (const path of ['/employer/archive', '/employer/accounts', '/employer/unit', '/employer/archive/history']) {
    const res = await c.get(path);
    assert.is(res.status, 303, path);
    assert.is(res.location, '/employer');
  }
  assert.is((await c.post('/employer/archive', {})).status, 303);
  assert.is((await c.get('/employer/guide')).status, 200);
});

test('E2 上传材料认证: licence + stamped letter → platform approves → the unit is verified and the user notified', async () => {
  const c = await register('13911110001');
  const missing = await c.upload('/employer/verification', { ...UNIT, method: 'documents' }, { authorization: { name: '授权书.png', bytes: png } });
  assert.is(missing.status, 422);
  assert.is(textOf(missing.doc, '#licence-error'), '请上传加盖单位公章的营业执照或统一社会信用代码证书扫描件');
  const res = await c.upload('/employer/verification', { ...UNIT, method: 'documents' }, { authorization: { name: '授权书.png', bytes: png }, licence: { name: '营业执照.pdf', bytes: pdf } });
  assert.is(res.status, 303);
  const { v } = await latestOf('13911110001');
  assert.is(v.state, 'submitted');
  assert.is(v.usccCheckPassed, true);
  const status = await c.get('/employer');
  assert.match(textOf(status.doc, '#verification-status')!, '已提交');
  assert.not.ok(status.doc.querySelector('#verification-form'), 'one open application at a time');

  const admin = await t.signInAs('admin');
  const queue = await admin.get('/admin/verifications');
  assert.ok(queue.doc.querySelector(`#verification-${v.id}`));
  const review = await admin.get(`/admin/verifications/${v.id}`);
  const links = [...review.doc.querySelectorAll('#files a')].map((a) => a.getAttribute('href')!);
  assert.is(links.length, 2);
  for (const href of links) {
    const file = await admin.get(href);
    assert.is(file.status, 200);
    assert.is(file.headers.get('x-content-type-options'), 'nosniff');
    assert.is(file.headers.get('cache-control'), 'no-store');
    if (file.headers.get('content-type') === 'application/pdf') assert.match(file.headers.get('content-disposition')!, /^attachment/, 'a PDF is never rendered inline');
    else assert.match(file.headers.get('content-disposition')!, /^inline/);
  }
  const approve = await admin.post(`/admin/verifications/${v.id}/decision`, { decision: 'approve' });
  assert.is(approve.status, 303);
  const { user } = await latestOf('13911110001');
  const [unit] = await t.db.select().from(employers).where(eq(employers.uscc, UNIT.uscc));
  assert.is(unit!.verification, 'verified');
  assert.is(user.employerId, unit!.id);
  assert.is(user.displayName, '周人事');
  assert.ok((await t.db.select().from(notifications).where(eq(notifications.userId, user.id))).some((n) => n.title === '身份认证审核通过'));
  assert.ok((await t.db.select().from(outbox).where(eq(outbox.recipient, '13911110001'))).some((m) => m.body.includes('审核通过')));
  assert.ok((await t.db.select().from(events).where(and(eq(events.subjectType, 'employer_verification'), eq(events.subjectId, String(v.id))))).length >= 2);
  const bench = await c.get('/employer');
  assert.is(textOf(bench.doc, 'h1'), '工作台');
  assert.is(textOf(bench.doc, '#verification-status'), '已认证');
  assert.equal([...bench.doc.querySelectorAll('#status-counts li')].map((li) => li.firstChild!.textContent), ['签约中', '已签约', '签约失败', '解约中', '已解约', '解约失败', '失效']);
});

test('E2 不通过 needs a reason; the applicant sees it and can submit again', async () => {
  const c = await register('13911110002');
  await c.upload('/employer/verification', { ...UNIT, uscc: makeUscc('91110108MA02B0005'), method: 'documents' }, { authorization: { name: 'a.png', bytes: png }, licence: { name: 'l.png', bytes: png } });
  const { v } = await latestOf('13911110002');
  const admin = await t.signInAs('admin');
  const noReason = await admin.post(`/admin/verifications/${v.id}/decision`, { decision: 'reject', reason: '' });
  assert.is(noReason.status, 422);
  assert.is(textOf(noReason.doc, '#reason-error'), '审核不通过时必须填写原因');
  assert.is((await admin.post(`/admin/verifications/${v.id}/decision`, { decision: 'reject', reason: '营业执照未加盖公章' })).status, 303);
  const page = await c.get('/employer');
  assert.match(textOf(page.doc, '#rejection-reason')!, '营业执照未加盖公章');
  assert.ok(page.doc.querySelector('#verification-form'), 'can submit again');
  assert.is((await admin.post(`/admin/verifications/${v.id}/decision`, { decision: 'approve' })).status, 409, 'a decided application stays decided');
});

test('E2 对公账号汇款认证: remittance, two wrong amounts, a third exhausts; a new remittance, the right amount, approval', async () => {
  const c = await register('13911110003');
  const fields = { ...UNIT, uscc: makeUscc('91110108MA02B0006'), method: 'remittance' };
  const noBank = await c.upload('/employer/verification', fields, { authorization: { name: 'a.png', bytes: png } });
  assert.is(noBank.status, 422);
  assert.ok(textOf(noBank.doc, '#bankAccount-error'));
  assert.is((await c.upload('/employer/verification', { ...fields, bankAccount: '1100 2233 4455 6677', bankName: '中国工商银行北京海淀支行' }, { authorization: { name: 'a.png', bytes: png } })).status, 303);
  let { v } = await latestOf('13911110003');
  const admin = await t.signInAs('admin');
  assert.is((await admin.post(`/admin/verifications/${v.id}/decision`, { decision: 'approve' })).status, 409, 'no approval before the amount is confirmed');
  assert.is((await admin.post(`/admin/verifications/${v.id}/remittance`, {})).status, 303);
  ({ v } = await latestOf('13911110003'));
  assert.is(v.state, 'remittance_sent');
  assert.ok(v.remittanceCents! >= 1 && v.remittanceCents! <= 99);
  const wrong = ((v.remittanceCents! % 99) + 1) / 100;
  for (const left of [2, 1]) {
    const res = await c.post('/employer/verification/amount', { amount: wrong.toFixed(2) });
    assert.is(res.status, 422);
    assert.is(textOf(res.doc, '#amount-error'), `金额不正确，还可以再填写 ${left} 次`);
  }
  await c.post('/employer/verification/amount', { amount: wrong.toFixed(2) });
  ({ v } = await latestOf('13911110003'));
  assert.is(v.state, 'remittance_failed');
  await admin.post(`/admin/verifications/${v.id}/remittance`, {});
  ({ v } = await latestOf('13911110003'));
  assert.is(v.remittanceAttempts, 0);
  assert.is((await c.post('/employer/verification/amount', { amount: (v.remittanceCents! / 100).toFixed(2) })).status, 303);
  ({ v } = await latestOf('13911110003'));
  assert.is(v.state, 'amount_confirmed');
  assert.is((await admin.post(`/admin/verifications/${v.id}/decision`, { decision: 'approve' })).status, 303);
  assert.is((await latestOf('13911110003')).v.state, 'approved');
});

test('E2 a USCC whose check digit fails is accepted but flagged for the reviewer', async () => {
  const c = await register('13911110004');
  const good = makeUscc('91110108MA02B0007');
  const bad = good.slice(0, 17) + (good.endsWith('0') ? '1' : '0');
  assert.is((await c.upload('/employer/verification', { ...UNIT, uscc: bad, method: 'documents' }, { authorization: { name: 'a.png', bytes: png }, licence: { name: 'l.png', bytes: png } })).status, 303);
  const { v } = await latestOf('13911110004');
  assert.is(v.usccCheckPassed, false);
  const admin = await t.signInAs('admin');
  assert.ok((await admin.get(`/admin/verifications/${v.id}`)).doc.querySelector('#uscc-flag'));
  assert.ok((await admin.get('/admin/verifications')).doc.querySelector(`#verification-${v.id} .uscc-flag`));
});

test('E2 a user whose USCC matches a verified unit joins it with the letter alone; E8 both see each other', async () => {
  const [yue] = await t.db.select().from(employers).where(eq(employers.name, '越综合企业'));
  const c = await register('13911110005');
  assert.is((await c.upload('/employer/verification', { ...UNIT, unitName: '越综合企业', uscc: yue!.uscc, method: 'documents', applicantName: '吴招聘' }, { authorization: { name: 'a.png', bytes: png } })).status, 303);
  const { v } = await latestOf('13911110005');
  assert.is(v.method, 'join');
  assert.is(v.employerId, yue!.id);
  const admin = await t.signInAs('admin');
  assert.match(textOf((await admin.get(`/admin/verifications/${v.id}`)).doc, 'main')!, '加入已认证单位：越综合企业');
  await admin.post(`/admin/verifications/${v.id}/decision`, { decision: 'approve' });
  assert.is((await latestOf('13911110005')).user.employerId, yue!.id);
  const members = await (await t.signInAs('employer')).get('/employer/accounts');
  assert.match(textOf(members.doc, '#members')!, '吴招聘');
  const theirs = await c.get('/employer/accounts');
  assert.match(textOf(theirs.doc, '#members')!, '越综合企业 人事部');
  assert.is((await t.db.select().from(employers).where(eq(employers.uscc, yue!.uscc))).length, 1, 'one unit, many users');
});

test('uploads through the form: a renamed executable is refused and leaves nothing behind', async () => {
  const c = await register('13911110006');
  const before = await t.db.select().from(uploads);
  const filesBefore = await readdir(join(dataDir, 'uploads'), { recursive: true }).catch(() => []);
  const exe = new Uint8Array([0x4d, 0x5a, 0x90, 0x00, ...new Array(200).fill(0)]);
  const res = await c.upload('/employer/verification', { ...UNIT, uscc: makeUscc('91110108MA02B0008'), method: 'documents' }, { authorization: { name: '授权书.jpg', bytes: exe }, licence: { name: 'l.png', bytes: png } });
  assert.is(res.status, 422);
  assert.is(textOf(res.doc, '#authorization-error'), '仅支持 JPG、PNG、WebP 格式的图片或 PDF 文件');
  assert.is((await t.db.select().from(uploads)).length, before.length);
  assert.equal(await readdir(join(dataDir, 'uploads'), { recursive: true }).catch(() => []), filesBefore);
  assert.is((await t.db.select().from(employerVerifications).innerJoin(users, eq(users.id, employerVerifications.userId)).where(eq(users.login, '13911110006'))).length, 0);
});

test('E7 户档信息管理: one record per unit, edited by any of its users, with 查看编辑记录', async () => {
  const a = await t.signInAs('employer');
  const archive = { archiveUnit: '北京市海淀区人才服务中心', archiveAddress: '北京市海淀区苏州街 1 号', archivePostcode: '100080', archiveContact: '李老师', archivePhone: '010-82600001', hukouAddress: '北京市海淀区苏州街 1 号' };
  const bad = await a.post('/employer/archive', { ...archive, archivePostcode: '1000' });
  assert.is(bad.status, 422);
  assert.is(textOf(bad.doc, '#archivePostcode-error'), '邮政编码为 6 位数字');
  assert.is((await a.post('/employer/archive', archive)).status, 303);
  const b = t.client();
  assert.is((await b.post('/employer/login', { login: '13911110005', password: 'Employer#2026' })).status, 303);
  assert.is((await b.get('/employer/archive')).doc.querySelector('#archiveUnit')!.getAttribute('value'), archive.archiveUnit);
  await b.post('/employer/archive', { ...archive, archiveContact: '王老师' });
  const history = await a.get('/employer/archive/history');
  const rows = [...history.doc.querySelectorAll('#history tbody tr')].map((r) => r.textContent!);
  assert.is(rows.length, 2);
  assert.match(rows[0]!, '吴招聘');
  assert.match(rows[0]!, '档案接收联系人：李老师 → 王老师');
  assert.match(rows[1]!, '越综合企业 人事部');
  const other = await t.signInAs('employer2');
  assert.is((await other.get('/employer/archive')).doc.querySelector('#archiveUnit')!.getAttribute('value'), '', 'another unit has its own record');
});

test('E8 each user edits own info and password; other sessions end on a password change', async () => {
  const c = await t.signInAs('employer2');
  const elsewhere = await t.signInAs('employer2');
  assert.is((await c.post('/employer/accounts/me', { displayName: '申城 人力资源部 张', email: 'hr@shencheng.example.com' })).status, 303);
  const wrong = await c.post('/employer/accounts/password', { currentPassword: 'nope', password: 'New#Pass2026', passwordConfirmation: 'New#Pass2026' });
  assert.is(textOf(wrong.doc, '#currentPassword-error'), '原密码不正确');
  assert.is((await c.post('/employer/accounts/password', { currentPassword: 'Employer#2026', password: 'New#Pass2026', passwordConfirmation: 'New#Pass2026' })).status, 303);
  assert.is((await c.get('/employer/accounts')).status, 200, 'this session stays');
  assert.is((await elsewhere.get('/employer/accounts')).status, 303, 'the other session ended');
});

test('E9 单位信息 is read-only for the unit; platform staff edit it with an event row', async () => {
  const c = await t.signInAs('employer');
  const page = await c.get('/employer/unit');
  assert.not.ok(page.doc.querySelector('form#unit-form'));
  assert.ok(page.doc.querySelector('#read-only-note'));
  const [yue] = await t.db.select().from(employers).where(eq(employers.name, '越综合企业'));
  assert.is((await c.post(`/admin/employers/${yue!.id}`, { name: 'x' })).status, 403);
  const admin = await t.signInAs('admin');
  const edit = await admin.get(`/admin/employers/${yue!.id}`);
  const values = Object.fromEntries([...edit.doc.querySelectorAll('#unit-form input, #unit-form select')].map((i) => [i.getAttribute('name')!, (i as unknown as { value: string }).value]));
  assert.is((await admin.post(`/admin/employers/${yue!.id}`, { ...values, address: '北京市海淀区中关村大街 200 号' })).status, 303);
  assert.match(textOf((await c.get('/employer/unit')).doc, '#unit-info')!, '中关村大街 200 号');
  const [e] = await t.db.select().from(events).where(eq(events.action, 'employer.updated'));
  assert.equal((e!.data as Record<string, unknown>).address, { from: '北京市海淀区中关村大街 100 号', to: '北京市海淀区中关村大街 200 号' });
});

test('boundaries: another unit cannot open the files; employers cannot reach the review queue', async () => {
  const [file] = await t.db.select().from(uploads).limit(1);
  const other = await t.signInAs('employerUnverified');
  assert.is((await other.get(`/employer/files/${file!.id}`)).status, 404);
  assert.is((await other.get('/admin/verifications')).status, 403);
  assert.is((await (await t.signInAs('school')).get(`/admin/files/${file!.id}`)).status, 403);
});

test.run();
