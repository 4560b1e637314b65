import { and, asc, desc, eq, like } from 'drizzle-orm';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { destinationDrafts, destinationRegistrations, events, graduates, notifications, outbox, schools, uploads, users } from '../../db/schema/index.ts';
import { currentDestination } from '../../domain/destinations/current.ts';
import { DESTINATION_TYPE_KEYS, fieldsOf, isDirected, proofOf, typeLabel, type DestinationType } from '../../domain/destinations/types.ts';
import { setupApp, type Client, type TestApp } from '../helpers/app.ts';
import { graduateClient, signable, type Graduate } from '../helpers/graduates.ts';
import { textOf } from '../helpers/html.ts';

// 去向登记 (graduate guide 6, campus edition (四), school guide 8; G7, G9, G10, S4, S8, S9, X1–X4),
// over HTTP as graduates and reviewers use it.
let t: TestApp;
let png: Uint8Array<ArrayBuffer>;
let bj: Graduate[];
let sh: Graduate[];

test.before(async () => {
  t = await setupApp();
  png = new Uint8Array(await sharp({ create: { width: 120, height: 170, channels: 3, background: '#ffffff' } }).png().toBuffer());
  bj = await signable(t, '10001');
  sh = await signable(t, '10002');
});
test.after(async () => {
  await t.close();
});

/** A valid value for every field any type asks. */
const SAMPLE: Record<string, string> = {
  unitName: '闽江数据科技有限公司', uscc: '91350100M000100Y43', employerType: '39', industry: '34', region: '350100', positionCategory: '13', positionName: '数据分析师',
  country: '新加坡', schoolName: '示范大学研究生院', major: '计算机科学与技术', studyLevel: '硕士研究生', nationalProject: '三支一扶', projectName: '地方选调生',
  serviceUnit: '福建省宁德市某县人民政府', occupation: '自媒体运营', note: '',
};
const valuesFor = (type: DestinationType) => ({ type, ...Object.fromEntries(fieldsOf(type).map((f) => [f.name, SAMPLE[f.name]!])) });

const departmentOf = async (g: Pick<Graduate, 'departmentId'>) => ((await t.db.select().from(users).where(eq(users.login, '10001-cs')))[0]!.departmentId === g.departmentId ? 'department' : 'department2') as 'department' | 'department2';
const registrationOf = async (id: number) => (await t.db.select().from(destinationRegistrations).where(eq(destinationRegistrations.id, id)))[0]!;
const destinationOf = (g: Pick<Graduate, 'id'>) => currentDestination(t.db, g.id);
const smsTo = async (phone: string, text: string) => (await t.db.select().from(outbox).where(and(eq(outbox.recipient, phone), like(outbox.body, `%${text}%`)))).length;

/** Fills the form of a type with its sample values and a proof, 提交 and 确定提交: the new registration's id. */
async function register(c: Client, type: DestinationType, values: Record<string, string> = {}): Promise<number> {
  const form = { ...valuesFor(type), ...values, intent: 'submit' };
  const confirm = proofOf(type) ? await c.upload('/student/destination', form, { proofs: { name: '证明.png', bytes: png } }) : await c.post('/student/destination', form);
  assert.is(confirm.status, 200, textOf(confirm.doc, '#form-error') ?? '');
  assert.ok(confirm.doc.querySelector('#confirm'));
  const done = await c.post('/student/destination/submission', {});
  assert.is(done.status, 303, textOf(done.doc, '#form-error') ?? '');
  return Number(/destinations\/(\d+)/.exec(done.location!)![1]);
}

