import { and, eq } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Tx } from '../../db/client.ts';
import { agreements, destinationRegistrations, employers, employerVerifications, events, graduates, terminations, uploads, users } from '../../db/schema/index.ts';
import { ONLINE_PROGRESS, onlineSigning, type Agreement } from '../../domain/agreements/online/workflow.ts';
import { OFFLINE_PROGRESS, offlineSigning } from '../../domain/agreements/offline/workflow.ts';
import { paperRegistration, REGISTRATION_PROGRESS } from '../../domain/agreements/registered/workflow.ts';
import { snapshotOfUnit } from '../../domain/agreements/snapshots.ts';
import { ACTIVE_AGREEMENT_STATES, AGREEMENT_STATES, IN_REVIEW_AGREEMENT_STATES, SIGNED_AGREEMENT_STATES, TERMINATED_AGREEMENT_STATES } from '../../domain/agreements/states.ts';
import { partySnapshots } from '../../domain/agreements/parties.ts';
import { ROLES } from '../../domain/auth/roles.ts';
import { actorOf, type Actor } from '../../domain/auth/sessions.ts';
import { OPEN_VERIFICATION_STATES } from '../../domain/employers/verification/states.ts';
import { employerVerification } from '../../domain/employers/verification/workflow.ts';
import { DomainError } from '../../domain/errors.ts';
import { OPEN_TERMINATION_STATES } from '../../domain/terminations/states.ts';
import { destinationRegistration } from '../../domain/destinations/workflow.ts';
import { statesInGroup } from '../../domain/agreements/kinds.ts';
import { termination } from '../../domain/terminations/workflow.ts';
import { availableActions, create, defineWorkflow, fire, targetsOf, type AnyWorkflow, type FireActor } from '../../domain/workflow/kernel.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

// The workflow tables themselves (DESIGN.md section 5): complete, consistent with the database, and
// enforced by the kernel — who may fire each event from each state, and nobody else.
let d: TestDatabase;
const WORKFLOWS: Array<[string, AnyWorkflow]> = [
  ['online signing', onlineSigning],
  ['offline signing', offlineSigning],
  ['paper registration (补登)', paperRegistration],
  ['employer verification', employerVerification],
  ['termination (解约)', termination],
  ['destination registration (去向登记)', destinationRegistration],
];
const AGREEMENT_TABLES = [
  [onlineSigning, ONLINE_PROGRESS],
  [offlineSigning, OFFLINE_PROGRESS],
  [paperRegistration, REGISTRATION_PROGRESS],
] as const;

test.before(async () => {
  d = await freshDatabase();
});
test.after(async () => {
  await d.drop();
});

for (const [name, wf] of WORKFLOWS) {
  test(`${name}: every state has a label for every audience, and the parties' words carry no {verb}`, () => {
    for (const [audience, labels] of Object.entries(wf.labels as Record<string, Record<string, string>>)) {
      assert.equal(Object.keys(labels).sort(), [...wf.states].sort(), audience);
      for (const s of wf.states) assert.ok(labels[s]!.trim().length > 0, `${audience} ${s}`);
      if (audience !== 'reviewer') for (const s of wf.states) assert.not.match(labels[s]!, '{verb}', `${audience} ${s}`);
    }
  });

  test(`${name}: transitions and groups name only states; no event leaves a terminal state; every event has timeline words`, () => {
    const states = new Set<string>(wf.states);
    for (const [group, members] of Object.entries(wf.groups as Record<string, readonly string[]>)) for (const s of members) assert.ok(states.has(s), `${group}: ${s}`);
    for (const [event, spec] of Object.entries(wf.events)) {
      assert.ok(spec.transitions.length > 0, `${event} has transitions`);
      for (const t of spec.transitions) {
        assert.ok(states.has(t.from), `${event} from ${t.from}`);
        for (const to of targetsOf(t.to)) assert.ok(states.has(to), `${event} to ${to}`);
        assert.not.ok((wf.groups.terminal as readonly string[]).includes(t.from), `${event} leaves terminal ${t.from}`);
      }
    }
    for (const c of Object.values(wf.creations)) for (const to of targetsOf(c.to)) assert.ok(states.has(to));
    assert.equal(Object.keys(wf.eventLabels).sort(), [...Object.keys(wf.events), ...Object.keys(wf.creations)].sort());
  });
}

