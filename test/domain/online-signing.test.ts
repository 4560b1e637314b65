import { idOf } from '../helpers/graduates.ts';
import { idNumberLookup, withStoredIdNumber } from '../../db/id-number-keys.ts';
import { and, eq, sql } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agreements, employers, events, favourites, graduates, notifications, schools, users } from '../../db/schema/index.ts';
import { actorOf, type Actor } from '../../domain/auth/sessions.ts';
import { makeUscc } from '../../domain/codes/uscc.ts';
import { DomainError } from '../../domain/errors.ts';
import { removeGraduate } from '../../domain/graduates/roster-admin.ts';
import { formatShanghai, responseDeadline } from '../../domain/agreements/deadline.ts';
import { expireDueInvitations } from '../../domain/agreements/online/expiry.ts';
import { remindReviewers } from '../../domain/reviews/inbox.ts';
import { addFavourite, findStudent } from '../../domain/favourites/favourites.ts';
import { sendInvitations } from '../../domain/agreements/online/invitations.ts';
import { acceptInvitation, declineInvitation } from '../../domain/agreements/online/respond.ts';
import { decideReview } from '../../domain/agreements/review.ts';
import { snapshotOfUnit } from '../../domain/agreements/snapshots.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

let d: TestDatabase;
const as = async (login: string): Promise<Actor> => {
  const [u] = await d.db.select().from(users).where(eq(users.login, login));
  const [e] = u!.employerId ? await d.db.select().from(employers).where(eq(employers.id, u!.employerId)) : [];
  return actorOf(u!, 'test', e?.verification === 'verified');
};
const src = (actor: Actor) => ({ actor, ip: null });
const LETTER = { positionCategory: '13', positionName: '软件工程师', validityDays: '3', contactName: '王经理', contactPhone: '13800000001', workPlace: '北京市海淀区', archiveMode: 'none' };

let student: Actor;
let graduate: typeof graduates.$inferSelect;
let employer: Actor;

test.before(async () => {
  d = await freshDatabase();
  employer = await as('13800000001');
  const [u] = await d.db.select().from(users).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
  student = actorOf(u!, 'test', false);
  graduate = (await d.db.select().from(graduates).where(eq(graduates.id, u!.graduateId!)))[0]!;
});
test.after(async () => {
  await d.drop();
});

async function favouriteOf(actor: Actor, g: typeof graduates.$inferSelect): Promise<number> {
  const [s] = await d.db.select().from(schools).where(eq(schools.id, g.schoolId));
  return addFavourite(d.db, src(actor), { name: g.name, idNumber: idOf(g), school: s!.name, cohort: String(g.cohort) });
}

test('G3 应约截止时间: 00:00 Beijing time of the day after invitation day + validity (the guide example)', () => {
  const invited = new Date('2020-11-05T16:05:00+08:00');
  assert.is(formatShanghai(responseDeadline(invited, 1)), '2020-11-07 00:00');
  assert.is(formatShanghai(responseDeadline(new Date('2020-11-05T23:59:59+08:00'), 1)), '2020-11-07 00:00');
  assert.is(formatShanghai(responseDeadline(new Date('2020-11-06T00:00:00+08:00'), 1)), '2020-11-08 00:00');
});

test('E4/G2 a graduate is found only by exact name + ID + school + cohort, on the eligible roster', async () => {
  const [s] = await d.db.select().from(schools).where(eq(schools.id, graduate.schoolId));
  const q = { name: graduate.name, idNumber: idOf(graduate), school: s!.name, cohort: '2026' };
  assert.is((await findStudent(d.db, employer, q)).graduateId, graduate.id);
  for (const wrong of [{ name: '某某' }, { school: '示例理工大学' }, { cohort: '2025' }]) {
    await findStudent(d.db, employer, { ...q, ...wrong }).then(
      () => assert.unreachable('found'),
      (e: DomainError) => assert.is(e.code, 'not_found'),
    );
  }
  const [directed] = await d.db.select().from(graduates).where(and(eq(graduates.schoolId, graduate.schoolId), eq(graduates.trainingMode, '21')));
  await findStudent(d.db, employer, { ...q, name: directed!.name, idNumber: idOf(directed!) }).then(
    () => assert.unreachable('G9: 21 is not signable'),
    (e: DomainError) => assert.is(e.code, 'not_found'),
  );
  const unverified = await as('13800000009');
  await findStudent(d.db, unverified, q).then(
    () => assert.unreachable('E3'),
    (e: DomainError) => assert.is(e.code, 'forbidden'),
  );
});

