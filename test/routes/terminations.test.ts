import { and, asc, count, desc, eq, like } from 'drizzle-orm';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agreements, events, favourites, notifications, outbox, schools, terminations, users } from '../../db/schema/index.ts';
import { silentLogger } from '../../db/log.ts';
import { partySnapshots } from '../../domain/agreements/parties.ts';
import { reviewDigestJob } from '../../jobs/expire-invitations.ts';
import { runJobOnce } from '../../jobs/scheduler.ts';
import { setupApp, type Client, type TestApp } from '../helpers/app.ts';
import { graduateClient, signable, type Graduate } from '../helpers/graduates.ts';
import { textOf, type Doc } from '../helpers/html.ts';
import { insertAgreement, type AgreementFixture } from '../helpers/signed-agreement.ts';

// 解约 (school guide 7, employer guide 6, graduate guide 申请解约; S4, S8, E6, X1–X4), over HTTP as
// the parties use it: online agreements with the other party's answer and the review, 强制解约,
// offline and 补登 agreements with a 解约函, the limit, the races, and what follows 已解约.
let t: TestApp;
let png: Uint8Array<ArrayBuffer>;
let bj: Graduate[];
let sh: Graduate[];
let serial = 0;

test.before(async () => {
  t = await setupApp();
  png = new Uint8Array(await sharp({ create: { width: 120, height: 170, channels: 3, background: '#ffffff' } }).png().toBuffer());
  bj = await signable(t, '10001');
  sh = await signable(t, '10002');
});
test.after(async () => {
  await t.close();
});

/** A signed online agreement with 越综合企业 (the demo `employer`). */
const signedWith = (g: Graduate): Promise<AgreementFixture> => {
  serial++;
  return insertAgreement(t.db, { graduateId: g.id, number: `2026-${g.schoolId === bj[0]!.schoolId ? '10001' : '10002'}-9${String(serial).padStart(5, '0')}`, code: `TERM${String(serial).padStart(4, '0')}` });
};

/** A signed offline or 补登 agreement, as its review leaves it (no unit on the platform). */
async function signedOnPaper(g: Graduate, kind: 'offline' | 'registered') {
  serial++;
  const { graduateSnapshot, schoolSnapshot } = await t.db.transaction((tx) => partySnapshots(tx, g.id));
  const [row] = await t.db
    .insert(agreements)
    .values({
      kind, state: 'signed', number: `2026-10001-8${String(serial).padStart(5, '0')}`, verificationCode: `PAPER${String(serial).padStart(3, '0')}`, signedAt: new Date('2026-05-20T02:00:00Z'),
      graduateId: g.id, schoolId: g.schoolId, departmentId: g.departmentId, cohort: g.cohort, positionCategory: '13', positionName: '工程师', archiveMode: 'none',
      unitSnapshot: { name: '闽江数据科技有限公司', uscc: '91350100M000100Y43', employerType: '39', industry: '34', region: '350100', address: '福建省福州市鼓楼区五四路 100 号', contactName: '林经理', contactPhone: null, contactMobile: '13700001111', contactEmail: 'hr@minjiang.example.com' },
      graduateSnapshot, schoolSnapshot,
    })
    .returning();
  return row!;
}

const departmentOf = async (g: Graduate) => ((await t.db.select().from(users).where(eq(users.login, '10001-cs')))[0]!.departmentId === g.departmentId ? 'department' : 'department2') as 'department' | 'department2';
const otherDepartmentOf = async (g: Graduate) => ((await departmentOf(g)) === 'department' ? 'department2' : 'department');
const agreementState = async (id: number) => (await t.db.select().from(agreements).where(eq(agreements.id, id)))[0]!.state;
const terminationsOf = (agreementId: number) => t.db.select().from(terminations).where(eq(terminations.agreementId, agreementId)).orderBy(asc(terminations.id));
const latestOf = async (agreementId: number) => (await terminationsOf(agreementId)).at(-1)!;
const trail = async (agreementId: number) =>
  (await t.db.select({ action: events.action }).from(events).where(and(eq(events.subjectType, 'agreement'), eq(events.subjectId, String(agreementId)))).orderBy(asc(events.id))).map((e) => e.action).filter((a) => a !== 'agreement.approve');
const smsTo = async (phone: string, text: string) => (await t.db.select().from(outbox).where(and(eq(outbox.recipient, phone), like(outbox.body, `%${text}%`)))).length;
const workbenchCount = (doc: Doc, label: string) => Number([...doc.querySelectorAll('#status-counts li')].find((li) => li.textContent!.startsWith(label))!.querySelector('strong')!.textContent);
const employerTab = async (c: Client, tab: string) => (await c.get(`/employer/agreements?tab=${tab}&cohort=2026`)).doc;
const verifyResult = async (a: { number: string; code: string }) => textOf((await t.client(`198.51.100.${(serial % 200) + 1}`).get(`/verify?no=${a.number}&code=${a.code}`)).doc, '#verify-result')!;

const LETTER = { positionCategory: '13', positionName: '机械设计工程师', validityDays: '10', contactName: '赵主管', contactPhone: '021-50800002', workPlace: '上海市浦东新区', archiveMode: 'none', supplement: '' };

let online: AgreementFixture;
let onlineGraduate: Graduate;
let firstTermination = 0;
let newInvitation = 0;

