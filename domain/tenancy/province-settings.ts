import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { provinces } from '../../db/schema/index.ts';
import type { Actor } from '../auth/sessions.ts';
import { forbidden, notFound } from '../errors.ts';
import { writeEvent, type EventSource } from '../events.ts';
import { parseForm } from '../forms.ts';
import { AGREEMENT_TYPES } from './agreement-types.ts';

// S3: the province chooses 两方协议 (鉴证) or 三方协议 (审核) for every school it has.
export const agreementTypeForm = z.object({ agreementType: z.enum(AGREEMENT_TYPES, { error: '请选择电子协议书类型' }) });

export async function setAgreementType(db: Db, source: EventSource & { actor: Actor }, input: unknown): Promise<boolean> {
  const provinceId = source.actor.provinceId;
  if (source.actor.role !== 'province' || provinceId === null) throw forbidden();
  const { agreementType } = parseForm(agreementTypeForm, input);
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(provinces).where(eq(provinces.id, provinceId)).for('update');
    if (!before) throw notFound('省份');
    if (before.agreementType === agreementType) return false;
    await tx.update(provinces).set({ agreementType }).where(eq(provinces.id, provinceId));
    await writeEvent(tx, source, {
      subjectType: 'province',
      subjectId: provinceId,
      action: 'province.agreement_type_changed',
      fromState: before.agreementType,
      toState: agreementType,
    });
    return true;
  });
}