test('E5/G6 invite several at once; a pending graduate is skipped and named; after a decline the unit may invite again', async () => {
  const fav = await favouriteOf(employer, graduate);
  const first = await sendInvitations(d.db, src(employer), [fav], LETTER);
  assert.is(first.invited.length, 1);
  const again = await sendInvitations(d.db, src(employer), [fav], LETTER);
  assert.equal(again.invited, []);
  assert.equal(again.skipped.map((s) => s.name), [graduate.name]);
  assert.is(await declineInvitation(d.db, src(student), first.invited[0]!.id), 'declined');
  assert.is((await sendInvitations(d.db, src(employer), [fav], LETTER)).invited.length, 1);
});

test('X3 accepting after 应约截止时间 expires the invitation instead; the deadline is checked in the action', async () => {
  const [pending] = await d.db.select().from(agreements).where(and(eq(agreements.graduateId, graduate.id), eq(agreements.state, 'invited')));
  assert.is(await acceptInvitation(d.db, src(student), pending!.id, new Date(pending!.deadline!.getTime())), 'expired');
  await declineInvitation(d.db, src(student), pending!.id).then(
    () => assert.unreachable('declined an expired invitation'),
    (e: DomainError) => assert.is(e.code, 'illegal_transition'),
  );
});

/** `n` invitations of the unit, each to a graduate without any agreement, sent four days ago and due an hour ago. */
async function dueInvitations(n: number, unit: string): Promise<number[]> {
  const rows = await d.db.$client`insert into agreements (kind, state, employer_id, graduate_id, school_id, department_id, cohort, position_category, position_name, archive_mode, unit_snapshot, invited_at, validity_days, deadline, contact_name, contact_phone, work_place)
    select 'online', 'invited', ${employer.employerId}, g.id, g.school_id, g.department_id, g.cohort, '13', '工程师', 'none', jsonb_build_object('name', ${unit}::text), now() - interval '4 days', 3, now() - interval '1 hour', '联系人', '13800000000', '北京'
      from graduates g where g.id not in (select graduate_id from agreements) order by g.id limit ${n} returning id`;
  assert.is(rows.length, n);
  return rows.map((r) => Number(r.id));
}

test('X3 the expiry job runs its batches side by side in their own transactions (two runs at once as well): every due invitation expired once, with one event each', async () => {
  const ids = await dueInvitations(40, '并行单位');
  const now = new Date();
  const runs = await Promise.all([expireDueInvitations(d.db, now, 3, 4), expireDueInvitations(d.db, now, 2, 3)]);
  assert.is(runs[0] + runs[1], 40, `expired ${runs.join(' + ')}`);
  const states = await d.db.$client`select state, count(*)::int as n from agreements where id = any(${ids}) group by state`;
  assert.equal(states.map((r) => [r.state, r.n]), [['expired', 40]]);
  const [logged] = await d.db.$client`select count(*)::int as n, count(distinct subject_id)::int as distinct from events where action = 'agreement.expire' and subject_id = any(${ids.map(String)})`;
  assert.equal([logged!.n, logged!.distinct], [40, 40], 'one event per invitation');
  assert.is(await expireDueInvitations(d.db, now), 0, 'a second run finds nothing');
});

