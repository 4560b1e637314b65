import { createHash } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agreements, destinationRegistrations, employers, events, graduates, schools, uploads, users } from '../../db/schema/index.ts';
import { localStorage, uploadsDir } from '../../db/storage.ts';
import { snapshotOfUnit } from '../../domain/agreements/snapshots.ts';
import { writeEvent } from '../../domain/events.ts';
import { FLAG_RULES } from '../../domain/reviews/flags.ts';
import { stageFiles } from '../../domain/uploads/store-upload.ts';
import { setupApp, type TestApp } from '../helpers/app.ts';
import { textOf } from '../helpers/html.ts';

// 风险预警 (issue 12 item 5): each flag fires on a crafted case and stays quiet on a normal one, on
// the school's list and on the item's review page; a department, another school and a unit do not
// see the list.
let t: TestApp;
let schoolId: number;
let otherSchoolId: number;
type G = typeof graduates.$inferSelect;
let roster: G[];
let others: G[];
const DAY = 86_400_000;

const unit = (uscc: string, name: string) => snapshotOfUnit({ uscc, name, employerType: '39', industry: '34', region: '110108', address: '北京', contactName: null, contactPhone: null, contactMobile: null, contactEmail: null } as never);

async function addAgreement(g: G, snapshot: ReturnType<typeof unit>, state: 'signed' | 'agreement_department_review' = 'signed') {
  const [a] = await t.db
    .insert(agreements)
    .values({ kind: 'offline', state, graduateId: g.id, schoolId: g.schoolId, departmentId: g.departmentId, cohort: g.cohort, positionCategory: '13', positionName: '工程师', archiveMode: 'none', unitSnapshot: snapshot })
    .returning();
  return a!;
}

async function addRegistration(g: G, updatedAt: Date) {
  const [r] = await t.db
    .insert(destinationRegistrations)
    .values({ state: 'department_review', graduateId: g.id, schoolId: g.schoolId, departmentId: g.departmentId, cohort: g.cohort, type: 'freelance', code: '76', details: { occupation: '自媒体运营', region: '110108' }, updatedAt })
    .returning();
  return r!;
}

async function addProof(destinationId: number, uploadedBy: number, sha256: string) {
  const id = `u${Math.random().toString(36).slice(2)}`;
  await t.db.insert(uploads).values({ id, purpose: 'destination_proof', storageKey: `aa/${'0'.repeat(32)}.pdf`, mime: 'application/pdf', byteSize: 10, originalName: 'proof.pdf', uploadedBy, destinationId, sha256 });
}

let newUnitAgreementId: number;
let sharedRegistrationId: number;
let staleRegistrationId: number;
let freshRegistrationId: number;

