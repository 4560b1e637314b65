import { and, eq, type SQL } from 'drizzle-orm';
import { agreements } from '../../db/schema/index.ts';
import type { Actor } from '../auth/sessions.ts';
import { forbidden } from '../errors.ts';

// Which agreements an actor may see (DESIGN.md section 4): the unit's own, the graduate's own,
// the school's, the department's. Everything else is "not found".
export function agreementScope(actor: Actor): SQL {
  switch (actor.role) {
    case 'employer':
      if (actor.employerId !== null && actor.employerVerified) return eq(agreements.employerId, actor.employerId);
      break;
    case 'student':
      if (actor.graduateId !== null) return eq(agreements.graduateId, actor.graduateId);
      break;
    case 'school':
      if (actor.schoolId !== null) return eq(agreements.schoolId, actor.schoolId);
      break;
    case 'department':
      if (actor.schoolId !== null && actor.departmentId !== null) return and(eq(agreements.schoolId, actor.schoolId), eq(agreements.departmentId, actor.departmentId))!;
      break;
  }
  throw forbidden();
}
