import { and, eq, inArray } from 'drizzle-orm';
import { idNumberLookup, withStoredIdNumber } from '../../db/id-number-keys.ts';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agreements, destinationRegistrations, employers, graduates, schools, users } from '../../db/schema/index.ts';
import { acceptInvitation } from '../../domain/agreements/online/respond.ts';
import { onlineSigning } from '../../domain/agreements/online/workflow.ts';
import { decideReview } from '../../domain/agreements/review.ts';
import { actorOf, type Actor } from '../../domain/auth/sessions.ts';
import { currentDestination, deriveDestination } from '../../domain/destinations/current.ts';
import { decideRegistration, saveDraft, submitRegistration, voidRegistration, withdrawRegistration } from '../../domain/destinations/register.ts';
import { LIVE_DESTINATION_STATES } from '../../domain/destinations/states.ts';
import { destinationRegistration } from '../../domain/destinations/workflow.ts';
import { DomainError } from '../../domain/errors.ts';
import { fire, inGroup } from '../../domain/workflow/kernel.ts';
import { statesInGroup } from '../../domain/agreements/kinds.ts';
import { setupApp, type TestApp } from '../helpers/app.ts';
import { idOf, opened, type Graduate } from '../helpers/graduates.ts';

// The graduate's current destination (domain/destinations/current.ts) against the rows it derives
// from, under random sequences of every action that can move it; and the signing that supersedes a
// registration racing the registration itself (X4), on the real database with real concurrency.
let t: TestApp;
let school: Actor;
let employerId: number;
let serial = 0;

test.before(async () => {
  t = await setupApp();
  const [u] = await t.db.select().from(users).where(eq(users.login, '10002-admin'));
  school = actorFor(u!);
  employerId = (await t.db.select().from(employers).where(eq(employers.name, '越综合企业')))[0]!.id;
});
test.after(async () => {
  await t.close();
});

/** The actor of a user, as a session makes it (a unit's account counts as verified here). */
const actorFor = (u: typeof users.$inferSelect): Actor => actorOf(u, 'test', u.employerId !== null);

/** A fresh graduate of 示例理工大学 (school only review) with an account: a copy of a roster row. */
async function freshGraduate(): Promise<{ g: Graduate; actor: Actor }> {
  serial++;
  const [template] = await t.db.select().from(graduates).innerJoin(schools, eq(schools.id, graduates.schoolId)).where(and(eq(schools.code, '10002'), eq(graduates.trainingMode, '1'))).limit(1);
  const { id: _id, idNumberSealed: _s, idNumberIndex: _i, idNumberMasked: _m, ...rest } = template!.graduates;
  const [row] = await t.db.insert(graduates).values(withStoredIdNumber({ ...rest, idNumber: `PROP${String(serial).padStart(14, '0')}`, studentNo: `P${serial}`, phone: `1370000${String(serial).padStart(4, '0')}` })).returning();
  const g = opened(row!);
  const [u] = await t.db.insert(users).values({ role: 'student', portal: 'student', login: idNumberLookup(idOf(g!)), phone: g!.phone, displayName: g!.name, passwordHash: 'x', graduateId: g!.id, schoolId: g!.schoolId, departmentId: g!.departmentId }).returning();
  return { g: g!, actor: actorFor(u!) };
}