test('S4 the graduate is told the remaining count; 申请解约 needs a reason; the unit sees 学生发起解约等待单位应约 and hears of it; G4 still holds', async () => {
  onlineGraduate = bj[0]!;
  online = await signedWith(onlineGraduate);
  const c = await graduateClient(t, onlineGraduate);
  const invitation = await c.get(`/student/invitations/${online.id}`);
  assert.is(invitation.doc.querySelector('#termination-link')!.getAttribute('href'), `/student/agreements/${online.id}/termination`);
  assert.is(textOf(invitation.doc, '#termination-link'), '申请解约');
  const page = await c.get(`/student/agreements/${online.id}/termination`);
  assert.match(textOf(page.doc, '#allowance')!, '最多提交 2 次解约申请，你已提交 0 次，还可提交 2 次');
  assert.not.ok(page.doc.querySelector('#apply-files'), 'no 解约函 for an online agreement');

  const empty = await c.post(`/student/agreements/${online.id}/termination`, { reason: ' ' });
  assert.is(empty.status, 422);
  assert.is(textOf(empty.doc, '#reason-error'), '请填写解约原因');
  assert.is(textOf(empty.doc, '#confirm-error'), '请确认已与用人单位协商一致，并知晓提交后计入解约申请次数');
  assert.equal(await terminationsOf(online.id), [], 'nothing is created by a refused form');

  const applied = await c.post(`/student/agreements/${online.id}/termination`, { confirm: 'on', reason: '已与单位协商一致，因个人原因解约' });
  assert.is(applied.status, 303);
  assert.is(applied.location, `/student/agreements/${online.id}/termination?done=applied`);
  const row = await latestOf(online.id);
  firstTermination = row.id;
  assert.equal([row.state, row.initiator, row.path], ['awaiting_unit', 'graduate', 'online']);
  const after = await c.get(applied.location!);
  assert.is(textOf(after.doc, '#termination-state'), '学生发起解约等待单位应约');
  assert.not.ok(after.doc.querySelector('#answer-form'), 'the graduate does not answer the own request');
  assert.match(textOf(after.doc, '#cannot-apply')!, '该协议已有一份解约申请在办理中');
  const own = await c.post(`/student/terminations/${row.id}/answer`, { answer: 'agree' });
  assert.is(own.status, 409);
  assert.is((await latestOf(online.id)).state, 'awaiting_unit');

  assert.is(await smsTo('13800000001', '申请解约'), 1, 'the unit is told by SMS');
  const unit = await t.signInAs('employer');
  const [unitUser] = await t.db.select().from(users).where(eq(users.login, '13800000001'));
  assert.ok((await t.db.select().from(notifications).where(and(eq(notifications.userId, unitUser!.id), like(notifications.title, '%申请解约%')))).length === 1);
  assert.match(textOf(await employerTab(unit, 'terminating'), `#agreement-${online.id}`)!, '学生发起解约等待单位应约', 'E6 解约中, with the termination\'s status');
  assert.not.ok((await employerTab(unit, 'signed')).querySelector(`#agreement-${online.id}`));
  assert.is(workbenchCount((await unit.get('/employer?cohort=2026')).doc, '解约中'), 1);
  const detail = await unit.get(`/employer/agreements/${online.id}`);
  assert.is(textOf(detail.doc, '#termination-state'), '学生发起解约等待单位应约');
  assert.ok(detail.doc.querySelector('#answer-form'));
  assert.not.ok(detail.doc.querySelector('#propose-form'));

  // A second unit's invitation meanwhile: G4 refuses it while the agreement stands.
  const second = await t.signInAs('employer2');
  await second.post('/employer/favourites', { name: onlineGraduate.name, idNumber: onlineGraduate.idNumber, school: '示范大学', cohort: '2026' });
  const [employer2] = await t.db.select().from(users).where(eq(users.login, '13800000002'));
  const [fav] = await t.db.select().from(favourites).where(and(eq(favourites.graduateId, onlineGraduate.id), eq(favourites.employerId, employer2!.employerId!)));
  const favourite = String(fav!.id);
  const sent = await second.post('/employer/invitations', { favourite, ...LETTER });
  assert.match(textOf(sent.doc, '#invited')!, onlineGraduate.name);
  const [invited] = await t.db.select().from(agreements).where(and(eq(agreements.graduateId, onlineGraduate.id), eq(agreements.state, 'invited')));
  newInvitation = invited!.id;
  const refused = await c.post(`/student/invitations/${newInvitation}/acceptance`, {});
  assert.is(refused.status, 409, 'G4: one agreement at a time');
  assert.is(await agreementState(newInvitation), 'invited');
});