test('each type asks its own fields and proof (one schema per type); 待就业, 不就业拟升学, 其他暂不就业 need no proof', async () => {
  const g = bj[10]!;
  const c = await graduateClient(t, g);
  const chooser = await c.get('/student/destination');
  const offered = [...chooser.doc.querySelectorAll('#type-choice option')].map((o) => o.getAttribute('value')).filter(Boolean);
  assert.equal(offered, DESTINATION_TYPE_KEYS.filter((k) => !isDirected(k)), 'every type but 定向/委培, in the guide\'s order');
  assert.ok(chooser.doc.querySelector('#type-choice optgroup[label="签就业协议形式就业"] option[value="public_offer"]'), 'the graduate guide\'s grouping: 公招接收函 under 签就业协议形式就业');
  assert.ok(chooser.doc.querySelector('#type-choice optgroup[label="升学"] option[value="upgrade"]'));

  for (const type of DESTINATION_TYPE_KEYS.filter((k) => !isDirected(k))) {
    const page = await c.get(`/student/destination?type=${type}`);
    assert.is(textOf(page.doc, '#chosen-type'), typeLabel(type));
    const empty = await c.post('/student/destination', { type, intent: 'submit' });
    assert.is(empty.status, fieldsOf(type).some((f) => f.required) || proofOf(type) ? 422 : 200, type);
    for (const f of fieldsOf(type)) {
      if (f.required) assert.ok(empty.doc.querySelector(`#${f.name}-error`), `${type}: ${f.label} is required`);
      else assert.not.ok(empty.doc.querySelector(`#${f.name}-error`), `${type}: ${f.label} is optional`);
    }
    const filled = await c.post('/student/destination', { ...valuesFor(type), intent: 'submit' });
    if (proofOf(type)) {
      assert.is(filled.status, 422, `${type} needs its proof`);
      assert.is(textOf(filled.doc, '#proofs-error'), `请上传${proofOf(type)!.label}`);
    } else {
      assert.is(filled.status, 200, `${type} needs no proof`);
      assert.ok(filled.doc.querySelector('#confirm'));
    }
  }
  // A bad value is refused with the field's message.
  const bad = await c.post('/student/destination', { ...valuesFor('startup'), uscc: '123', region: '999999', intent: 'submit' });
  assert.is(textOf(bad.doc, '#uscc-error'), '统一社会信用代码为 18 位数字或大写字母');
  assert.is(textOf(bad.doc, '#region-error'), '请选择所在省市');
  const unknown = await c.post('/student/destination', { type: 'constructor', intent: 'save' });
  assert.is(unknown.status, 422);
  assert.is(textOf(unknown.doc, '#type-error'), '请选择毕业去向类型');
});