test.before(async () => {
  t = await setupApp();
  schoolId = (await t.db.select().from(schools).where(eq(schools.code, '10001')))[0]!.id;
  otherSchoolId = (await t.db.select().from(schools).where(eq(schools.code, '10002')))[0]!.id;
  roster = await t.db.select().from(graduates).where(and(eq(graduates.schoolId, schoolId), isNull(graduates.removedAt))).orderBy(graduates.id);
  others = await t.db.select().from(graduates).where(eq(graduates.schoolId, otherSchoolId)).orderBy(graduates.id);

  // A unit verified 10 days ago with 5 of our graduates (flag); a long-verified unit with 5 of ours
  // that also hires at the other school (normal); a new unit with only 4 of ours (below the count).
  await t.db.insert(employers).values([
    { uscc: '91110108MA01NEW001', name: '新成立信息咨询有限公司', employerType: '39', industry: '34', region: '110108', address: '北京', verification: 'verified', verifiedAt: new Date(Date.now() - 10 * DAY) },
    { uscc: '91110108MA01OLD002', name: '老牌制造股份有限公司', employerType: '39', industry: '34', region: '110108', address: '北京', verification: 'verified', verifiedAt: new Date(Date.now() - 400 * DAY) },
    { uscc: '91110108MA01FEW003', name: '少量签约科技有限公司', employerType: '39', industry: '34', region: '110108', address: '北京', verification: 'verified', verifiedAt: new Date(Date.now() - 5 * DAY) },
  ]);
  for (const g of roster.slice(0, 5)) newUnitAgreementId = (await addAgreement(g, unit('91110108MA01NEW001', '新成立信息咨询有限公司'), g === roster[4] ? 'agreement_department_review' : 'signed')).id;
  for (const g of roster.slice(5, 10)) await addAgreement(g, unit('91110108MA01OLD002', '老牌制造股份有限公司'));
  await addAgreement(others[0]!, unit('91110108MA01OLD002', '老牌制造股份有限公司'));
  for (const g of roster.slice(10, 14)) await addAgreement(g, unit('91110108MA01FEW003', '少量签约科技有限公司'));

  // Registrations: two graduates with the same proof file (flag), one with its own file; one waiting 20 days (flag), one 1 day.
  const [schoolUser] = await t.db.select().from(users).where(eq(users.login, '10001-admin'));
  const a = await addRegistration(roster[20]!, new Date(Date.now() - DAY));
  const b = await addRegistration(roster[21]!, new Date(Date.now() - DAY));
  const c = await addRegistration(roster[22]!, new Date(Date.now() - DAY));
  const stale = await addRegistration(roster[23]!, new Date(Date.now() - 20 * DAY));
  sharedRegistrationId = a.id;
  staleRegistrationId = stale.id;
  freshRegistrationId = c.id;
  await addProof(a.id, schoolUser!.id, 'f'.repeat(64));
  await addProof(b.id, schoolUser!.id, 'f'.repeat(64));
  await addProof(c.id, schoolUser!.id, 'e'.repeat(64));

  // Events: the school's reviewer approves 20 agreements 5 seconds after each acceptance (flag);
  // the department's reviewer approves 20 others ten minutes after (normal).
  const [deptUser] = await t.db.select().from(users).where(eq(users.login, '10001-cs'));
  const base = Date.now() - 5 * DAY;
  const rows: Array<typeof events.$inferInsert> = [];
  for (let i = 0; i < 40; i++) {
    const at = base + i * 3600_000;
    const reviewer = i < 20 ? schoolUser! : deptUser!;
    const after = i < 20 ? 5_000 : 600_000;
    rows.push({ occurredAt: new Date(at), actorRole: 'student', schoolId, subjectType: 'agreement', subjectId: String(100000 + i), action: 'agreement.accept', fromState: 'invited', toState: 'school_review' });
    rows.push({ occurredAt: new Date(at + after), actorUserId: reviewer.id, actorRole: reviewer.role, schoolId, subjectType: 'agreement', subjectId: String(100000 + i), action: 'agreement.approve', fromState: 'school_review', toState: 'signed', secondsSincePrevious: after / 1000 });
  }
  await t.db.insert(events).values(rows);
});
test.after(async () => {
  await t.close();
});

const items = (doc: Parameters<typeof textOf>[0], id: string) => [...doc.querySelectorAll(`#${id} li`)].map((li) => li.textContent!.trim());

test('a unit with many of the school\'s graduates is flagged when newly verified, and not when established and hiring elsewhere, nor below the count', async () => {
  const school = await t.signInAs('school');
  const page = await school.get('/school/review-flags');
  assert.is(page.status, 200);
  const units = items(page.doc, 'flags-unit');
  assert.is(units.length, 1, units.join('\n'));
  assert.match(units[0]!, `本校 ${FLAG_RULES.unitGraduates} 名毕业生与“新成立信息咨询有限公司”签约或正在办理，该单位认证通过仅 10 天`);
  assert.match(units[0]!, '没有与其他高校毕业生签约的记录');
  // Marked as 预警单位 by the school, the established unit is flagged too.
  const [old] = await t.db.select().from(employers).where(eq(employers.uscc, '91110108MA01OLD002'));
  const [schoolUser] = await t.db.select().from(users).where(eq(users.login, '10001-admin'));
  await t.db.execute(`insert into warning_marks (school_id, employer_id, category, created_by) values (${schoolId}, ${old!.id}, 'fake', ${schoolUser!.id})` as never);
  const marked = items((await school.get('/school/review-flags')).doc, 'flags-unit');
  assert.is(marked.length, 2);
  assert.ok(marked.some((s) => s.includes('老牌制造股份有限公司') && s.includes('已被本校列为预警单位')));
  await t.db.execute(`delete from warning_marks where employer_id = ${old!.id}` as never);

  // On the agreement's review page, with the same sentence.
  const review = await school.get(`/school/agreements/${newUnitAgreementId}`);
  assert.is(review.status, 200);
  assert.ok(review.doc.querySelector('#review-flags li[data-flag="unit"]'), 'the unit flag on the review page');
});

test('a reviewer approving at scale within seconds of acceptance is flagged; one who takes minutes is not', async () => {
  const school = await t.signInAs('school');
  const reviewers = items((await school.get('/school/review-flags')).doc, 'flags-reviewer');
  assert.is(reviewers.length, 1, reviewers.join('\n'));
  assert.match(reviewers[0]!, '示范大学就业指导中心');
  assert.match(reviewers[0]!, `有 20 份（共审核通过 20 份）在提交后 ${FLAG_RULES.fastSeconds} 秒内即审核通过`);
  assert.not.match(reviewers[0]!, '计算机学院');
});

