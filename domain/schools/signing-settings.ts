import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { schools } from '../../db/schema/index.ts';
import type { Actor } from '../auth/sessions.ts';
import { forbidden, notFound } from '../errors.ts';
import { writeEvent, type EventSource } from '../events.ts';
import { isTicked, parseForm } from '../forms.ts';
import { REVIEW_MODES } from '../tenancy/agreement-types.ts';

// S4 签约设置: the school's switches, review chain, termination limit, and the handler details
// printed on every agreement.
export const signingSettingsForm = z.object({
  onlineSigning: z.string().optional().transform(isTicked),
  paperRegistration: z.string().optional().transform(isTicked),
  destinationRegistration: z.string().optional().transform(isTicked),
  reviewMode: z.enum(REVIEW_MODES, { error: '请选择审核方式' }),
  maxTerminations: z
    .string({ error: '请填写 0 至 99 的整数' })
    .trim()
    .regex(/^\d{1,2}$/, { error: '请填写 0 至 99 的整数' })
    .transform(Number),
  handlerName: z.string().trim().min(1, { error: '请填写就业协议经办人' }).max(20, { error: '不超过 20 个字' }),
  handlerPhone: z
    .string()
    .trim()
    .regex(/^(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$/, { error: '请填写手机号或带区号的固定电话，如 010-62750001' }),
  address: z.string().trim().min(5, { error: '请填写学校通讯地址' }).max(100, { error: '不超过 100 个字' }),
  postcode: z.string().trim().regex(/^\d{6}$/, { error: '邮政编码为 6 位数字' }),
});
export type SigningSettings = z.infer<typeof signingSettingsForm>;

const SETTING_KEYS = Object.keys(signingSettingsForm.shape) as Array<keyof SigningSettings>;

function requireSchoolUser(actor: Actor): number {
  if (actor.role !== 'school' || actor.schoolId === null) throw forbidden();
  return actor.schoolId;
}

export async function getSigningSettings(db: Db, actor: Actor): Promise<SigningSettings & { name: string }> {
  if ((actor.role !== 'school' && actor.role !== 'department') || actor.schoolId === null) throw forbidden();
  const [s] = await db.select().from(schools).where(eq(schools.id, actor.schoolId));
  if (!s) throw notFound('学校');
  return {
    name: s.name,
    onlineSigning: s.onlineSigning,
    paperRegistration: s.paperRegistration,
    destinationRegistration: s.destinationRegistration,
    reviewMode: s.reviewMode,
    maxTerminations: s.maxTerminations,
    handlerName: s.handlerName ?? '',
    handlerPhone: s.handlerPhone ?? '',
    address: s.address ?? '',
    postcode: s.postcode ?? '',
  };
}

/** Saves the settings; returns the names of the settings that changed (all in one event row). */
export async function updateSigningSettings(db: Db, source: EventSource & { actor: Actor }, input: unknown): Promise<string[]> {
  const schoolId = requireSchoolUser(source.actor);
  const next = parseForm(signingSettingsForm, input);
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(schools).where(eq(schools.id, schoolId)).for('update');
    if (!before) throw notFound('学校');
    // Turning online signing on also turns on 补登 and 去向登记 (the guide: 默认同步开启).
    if (next.onlineSigning && !before.onlineSigning) {
      next.paperRegistration = true;
      next.destinationRegistration = true;
    }
    const changed = SETTING_KEYS.filter((k) => (before[k] ?? '') !== next[k]);
    if (changed.length === 0) return [];
    await tx.update(schools).set(next).where(eq(schools.id, schoolId));
    await writeEvent(tx, source, {
      subjectType: 'school',
      subjectId: schoolId,
      schoolId,
      action: 'school.signing_settings_changed',
      data: Object.fromEntries(changed.map((k) => [k, { from: before[k], to: next[k] }])),
    });
    return changed;
  });
}