test('agreements: the kinds\' states together are the enum, and every state of a kind has a progress step', () => {
  assert.equal([...new Set(AGREEMENT_TABLES.flatMap(([wf]) => [...wf.states]))].sort(), [...AGREEMENT_STATES].sort());
  for (const [wf, progress] of AGREEMENT_TABLES) {
    for (const s of wf.states) {
      const reached = (progress.reached as Record<string, number>)[s]!;
      assert.ok(reached >= 1 && reached <= progress.steps.length, `${wf.name} ${s}`);
    }
  }
});

/** The states in a partial index's predicate, as the migrated database has it. */
async function indexStates(name: string): Promise<string[]> {
  const [row] = await d.db.$client`select indexdef from pg_indexes where indexname = ${name}`;
  return [...String(row!.indexdef).matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!).sort();
}

test('G4 the partial unique index on active agreements has exactly the kinds\' active groups together', async () => {
  const active = [...new Set(AGREEMENT_TABLES.flatMap(([wf]) => [...wf.groups.active]))].sort();
  assert.equal(await indexStates('agreements_one_active_per_graduate'), active);
  assert.equal([...ACTIVE_AGREEMENT_STATES].sort(), active);
});

test('风险预警 the in-review index of the long-wait flag has exactly the kinds\' inReview groups together', async () => {
  const inReview = [...new Set(AGREEMENT_TABLES.flatMap(([wf]) => [...wf.groups.inReview]))].sort();
  assert.equal(await indexStates('agreements_school_in_review_idx'), inReview);
  assert.equal([...IN_REVIEW_AGREEMENT_STATES].sort(), inReview);
});

test('G6/X3 the pending-invitation indexes have exactly online signing\'s pending group', async () => {
  assert.equal(await indexStates('agreements_one_pending_invitation'), [...onlineSigning.groups.pending].sort());
  assert.equal(await indexStates('agreements_pending_deadline_idx'), [...onlineSigning.groups.pending].sort());
});

test('S8 the one-open-termination-per-agreement index has exactly the termination table\'s open group', async () => {
  assert.equal(await indexStates('terminations_one_open_per_agreement'), [...termination.groups.open].sort());
  assert.equal([...OPEN_TERMINATION_STATES].sort(), [...termination.groups.open].sort());
});

test('G10 the one-standing-registration index has exactly the destination table\'s live group; the projection reads the kinds\' signed and terminated groups', async () => {
  assert.equal(await indexStates('destination_registrations_one_live_per_graduate'), [...destinationRegistration.groups.live].sort());
  assert.equal([...SIGNED_AGREEMENT_STATES].sort(), statesInGroup('signed').sort());
  assert.equal([...TERMINATED_AGREEMENT_STATES].sort(), statesInGroup('terminated').sort());
});

test('E2 the one-open-application index has exactly the verification table\'s open group', async () => {
  assert.equal(await indexStates('employer_verifications_one_open_per_user'), [...employerVerification.groups.open].sort());
  assert.equal([...OPEN_VERIFICATION_STATES].sort(), [...employerVerification.groups.open].sort());
});

// ---------------------------------------------------------------------------------------------
// Who may fire each event: every transition of both tables, tried by every role and by the
// system on a row in its from-state. Only the table's role succeeds; each try is rolled back.

const ROLLBACK = new Error('rollback');

async function actorsByRole(): Promise<Record<FireActor, Actor | null>> {
  const logins: Record<Exclude<FireActor, 'system' | 'link' | 'student'>, string> = { employer: '13800000001', school: '10001-admin', department: '10001-cs', province: 'bj-province', admin: 'admin' };
  const result = { system: null, link: null } as Record<FireActor, Actor | null>;
  for (const [role, login] of Object.entries(logins)) {
    const [u] = await d.db.select().from(users).where(eq(users.login, login));
    result[role as FireActor] = actorOf(u!, 'test', role === 'employer');
  }
  const [student] = await d.db.select().from(users).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
  result.student = actorOf(student!, 'test', false);
  return result;
}

async function onlineRow(tx: Tx, state: Agreement['state']): Promise<Agreement> {
  const [u] = await tx.select().from(users).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
  const [g] = await tx.select().from(graduates).where(eq(graduates.id, u!.graduateId!));
  const [unit] = await tx.select().from(employers).where(eq(employers.name, '越综合企业'));
  const now = new Date();
  const [row] = await tx
    .insert(agreements)
    .values({
      kind: 'online', state, employerId: unit!.id, graduateId: g!.id, schoolId: g!.schoolId, departmentId: g!.departmentId, cohort: g!.cohort,
      invitedAt: now, validityDays: 3, deadline: new Date(now.getTime() + 3 * 86400000), contactName: '王经理', contactPhone: '13800000001',
      positionCategory: '13', positionName: '工程师', workPlace: '北京', archiveMode: 'none', unitSnapshot: snapshotOfUnit(unit!),
    })
    .returning();
  return row!;
}