test('the unit 同意 → 已同意解约等待学校（学院）审核 → 院系 then 学校 审核 通过 → 已解约; the other department and another school get 404', async () => {
  const unit = await t.signInAs('employer');
  const noAnswer = await unit.post(`/employer/terminations/${firstTermination}/answer`, {});
  assert.is(noAnswer.status, 422);
  assert.is(textOf(noAnswer.doc, '#answer-error'), '请选择同意或不同意');
  assert.is((await unit.post(`/employer/terminations/${firstTermination}/answer`, { answer: 'agree' })).status, 303);
  assert.is((await latestOf(online.id)).state, 'agreed_department_review');
  assert.is((await unit.post(`/employer/terminations/${firstTermination}/answer`, { answer: 'refuse', reason: '改主意' })).status, 409, 'answered once');
  assert.is(textOf((await unit.get(`/employer/agreements/${online.id}`)).doc, '#termination-state'), '已同意解约等待学校（学院）审核');

  for (const outsider of ['school2', await otherDepartmentOf(onlineGraduate)] as const) {
    const other = await t.signInAs(outsider);
    assert.is((await other.get(`/school/terminations/${firstTermination}`)).status, 404, outsider);
    assert.is((await other.post(`/school/terminations/${firstTermination}/review`, { decision: 'approve' })).status, 404, outsider);
    assert.not.ok((await other.get('/school/terminations')).doc.querySelector(`#termination-${firstTermination}-row`), outsider);
  }
  assert.is((await unit.get(`/school/terminations/${firstTermination}`)).status, 403, 'not a school user');

  const dept = await t.signInAs(await departmentOf(onlineGraduate));
  const list = await dept.get('/school/terminations');
  assert.match(textOf(list.doc, `#termination-${firstTermination}-row`)!, '等待院系审核');
  assert.is(textOf(list.doc, `#termination-${firstTermination}-row a`), '审核', 'the reviewer\'s own stage');
  assert.is(await smsTo(onlineGraduate.phone, '已同意解约'), 0);
  assert.ok((await t.db.select().from(notifications).where(and(eq(notifications.title, '用人单位已同意解约')))).length === 1, 'the graduate hears of the 同意 in the app');
  assert.match(textOf(list.doc, '#termination-tabs')!, '已同意解约等待学校（学院）审核（1）');
  const detail = await dept.get(`/school/terminations/${firstTermination}`);
  assert.is(textOf(detail.doc, '#termination-reason'), '已与单位协商一致，因个人原因解约');
  assert.equal([...detail.doc.querySelectorAll('#review-form input[name=decision]')].map((i) => i.getAttribute('value')), ['approve', 'reject'], 'online: 通过 or 不通过');
  assert.not.ok(detail.doc.querySelector('#unilateral'));
  assert.not.ok(detail.doc.querySelector('#force-form'));
  const noReason = await dept.post(`/school/terminations/${firstTermination}/review`, { decision: 'reject' });
  assert.is(noReason.status, 422);
  assert.is(textOf(noReason.doc, '#reason-error'), '不通过时请填写原因');
  assert.is((await dept.post(`/school/terminations/${firstTermination}/review`, { decision: 'approve' })).status, 303);
  assert.is((await latestOf(online.id)).state, 'agreed_school_review');
  assert.is((await dept.post(`/school/terminations/${firstTermination}/review`, { decision: 'approve' })).status, 409, 'the school\'s stage now');

  const school = await t.signInAs('school');
  assert.match(textOf((await school.get('/school/terminations')).doc, `#termination-${firstTermination}-row`)!, '等待学校审核');
  assert.is((await school.post(`/school/terminations/${firstTermination}/review`, { decision: 'approve' })).status, 303);
  assert.is((await latestOf(online.id)).state, 'terminated');
  assert.is(await agreementState(online.id), 'terminated');
  assert.equal(await trail(online.id), ['termination.apply', 'termination.agree', 'termination.approve', 'termination.approve', 'agreement.terminate']);

  const c = await graduateClient(t, onlineGraduate);
  const page = await c.get(`/student/agreements/${online.id}/termination`);
  assert.is(textOf(page.doc, '#termination-state'), '已解约');
  assert.is(textOf(page.doc, '#agreement-state'), '已解约');
  assert.not.ok(page.doc.querySelector('#apply'));
  assert.is(textOf((await c.get(`/student/invitations/${online.id}`)).doc, '#termination-link'), '解约详情');
  assert.is(await smsTo(onlineGraduate.phone, '已解约'), 1, 'the graduate hears it by SMS');
  assert.is(await smsTo('13800000001', '已解约'), 1, 'and the unit');
  const timeline = textOf((await school.get(`/school/agreements/${online.id}`)).doc, '#timeline')!;
  for (const words of ['学生申请解约', '单位同意解约', '院系审核通过解约申请', '学校审核通过解约申请', '解约完成，协议已解约']) assert.match(timeline, words);
});

test('after 已解约: /verify says 已解约, the preview is marked, 待就业, the employer\'s tabs and counts; G4 lets the graduate accept again', async () => {
  const result = await verifyResult(online);
  assert.match(result, '已解约');
  assert.not.match(result, '有效，');
  assert.not.match(result, onlineGraduate.name);
  const c = await graduateClient(t, onlineGraduate);
  const preview = await c.get(`/student/agreements/${online.id}/document`);
  assert.is(preview.status, 200, 'terminated, not deleted');
  assert.match(textOf(preview.doc, '#terminated-mark')!, '已解约');
  assert.match(textOf((await c.get('/student')).doc, '#status-summary')!, '待就业');

  const unit = await t.signInAs('employer');
  assert.match(textOf((await unit.get(`/employer/agreements/${online.id}/document`)).doc, '#terminated-mark')!, '已解约');
  assert.ok((await employerTab(unit, 'terminated')).querySelector(`#agreement-${online.id}`), 'E6 已解约');
  assert.not.ok((await employerTab(unit, 'terminating')).querySelector(`#agreement-${online.id}`));
  const workbench = (await unit.get('/employer?cohort=2026')).doc;
  assert.equal([workbenchCount(workbench, '解约中'), workbenchCount(workbench, '已解约')], [0, 1]);

  const accepted = await c.post(`/student/invitations/${newInvitation}/acceptance`, {});
  assert.is(accepted.status, 303, 'G4: free to sign again');
  assert.is(await agreementState(newInvitation), 'department_review');
  assert.is(await agreementState(online.id), 'terminated', 'the old agreement stays, terminated');
  assert.match(textOf((await c.get('/student')).doc, '#status-summary')!, '待就业', 'S8: until a new agreement is signed');
});