test('G7 暂存 keeps the type and fields; 提交 after a confirmation; 撤回修改 before a reviewer acts; 院系 then 学校 通过; 退回修改 and resubmission; the destination becomes 升学', async () => {
  const g = bj[0]!;
  const c = await graduateClient(t, g);
  const home = await c.get('/student');
  assert.is(textOf(home.doc, '#start-destination'), '无需就业协议去向登记');
  assert.match(textOf(home.doc, '#status-summary')!, '毕业去向未登记');

  assert.is((await c.post('/student/destination', { type: 'postgraduate', schoolName: '示范大学研究生院', intent: 'save' })).location, '/student/destination?type=postgraduate&done=saved');
  const kept = await c.get('/student/destination');
  assert.is(kept.doc.querySelector('#schoolName')!.getAttribute('value'), '示范大学研究生院', '暂存 kept it on the server');
  assert.is(kept.doc.querySelector('#type-choice option[selected]')!.getAttribute('value'), 'postgraduate');

  // 删除 of a proof is a button of the form itself: what was typed is kept too.
  await c.upload('/student/destination', { ...valuesFor('postgraduate'), intent: 'save' }, { proofs: { name: '拍错了.png', bytes: png } });
  const [wrong] = (await t.db.select().from(destinationDrafts).where(eq(destinationDrafts.graduateId, g.id)))[0]!.proofUploadIds;
  const removed = await c.post('/student/destination', { ...valuesFor('postgraduate'), major: '软件工程', remove: wrong! });
  assert.is(removed.location, '/student/destination?type=postgraduate#proofs');
  const [draft] = await t.db.select().from(destinationDrafts).where(eq(destinationDrafts.graduateId, g.id));
  assert.equal([draft!.proofUploadIds, draft!.values.major], [[], '软件工程']);
  const withProof = await c.upload('/student/destination', { ...valuesFor('postgraduate'), intent: 'save' }, { proofs: { name: '录取通知书.png', bytes: png } });
  assert.is(withProof.status, 303);
  const confirm = await c.post('/student/destination', { ...valuesFor('postgraduate'), intent: 'submit' });
  assert.is(confirm.status, 200);
  assert.match(textOf(confirm.doc, '#confirm-summary')!, '示范大学研究生院');
  assert.match(textOf(confirm.doc, '#confirm-summary')!, '1 个文件');
  const submitted = await c.post('/student/destination/submission', {});
  const id = Number(/destinations\/(\d+)/.exec(submitted.location!)![1]);
  let r = await registrationOf(id);
  assert.equal([r.state, r.type, r.code, r.details.schoolName, r.proofUploadIds.length], ['department_review', 'postgraduate', '80', '示范大学研究生院', 1]);
  assert.equal(await t.db.select().from(destinationDrafts).where(eq(destinationDrafts.graduateId, g.id)), [], 'the draft is done with');
  assert.is((await t.db.select().from(uploads).where(eq(uploads.id, r.proofUploadIds[0]!)))[0]!.destinationId, id);

  // 撤回修改 before anyone acted; the form opens with what was submitted.
  const page = await c.get(`/student/destinations/${id}`);
  assert.is(textOf(page.doc, '#destination-state'), '去向登记审核中');
  assert.is((await c.post(`/student/destinations/${id}/withdrawal`, {})).location, '/student/destination?done=withdrawn');
  assert.is((await registrationOf(id)).state, 'withdrawn');
  const editing = await c.get('/student/destination');
  assert.ok(editing.doc.querySelector('#editing'));
  assert.is(editing.doc.querySelector('#major')!.getAttribute('value'), '计算机科学与技术');
  await c.post('/student/destination', { ...valuesFor('postgraduate'), intent: 'submit' });
  assert.is((await c.post('/student/destination/submission', {})).location, `/student/destinations/${id}?done=submitted`);
  assert.is((await registrationOf(id)).state, 'department_review', 'the same registration, resubmitted');

  // The department's inbox has it; its 通过 moves it to the school; 撤回修改 is then refused.
  const dept = await t.signInAs(await departmentOf(g));
  assert.match(textOf((await dept.get('/school')).doc, '#inbox')!, '去向登记管理');
  const list = await dept.get('/school/destinations?state=department_review');
  assert.ok(list.doc.querySelector(`#destination-${id}-row`));
  assert.is(textOf(list.doc, `#destination-${id}-row a`), '审核');
  const review = await dept.get(`/school/destinations/${id}`);
  assert.match(textOf(review.doc, '#destination-record')!, '示范大学研究生院');
  assert.ok(review.doc.querySelector('#proofs a[href^="/school/files/"]'));
  assert.is((await dept.get(review.doc.querySelector('#proofs a')!.getAttribute('href')!)).status, 200, 'the reviewer opens the proof');
  assert.is((await dept.post(`/school/destinations/${id}/review`, { decision: 'approve' })).status, 303);
  assert.is((await registrationOf(id)).state, 'school_review');
  const late = await c.post(`/student/destinations/${id}/withdrawal`, {});
  assert.is(late.status, 409);

  // The school returns it with a reason; the graduate reads it, edits, resubmits into review afresh.
  const school = await t.signInAs('school');
  const noReason = await school.post(`/school/destinations/${id}/review`, { decision: 'return' });
  assert.is(noReason.status, 422);
  assert.is(textOf(noReason.doc, '#reason-error'), '退回修改或不通过时请填写原因');
  await school.post(`/school/destinations/${id}/review`, { decision: 'return', reason: '请补充拟录取证明的第二页' });
  r = await registrationOf(id);
  assert.equal([r.state, r.reviewReason], ['returned', '请补充拟录取证明的第二页']);
  assert.is(await smsTo(g.phone, '被退回修改'), 1);
  const back = await c.get(`/student/destinations/${id}`);
  assert.is(textOf(back.doc, '#destination-state'), '去向登记待提交（老师退回）');
  assert.match(textOf(back.doc, '#review-reason')!, '请补充拟录取证明的第二页');
  assert.ok(back.doc.querySelector('#edit'));
  await c.upload('/student/destination', { ...valuesFor('postgraduate'), intent: 'save' }, { proofs: { name: '第二页.png', bytes: png } });
  await c.post('/student/destination', { ...valuesFor('postgraduate'), intent: 'submit' });
  await c.post('/student/destination/submission', {});
  r = await registrationOf(id);
  assert.equal([r.state, r.reviewReason, r.proofUploadIds.length], ['department_review', null, 2]);
  await dept.post(`/school/destinations/${id}/review`, { decision: 'approve' });
  await school.post(`/school/destinations/${id}/review`, { decision: 'approve' });
  assert.is((await registrationOf(id)).state, 'approved');
  assert.is(await destinationOf(g), '80', 'the projection: 升学');
  const after = await c.get('/student');
  assert.match(textOf(after.doc, '#status-summary')!, '毕业去向升学');
  const roster = await school.get(`/school/graduates?q=${encodeURIComponent(g.studentNo)}`);
  assert.is(textOf(roster.doc, `#graduate-${g.id} .destination`), '升学', '学生名单管理 reads the same projection');
  assert.match(textOf(after.doc, '#current-destination')!, '去向登记审核通过');
  const trail = (await t.db.select({ action: events.action }).from(events).where(and(eq(events.subjectType, 'destination'), eq(events.subjectId, String(id)))).orderBy(asc(events.id))).map((e) => e.action);
  assert.equal(trail, ['destination.submit', 'destination.withdraw', 'destination.resubmit', 'destination.approve', 'destination.return', 'destination.resubmit', 'destination.approve', 'destination.approve']);
  // X2: a repeated 作废-free action (withdraw) on an approved one is refused, not double-applied.
  assert.is((await c.post(`/student/destinations/${id}/withdrawal`, {})).status, 409);
});

