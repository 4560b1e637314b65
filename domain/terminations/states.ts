// 解约 (DESIGN.md section 5, school guide 7): one row per termination application of a signed
// agreement. Its table lives in domain/terminations/workflow.ts.

/** Who asked: the graduate (申请解约) or the unit (发起解约, online agreements only). */
export const TERMINATION_INITIATORS = ['graduate', 'employer'] as const;
export type TerminationInitiator = (typeof TERMINATION_INITIATORS)[number];
export const TERMINATION_INITIATOR_LABELS: Record<TerminationInitiator, string> = { graduate: '学生', employer: '单位' };

/**
 * Online agreements end by the other party's answer and a review; offline and 补登 agreements by a
 * 解约函 and a review (通过 / 退回修改 / 不通过).
 */
export const TERMINATION_PATHS = ['online', 'letter'] as const;
export type TerminationPath = (typeof TERMINATION_PATHS)[number];
export const TERMINATION_PATH_LABELS: Record<TerminationPath, string> = { online: '线上解约', letter: '线下解约' };

export const TERMINATION_STATES = [
  'awaiting_unit', 'awaiting_graduate', 'agreed_department_review', 'agreed_school_review',
  'letter_department_review', 'letter_school_review', 'returned', 'terminated', 'failed',
] as const;
export type TerminationState = (typeof TERMINATION_STATES)[number];

/** One termination under way per agreement (a partial unique index); the table's `open` group. */
export const OPEN_TERMINATION_STATES = ['awaiting_unit', 'awaiting_graduate', 'agreed_department_review', 'agreed_school_review', 'letter_department_review', 'letter_school_review', 'returned'] as const satisfies readonly TerminationState[];