test('the unit 发起解约 → the graduate 不同意 → 解约失败, the agreement stays valid; the unit cannot answer its own request and may ask again', async () => {
  const g = bj[1]!;
  const a = await signedWith(g);
  const unit = await t.signInAs('employer');
  const signedPage = (await unit.get(`/employer/agreements/${a.id}`)).doc;
  assert.is(textOf(signedPage, '#propose summary'), '发起解约', 'the guide\'s button opens the form');
  assert.ok(signedPage.querySelector('#propose-form') && !signedPage.querySelector('#propose')!.hasAttribute('open'));
  const empty = await unit.post(`/employer/agreements/${a.id}/termination`, { reason: '' });
  assert.is(empty.status, 422);
  assert.is(textOf(empty.doc, '#reason-error'), '请填写解约原因');
  assert.ok(empty.doc.querySelector('#propose')!.hasAttribute('open'), 'a refused form stays open');
  assert.is((await unit.post(`/employer/agreements/${a.id}/termination`, { reason: '岗位撤销' })).status, 303);
  const row = await latestOf(a.id);
  assert.equal([row.state, row.initiator], ['awaiting_graduate', 'employer']);
  assert.is((await unit.post(`/employer/terminations/${row.id}/answer`, { answer: 'agree' })).status, 409, 'not its own request');
  assert.is((await (await t.signInAs('employer2')).post(`/employer/terminations/${row.id}/answer`, { answer: 'agree' })).status, 404, 'another unit');
  assert.is(await smsTo(g.phone, '用人单位向你发起解约'), 1);
  assert.is(await smsTo(g.phone, '岗位撤销'), 0, 'a unit\'s own words are not sent in the platform\'s SMS');
  const school = await t.signInAs('school');
  assert.ok((await school.get('/school/terminations?tab=awaitingGraduate')).doc.querySelector(`#termination-${row.id}-row`), '单位发起解约等待学生应约');
  assert.not.ok((await school.get('/school/terminations?tab=awaiting')).doc.querySelector(`#termination-${row.id}-row`), 'not under 学生发起解约');

  const c = await graduateClient(t, g);
  const page = await c.get(`/student/agreements/${a.id}/termination`);
  assert.is(textOf(page.doc, '#termination-state'), '单位发起解约等待学生应约');
  assert.ok(page.doc.querySelector('#answer-form'));
  const noReason = await c.post(`/student/terminations/${row.id}/answer`, { answer: 'refuse' });
  assert.is(noReason.status, 422);
  assert.is(textOf(noReason.doc, '#reason-error'), '不同意时请说明理由');
  assert.is((await c.post(`/student/terminations/${row.id}/answer`, { answer: 'refuse', reason: '已办理入职，不同意解约' })).status, 303);
  assert.is((await latestOf(a.id)).state, 'failed');
  assert.is(await agreementState(a.id), 'signed');
  assert.match(await verifyResult(a), '有效');
  const [unitUser] = await t.db.select().from(users).where(eq(users.login, '13800000001'));
  const [told] = await t.db.select().from(notifications).where(and(eq(notifications.userId, unitUser!.id), like(notifications.body, '%已办理入职，不同意解约%')));
  assert.match(told!.body!, '学生不同意解约', 'the initiator hears the refusal and its reason');
  assert.is(await smsTo(g.phone, '解约失败'), 0, 'not the party who refused');
  assert.match(textOf((await c.get(`/student/agreements/${a.id}/termination`)).doc, '#allowance')!, '你已提交 0 次', 'a unit\'s request is not the graduate\'s');

  assert.ok((await employerTab(unit, 'terminationFailed')).querySelector(`#agreement-${a.id}`), 'E6 解约失败');
  assert.not.ok((await employerTab(unit, 'signed')).querySelector(`#agreement-${a.id}`));
  const detail = await unit.get(`/employer/agreements/${a.id}`);
  assert.is(textOf(detail.doc, '#termination-state'), '解约失败');
  assert.match(detail.text, '已办理入职，不同意解约');
  assert.ok(detail.doc.querySelector('#propose-form'), 'the unit may ask again');
  assert.match(textOf(await employerTab(unit, 'terminationFailed'), `#agreement-${a.id}`)!, '解约失败');
  assert.ok((await school.get('/school/terminations?tab=failed')).doc.querySelector(`#termination-${row.id}-row`));
});

test('S4 the limit: each application counts, a refused one too; the refusal says how many were used; 0 allows none', async () => {
  const g = sh[0]!;
  const a = await signedWith(g);
  const c = await graduateClient(t, g);
  assert.match(textOf((await c.get(`/student/agreements/${a.id}/termination`)).doc, '#allowance')!, '最多提交 1 次解约申请，你已提交 0 次，还可提交 1 次');
  assert.is((await c.post(`/student/agreements/${a.id}/termination`, { confirm: 'on', reason: '家庭原因' })).status, 303);
  const unit = await t.signInAs('employer');
  assert.is((await unit.post(`/employer/terminations/${(await latestOf(a.id)).id}/answer`, { answer: 'refuse', reason: '不同意' })).status, 303);
  assert.is(await smsTo(g.phone, '用人单位不同意解约'), 1);
  const page = await c.get(`/student/agreements/${a.id}/termination`);
  assert.not.ok(page.doc.querySelector('#apply'));
  assert.match(textOf(page.doc, '#cannot-apply')!, '你已提交 1 次解约申请，已达到学校规定的最多 1 次，不能再申请');
  const again = await c.post(`/student/agreements/${a.id}/termination`, { confirm: 'on', reason: '家庭原因' });
  assert.is(again.status, 409);
  assert.match(textOf(again.doc, '#form-error')!, '已达到学校规定的最多 1 次');
  assert.is((await terminationsOf(a.id)).length, 1);

  await t.db.update(schools).set({ maxTerminations: 0 }).where(eq(schools.code, '10002'));
  try {
    const g2 = sh[1]!;
    const a2 = await signedWith(g2);
    const c2 = await graduateClient(t, g2);
    const none = await c2.get(`/student/agreements/${a2.id}/termination`);
    assert.not.ok(none.doc.querySelector('#apply'));
    assert.match(textOf(none.doc, '#cannot-apply')!, '最大解约申请次数为 0');
    const refused = await c2.post(`/student/agreements/${a2.id}/termination`, { confirm: 'on', reason: '家庭原因' });
    assert.is(refused.status, 409);
    assert.match(textOf(refused.doc, '#form-error')!, '学校不允许毕业生提交解约申请');
    assert.equal(await terminationsOf(a2.id), []);
    // The unit's request is not the graduate's: it is still possible, and so is the answer.
    assert.is((await unit.post(`/employer/agreements/${a2.id}/termination`, { reason: '岗位撤销' })).status, 303);
  } finally {
    await t.db.update(schools).set({ maxTerminations: 1 }).where(eq(schools.code, '10002'));
  }
});

