import { and, asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { builtOnce, isUniqueViolation, type Db, type DbOrTx } from '../../db/client.ts';
import { employers, users, warningMarks } from '../../db/schema/index.ts';
import type { Actor } from '../auth/sessions.ts';
import { DomainError, forbidden, notFound } from '../errors.ts';
import { writeEvent, type EventSource } from '../events.ts';
import { parseForm } from '../forms.ts';
import { NATIONWIDE_AFTER_SCHOOLS, WARNING_CATEGORIES, WARNING_CATEGORY_LABELS, type WarningCategory } from './warning-categories.ts';

// S10 预警单位管理: school users (not departments) mark units; the mark shows to the school's
// graduates and reviewers wherever unit information is filled or viewed, and to everyone once
// five or more schools marked the same unit.
type Source = EventSource & { actor: Actor };

function markingSchool(actor: Actor): number {
  if (actor.role !== 'school' || actor.schoolId === null) throw forbidden();
  return actor.schoolId;
}

export const markForm = z.object({
  uscc: z.string().trim().toUpperCase().min(1, { error: '请输入统一社会信用代码' }).max(18),
  category: z.enum(WARNING_CATEGORIES, { error: '请选择预警类型' }),
  note: z.string().trim().max(200, { error: '不超过 200 个字' }).optional().transform((v) => v || null),
});

export async function markWarningUnit(db: Db, source: Source, input: unknown): Promise<void> {
  const schoolId = markingSchool(source.actor);
  const form = parseForm(markForm, input);
  const [unit] = await db.select({ id: employers.id }).from(employers).where(eq(employers.uscc, form.uscc));
  if (!unit) throw new DomainError('invalid', '未找到该统一社会信用代码的单位', { uscc: '未找到该统一社会信用代码的单位' });
  try {
    await db.transaction(async (tx) => {
      await tx.insert(warningMarks).values({ schoolId, employerId: unit.id, category: form.category, note: form.note, createdBy: source.actor.userId });
      await writeEvent(tx, source, { subjectType: 'employer', subjectId: unit.id, schoolId, action: 'warning.marked', toState: form.category, reason: form.note });
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new DomainError('conflict', '本校已将该单位标记为预警单位', { uscc: '本校已将该单位标记为预警单位' });
    throw e;
  }
}

export async function unmarkWarningUnit(db: Db, source: Source, id: number): Promise<void> {
  const schoolId = markingSchool(source.actor);
  await db.transaction(async (tx) => {
    const [row] = await tx.delete(warningMarks).where(and(eq(warningMarks.id, id), eq(warningMarks.schoolId, schoolId))).returning();
    if (!row) throw notFound('预警单位');
    await writeEvent(tx, source, { subjectType: 'employer', subjectId: row.employerId, schoolId, action: 'warning.removed', fromState: row.category });
  });
}

export async function listWarningUnits(db: DbOrTx, actor: Actor) {
  const schoolId = markingSchool(actor);
  return db
    .select({ id: warningMarks.id, category: warningMarks.category, note: warningMarks.note, createdAt: warningMarks.createdAt, unit: employers.name, uscc: employers.uscc, by: users.displayName })
    .from(warningMarks)
    .innerJoin(employers, eq(employers.id, warningMarks.employerId))
    .innerJoin(users, eq(users.id, warningMarks.createdBy))
    .where(eq(warningMarks.schoolId, schoolId))
    .orderBy(asc(warningMarks.id));
}

/** A unit's marks, the query built once: every review page and invitation reads them (issue 14). */
const unitMarks = builtOnce((db) =>
  db.select({ schoolId: warningMarks.schoolId, category: warningMarks.category }).from(warningMarks).where(eq(warningMarks.employerId, sql.placeholder('employerId'))).prepare('unit_marks'),
);

/** The warning a viewer sees for a unit: its own school's mark, or the nationwide one (≥ 5 schools); else null. */
export async function warningFor(db: DbOrTx, viewerSchoolId: number | null, employerId: number): Promise<string | null> {
  const marks = await unitMarks(db).execute({ employerId });
  const own = marks.find((m) => m.schoolId === viewerSchoolId);
  if (own) return WARNING_CATEGORY_LABELS[own.category];
  if (new Set(marks.map((m) => m.schoolId)).size < NATIONWIDE_AFTER_SCHOOLS) return null;
  const categories = [...new Set(marks.map((m) => WARNING_CATEGORY_LABELS[m.category as WarningCategory]))];
  return `${categories.join('、')}（${NATIONWIDE_AFTER_SCHOOLS} 所以上学校标记）`;
}