test('X3 the expiry skips an invitation another transaction holds, never waits for it: answered, it stays answered with no expire event; left pending, the next run expires it', async () => {
  const ids = await dueInvitations(6, '作答单位');
  const [answered, held] = [ids[3]!, ids[4]!];
  // A graduate's answer, and a transaction that locks an invitation and then changes nothing (a roster
  // change that rolls back): both begun before the expiry and ended after it.
  const holds: Array<{ end: () => void; done: Promise<unknown> }> = [];
  for (const [id, change] of [[answered, true], [held, false]] as const) {
    let begun!: () => void;
    let end!: () => void;
    const started = new Promise<void>((r) => (begun = r));
    const ended = new Promise<void>((r) => (end = r));
    const done = d.db.$client
      .begin(async (tx) => {
        if (change) await tx`update agreements set state = 'declined', responded_at = now() where id = ${id}`;
        else await tx`select id from agreements where id = ${id} for update`;
        begun();
        await ended;
        if (!change) throw new Error('rolled back');
      })
      .catch(() => undefined);
    await started;
    holds.push({ end, done });
  }
  let settled = false;
  const run = expireDueInvitations(d.db, new Date(), 2, 2).finally(() => (settled = true));
  // Until the run ends, look for one of its batches waiting on a lock (it would wait for ever here).
  let waited = false;
  while (!settled && !waited) {
    const [w] = await d.db.$client`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
    waited = w!.n > 0;
    if (!waited) await new Promise((r) => setTimeout(r, 5));
  }
  for (const h of holds) h.end();
  await Promise.all(holds.map((h) => h.done));
  assert.not.ok(waited, 'a batch waited for a row another transaction held');
  assert.is(await run, 4);
  const states = await d.db.$client`select id, state from agreements where id = any(${ids}) order by id`;
  assert.equal(
    states.map((r) => [Number(r.id), r.state]),
    ids.map((id) => [id, id === answered ? 'declined' : id === held ? 'invited' : 'expired']),
  );
  const [logged] = await d.db.$client`select count(*)::int as n from events where action = 'agreement.expire' and subject_id = ${String(answered)}`;
  assert.is(logged!.n, 0);
  assert.is(await expireDueInvitations(d.db, new Date()), 1, 'the next run expires the invitation left pending');
});

test('X3 the expiry job: due exactly at the deadline, not one millisecond before; idempotent', async () => {
  const fav = (await d.db.select().from(favourites).where(eq(favourites.graduateId, graduate.id)))[0]!.id;
  const sent = await sendInvitations(d.db, src(employer), [fav], LETTER);
  const [row] = await d.db.select().from(agreements).where(eq(agreements.id, sent.invited[0]!.id));
  assert.is(await expireDueInvitations(d.db, new Date(row!.deadline!.getTime() - 1)), 0);
  assert.is(await expireDueInvitations(d.db, row!.deadline!), 1);
  assert.is(await expireDueInvitations(d.db, row!.deadline!), 0);
  assert.is((await d.db.select().from(agreements).where(eq(agreements.id, row!.id)))[0]!.state, 'expired');
  const told = await d.db.select().from(notifications).where(and(eq(notifications.userId, employer.userId), eq(notifications.link, `/employer/agreements/${row!.id}`)));
  assert.equal(told.map((n) => n.title), ['签约邀请已逾期'], 'G11 the unit hears of the expiry');
  const [logged] = await d.db.select().from(events).where(and(eq(events.subjectId, String(row!.id)), eq(events.action, 'agreement.expire')));
  assert.equal([logged!.fromState, logged!.toState, logged!.actorRole], ['invited', 'expired', 'system']);
});

test('the whole chain: accept → 院系审核 → 学校审核 → 已签约, with a 协议编号, snapshots and an event per step', async () => {
  const fav = (await d.db.select().from(favourites).where(eq(favourites.graduateId, graduate.id)))[0]!.id;
  const { invited } = await sendInvitations(d.db, src(employer), [fav], LETTER);
  const id = invited[0]!.id;
  assert.is(await acceptInvitation(d.db, src(student), id), 'department_review', '示范大学 reviews department then school');
  const dept = await as('10001-cs');
  const school = await as('10001-admin');
  await decideReview(d.db, src(school), id, { decision: 'approve' }).then(
    () => assert.unreachable('the school acted at the department stage'),
    (e: DomainError) => assert.is(e.code, 'illegal_transition'),
  );
  assert.is(await decideReview(d.db, src(dept), id, { decision: 'approve' }), 'school_review');
  assert.is(await decideReview(d.db, src(school), id, { decision: 'approve' }), 'signed');
  const [a] = await d.db.select().from(agreements).where(eq(agreements.id, id));
  assert.match(a!.number!, /^2026-10001-\d{6}$/);
  assert.match(a!.verificationCode!, /^[2-9A-HJ-NP-Z]{8}$/);
  assert.is(a!.graduateSnapshot!.name, graduate.name);
  assert.is(a!.schoolSnapshot!.handlerName, '陈老师');
  assert.ok(a!.signedAt);
  const trail = await d.db.select().from(events).where(and(eq(events.subjectType, 'agreement'), eq(events.subjectId, String(id)))).orderBy(events.id);
  assert.equal(trail.map((e) => e.action), ['agreement.invite', 'agreement.accept', 'agreement.approve', 'agreement.approve']);
});

test('G5 a signed graduate can still be invited; G4 but cannot accept a second', async () => {
  const employer2 = await as('13800000002');
  const fav = await favouriteOf(employer2, graduate);
  const { invited } = await sendInvitations(d.db, src(employer2), [fav], LETTER);
  assert.is(invited.length, 1);
  await acceptInvitation(d.db, src(student), invited[0]!.id).then(
    () => assert.unreachable('accepted a second agreement'),
    (e: DomainError) => assert.is(e.code, 'conflict'),
  );
});

test('S6 不通过 needs 原因及具体问题 and ends in 签约失败; school-only schools skip the department stage', async () => {
  const [g] = await d.db.select().from(graduates).innerJoin(schools, eq(schools.id, graduates.schoolId)).where(and(eq(schools.code, '10002'), eq(graduates.trainingMode, '1'))).limit(1);
  const fav = await favouriteOf(employer, g!.graduates);
  const [other] = await d.db.insert(users).values({ role: 'student', portal: 'student', login: idNumberLookup(idOf(g!.graduates)), displayName: g!.graduates.name, passwordHash: 'x', graduateId: g!.graduates.id, schoolId: g!.graduates.schoolId }).returning();
  const { invited } = await sendInvitations(d.db, src(employer), [fav], LETTER);
  assert.is(await acceptInvitation(d.db, src(actorOf(other!, 't', false)), invited[0]!.id), 'school_review');
  const school2 = await as('10002-admin');
  await decideReview(d.db, src(school2), invited[0]!.id, { decision: 'reject' }).then(
    () => assert.unreachable('no reason'),
    (e: DomainError) => assert.equal(e.fields, { reason: '不通过时请填写原因及具体问题' }),
  );
  assert.is(await decideReview(d.db, src(school2), invited[0]!.id, { decision: 'reject', reason: '岗位信息与实际不符' }), 'review_rejected');
  const sch1 = await as('10001-admin');
  await decideReview(d.db, src(sch1), invited[0]!.id, { decision: 'approve' }).then(
    () => assert.unreachable('another school reviewed'),
    (e: DomainError) => assert.is(e.code, 'not_found'),
  );
});

test('X4 20 simultaneous acceptances of 20 invitations of one graduate: exactly one is accepted', async () => {
  const [u] = await d.db.select().from(users).where(eq(users.role, 'student')).orderBy(users.id).offset(1).limit(1);
  const me = actorOf(u!, 't', false);
  const [g] = await d.db.select().from(graduates).where(eq(graduates.id, u!.graduateId!));
  const ids: number[] = [];
  for (let i = 0; i < 20; i++) {
    const [unit] = await d.db.insert(employers).values({ uscc: makeUscc(`9111010800C${String(i).padStart(6, '0')}`), name: `并发单位${i}`, employerType: '39', industry: '34', region: '110108', address: '北京市海淀区', verification: 'verified' }).returning();
    const [a] = await d.db
      .insert(agreements)
      .values({ kind: 'online', state: 'invited', employerId: unit!.id, graduateId: g!.id, schoolId: g!.schoolId, departmentId: g!.departmentId, cohort: g!.cohort, ...LETTER, validityDays: 3, invitedAt: new Date(), deadline: new Date(Date.now() + 86400000), archiveMode: 'none', unitSnapshot: snapshotOfUnit(unit!) })
      .returning();
    ids.push(a!.id);
  }
  const results = await Promise.allSettled(ids.map((id) => acceptInvitation(d.db, src(me), id)));
  assert.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  assert.ok(results.every((r) => r.status === 'fulfilled' || (r.reason instanceof DomainError && r.reason.code === 'conflict')));
  const active = await d.db.select().from(agreements).where(and(eq(agreements.graduateId, g!.id), sql`state in ('department_review','school_review','signed')`));
  assert.is(active.length, 1);
});

test('X2/X4 the same acceptance submitted 10 times at once has one effect', async () => {
  const [u] = await d.db.select().from(users).where(eq(users.role, 'student')).orderBy(users.id).offset(2).limit(1);
  const me = actorOf(u!, 't', false);
  const [g] = await d.db.select().from(graduates).where(eq(graduates.id, u!.graduateId!));
  const fav = await favouriteOf(employer, g!);
  const { invited } = await sendInvitations(d.db, src(employer), [fav], LETTER);
  const results = await Promise.all(Array.from({ length: 10 }, () => acceptInvitation(d.db, src(me), invited[0]!.id)));
  assert.ok(results.every((r) => r === 'department_review'));
  const accepts = await d.db.select().from(events).where(and(eq(events.action, 'agreement.accept'), eq(events.subjectId, String(invited[0]!.id))));
  assert.is(accepts.length, 1);
});

test('G2 removing a graduate from the roster makes favourites and pending invitations 失效, and tells the unit', async () => {
  const [g] = await d.db.select().from(graduates).where(and(eq(graduates.schoolId, graduate.schoolId), eq(graduates.trainingMode, '1'))).orderBy(sql`id desc`).limit(1);
  const fav = await favouriteOf(employer, g!);
  const { invited } = await sendInvitations(d.db, src(employer), [fav], LETTER);
  await removeGraduate(d.db, src(await as('10001-admin')), g!.id);
  const [f] = await d.db.select().from(favourites).where(eq(favourites.id, fav));
  assert.ok(f!.invalidatedAt);
  assert.is(f!.invalidReason, '学生已被学校移出毕业生名单');
  const [a] = await d.db.select().from(agreements).where(eq(agreements.id, invited[0]!.id));
  assert.is(a!.state, 'invalidated');
});

test('the daily digest tells each reviewer of signings waiting longer than N days, once per run', async () => {
  await d.db.update(agreements).set({ updatedAt: new Date(Date.now() - 5 * 86400000) }).where(sql`state in ('department_review', 'school_review')`);
  const told = await d.db.transaction((tx) => remindReviewers(tx, new Date(), 3));
  assert.ok(told >= 1);
  const [cs] = await d.db.select().from(users).where(eq(users.login, '10001-cs'));
  const notes = await d.db.select().from(notifications).where(eq(notifications.userId, cs!.id));
  assert.ok(notes.some((n) => n.title === '有签约等待审核'));
  assert.is(await d.db.transaction((tx) => remindReviewers(tx, new Date(), 30)), 0, 'nothing waits 30 days');
});

test.run();