test('强制解约: school users only, on 学生发起解约等待单位应约, with the warning, a reason, evidence and a confirmation; recorded as forced', async () => {
  const g = bj[2]!;
  const a = await signedWith(g);
  const c = await graduateClient(t, g);
  assert.is((await c.post(`/student/agreements/${a.id}/termination`, { confirm: 'on', reason: '单位长期未答复' })).status, 303);
  const id = (await latestOf(a.id)).id;

  const other = await t.signInAs('school2');
  assert.is((await other.get(`/school/terminations/${id}`)).status, 404);
  assert.is((await other.upload(`/school/terminations/${id}/force`, { reason: '强制', confirm: 'on' }, { files: { name: 'e.png', bytes: png } })).status, 404);
  const dept = await t.signInAs(await departmentOf(g));
  const deptView = await dept.get(`/school/terminations/${id}`);
  assert.is(deptView.status, 200);
  assert.not.ok(deptView.doc.querySelector('#force-form'), 'department users do not have it');
  assert.is((await dept.upload(`/school/terminations/${id}/force`, { reason: '强制', confirm: 'on' }, { files: { name: 'e.png', bytes: png } })).status, 403);
  assert.is((await latestOf(a.id)).state, 'awaiting_unit');

  const school = await t.signInAs('school');
  const awaiting = await school.get('/school/terminations?tab=awaiting');
  assert.match(textOf(awaiting.doc, `#termination-${id}-row`)!, '学生发起解约等待单位应约');
  const page = await school.get(`/school/terminations/${id}`);
  assert.ok(page.doc.querySelector('#force-form'));
  assert.match(textOf(page.doc, '#force-warning')!, '请谨慎使用');
  const bare = await school.upload(`/school/terminations/${id}/force`, { reason: '' }, {});
  assert.is(bare.status, 422);
  assert.is(textOf(bare.doc, '#reason-error'), '请填写强制解约的原因');
  assert.is(textOf(bare.doc, '#confirm-error'), '请确认已与单位协商一致并留存相关材料');
  const noFiles = await school.upload(`/school/terminations/${id}/force`, { reason: '单位 30 天未答复，已电话核实同意解约', confirm: 'on' }, {});
  assert.is(noFiles.status, 422);
  assert.match(textOf(noFiles.doc, '#files-error')!, '请上传证明材料');
  assert.is(textOf(noFiles.doc, '#force-reason'), '单位 30 天未答复，已电话核实同意解约', 'what was typed is kept');
  assert.ok(noFiles.doc.querySelector('#force-confirm')!.hasAttribute('checked'));
  assert.is((await latestOf(a.id)).state, 'awaiting_unit', 'nothing changed');
  const forced = await school.upload(`/school/terminations/${id}/force`, { reason: '单位 30 天未答复，已电话核实同意解约', confirm: 'on' }, { files: { name: '通话记录.png', bytes: png } });
  assert.is(forced.status, 303);
  const row = await latestOf(a.id);
  assert.equal([row.state, row.forced, row.evidenceUploadIds.length, row.reviewReason], ['terminated', true, 1, '单位 30 天未答复，已电话核实同意解约']);
  assert.is(await agreementState(a.id), 'terminated');
  const [forceEvent] = await t.db.select().from(events).where(and(eq(events.subjectId, String(a.id)), eq(events.action, 'termination.force')));
  assert.equal([forceEvent!.actorRole, forceEvent!.reason], ['school', '单位 30 天未答复，已电话核实同意解约']);
  assert.is(await smsTo(g.phone, '学校强制解约'), 1);
  const shown = await school.get(`/school/terminations/${id}`);
  assert.is(textOf(shown.doc, '#termination-state'), '已解约');
  assert.ok(shown.doc.querySelector('#termination img.evidence'), 'the evidence is shown');
  assert.match(textOf(shown.doc, '#timeline')!, '学校强制解约');
  assert.match(textOf((await c.get(`/student/agreements/${a.id}/termination`)).doc, '#termination')!, '学校强制解约');
});

