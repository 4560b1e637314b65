import { and, eq, ilike } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { agreementUnitNames } from '../../db/schema/index.ts';

/**
 * The school's agreements whose unit name matches a LIKE pattern (`{ id }` rows, for amongIds):
 * through agreement_unit_names' trigram index, which triggers keep with the agreements' unit snapshots.
 */
export const agreementsOfUnitsLike = (db: DbOrTx, schoolId: number, like: string) =>
  db
    .select({ id: agreementUnitNames.agreementId })
    .from(agreementUnitNames)
    .where(and(eq(agreementUnitNames.schoolId, schoolId), ilike(agreementUnitNames.name, like)));
