import { eq } from 'drizzle-orm';
import { provinces, schools } from '../../db/schema/index.ts';
import { notFound } from '../errors.ts';
import { reviewVerb, type ReviewMode } from '../tenancy/agreement-types.ts';
import { KNOWN, type FireContext, type Guard } from '../workflow/kernel.ts';
import type { DbOrTx } from '../../db/client.ts';

// S4 as workflows read it: the item's school's switches and review mode, and the S3 verb of its
// province, looked up once per fire. Each signing path is governed by its own switch through one
// guard: 在线签约 (searching, inviting, accepting), 补登, 去向登记.

export type SchoolSettings = {
  reviewMode: ReviewMode;
  onlineSigning: boolean;
  paperRegistration: boolean;
  destinationRegistration: boolean;
  verb: '审核' | '鉴证';
};

export function schoolSettingsOf(ctx: FireContext<{ schoolId: number }>): Promise<SchoolSettings> {
  return ctx.memo(KNOWN.school, () => schoolSettings(ctx.db, ctx.row.schoolId));
}

/** A school's settings (S4) and its province's verb (S3). */
export async function schoolSettings(db: DbOrTx, schoolId: number): Promise<SchoolSettings> {
  const [s] = await db
    .select({ reviewMode: schools.reviewMode, onlineSigning: schools.onlineSigning, paperRegistration: schools.paperRegistration, destinationRegistration: schools.destinationRegistration, type: provinces.agreementType })
    .from(schools)
    .innerJoin(provinces, eq(provinces.id, schools.provinceId))
    .where(eq(schools.id, schoolId));
  if (!s) throw notFound('学校');
  return { reviewMode: s.reviewMode, onlineSigning: s.onlineSigning, paperRegistration: s.paperRegistration, destinationRegistration: s.destinationRegistration, verb: reviewVerb(s.type) };
}

export type SchoolSwitch = 'onlineSigning' | 'paperRegistration' | 'destinationRegistration';

/** S4: the path is open only while the item's school has its switch on. */
export function schoolSwitchOn<R extends { schoolId: number }>(which: SchoolSwitch, refusal: string): Guard<R> {
  return { rule: 'S4', allows: async (ctx) => (await schoolSettingsOf(ctx))[which], refusal };
}