/** Resolves once `n` sessions of this database wait for a lock: the requests are queued behind the holder. */
async function waitersOnLocks(n: number) {
  for (;;) {
    const [row] = await t.db.$client`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
    if (row!.n >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('X4 the unit\'s 同意 racing the school\'s 强制解约: one outcome and one event trail, whichever wins', async () => {
  const outcomes = new Set<string>();
  // Three rounds: as they come; the school's queued first on the row; the unit's queued first.
  for (const [round, g] of bj.slice(3, 6).entries()) {
    const a = await signedWith(g);
    const c = await graduateClient(t, g);
    assert.is((await c.post(`/student/agreements/${a.id}/termination`, { confirm: 'on', reason: '协商一致' })).status, 303);
    const id = (await latestOf(a.id)).id;
    const [unit, school] = await Promise.all([t.signInAs('employer'), t.signInAs('school')]);
    const agree = () => unit.post(`/employer/terminations/${id}/answer`, { answer: 'agree' });
    const force = () => school.upload(`/school/terminations/${id}/force`, { reason: '单位未答复', confirm: 'on' }, { files: { name: 'e.png', bytes: png } });
    let answers: [Awaited<ReturnType<typeof agree>>, Awaited<ReturnType<typeof force>>];
    if (round === 0) {
      answers = await Promise.all([agree(), force()]);
    } else {
      // Hold the termination's row; queue one request behind it, then the other; let go.
      answers = await t.db.transaction(async (tx) => {
        await tx.select().from(terminations).where(eq(terminations.id, id)).for('update');
        const first = round === 1 ? force() : agree();
        await waitersOnLocks(1);
        const second = round === 1 ? agree() : force();
        await waitersOnLocks(2);
        return [first, second] as const;
      }).then(async ([first, second]) => {
        const [f, s2] = await Promise.all([first, second]);
        return (round === 1 ? [s2, f] : [f, s2]) as typeof answers;
      });
    }
    const [agreed, forced] = answers;
    assert.equal([agreed.status, forced.status].sort(), [303, 409], `one wins: ${agreed.status}/${forced.status}`);
    const row = await latestOf(a.id);
    const actions = await trail(a.id);
    if (agreed.status === 303) {
      assert.is(row.state, 'agreed_department_review');
      assert.equal(actions, ['termination.apply', 'termination.agree']);
      assert.is(await agreementState(a.id), 'signed');
      assert.equal(row.evidenceUploadIds, [], 'the loser\'s evidence is not attached');
      assert.match(textOf(forced.doc, '#form-error')!, '只有“学生发起解约等待单位应约”的申请可以强制解约');
    } else {
      assert.is(row.state, 'terminated');
      assert.equal(actions, ['termination.apply', 'termination.force', 'agreement.terminate']);
      assert.is(await agreementState(a.id), 'terminated');
    }
    if (round === 1) assert.is(row.state, 'terminated', 'the school was first in line');
    if (round === 2) assert.is(row.state, 'agreed_department_review', 'the unit was first in line');
    outcomes.add(row.state);
    assert.is((await terminationsOf(a.id)).length, 1);
  }
  assert.is(outcomes.size, 2, 'both outcomes were tried');
});

test('X4 10 parallel copies of 申请解约 without a form key → one application, counted once against the limit', async () => {
  const g = bj[7]!;
  const a = await signedWith(g);
  const c = await graduateClient(t, g);
  const answers = await Promise.all(Array.from({ length: 10 }, () => c.post(`/student/agreements/${a.id}/termination`, { confirm: 'on', reason: '个人原因' })));
  assert.equal(answers.map((r) => r.status).sort(), [303, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
  for (const r of answers.filter((r) => r.status === 409)) assert.match(textOf(r.doc, '#form-error')!, '该协议已有一份解约申请在办理中');
  assert.is((await terminationsOf(a.id)).length, 1);
  assert.equal(await trail(a.id), ['termination.apply']);
  assert.match(textOf((await c.get(`/student/agreements/${a.id}/termination`)).doc, '#termination')!, '学生发起解约等待单位应约');
  const [{ n }] = (await t.db.select({ n: count() }).from(terminations).where(eq(terminations.graduateId, g.id))) as [{ n: number }];
  assert.is(n, 1);
});

test('X2 10 parallel copies of one 申请解约 form (one key, a double-tapped button on a weak network) → one application and one answer for all', async () => {
  const g = bj[12]!;
  const a = await signedWith(g);
  const c = await graduateClient(t, g);
  const form = (await c.get(`/student/agreements/${a.id}/termination`)).doc;
  const key = form.querySelector('#apply-form input[name=_idem]')!.getAttribute('value')!;
  const answers = await Promise.all(Array.from({ length: 10 }, () => c.post(`/student/agreements/${a.id}/termination`, { confirm: 'on', _idem: key, reason: '个人原因' })));
  const created = answers.filter((r) => r.status === 303);
  assert.ok(created.length >= 1 && created.every((r) => r.location === `/student/agreements/${a.id}/termination?done=applied`));
  assert.ok(answers.every((r) => r.status === 303 || (r.status === 409 && r.text.includes('请勿重复提交'))), answers.map((r) => r.status).join());
  assert.is((await terminationsOf(a.id)).length, 1);
  const again = await c.post(`/student/agreements/${a.id}/termination`, { confirm: 'on', _idem: key, reason: '个人原因' });
  assert.equal([again.status, again.location], [303, `/student/agreements/${a.id}/termination?done=applied`], 'a late repeat gets the same redirect');
  assert.is((await terminationsOf(a.id)).length, 1);
});

test('offline and 补登 agreements: 解约函 → 解约中 → 退回修改 → resubmitted → 院系 通过 → 学校 通过 as 学生单方面解约, with its warning', async () => {
  const g = bj[8]!;
  const a = await signedOnPaper(g, 'registered');
  const c = await graduateClient(t, g);
  const form = await c.get(`/student/agreements/${a.id}/termination`);
  assert.ok(form.doc.querySelector('#apply-files'), 'the 解约函 upload');
  assert.is(form.doc.querySelector('#apply-form')!.getAttribute('enctype'), 'multipart/form-data');
  const noLetter = await c.upload(`/student/agreements/${a.id}/termination`, { confirm: 'on', reason: '单位已注销' }, {});
  assert.is(noLetter.status, 422);
  assert.is(textOf(noLetter.doc, '#files-error'), '请上传解约函（用人单位同意解约的证明）');
  const notImage = await c.upload(`/student/agreements/${a.id}/termination`, { confirm: 'on', reason: '单位已注销' }, { files: { name: 'x.txt', bytes: new Uint8Array(new TextEncoder().encode('not a letter')) } });
  assert.is(notImage.status, 422);
  assert.equal(await terminationsOf(a.id), []);
  assert.is((await c.upload(`/student/agreements/${a.id}/termination`, { confirm: 'on', reason: '单位已注销' }, { files: { name: '解约函.png', bytes: png } })).status, 303);
  const row = await latestOf(a.id);
  assert.equal([row.state, row.path, row.letterUploadIds.length, row.employerId], ['letter_department_review', 'letter', 1, null]);
  assert.is(textOf((await c.get(`/student/agreements/${a.id}/termination`)).doc, '#termination-state'), '解约中');

  const dept = await t.signInAs(await departmentOf(g));
  const fromInbox = await dept.get('/school/terminations?state=letter_department_review');
  assert.match(textOf(fromInbox.doc, '#termination-tabs a[aria-current=page]')!, '解约中', 'the inbox\'s link opens the tab of its state');
  assert.ok(fromInbox.doc.querySelector(`#termination-${row.id}-row`));
  const letterTab = await dept.get('/school/terminations?tab=letter');
  assert.match(textOf(letterTab.doc, `#termination-${row.id}-row`)!, '线下解约');
  const review = await dept.get(`/school/terminations/${row.id}`);
  assert.equal([...review.doc.querySelectorAll('#review-form input[name=decision]')].map((i) => i.getAttribute('value')), ['approve', 'return', 'reject']);
  assert.not.ok(review.doc.querySelector('#unilateral'), 'the school records 学生单方面解约, on the final 通过');
  const letter = review.doc.querySelector('#termination img.evidence')!.getAttribute('src')!;
  assert.is((await dept.get(letter)).headers.get('content-type'), 'image/png', 'the reviewer opens the 解约函');
  assert.is((await (await t.signInAs('school2')).get(letter)).status, 404, 'another school does not');
  const noReason = await dept.post(`/school/terminations/${row.id}/review`, { decision: 'return' });
  assert.is(noReason.status, 422);
  assert.is(textOf(noReason.doc, '#reason-error'), '退回修改或不通过时请填写原因');
  assert.ok(noReason.doc.querySelector('#review-form input[value=return]')!.hasAttribute('checked'), 'the choice is kept');
  assert.is((await dept.post(`/school/terminations/${row.id}/review`, { decision: 'return', reason: '解约函缺少单位盖章' })).status, 303);
  assert.is((await latestOf(a.id)).state, 'returned');

  const returned = await c.get(`/student/agreements/${a.id}/termination`);
  assert.is(textOf(returned.doc, '#termination-state'), '解约申请退回修改');
  assert.is(textOf(returned.doc, '#termination-review-reason'), '解约函缺少单位盖章');
  assert.ok(returned.doc.querySelector('#resubmit-form'));
  assert.is(await smsTo(g.phone, '退回修改'), 1);
  assert.is((await c.upload(`/student/terminations/${row.id}/resubmission`, { reason: '单位已注销，附工商注销证明' }, {})).status, 422);
  assert.is((await c.upload(`/student/terminations/${row.id}/resubmission`, { reason: '单位已注销，附工商注销证明' }, { files: { name: '注销证明.png', bytes: png } })).status, 303);
  const resubmitted = await latestOf(a.id);
  assert.equal([resubmitted.state, resubmitted.reason, resubmitted.letterUploadIds.length], ['letter_department_review', '单位已注销，附工商注销证明', 1]);
  assert.is((await dept.post(`/school/terminations/${row.id}/review`, { decision: 'approve', unilateral: 'on' })).status, 303);
  assert.equal([(await latestOf(a.id)).state, (await latestOf(a.id)).unilateral], ['letter_school_review', false], 'a department cannot record it');

  const school = await t.signInAs('school');
  const final = await school.get(`/school/terminations/${row.id}`);
  assert.ok(final.doc.querySelector('#unilateral'));
  assert.match(textOf(final.doc, '#unilateral-warning')!, '请谨慎使用');
  assert.is((await school.post(`/school/terminations/${row.id}/review`, { decision: 'approve', unilateral: 'on' })).status, 303);
  const done = await latestOf(a.id);
  assert.equal([done.state, done.unilateral], ['terminated', true]);
  assert.is(await agreementState(a.id), 'terminated');
  assert.match(await verifyResult({ number: a.number!, code: a.verificationCode! }), '已解约');
  const [approval] = await t.db.select().from(events).where(and(eq(events.subjectId, String(a.id)), eq(events.action, 'termination.approve'), eq(events.toState, 'terminated')));
  assert.equal([approval!.reason, (approval!.data as { unilateral?: boolean }).unilateral], ['学生单方面解约', true]);
  assert.match(textOf((await c.get(`/student/agreements/${a.id}/termination`)).doc, '#termination')!, '学生单方面解约');
  assert.equal(await trail(a.id), ['termination.apply', 'termination.return', 'termination.resubmit', 'termination.approve', 'termination.approve', 'agreement.terminate']);
});

