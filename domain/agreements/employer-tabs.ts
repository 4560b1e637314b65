import { and, eq, inArray, not, sql, type SQL } from 'drizzle-orm';
import { agreements, terminations } from '../../db/schema/index.ts';
import { OPEN_TERMINATION_STATES } from '../terminations/states.ts';
import { statesInGroup } from './kinds.ts';
import { onlineSigning } from './online/workflow.ts';
import type { AgreementState } from './states.ts';

// E6 签约/解约: the employer guide's tabs, each an agreement's latest status. The 解约 tabs read the
// agreement's terminations: one under way (解约中), the agreement ended (已解约), or the latest
// attempt failed while the agreement stays valid (解约失败).
const states = (list: readonly string[]) => inArray(agreements.state, list as AgreementState[]);
const openTermination = sql`exists (select 1 from ${terminations} where ${terminations.agreementId} = ${agreements.id} and ${inArray(terminations.state, [...OPEN_TERMINATION_STATES])})`;
const failedTermination = sql`exists (select 1 from ${terminations} where ${terminations.agreementId} = ${agreements.id} and ${eq(terminations.state, 'failed')})`;
const signed = states(statesInGroup('signed'));

export const EMPLOYER_TABS = {
  signing: { label: '签约中', where: states([...onlineSigning.groups.pending, ...onlineSigning.groups.inReview]) },
  signed: { label: '已签约', where: and(signed, not(openTermination), not(failedTermination))! },
  failed: { label: '签约失败', where: states(onlineSigning.groups.failed) },
  terminating: { label: '解约中', where: and(signed, openTermination)! },
  terminated: { label: '已解约', where: states(statesInGroup('terminated')) },
  terminationFailed: { label: '解约失败', where: and(signed, not(openTermination), failedTermination)! },
  invalid: { label: '失效', where: states(onlineSigning.groups.invalid) },
} as const satisfies Record<string, { label: string; where: SQL }>;
export type EmployerTab = keyof typeof EMPLOYER_TABS;
