import { randomInt } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { agreementCounters } from '../../db/schema/index.ts';

// 协议编号 and 校验码 (DESIGN.md section 7), given when an agreement first exists as an agreement.

/** cohort + school code + a serial per school and cohort, e.g. 2026-10001-000042. */
export async function nextAgreementNumber(tx: Tx, schoolId: number, schoolCode: string, cohort: number): Promise<string> {
  const [row] = await tx
    .insert(agreementCounters)
    .values({ schoolId, cohort, last: 1 })
    .onConflictDoUpdate({ target: [agreementCounters.schoolId, agreementCounters.cohort], set: { last: sql`${agreementCounters.last} + 1` } })
    .returning({ last: agreementCounters.last });
  return `${cohort}-${schoolCode}-${String(row!.last).padStart(6, '0')}`;
}

const CODE_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/** The random code printed beside the number; both together open /verify. */
export function verificationCode(): string {
  return Array.from({ length: 8 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
}
