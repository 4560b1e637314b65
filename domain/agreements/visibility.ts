import { and, eq, inArray, or, type Placeholder, type SQL } from 'drizzle-orm';
import { statesInGroup } from './kinds.ts';
import type { AgreementState } from './states.ts';
import { agreementCounts, agreements } from '../../db/schema/index.ts';
import type { Actor } from '../auth/sessions.ts';
import { forbidden } from '../errors.ts';

/** A verified unit's agreements (agreementScope's for an employer); `employerId` may be a prepared query's placeholder. */
export function unitAgreements(employerId: number | Placeholder): SQL {
  return and(eq(agreements.employerId, employerId), or(eq(agreements.kind, 'online'), inArray(agreements.state, statesInGroup('documented') as AgreementState[])))!;
}

/** A reviewer's counters in agreement_counts: the school's, or the department's (agreementScope's for them). */
export function countScope(actor: Actor): SQL {
  if (actor.role === 'school' && actor.schoolId !== null) return eq(agreementCounts.schoolId, actor.schoolId);
  if (actor.role === 'department' && actor.schoolId !== null && actor.departmentId !== null) return and(eq(agreementCounts.schoolId, actor.schoolId), eq(agreementCounts.departmentId, actor.departmentId))!;
  throw forbidden();
}

// Which agreements an actor may see (DESIGN.md section 4): the unit's own, the graduate's own,
// the school's, the department's. Everything else is "not found".
export function agreementScope(actor: Actor): SQL {
  switch (actor.role) {
    case 'employer':
      // A graduate's application names a platform unit by its USCC; the unit sees it once it is an
      // agreement (printed for its stamp, or signed), never while the school is still reviewing it.
      if (actor.employerId !== null && actor.employerVerified) {
        return unitAgreements(actor.employerId);
      }
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