/** An invitation of 越综合企业, as the unit's letter leaves it (its state does not move a destination); the pending one if there is one (G6). */
async function invite(g: Graduate): Promise<number> {
  const [pending] = await t.db.select({ id: agreements.id }).from(agreements).where(and(eq(agreements.graduateId, g.id), eq(agreements.employerId, employerId), eq(agreements.state, 'invited')));
  if (pending) return pending.id;
  const now = new Date();
  const [row] = await t.db
    .insert(agreements)
    .values({
      kind: 'online', state: 'invited', employerId, graduateId: g.id, schoolId: g.schoolId, departmentId: g.departmentId, cohort: g.cohort,
      invitedAt: now, validityDays: 10, deadline: new Date(now.getTime() + 10 * 86400000), contactName: '王经理', contactPhone: '010-12345678', workPlace: '北京',
      positionCategory: '13', positionName: '工程师', archiveMode: 'none',
      unitSnapshot: { name: '越综合企业', uscc: '91110000MA01ABCD2X', employerType: '39', industry: '34', region: '110100', address: '北京市', contactName: '王经理', contactPhone: null, contactMobile: '13800000001', contactEmail: 'hr@example.com' },
    })
    .returning({ id: agreements.id });
  return row!.id;
}

const src = (actor: Actor) => ({ actor, ip: '127.0.0.1' });
const NO_PROOF = ['awaiting_work', 'preparing_study', 'not_working'] as const;

async function registerAs(actor: Actor, type: string) {
  await saveDraft(t.db, actor, { type, note: '' });
  return submitRegistration(t.db, src(actor));
}

async function liveRegistration(g: Graduate) {
  const [r] = await t.db.select().from(destinationRegistrations).where(and(eq(destinationRegistrations.graduateId, g.id), inArray(destinationRegistrations.state, [...LIVE_DESTINATION_STATES])));
  return r ?? null;
}

async function projectionAndDerivation(g: Graduate) {
  const projection = await currentDestination(t.db, g.id);
  const rows = {
    agreements: await t.db.select({ kind: agreements.kind, state: agreements.state }).from(agreements).where(eq(agreements.graduateId, g.id)),
    registrations: await t.db.select({ state: destinationRegistrations.state, code: destinationRegistrations.code }).from(destinationRegistrations).where(eq(destinationRegistrations.graduateId, g.id)),
  };
  return { projection, derived: deriveDestination(rows, { signed: statesInGroup('signed'), terminated: statesInGroup('terminated') }) };
}

type Action = { name: string; run: (ctx: { g: Graduate; actor: Actor }) => Promise<unknown> };

const onAgreement = async (g: Graduate, group: 'inReview' | 'signed') =>
  (await t.db.select().from(agreements).where(eq(agreements.graduateId, g.id))).find((a) => inGroup(statesInGroup(group), a.state)) ?? null;

const ACTIONS: Action[] = [
  ...NO_PROOF.map((type) => ({ name: `register ${type}`, run: ({ actor }: { actor: Actor }) => registerAs(actor, type) })),
  ...(['approve', 'return', 'reject'] as const).map((decision) => ({
    name: `registration ${decision}`,
    run: async ({ g }: { g: Graduate }) => {
      const r = await liveRegistration(g);
      if (r) await decideRegistration(t.db, src(school), r.id, { decision, reason: '原因' });
    },
  })),
  { name: 'withdraw', run: async ({ g, actor }) => { const r = await liveRegistration(g); if (r) await withdrawRegistration(t.db, src(actor), r.id); } },
  { name: 'void', run: async ({ g, actor }) => { const r = await liveRegistration(g); if (r) await voidRegistration(t.db, src(actor), r.id); } },
  { name: 'invite and accept', run: async ({ g, actor }) => acceptInvitation(t.db, src(actor), await invite(g)) },
  ...(['approve', 'reject'] as const).map((decision) => ({
    name: `agreement ${decision}`,
    run: async ({ g }: { g: Graduate }) => {
      const a = await onAgreement(g, 'inReview');
      if (a) await decideReview(t.db, src(school), a.id, { decision, reason: '原因' });
    },
  })),
  {
    name: 'terminate',
    run: async ({ g }) => {
      const a = await onAgreement(g, 'signed');
      if (a) await t.db.transaction(async (tx) => fire(tx, onlineSigning, { actor: null, ip: null }, (await tx.select().from(agreements).where(eq(agreements.id, a.id)).for('update'))[0]!, 'terminate', { reaction: true }));
    },
  },
];