test('不通过 voids the registration (去向登记审核不通过); the graduate chooses a type again; the other school and the other department get 404; a unit gets nothing', async () => {
  const g = sh[0]!;
  const c = await graduateClient(t, g);
  const id = await register(c, 'freelance');
  assert.is((await registrationOf(id)).state, 'school_review', 'school_only: straight to the school (S4)');
  const other = await t.signInAs('school');
  assert.is((await other.get(`/school/destinations/${id}`)).status, 404);
  assert.is((await other.post(`/school/destinations/${id}/review`, { decision: 'approve' })).status, 404);
  const unit = await t.signInAs('employer');
  assert.is((await unit.get(`/school/destinations/${id}`)).status, 403);
  const school = await t.signInAs('school2');
  await school.post(`/school/destinations/${id}/review`, { decision: 'reject', reason: '证明材料不属实' });
  assert.is((await registrationOf(id)).state, 'rejected');
  const rejected = await school.get('/school/destinations?tab=rejected');
  assert.ok(rejected.doc.querySelector(`#destination-${id}-row`));
  const page = await c.get(`/student/destinations/${id}`);
  assert.is(textOf(page.doc, '#destination-state'), '去向登记审核不通过');
  assert.ok(page.doc.querySelector('#register-again'));
  const again = await register(c, 'labour_contract');
  assert.is((await registrationOf(again)).state, 'school_review');

  // The department of 10001 cannot see another department's registration.
  const bjGraduate = bj[2]!;
  const bc = await graduateClient(t, bjGraduate);
  const bid = await register(bc, 'conscript');
  const mine = await departmentOf(bjGraduate);
  const notMine = mine === 'department' ? 'department2' : 'department';
  assert.is((await (await t.signInAs(notMine)).get(`/school/destinations/${bid}`)).status, 404);
  assert.is((await (await t.signInAs(mine)).get(`/school/destinations/${bid}`)).status, 200);
  // Another graduate gets 404 for it too, and its proof.
  const stranger = await graduateClient(t, bj[4]!);
  assert.is((await stranger.get(`/student/destinations/${bid}`)).status, 404);
  const proofId = (await registrationOf(bid)).proofUploadIds[0]!;
  assert.is((await stranger.get(`/student/files/${proofId}`)).status, 404);
});