/** An application of a graduate with no other agreement, as its table leaves it in `state`; a withdrawal finds it just submitted (G7). */
async function applicationRow(tx: Tx, kind: 'offline' | 'registered', state: Agreement['state'], event: string) {
  const [u] = await tx.select().from(users).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
  const [g] = await tx.select().from(graduates).where(eq(graduates.id, u!.graduateId!));
  const { graduateSnapshot, schoolSnapshot } = await partySnapshots(tx, g!.id);
  const [row] = await tx
    .insert(agreements)
    .values({
      kind, state, graduateId: g!.id, schoolId: g!.schoolId, departmentId: g!.departmentId, cohort: g!.cohort, positionCategory: '13', positionName: '工程师', archiveMode: 'none',
      unitSnapshot: { name: '某科技有限公司', uscc: '91350100M000100Y43', employerType: '39', industry: '34', region: '350100', address: '福建省福州市鼓楼区某路 1 号', contactName: '李经理', contactPhone: null, contactMobile: '13700000001', contactEmail: 'hr@example.com' },
      graduateSnapshot, schoolSnapshot,
    })
    .returning();
  if (event === 'withdraw') await tx.insert(events).values({ actorRole: 'student', subjectType: 'agreement', subjectId: String(row!.id), action: 'agreement.submit', toState: state });
  return row!;
}

async function verificationRow(tx: Tx, state: (typeof employerVerification.states)[number], event: string) {
  const [applicant] = await tx.select().from(users).where(eq(users.login, '13800000009'));
  await tx.insert(uploads).values({ id: 'u'.repeat(22), purpose: 'employer_authorization', storageKey: 'k', mime: 'application/pdf', byteSize: 1, originalName: 'a.pdf', uploadedBy: applicant!.id });
  const [row] = await tx
    .insert(employerVerifications)
    .values({
      userId: applicant!.id, state, method: event === 'approve' && state === 'submitted' ? 'documents' : 'remittance', applicantName: '招聘专员', unitName: '鹏城贸易有限公司',
      uscc: '91440300MA5F30003X', usccCheckPassed: false, employerType: '39', industry: '31', region: '440300', address: '深圳市福田区深南大道 300 号',
      contactName: '招聘专员', contactMobile: '13800000009', authorizationUploadId: 'u'.repeat(22), bankAccount: '6222000011112222', bankName: '某银行深圳分行',
    })
    .returning();
  return row!;
}

/** A termination of a signed online agreement, in `state`; the agreement's party fields copied as the use cases do. */
async function terminationRow(tx: Tx, state: (typeof termination.states)[number]) {
  const a = await onlineRow(tx, 'signed');
  const [row] = await tx
    .insert(terminations)
    .values({
      agreementId: a.id, path: state.startsWith('letter') || state === 'returned' ? 'letter' : 'online', initiator: state === 'awaiting_graduate' ? 'employer' : 'graduate', state,
      graduateId: a.graduateId, employerId: a.employerId, schoolId: a.schoolId, departmentId: a.departmentId, cohort: a.cohort, requestedBy: (await tx.select().from(users).where(eq(users.graduateId, a.graduateId)))[0]!.id, reason: '测试原因',
    })
    .returning();
  return row!;
}

async function destinationRow(tx: Tx, state: (typeof destinationRegistration.states)[number], event: string) {
  const [u] = await tx.select().from(users).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
  const [g] = await tx.select().from(graduates).where(eq(graduates.id, u!.graduateId!));
  const [row] = await tx
    .insert(destinationRegistrations)
    .values({ state, graduateId: g!.id, schoolId: g!.schoolId, departmentId: g!.departmentId, cohort: g!.cohort, type: 'awaiting_work', code: '70', details: { note: null } })
    .returning();
  if (event === 'withdraw') await tx.insert(events).values({ actorRole: 'student', subjectType: 'destination', subjectId: String(row!.id), action: 'destination.submit', toState: state });
  return row!;
}

