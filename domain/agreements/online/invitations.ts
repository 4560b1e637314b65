import { and, eq, inArray, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { isUniqueViolation, type Db, type DbOrTx } from '../../../db/client.ts';
import { employerArchives, employers, favourites, graduates, invitationDrafts } from '../../../db/schema/index.ts';
import type { Actor } from '../../auth/sessions.ts';
import { isCode, POSITION_CATEGORIES } from '../../codes/tables.ts';
import { archiveForm, verifiedUnitOf } from '../../employers/unit.ts';
import { DomainError } from '../../errors.ts';
import { writeEvent, type EventSource } from '../../events.ts';
import { parseForm } from '../../forms.ts';
import { create } from '../../workflow/kernel.ts';
import { responseDeadline } from '../deadline.ts';
import { snapshotOfUnit } from '../snapshots.ts';
import { ARCHIVE_MODES } from '../states.ts';
import { onlineSigning } from './workflow.ts';

// 签约邀请函 (E5, G3, G6): a verified unit (E3) invites one or many of its favourites at once.
type Source = EventSource & { actor: Actor };

const optional = (max: number) => z.string().trim().max(max, { error: `不超过 ${max} 个字` }).optional().transform((v) => v || null);
const MOBILE = /^1\d{10}$/;

export const invitationForm = z
  .object({
    positionCategory: z.string().refine((v) => isCode(POSITION_CATEGORIES, v), { error: '请选择职位类别' }),
    positionName: z.string().trim().min(1, { error: '请填写岗位名称' }).max(50, { error: '不超过 50 个字' }),
    validityDays: z.coerce.number({ error: '请填写应约有效期' }).int({ error: '应约有效期为整数天' }).min(1, { error: '应约有效期为 1 至 30 天' }).max(30, { error: '应约有效期为 1 至 30 天' }),
    contactName: z.string().trim().min(2, { error: '请填写签约联系人' }).max(30, { error: '不超过 30 个字' }),
    contactPhone: z.string().trim().regex(/^(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$/, { error: '请填写手机号或带区号的固定电话' }),
    contactMobile: z.union([z.literal(''), z.string().trim().regex(MOBILE, { error: '请填写 11 位手机号' })]).optional().transform((v) => v || null),
    contactEmail: z.union([z.literal(''), z.email({ error: '电子邮箱格式不正确' })]).optional().transform((v) => v || null),
    probation: optional(20),
    probationPay: optional(20),
    regularPay: optional(20),
    penalty: optional(50),
    reportPlace: optional(100),
    reportDeadline: z.union([z.literal(''), z.iso.date({ error: '报到期限格式为 YYYY-MM-DD' })]).optional().transform((v) => v || null),
    workPlace: z.string().trim().min(2, { error: '请填写实际工作地点' }).max(100, { error: '不超过 100 个字' }),
    archiveMode: z.enum(ARCHIVE_MODES, { error: '请选择单位是否解决户档' }),
    supplement: z.string().trim().max(1000, { error: '协议补充内容不超过 1000 字' }).optional().transform((v) => v || null),
  })
  .passthrough();

export type InvitationResult = { invited: Array<{ id: number; name: string }>; skipped: Array<{ name: string; reason: string }> };

type Unit = typeof employers.$inferSelect;

/** The letter to start from: the unit's 联系人手机 and 联系人邮箱, then its last letter (E5), with the 户档 details from 户档信息管理 (E7). */
export async function invitationDefaults(db: DbOrTx, actor: Actor): Promise<Record<string, string>> {
  const employerId = verifiedUnitOf(actor);
  const [[unit], [draft], [archive]] = await Promise.all([
    db.select().from(employers).where(eq(employers.id, employerId)),
    db.select().from(invitationDrafts).where(eq(invitationDrafts.employerId, employerId)),
    db.select().from(employerArchives).where(eq(employerArchives.employerId, employerId)),
  ]);
  const fromArchive = archive ? Object.fromEntries(Object.keys(archiveForm.shape).map((k) => [k, String(archive[k as keyof typeof archive] ?? '')])) : {};
  const contacts = Object.fromEntries((['contactMobile', 'contactEmail'] as const).flatMap((k) => (unit?.[k] ? [[k, unit[k]!]] : [])));
  return { validityDays: '3', archiveMode: 'none', ...contacts, ...draft?.values, ...fromArchive };
}

/**
 * The unit as the agreement will show it (DESIGN.md section 7): its registered information with the
 * letter's contact — 单位联系人 and 联系人电话 are the 签约联系人; 联系人手机 and 联系人邮箱 are the
 * letter's, else the unit's. A contact row the agreement needs and nobody gave is asked for on the letter.
 */
function unitOnAgreement(unit: Unit, letter: z.infer<typeof invitationForm>) {
  const contactMobile = letter.contactMobile ?? unit.contactMobile ?? (MOBILE.test(letter.contactPhone) ? letter.contactPhone : null);
  const contactEmail = letter.contactEmail ?? unit.contactEmail;
  const missing: Record<string, string> = {};
  if (!contactMobile) missing.contactMobile = '请填写联系人手机（就业协议书需要）';
  if (!contactEmail) missing.contactEmail = '请填写联系人邮箱（就业协议书需要）';
  if (Object.keys(missing).length) throw new DomainError('invalid', '请检查下面标出的内容', missing);
  return { ...snapshotOfUnit(unit), contactName: letter.contactName, contactPhone: letter.contactPhone, contactMobile, contactEmail };
}

/** 发送邀请函 to the chosen favourites; a graduate this unit already invited (pending, G6) or whose school has online signing off (S4) is skipped and named. */
export async function sendInvitations(db: Db, source: Source, favouriteIds: number[], input: Record<string, string>, now = new Date()): Promise<InvitationResult> {
  const employerId = verifiedUnitOf(source.actor);
  if (favouriteIds.length === 0) throw new DomainError('invalid', '请先在学生收藏夹中选择要邀请的学生');
  const form = parseForm(invitationForm.strip(), input);
  const archive = form.archiveMode === 'none' ? null : parseForm(archiveForm, input);
  const { contactMobile: _mobile, contactEmail: _email, ...letter } = form;
  const deadline = responseDeadline(now, letter.validityDays);
  return db.transaction(async (tx) => {
    const [unit] = await tx.select().from(employers).where(eq(employers.id, employerId));
    const unitSnapshot = unitOnAgreement(unit!, form);
    const chosen = await tx
      .select({ graduate: graduates })
      .from(favourites)
      .innerJoin(graduates, eq(graduates.id, favourites.graduateId))
      .where(and(eq(favourites.employerId, employerId), inArray(favourites.id, favouriteIds), isNull(favourites.invalidatedAt), isNull(graduates.removedAt)));
    const result: InvitationResult = { invited: [], skipped: [] };
    for (const { graduate } of chosen) {
      const created = await create(
        tx,
        onlineSigning,
        source,
        'invite',
        {
          kind: 'online',
          employerId,
          graduateId: graduate.id,
          schoolId: graduate.schoolId,
          departmentId: graduate.departmentId,
          cohort: graduate.cohort,
          createdAt: now,
          invitedBy: source.actor.userId,
          invitedAt: now,
          ...letter,
          deadline,
          archive: archive ?? null,
          unitSnapshot,
        },
        { skipOnConflict: true, now },
      );
      if ('id' in created) result.invited.push({ id: created.id, name: graduate.name });
      else result.skipped.push({ name: graduate.name, reason: 'refused' in created ? created.refused : '该学生的签约邀请尚在应约有效期内，不能重复发起' });
    }
    if (result.invited.length > 0) {
      const values = Object.fromEntries(Object.entries({ ...form, contactMobile: unitSnapshot.contactMobile, contactEmail: unitSnapshot.contactEmail, ...archive }).map(([k, v]) => [k, v === null ? '' : String(v)]));
      await tx.insert(invitationDrafts).values({ employerId, values }).onConflictDoUpdate({ target: invitationDrafts.employerId, set: { values, updatedAt: now } });
      // The first 户档 details written in a letter become the unit's 户档信息管理 record (E5, E7).
      if (archive) {
        const [saved] = await tx.insert(employerArchives).values({ employerId, ...archive, updatedBy: source.actor.userId }).onConflictDoNothing().returning({ employerId: employerArchives.employerId });
        if (saved) await writeEvent(tx, source, { subjectType: 'employer_archive', subjectId: employerId, action: 'archive.created', data: Object.fromEntries(Object.entries(archive).map(([k, v]) => [k, { from: null, to: v }])) });
      }
    }
    return result;
  }).catch((e: unknown) => {
    if (isUniqueViolation(e)) throw new DomainError('conflict', '部分学生的签约邀请尚在应约有效期内，请刷新后重试');
    throw e;
  });
}