test('S9 the reviewer changes the type and fields after confirming it was agreed; the change is recorded old → new; the graduate is told in-app and by SMS', async () => {
  const g = sh[1]!;
  const c = await graduateClient(t, g);
  const id = await register(c, 'upgrade', { schoolName: '申城大学', major: '软件工程' });
  const school = await t.signInAs('school2');
  const form = await school.get(`/school/destinations/${id}/edit?type=postgraduate`);
  assert.ok(form.doc.querySelector('#amend-warning'));
  assert.is(form.doc.querySelector('#schoolName')!.getAttribute('value'), '申城大学', 'the fields carry over to the new type');
  const unconfirmed = await school.post(`/school/destinations/${id}/edit`, { type: 'postgraduate', schoolName: '申城大学', major: '软件工程', studyLevel: '硕士研究生' });
  assert.is(unconfirmed.status, 422);
  assert.is(textOf(unconfirmed.doc, '#agreed-error'), '请先与毕业生沟通确认一致，并勾选确认');
  const missing = await school.post(`/school/destinations/${id}/edit`, { type: 'postgraduate', schoolName: '申城大学', major: '软件工程', agreed: 'on' });
  assert.is(textOf(missing.doc, '#studyLevel-error'), '请选择录取层次', 'the new type\'s schema');
  const done = await school.post(`/school/destinations/${id}/edit`, { type: 'postgraduate', schoolName: '申城大学', major: '软件工程', studyLevel: '硕士研究生', agreed: 'on' });
  assert.is(done.status, 303);
  const r = await registrationOf(id);
  assert.equal([r.state, r.type, r.code, r.details.studyLevel], ['school_review', 'postgraduate', '80', '硕士研究生']);
  const [event] = await t.db.select().from(events).where(and(eq(events.subjectType, 'destination'), eq(events.subjectId, String(id)), eq(events.action, 'destination.amend')));
  assert.equal((event!.data as { changes: unknown }).changes, [
    { label: '去向类型', from: '升学（专升本）', to: '升学（考研）' },
    { label: '录取层次', from: '', to: '硕士研究生' },
  ]);
  const [user] = await t.db.select().from(users).where(eq(users.graduateId, g.id));
  const [notice] = await t.db.select().from(notifications).where(eq(notifications.userId, user!.id)).orderBy(desc(notifications.id)).limit(1);
  assert.is(notice!.title, '你的毕业去向登记信息已被修改');
  assert.is(await smsTo(g.phone, '已被学校（院系）修改'), 1);
  const page = await c.get(`/student/destinations/${id}`);
  assert.match(textOf(page.doc, '#amendments')!, '去向类型：升学（专升本） → 升学（考研）');
  assert.match(textOf(page.doc, '#timeline')!, '学校（院系）修改去向信息');
  // Not at the reviewer's stage any more: no change.
  await school.post(`/school/destinations/${id}/review`, { decision: 'approve' });
  assert.is((await school.post(`/school/destinations/${id}/edit`, { type: 'upgrade', schoolName: '申城大学', major: '软件工程', agreed: 'on' })).status, 409);
  // The graduate cannot fire a reviewer's change.
  assert.is((await c.post(`/school/destinations/${id}/edit`, { type: 'upgrade', agreed: 'on' })).status, 403);
});