const FACTORIES: Record<string, (tx: Tx, state: string, event: string) => Promise<{ id: number; state: string }>> = {
  online_signing: (tx, state) => onlineRow(tx, state as Agreement['state']),
  offline_signing: (tx, state, event) => applicationRow(tx, 'offline', state as Agreement['state'], event),
  paper_registration: (tx, state, event) => applicationRow(tx, 'registered', state as Agreement['state'], event),
  employer_verification: (tx, state, event) => verificationRow(tx, state as (typeof employerVerification.states)[number], event),
  termination: (tx, state) => terminationRow(tx, state as (typeof termination.states)[number]),
  destination_registration: (tx, state, event) => destinationRow(tx, state as (typeof destinationRegistration.states)[number], event),
};

for (const [name, wf] of WORKFLOWS) {
  test(`${name}: each event fires from each of its states for its role only, and for no other role, the system or a link`, async () => {
    const actors = await actorsByRole();
    const tried: string[] = [];
    for (const [event, spec] of Object.entries(wf.events)) {
      for (const t of spec.transitions) {
        for (const role of [...ROLES, 'system', 'link'] as FireActor[]) {
          const outcome = await d.db
            .transaction(async (tx) => {
              const row = await FACTORIES[wf.name]!(tx, t.from, event);
              const to = await fire(tx, wf, { actor: actors[role], ip: null }, row, event, { reason: '测试原因', viaLink: role === 'link' }).then(
                (s) => ({ ok: true as const, s }),
                (e: unknown) => ({ ok: false as const, e }),
              );
              throw Object.assign(ROLLBACK, { outcome: to });
            })
            .catch((e: { outcome?: { ok: boolean; s?: string; e?: unknown } }) => {
              if (!e.outcome) throw e;
              return e.outcome;
            });
          const label = `${event} from ${t.from} by ${role}`;
          const mayFire = spec.transitions.filter((u) => u.from === t.from).map((u) => u.by);
          if (mayFire.includes(role)) {
            assert.ok(outcome.ok, `${label} should fire: ${String(outcome.e)}`);
            assert.ok(spec.transitions.some((u) => u.from === t.from && u.by === role && targetsOf(u.to).includes(outcome.s as never)), `${label} led to ${outcome.s}`);
          } else {
            assert.not.ok(outcome.ok, `${label} should be refused`);
            assert.ok(outcome.e instanceof DomainError && outcome.e.code === 'illegal_transition', `${label}: ${String(outcome.e)}`);
          }
          tried.push(label);
        }
      }
    }
    assert.ok(tried.length >= 7 * Object.keys(wf.events).length);
  });
}

test("S6 a review's pass stamps signed_at in the state's own update; a department's approval and the offline agreement review's pass do not", async () => {
  const actors = await actorsByRole();
  const now = new Date('2026-06-01T02:03:04Z');
  const seen: string[] = [];
  for (const [wf] of AGREEMENT_TABLES) {
    for (const t of wf.events.approve!.transitions) {
      const after = await d.db
        .transaction(async (tx) => {
          const row = await FACTORIES[wf.name]!(tx, t.from, 'approve');
          const to = await fire(tx, wf as AnyWorkflow, { actor: actors[t.by], ip: null }, row, 'approve', { now });
          const [a] = await tx.select({ signedAt: agreements.signedAt, updatedAt: agreements.updatedAt }).from(agreements).where(eq(agreements.id, row.id));
          throw Object.assign(ROLLBACK, { outcome: { to, ...a! } });
        })
        .catch((e: { outcome?: { to: string; signedAt: Date | null; updatedAt: Date } }) => {
          if (!e.outcome) throw e;
          return e.outcome;
        });
      seen.push(`${wf.name} ${t.from} → ${after.to}`);
      assert.equal(after.updatedAt, now);
      if (after.to === 'signed') assert.equal(after.signedAt, now, `${wf.name}: ${t.from} → signed`);
      else assert.is(after.signedAt, null, `${wf.name}: ${t.from} → ${after.to}`);
    }
  }
  assert.ok(seen.filter((s) => s.endsWith('→ signed')).length >= 3 && seen.some((s) => !s.endsWith('→ signed')), seen.join('; '));
});

// ---------------------------------------------------------------------------------------------
// The kernel's own promises, on a table of the real schema.

const toy = (effect: () => Promise<void>) =>
  defineWorkflow({
    name: 'toy',
    subject: 'agreement',
    action: 'toy',
    table: agreements,
    id: agreements.id,
    states: ['invited', 'declined', 'expired'] as const,
    groups: { terminal: ['declined', 'expired'] },
    labels: { graduate: { invited: '等待', declined: '拒绝', expired: '逾期' } },
    creations: {},
    events: {
      decline: {
        transitions: [{ from: 'invited', to: 'declined', by: 'student' }],
        guards: [{ rule: 'X3', allows: (ctx) => (ctx.row as unknown as Agreement).deadline! > ctx.now, refusal: '已过期', otherwise: 'expire' }],
        settledIn: ['declined'],
        effects: [effect],
      },
      expire: { transitions: [{ from: 'invited', to: 'expired', by: 'system' }] },
    },
    eventLabels: { decline: '拒绝', expire: '逾期' },
    refusal: '不能操作',
  } as const);