test('each event records how long its subject waited since the previous one, which the reviewer check reads', async () => {
  await t.db.insert(events).values({ occurredAt: new Date(Date.now() - 90_000), actorRole: 'student', schoolId, subjectType: 'agreement', subjectId: '999999', action: 'agreement.accept' });
  await t.db.transaction((tx) => writeEvent(tx, { actor: null, ip: null }, { subjectType: 'agreement', subjectId: 999999, schoolId, action: 'agreement.approve' }));
  await t.db.transaction((tx) => writeEvent(tx, { actor: null, ip: null }, { subjectType: 'agreement', subjectId: 999998, schoolId, action: 'agreement.approve' }));
  const rows = await t.db.select().from(events).where(and(eq(events.subjectType, 'agreement'), eq(events.action, 'agreement.approve'), isNull(events.actorUserId)));
  const bySubject = new Map(rows.map((r) => [r.subjectId, r.secondsSincePrevious]));
  const waited = bySubject.get('999999');
  assert.ok(waited !== null && waited !== undefined && waited >= 90 && waited < 3600, `waited ${waited}`);
  assert.is(bySubject.get('999998'), null, 'no previous event, nothing to measure');
});

test('a proof that is the same file as another graduate\'s is flagged, on the list and on its review page; a different file is not', async () => {
  const school = await t.signInAs('school');
  const proofs = items((await school.get('/school/review-flags')).doc, 'flags-proof');
  assert.is(proofs.length, 2, proofs.join('\n'));
  assert.match(proofs[0]!, `${roster[20]!.name}的去向登记的证明材料与本校毕业生${roster[21]!.name}上传的文件完全相同`);
  const shared = await school.get(`/school/destinations/${sharedRegistrationId}`);
  assert.ok(shared.doc.querySelector('#review-flags li[data-flag="proof"]'));
  assert.is(shared.status, 200);
  const fresh = await school.get(`/school/destinations/${freshRegistrationId}`);
  assert.is(fresh.doc.querySelector('#review-flags'), null, 'no flag on a normal registration');

  // The hash is taken of the file as sent, when a file is staged.
  const bytes = new TextEncoder().encode('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
  const { stored, discard } = await stageFiles(localStorage(uploadsDir(t.config.dataDir)), { proof: { name: 'a.pdf', bytes } });
  assert.is(stored.proof!.sha256, createHash('sha256').update(bytes).digest('hex'));
  await discard();
});

test('an item waiting far longer than the school\'s usual review time is flagged; a recent one is not', async () => {
  const school = await t.signInAs('school');
  const waits = items((await school.get('/school/review-flags')).doc, 'flags-wait');
  assert.is(waits.length, 1, waits.join('\n'));
  assert.match(waits[0]!, `${roster[23]!.name}的去向登记已等待审核 20 天`);
  assert.match(textOf((await school.get('/school/review-flags')).doc, '#flag-total')!, '共 5 条预警');
  const stale = await school.get(`/school/destinations/${staleRegistrationId}`);
  assert.ok(stale.doc.querySelector('#review-flags li[data-flag="wait"]'));
  // A flag blocks nothing: the flagged registration is approved as any other.
  await t.db.update(destinationRegistrations).set({ state: 'school_review' }).where(eq(destinationRegistrations.id, staleRegistrationId));
  const decided = await school.post(`/school/destinations/${staleRegistrationId}/review`, { decision: 'approve' });
  assert.is(decided.status, 303);
  assert.is((await t.db.select().from(destinationRegistrations).where(eq(destinationRegistrations.id, staleRegistrationId)))[0]!.state, 'approved');
  
});

test('the list is the school office\'s: a department gets 403, another school sees none of these, a unit and a graduate get 403/404', async () => {
  const dept = await t.signInAs('department');
  assert.is((await dept.get('/school/review-flags')).status, 403);
  const other = await t.signInAs('school2');
  const theirs = await other.get('/school/review-flags');
  assert.is(theirs.status, 200);
  assert.match(textOf(theirs.doc, '#flag-total')!, '共 0 条预警');
  for (const who of ['employer', 'student', 'province', 'admin'] as const) {
    const c = await t.signInAs(who);
    assert.ok([403, 404].includes((await c.get('/school/review-flags')).status), who);
  }
});

test.run();