test('S9 limits: a reviewer cannot make a registration a type that needs a proof the graduate never uploaded, nor break G9; switching the type keeps what was typed', async () => {
  const g = sh[8]!;
  const c = await graduateClient(t, g);
  const id = await register(c, 'awaiting_work', { note: '正在准备公务员考试' });
  const school = await t.signInAs('school2');
  const switched = await school.post(`/school/destinations/${id}/edit`, { intent: 'choose', type: 'labour_contract', unitName: '申城智能制造有限公司', agreed: 'on' });
  assert.is(switched.status, 200);
  assert.is(textOf(switched.doc, '#chosen-type'), '签劳动合同形式就业');
  assert.is(switched.doc.querySelector('#unitName')!.getAttribute('value'), '申城智能制造有限公司', 'what was typed stays');
  const refused = await school.post(`/school/destinations/${id}/edit`, { ...valuesFor('labour_contract'), agreed: 'on' });
  assert.is(refused.status, 422);
  assert.match(textOf(refused.doc, '#type-error')!, '该去向类型需要劳动合同，毕业生尚未上传');
  assert.is((await registrationOf(id)).type, 'awaiting_work');
  const forged = await school.post(`/school/destinations/${id}/edit`, { ...valuesFor('directed'), agreed: 'on' });
  assert.is(forged.status, 422, 'a 定向/委培 type needs a proof too');
  const notDirected = await school.post(`/school/destinations/${id}/edit`, { type: 'preparing_study', note: '', agreed: 'on' });
  assert.is(notDirected.status, 303, 'a type without a proof is fine');
  assert.is((await registrationOf(id)).code, '71');
  // G9 is a guard of the change itself: a forged 定向/委培 type for a graduate in training mode 1.
  const other = await register(await graduateClient(t, sh[9]!), 'upgrade');
  const g9 = await school.post(`/school/destinations/${other}/edit`, { ...valuesFor('directed'), agreed: 'on' });
  assert.is(g9.status, 403);
  assert.is((await registrationOf(other)).type, 'upgrade');
});

test('G10 作废 from the detail page after a confirmation, with no review; the school sees it under 已作废; another destination needs the approved one voided first', async () => {
  const g = sh[2]!;
  const c = await graduateClient(t, g);
  const id = await register(c, 'startup');
  const school = await t.signInAs('school2');
  await school.post(`/school/destinations/${id}/review`, { decision: 'approve' });
  assert.is(await destinationOf(g), '75');
  const blocked = await c.get('/student/destination');
  assert.match(textOf(blocked.doc, '#not-available')!, '请先在该去向详情页点击“作废”');
  assert.is(blocked.doc.querySelector('#current-registration')!.getAttribute('href'), `/student/destinations/${id}`);
  const forced = await c.post('/student/destination', { ...valuesFor('freelance'), intent: 'submit' });
  assert.is(forced.status, 409, 'G10 refuses a second registration');

  const page = await c.get(`/student/destinations/${id}`);
  assert.is(page.doc.querySelector('#void')!.getAttribute('href'), `/student/destinations/${id}/void`);
  const confirm = await c.get(`/student/destinations/${id}/void`);
  assert.ok(confirm.doc.querySelector('#confirm-void'));
  assert.is((await c.post(`/student/destinations/${id}/void`, {})).location, `/student/destinations/${id}?done=voided`);
  const r = await registrationOf(id);
  assert.equal([r.state, r.voidCause], ['voided', 'graduate']);
  assert.is(await destinationOf(g), null, 'nothing registered now: 未登记');
  assert.is((await c.post(`/student/destinations/${id}/void`, {})).status, 303, 'a repeated 作废 is answered as done (X2)');
  const voided = await school.get('/school/destinations?tab=voided');
  assert.ok(voided.doc.querySelector(`#destination-${id}-row`));
  assert.match(textOf(voided.doc, '#tab-voided')!, '已作废（1）');
  const next = await register(c, 'freelance');
  await school.post(`/school/destinations/${next}/review`, { decision: 'approve' });
  assert.is(await destinationOf(g), '76');
});