test('X1 an effect that fails takes the state change and its event row with it', async () => {
  const actors = await actorsByRole();
  const row = await d.db.transaction((tx) => onlineRow(tx, 'invited'));
  const failing = toy(async () => {
    throw new Error('effect failed');
  });
  await d.db.transaction((tx) => fire(tx, failing, { actor: actors.student, ip: null }, row as never, 'decline')).then(
    () => assert.unreachable('the effect threw'),
    (e: Error) => assert.is(e.message, 'effect failed'),
  );
  assert.is((await d.db.select().from(agreements).where(eq(agreements.id, row.id)))[0]!.state, 'invited');
  assert.equal(await d.db.select().from(events).where(and(eq(events.subjectId, String(row.id)), eq(events.action, 'toy.decline'))), []);
  await d.db.delete(agreements).where(eq(agreements.id, row.id));
});

test('X3 a refused guard with a fallback fires the fallback as the system; a repeat of a settled event is answered as done (X2)', async () => {
  const actors = await actorsByRole();
  const ok = toy(async () => {});
  const row = await d.db.transaction((tx) => onlineRow(tx, 'invited'));
  const late = new Date(row.deadline!.getTime() + 1);
  assert.is(await d.db.transaction((tx) => fire(tx, ok, { actor: actors.student, ip: null }, row as never, 'decline', { now: late })), 'expired');
  const [expired] = await d.db.select().from(events).where(and(eq(events.subjectId, String(row.id)), eq(events.action, 'toy.expire')));
  assert.equal([expired!.fromState, expired!.toState, expired!.actorRole], ['invited', 'expired', 'system']);

  const other = await d.db.transaction(async (tx) => {
    await tx.delete(agreements).where(eq(agreements.id, row.id));
    return onlineRow(tx, 'invited');
  });
  assert.is(await d.db.transaction((tx) => fire(tx, ok, { actor: actors.student, ip: null }, other as never, 'decline')), 'declined');
  const declined = (await d.db.select().from(agreements).where(eq(agreements.id, other.id)))[0]!;
  assert.is(await d.db.transaction((tx) => fire(tx, ok, { actor: actors.student, ip: null }, declined as never, 'decline')), 'declined');
  assert.is((await d.db.select().from(events).where(and(eq(events.subjectId, String(other.id)), eq(events.action, 'toy.decline')))).length, 1);
  await d.db.transaction((tx) => fire(tx, ok, { actor: actors.employer, ip: null }, declined as never, 'decline')).then(
    () => assert.unreachable('a repeat is answered as done only to whoever may fire the event'),
    (e: DomainError) => assert.is(e.code, 'illegal_transition'),
  );
});

test('availableActions: what the viewer may do now, or the first guard\'s refusal with its rule', async () => {
  const actors = await actorsByRole();
  const row = await d.db.transaction((tx) => onlineRow(tx, 'invited'));
  const now = await availableActions(d.db, onlineSigning, row, actors.student!);
  assert.equal(now.accept, { allowed: true });
  assert.equal(now.decline, { allowed: true });
  const late = await availableActions(d.db, onlineSigning, row, actors.student!, new Date(row.deadline!.getTime()));
  assert.equal(late.accept, { allowed: false, refusal: '已超过应约截止时间，该签约邀请已失效', rule: 'X3' });
  assert.equal(await availableActions(d.db, onlineSigning, row, actors.employer!), {}, 'the unit has nothing to do on a pending invitation');
  await d.db.delete(agreements).where(eq(agreements.id, row.id));
});

test('G6 creation: a second pending invitation of the same unit and graduate is answered as a conflict, not an error', async () => {
  const actors = await actorsByRole();
  const first = await d.db.transaction((tx) => onlineRow(tx, 'invited'));
  const { id: _id, state: _state, createdAt: _c, updatedAt: _u, ...values } = first;
  const again = await d.db.transaction((tx) => create(tx, onlineSigning, { actor: actors.employer, ip: null }, 'invite', values, { skipOnConflict: true }));
  assert.equal(again, { conflict: true });
  await d.db.delete(agreements).where(eq(agreements.id, first.id));
});

test.run();