test('an offline agreement\'s 解约函 不通过 → 解约失败, the agreement stays valid; a unit cannot 发起解约 on it', async () => {
  const g = bj[9]!;
  const a = await signedOnPaper(g, 'offline');
  const c = await graduateClient(t, g);
  assert.is((await c.upload(`/student/agreements/${a.id}/termination`, { confirm: 'on', reason: '协商一致' }, { files: { name: '解约函.png', bytes: png } })).status, 303);
  const id = (await latestOf(a.id)).id;
  const dept = await t.signInAs(await departmentOf(g));
  assert.is((await dept.post(`/school/terminations/${id}/review`, { decision: 'reject', reason: '解约函非单位出具' })).status, 303);
  assert.is((await latestOf(a.id)).state, 'failed');
  assert.is(await agreementState(a.id), 'signed');
  assert.is(await smsTo(g.phone, '解约失败'), 1);
  const page = await c.get(`/student/agreements/${a.id}/termination`);
  assert.is(textOf(page.doc, '#termination-state'), '解约失败');
  assert.match(textOf(page.doc, '#allowance')!, '你已提交 1 次，还可提交 1 次');
  assert.is((await (await t.signInAs('employer')).post(`/employer/agreements/${a.id}/termination`, { reason: '岗位撤销' })).status, 404, 'not the unit\'s agreement');
});

