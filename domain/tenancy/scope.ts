import { and, eq, isNull, type Placeholder, type SQL } from 'drizzle-orm';
import { graduates } from '../../db/schema/index.ts';
import type { Actor } from '../auth/sessions.ts';
import { forbidden } from '../errors.ts';

/** A school's current roster, or one department's (graduateScope's for their users); the ids may be a prepared query's placeholders. */
export function currentRoster(schoolId: number | Placeholder, departmentId?: number | Placeholder): SQL {
  return and(eq(graduates.schoolId, schoolId), departmentId === undefined ? undefined : eq(graduates.departmentId, departmentId), isNull(graduates.removedAt))!;
}

// The one place that says which roster rows an actor may see (DESIGN.md section 4). Schools and
// departments see the current roster; a graduate sees the own record even once removed.
export function graduateScope(actor: Actor): SQL {
  switch (actor.role) {
    case 'school':
      if (actor.schoolId === null) break;
      return currentRoster(actor.schoolId);
    case 'department':
      if (actor.schoolId === null || actor.departmentId === null) break;
      return currentRoster(actor.schoolId, actor.departmentId);
    case 'student':
      if (actor.graduateId === null) break;
      return eq(graduates.id, actor.graduateId);
  }
  throw forbidden();
}
