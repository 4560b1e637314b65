import { eq, sql } from 'drizzle-orm';
import { sentWithCommit, type DbOrTx, type Tx } from '../../db/client.ts';
import { graduateDestinations } from '../../db/schema/index.ts';
import { SIGNED_AGREEMENT_STATES, TERMINATED_AGREEMENT_STATES } from '../agreements/states.ts';
import type { Effect } from '../workflow/kernel.ts';
import { APPROVED_DESTINATION_STATES } from './states.ts';

// The graduate's current 毕业去向, the one figure statistics and the Ministry export are built on.
// One derivation (the rules below), kept as a projection (graduate_destinations)
// by every change that can move it, in that change's transaction; pages read the projection.
//
//   a signed agreement, of any kind        → 10 签就业协议形式就业
//   else an approved registration          → its code
//   else an agreement ended by termination → 70 待就业 (S8)
//   else                                   → null, 未登记

export type DestinationInputs = {
  agreements: ReadonlyArray<{ kind: string; state: string }>;
  registrations: ReadonlyArray<{ state: string; code: string }>;
};

export const SIGNED_DESTINATION = '10';
export const TERMINATED_DESTINATION = '70';

/** The derivation, from the graduate's rows (the property the projection is tested against). */
export function deriveDestination(rows: DestinationInputs, groups: { signed: readonly string[]; terminated: readonly string[] } = { signed: SIGNED_AGREEMENT_STATES, terminated: TERMINATED_AGREEMENT_STATES }): string | null {
  if (rows.agreements.some((a) => groups.signed.includes(a.state))) return SIGNED_DESTINATION;
  const registration = rows.registrations.find((r) => (APPROVED_DESTINATION_STATES as readonly string[]).includes(r.state));
  if (registration) return registration.code;
  if (rows.agreements.some((a) => groups.terminated.includes(a.state))) return TERMINATED_DESTINATION;
  return null;
}

// Advisory-lock space of "one graduate's destination": taken by whatever may create a registration,
// void one or recompute the projection, so a signing and a registration of the same graduate serialize
// (the order is always: an agreement's row, then this lock, then a registration's row).
const LOCK_SPACE = 1101;

/** The statement itself (not yet sent), so that refreshDestination can send it with its statement. */
export function lockDestination(tx: Tx, graduateId: number): PromiseLike<unknown> {
  return tx.execute(sql`select pg_advisory_xact_lock(${LOCK_SPACE}, ${graduateId})`);
}

const list = (states: readonly string[]) => sql.join(states.map((s) => sql`${s}`), sql`, `);

/** Recomputes the projection from the rows (under the lock, so a concurrent change is seen once it commits). */
export async function refreshDestination(tx: Tx, graduateId: number, now: Date): Promise<void> {
  const derived = sql`case
    when exists (select 1 from agreements a where a.graduate_id = ${graduateId} and a.state in (${list(SIGNED_AGREEMENT_STATES)})) then ${SIGNED_DESTINATION}
    else coalesce(
      (select r.code from destination_registrations r where r.graduate_id = ${graduateId} and r.state in (${list(APPROVED_DESTINATION_STATES)}) limit 1),
      case when exists (select 1 from agreements a where a.graduate_id = ${graduateId} and a.state in (${list(TERMINATED_AGREEMENT_STATES)})) then ${TERMINATED_DESTINATION} end)
    end`;
  // The lock and the statement go out together, and with the transaction's COMMIT when they are its
  // last (an agreement's or a registration's afterEach effect): PostgreSQL runs the statement once it
  // holds the lock, and nothing needs its answer (a later read in the transaction still runs after it).
  await sentWithCommit(
    tx,
    lockDestination(tx, graduateId),
    tx.execute(sql`insert into graduate_destinations (graduate_id, school_id, code, updated_at)
    select g.id, g.school_id, ${derived}, ${now.toISOString()}::timestamptz from graduates g where g.id = ${graduateId}
    on conflict (graduate_id) do update set code = excluded.code, updated_at = excluded.updated_at
    where graduate_destinations.code is distinct from excluded.code`),
  );
}

/** The graduate's current destination code as the projection holds it (null: 未登记). */
export async function currentDestination(db: DbOrTx, graduateId: number): Promise<string | null> {
  const [row] = await db.select({ code: graduateDestinations.code }).from(graduateDestinations).where(eq(graduateDestinations.graduateId, graduateId));
  return row?.code ?? null;
}

/** An agreement table's effect: the destination moves when an agreement enters or leaves one of these states (signed, terminated). */
export function refreshDestinationWhen(states: readonly string[]): Effect<string, { graduateId: number }> {
  return async (ctx) => {
    if ((ctx.from !== null && states.includes(ctx.from)) || states.includes(ctx.to)) await refreshDestination(ctx.tx, ctx.row.graduateId, ctx.now);
  };
}
