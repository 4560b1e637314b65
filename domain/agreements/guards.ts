import { and, eq, inArray, ne } from 'drizzle-orm';
import { agreements, graduates } from '../../db/schema/index.ts';
import { isSignableTrainingMode } from '../codes/tables.ts';
import { KNOWN, type FireContext, type Guard } from '../workflow/kernel.ts';
import { ACTIVE_AGREEMENT_STATES } from './states.ts';

// Guards every kind of agreement shares.

type Row = { graduateId: number; id?: number };

type KnownRoster = { trainingMode: string; removedAt: Date | null };

/** The graduate's roster row, read once per fire for the guards that need it; a caller may know it already. */
export const knownRoster = (ctx: FireContext<{ graduateId: number }>): Promise<KnownRoster | null> =>
  ctx.memo(KNOWN.roster, async () => (await ctx.db.select({ trainingMode: graduates.trainingMode, removedAt: graduates.removedAt }).from(graduates).where(eq(graduates.id, ctx.row.graduateId)))[0] ?? null);

/** The state of the graduate's active agreement (G4), or null, read once per fire; a caller may know it already. */
export const knownActiveAgreement = (ctx: FireContext<{ graduateId: number }>): Promise<string | null> => ctx.memo(KNOWN.activeAgreement, () => activeAgreementState(ctx, undefined));

/** The state of an active agreement of the graduate other than `except`, or null. */
const activeAgreementState = (ctx: FireContext<{ graduateId: number }>, except: number | undefined): Promise<string | null> =>
  ctx.db
    .select({ state: agreements.state })
    .from(agreements)
    .where(and(eq(agreements.graduateId, ctx.row.graduateId), inArray(agreements.state, [...ACTIVE_AGREEMENT_STATES]), except === undefined ? undefined : ne(agreements.id, except)))
    .limit(1)
    .then((r) => r[0]?.state ?? null);

/** G4 (X4 also by the partial unique index): no other agreement or application of the graduate is active, whatever its kind. */
export function noOtherActiveAgreement<R extends Row>(refusal: string): Guard<R> {
  return {
    rule: 'G4',
    // A new item (no id yet) asks what a caller may know already: the graduate's active agreement.
    allows: async (ctx) => (await (ctx.row.id === undefined ? knownActiveAgreement(ctx) : activeAgreementState(ctx, ctx.row.id))) === null,
    refusal,
    code: 'conflict',
  };
}

/** G2/G9: the graduate is on the eligible roster and may sign (not 定向/委培 不可网签). */
export function graduateMaySign<R extends Row>(): Guard<R> {
  return {
    rule: 'G9',
    allows: async (ctx) => {
      const g = await knownRoster(ctx);
      return !!g && g.removedAt === null && isSignableTrainingMode(g.trainingMode);
    },
    refusal: '你的培养方式为定向/委培（不可网签）或你已不在毕业生名单中，不能办理签约',
    code: 'forbidden',
  };
}