test('解约管理: tabs with counts, the department filter, search by name, student number or unit, and paging', async () => {
  const school = await t.signInAs('school');
  const failed = await school.get('/school/terminations?tab=failed');
  const n = Number(/（(\d+)）/.exec(textOf(failed.doc, '#termination-tabs a[href$="tab=failed"]')!)![1]);
  assert.is(textOf(failed.doc, '#total'), `共 ${n} 条`);
  const g = bj[1]!;
  const byName = await school.get(`/school/terminations?tab=failed&q=${encodeURIComponent(g.name)}`);
  assert.ok([...byName.doc.querySelectorAll('#terminations tbody tr')].every((tr) => tr.textContent!.includes(g.name)));
  assert.ok(byName.doc.querySelectorAll('#terminations tbody tr').length >= 1);
  assert.ok((await school.get(`/school/terminations?tab=failed&q=${g.studentNo}`)).doc.querySelectorAll('#terminations tbody tr').length >= 1, 'by 学号');
  assert.is(textOf((await school.get(`/school/terminations?tab=failed&q=${encodeURIComponent('不存在的单位')}`)).doc, '#total'), '共 0 条');
  const [dept] = await t.db.select().from(users).where(eq(users.login, '10001-em'));
  const filtered = await school.get(`/school/terminations?tab=failed&department=${dept!.departmentId}`);
  for (const tr of filtered.doc.querySelectorAll('#terminations tbody tr')) assert.match(tr.textContent!, '经济管理学院');
  assert.is((await school.get('/school/terminations?tab=nonsense&page=-3')).status, 200, 'bad query values fall back');

  // 25 more refused applications on one agreement: two pages, newest first.
  const a = await signedWith(bj[10]!);
  const [requester] = await t.db.select().from(users).where(eq(users.login, '13800000001'));
  const row = (i: number) => ({ agreementId: a.id, path: 'online' as const, initiator: 'employer' as const, state: 'failed' as const, graduateId: a.graduateId, employerId: requester!.employerId, schoolId: bj[10]!.schoolId, departmentId: bj[10]!.departmentId, cohort: 2026, requestedBy: requester!.id, reason: `测试${i}`, updatedAt: new Date(Date.now() + i * 1000) });
  await t.db.insert(terminations).values(Array.from({ length: 25 }, (_, i) => row(i)));
  const first = await school.get('/school/terminations?tab=failed');
  assert.is(first.doc.querySelectorAll('#terminations tbody tr').length, 20);
  const shown = async (doc: Doc) => Promise.all([...doc.querySelectorAll('#terminations tbody tr')].map(async (tr) => (await t.db.select().from(terminations).where(eq(terminations.id, Number(/termination-(\d+)-row/.exec(tr.id)![1]))))[0]!));
  const firstRows = await shown(first.doc);
  assert.equal(firstRows.slice(0, 3).map((r) => r.reason), ['测试24', '测试23', '测试22'], 'the latest activity first');
  const next = first.doc.querySelector('a[rel=next]')?.getAttribute('href');
  assert.ok(next, 'a link to page 2');
  const second = await school.get(next!);
  assert.is(second.doc.querySelectorAll('#terminations tbody tr').length, n + 25 - 20);
  const secondRows = await shown(second.doc);
  assert.equal(secondRows.filter((r) => firstRows.some((f) => f.id === r.id)), [], 'no row on both pages');
  assert.ok(secondRows.every((r) => r.updatedAt <= firstRows.at(-1)!.updatedAt));

  // Counts stop at 10000: a school's long history costs no full count on every page view.
  await t.db.$client`insert into terminations (agreement_id, path, initiator, state, graduate_id, employer_id, school_id, department_id, cohort, requested_by, reason, updated_at)
    select agreement_id, path, initiator, state, graduate_id, employer_id, school_id, department_id, cohort, requested_by, '更早' || g, updated_at - interval '1 day' - g * interval '1 second'
    from terminations, generate_series(1, 400) g where agreement_id = ${a.id}`;
  const capped = await school.get('/school/terminations?tab=failed');
  assert.is(textOf(capped.doc, '#total'), '共 10000+ 条');
  assert.match(textOf(capped.doc, '#termination-tabs a[href$="tab=failed"]')!, '（10000+）');
  assert.is(capped.doc.querySelectorAll('#terminations tbody tr').length, 20);
  assert.ok((await school.get('/school/terminations?tab=failed&page=500')).doc.querySelectorAll('#terminations tbody tr').length === 20, 'the last counted page');
});

test('jobs: a termination left unanswered longer than TERMINATION_ANSWER_DAYS is flagged to the school in the reviewers\' digest', async () => {
  const g = bj[11]!;
  const a = await signedWith(g);
  const c = await graduateClient(t, g);
  assert.is((await c.post(`/student/agreements/${a.id}/termination`, { confirm: 'on', reason: '协商一致' })).status, 303);
  const [admin] = await t.db.select().from(users).where(eq(users.login, '10001-admin'));
  const flagged = () => t.db.select().from(notifications).where(and(eq(notifications.userId, admin!.id), eq(notifications.title, '有解约申请长时间未获答复'))).orderBy(desc(notifications.id));
  await runJobOnce(t.db, reviewDigestJob(3, t.config.terminationAnswerDays), silentLogger);
  const before = (await flagged()).length;
  await t.db.update(terminations).set({ updatedAt: new Date(Date.now() - (t.config.terminationAnswerDays + 1) * 86400000) }).where(eq(terminations.agreementId, a.id));
  await runJobOnce(t.db, reviewDigestJob(3, t.config.terminationAnswerDays), silentLogger);
  const after = await flagged();
  assert.is(after.length, before + 1);
  assert.match(after[0]!.body!, `超过 ${t.config.terminationAnswerDays} 天`);
  assert.is(after[0]!.link, '/school/terminations?tab=awaiting');
  const [dept] = await t.db.select().from(users).where(eq(users.login, '10001-cs'));
  assert.equal(await t.db.select().from(notifications).where(and(eq(notifications.userId, dept!.id), eq(notifications.title, '有解约申请长时间未获答复'))), [], 'only school users, who may 强制解约');
});

test.run();