test('the projection of each graduate\'s current destination always equals its derivation from the rows, under random sequences of actions', async () => {
  let steps = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 10 }), async (sequence) => {
      const who = await freshGraduate();
      for (const action of sequence) {
        try {
          await action.run(who);
        } catch (e) {
          if (!(e instanceof DomainError)) throw e;
        }
        steps++;
        const { projection, derived } = await projectionAndDerivation(who.g);
        if (projection !== derived) throw new Error(`after ${sequence.map((a) => a.name).join(' → ')}: projection ${projection}, derived ${derived}`);
      }
    }),
    { numRuns: 40 },
  );
  assert.ok(steps > 40);
});

test('the derivation: signed → 10; else an approved registration\'s code; else terminated → 70 (S8); else 未登记', () => {
  const groups = { signed: ['signed'], terminated: ['terminated'] };
  assert.is(deriveDestination({ agreements: [{ kind: 'online', state: 'signed' }], registrations: [] }, groups), '10');
  assert.is(deriveDestination({ agreements: [{ kind: 'online', state: 'terminated' }], registrations: [{ state: 'approved', code: '80' }] }, groups), '80');
  assert.is(deriveDestination({ agreements: [{ kind: 'offline', state: 'terminated' }, { kind: 'online', state: 'school_review' }], registrations: [{ state: 'voided', code: '80' }] }, groups), '70');
  assert.is(deriveDestination({ agreements: [{ kind: 'online', state: 'invited' }], registrations: [{ state: 'school_review', code: '80' }] }, groups), null);
});

test('X4 a signing racing a registration: never an active agreement beside a standing registration; whichever commits first, the other sees it', async () => {
  const outcomes = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const who = await freshGraduate();
    const invitation = await invite(who.g);
    // Half of the runs race against an approved registration (voided by the acceptance), half against a new submission.
    if (i % 2) {
      const id = await registerAs(who.actor, 'awaiting_work');
      await decideRegistration(t.db, src(school), id, { decision: 'approve' });
      await saveDraft(t.db, who.actor, { type: 'not_working', note: '' }).catch(() => undefined);
    } else {
      await saveDraft(t.db, who.actor, { type: 'preparing_study', note: '' });
    }
    const [accepted, registered] = await Promise.allSettled([acceptInvitation(t.db, src(who.actor), invitation), submitRegistration(t.db, src(who.actor))]);
    for (const r of [accepted, registered]) if (r.status === 'rejected' && !(r.reason instanceof DomainError)) throw r.reason;
    const [a] = await t.db.select().from(agreements).where(eq(agreements.id, invitation));
    const live = await liveRegistration(who.g);
    const active = inGroup(onlineSigning.groups.active, a!.state);
    assert.not.ok(active && live, `run ${i}: agreement ${a!.state} beside registration ${live?.state}`);
    outcomes.add(`${accepted.status}/${registered.status}/${active ? 'signing' : 'not signing'}/${live ? live.state : 'none'}`);
    const { projection, derived } = await projectionAndDerivation(who.g);
    assert.is(projection, derived);
    if (i % 2 && active) {
      const voided = await t.db.select().from(destinationRegistrations).where(and(eq(destinationRegistrations.graduateId, who.g.id), eq(destinationRegistrations.state, 'voided')));
      assert.is(voided[0]?.voidCause, 'signing', 'the approved registration was voided by the acceptance');
    }
  }
  assert.ok(outcomes.size >= 1);
});

test('the table: every event and creation has timeline words; supersede leaves every standing state', () => {
  for (const e of [...destinationRegistration.eventNames, ...Object.keys(destinationRegistration.creations)]) assert.ok((destinationRegistration.eventLabels as Record<string, unknown>)[e], e);
  assert.equal(destinationRegistration.events.supersede.transitions.map((tr) => tr.from), [...LIVE_DESTINATION_STATES]);
});

test.run();
