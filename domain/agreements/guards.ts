import { and, eq, inArray, isNull, ne } from 'drizzle-orm';
import { agreements, graduates } from '../../db/schema/index.ts';
import { isSignableTrainingMode } from '../codes/tables.ts';
import type { Guard } from '../workflow/kernel.ts';
import { ACTIVE_AGREEMENT_STATES } from './states.ts';

// Guards every kind of agreement shares.

type Row = { graduateId: number; id?: number };

/** G4 (X4 also by the partial unique index): no other agreement or application of the graduate is active, whatever its kind. */
export function noOtherActiveAgreement<R extends Row>(refusal: string): Guard<R> {
  return {
    rule: 'G4',
    allows: async (ctx) => {
      const [active] = await ctx.db
        .select({ id: agreements.id })
        .from(agreements)
        .where(and(eq(agreements.graduateId, ctx.row.graduateId), inArray(agreements.state, [...ACTIVE_AGREEMENT_STATES]), ctx.row.id === undefined ? undefined : ne(agreements.id, ctx.row.id)))
        .limit(1);
      return !active;
    },
    refusal,
    code: 'conflict',
  };
}

/** G2/G9: the graduate is on the eligible roster and may sign (not 定向/委培 不可网签). */
export function graduateMaySign<R extends Row>(): Guard<R> {
  return {
    rule: 'G9',
    allows: async (ctx) => {
      const [g] = await ctx.db.select({ trainingMode: graduates.trainingMode }).from(graduates).where(and(eq(graduates.id, ctx.row.graduateId), isNull(graduates.removedAt)));
      return !!g && isSignableTrainingMode(g.trainingMode);
    },
    refusal: '你的培养方式为定向/委培（不可网签）或你已不在毕业生名单中，不能办理签约',
    code: 'forbidden',
  };
}