test('G9 定向/委培 (21, 41): only 定向/委培毕业去向补充登记 with the bound unit; other types, signing and 补登 are refused when forged; others cannot pick it', async () => {
  const [directed] = await t.db.select().from(graduates).innerJoin(schools, eq(schools.id, graduates.schoolId)).where(and(eq(schools.code, '10001'), eq(graduates.trainingMode, '21')));
  const g = directed!.graduates;
  const c = await graduateClient(t, g);
  const home = await c.get('/student');
  assert.is(textOf(home.doc, '#start-destination'), '定向/委培毕业去向补充登记');
  assert.not.ok(home.doc.querySelector('#start-offline'));
  const form = await c.get('/student/destination');
  assert.is(textOf(form.doc, 'h1'), '定向/委培毕业去向补充登记');
  assert.equal([...form.doc.querySelectorAll('#type-choice option[value]')].map((o) => o.getAttribute('value')).filter(Boolean), ['directed']);
  assert.is(textOf(form.doc, '#chosen-type'), '定向/委培毕业去向补充登记', 'chosen for them');
  assert.is(textOf(form.doc, 'label[for="unitName"]'), '定向/委培单位 *');

  const forged = await c.post('/student/destination', { ...valuesFor('labour_contract'), intent: 'submit' });
  assert.is(forged.status, 403);
  assert.match(textOf(forged.doc, '#form-error')!, '仅可进行定向/委培毕业去向补充登记');
  assert.is((await c.post('/student/offline-signing', { intent: 'save', unitName: '某单位' })).status, 409, 'no offline signing');
  assert.is((await c.post('/student/registration', { intent: 'save', unitName: '某单位' })).status, 409, 'no 补登');
  const id = await register(c, 'directed');
  await (await t.signInAs(await departmentOf(g))).post(`/school/destinations/${id}/review`, { decision: 'approve' });
  await (await t.signInAs('school')).post(`/school/destinations/${id}/review`, { decision: 'approve' });
  assert.is(await destinationOf(g), '10');

  const other = await graduateClient(t, sh[3]!);
  const refused = await other.post('/student/destination', { ...valuesFor('directed'), intent: 'save' });
  assert.is(refused.status, 403);
  assert.match(textOf(refused.doc, '#form-error')!, '仅适用于培养方式为定向/委培（不可网签）的毕业生');
});

test('S4 with the school\'s 去向登记 switch off the entrance is hidden and a submission refused; reviewers still decide what was submitted', async () => {
  const g = sh[4]!;
  const c = await graduateClient(t, g);
  const pending = await register(c, 'awaiting_work');
  await t.db.update(schools).set({ destinationRegistration: false }).where(eq(schools.code, '10002'));
  try {
    const other = await graduateClient(t, sh[5]!);
    const home = await other.get('/student');
    assert.not.ok(home.doc.querySelector('#destination'), 'hidden');
    const page = await other.get('/student/destination');
    assert.match(textOf(page.doc, '#not-available')!, '学校暂未开启去向登记');
    const post = await other.post('/student/destination', { ...valuesFor('awaiting_work'), intent: 'submit' });
    assert.is(post.status, 409);
    await (await t.signInAs('school2')).post(`/school/destinations/${pending}/review`, { decision: 'approve' });
    assert.is(await destinationOf(g), '70');
  } finally {
    await t.db.update(schools).set({ destinationRegistration: true }).where(eq(schools.code, '10002'));
  }
});

