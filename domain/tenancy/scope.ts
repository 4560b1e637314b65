import { and, eq, isNull, type SQL } from 'drizzle-orm';
import { graduates } from '../../db/schema/index.ts';
import type { Actor } from '../auth/sessions.ts';
import { forbidden } from '../errors.ts';

// The one place that says which roster rows an actor may see (DESIGN.md section 4). Schools and
// departments see the current roster; a graduate sees the own record even once removed.
export function graduateScope(actor: Actor): SQL {
  switch (actor.role) {
    case 'school':
      if (actor.schoolId === null) break;
      return and(eq(graduates.schoolId, actor.schoolId), isNull(graduates.removedAt))!;
    case 'department':
      if (actor.schoolId === null || actor.departmentId === null) break;
      return and(eq(graduates.schoolId, actor.schoolId), eq(graduates.departmentId, actor.departmentId), isNull(graduates.removedAt))!;
    case 'student':
      if (actor.graduateId === null) break;
      return eq(graduates.id, actor.graduateId);
  }
  throw forbidden();
}