test('a signing voids the registration by itself, in its own transaction: submitting an offline application (and G4 then refuses a new registration)', async () => {
  const g = sh[6]!;
  const c = await graduateClient(t, g);
  const id = await register(c, 'freelance');
  await (await t.signInAs('school2')).post(`/school/destinations/${id}/review`, { decision: 'approve' });
  assert.is(await destinationOf(g), '76');
  const OFFLINE = {
    unitName: '闽江数据科技有限公司', uscc: '91350100M000100Y43', employerType: '39', industry: '34', region: '350100', address: '福建省福州市鼓楼区五四路 100 号',
    positionCategory: '13', positionName: '数据分析师', contactName: '林经理', contactPhone: '', contactMobile: '13700001111', contactEmail: 'hr@minjiang.example.com', archiveMode: 'none',
  };
  const confirm = await c.post('/student/offline-signing', { intent: 'submit', ...OFFLINE });
  assert.is(confirm.status, 200);
  assert.match(textOf(confirm.doc, '#destination-warning')!, '你登记的毕业去向“自由职业”（去向登记审核通过）将自动作废', 'the graduate is warned before the signing voids it');
  assert.is((await c.post('/student/offline-signing/submission', {})).status, 303);
  const r = await registrationOf(id);
  assert.equal([r.state, r.voidCause], ['voided', 'signing']);
  assert.is(await destinationOf(g), null, 'an application under review is not yet a destination');
  const [supersede] = await t.db.select().from(events).where(and(eq(events.subjectType, 'destination'), eq(events.subjectId, String(id)), eq(events.action, 'destination.supersede')));
  const [submit] = await t.db.select().from(events).where(and(eq(events.subjectType, 'agreement'), eq(events.action, 'agreement.submit'))).orderBy(desc(events.id)).limit(1);
  assert.is(supersede!.occurredAt.getTime(), submit!.occurredAt.getTime(), 'one transaction: the same now()');
  const page = await c.get(`/student/destinations/${id}`);
  assert.is(textOf(page.doc, '#destination-state'), '已作废');
  assert.match(textOf(page.doc, '#voided-note')!, '已自动作废');
  const refused = await c.post('/student/destination', { ...valuesFor('freelance'), intent: 'submit' });
  assert.is(refused.status, 409);
  assert.match(textOf(refused.doc, '#form-error')!, '你有正在办理的签约，不能登记其他毕业去向；如需登记，请先撤回或放弃该签约申请');
  assert.match(textOf((await c.get('/student')).doc, '#past-destinations')!, '自由职业');

  // 补登 (已签就业协议登记信息) does the same, to a registration still under review.
  const h = sh[7]!;
  const hc = await graduateClient(t, h);
  const pending = await register(hc, 'awaiting_work');
  const paper = await hc.upload('/student/registration', { intent: 'submit', ...OFFLINE, probation: '', probationPay: '', regularPay: '', penalty: '', reportPlace: '', reportDeadline: '', workPlace: '', supplement: '' }, { pages: { name: '协议.png', bytes: png } });
  assert.is(paper.status, 200, textOf(paper.doc, '#form-error') ?? '');
  assert.is((await hc.post('/student/registration/submission', {})).status, 303);
  assert.equal([(await registrationOf(pending)).state, (await registrationOf(pending)).voidCause], ['voided', 'signing']);
});

test('the list: tabs with counts, filters by 院系, 专业 and type, search and paging', async () => {
  const school = await t.signInAs('school');
  const all = await school.get('/school/destinations?tab=review');
  assert.is(all.status, 200);
  assert.ok(all.doc.querySelector('#department'), 'a school user filters by 院系');
  assert.ok(all.doc.querySelector('#major option'));
  const g = bj[2]!;
  const byName = await school.get(`/school/destinations?tab=review&q=${encodeURIComponent(g.name)}`);
  assert.is(byName.doc.querySelectorAll('#destinations tbody tr').length, 1);
  assert.is(textOf(byName.doc, '#destinations tbody tr td:nth-child(6)'), '应征义务兵');
  assert.is((await school.get('/school/destinations?tab=review&type=startup')).doc.querySelectorAll('#destinations tbody tr').length, 0);
  assert.is((await school.get('/school/destinations?tab=review&type=conscript')).doc.querySelectorAll('#destinations tbody tr').length, 1);
  assert.is((await school.get(`/school/destinations?tab=review&major=${encodeURIComponent(g.majorName)}`)).doc.querySelectorAll(`#destinations tbody tr`).length >= 1, true);
  assert.is((await school.get('/school/destinations?tab=review&major=不存在的专业')).doc.querySelectorAll('#destinations tbody tr').length, 0);
  const dept = await t.signInAs('department');
  assert.not.ok((await dept.get('/school/destinations')).doc.querySelector('#department'), 'a department sees its own only');
  // A page past the end (a stale link) shows the last page, not an empty one.
  const past = await school.get('/school/destinations?page=99');
  assert.not.ok(past.doc.querySelector('#empty'));
  assert.ok(past.doc.querySelectorAll('#destinations tbody tr').length >= 1);
});

test.run();
