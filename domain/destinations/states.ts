// 去向登记 (DESIGN.md section 5): the states of a destination registration, shared by the pgEnum,
// the table (workflow.ts) and every label map.

export const DESTINATION_STATES = ['department_review', 'school_review', 'returned', 'withdrawn', 'approved', 'rejected', 'voided'] as const;
export type DestinationState = (typeof DESTINATION_STATES)[number];

/**
 * A registration still standing (G10: one per graduate, by a partial unique index): under review,
 * back with the graduate, or approved. Rejected and voided ones are the record.
 */
export const LIVE_DESTINATION_STATES = ['department_review', 'school_review', 'returned', 'withdrawn', 'approved'] as const satisfies readonly DestinationState[];

/** How a registration was voided: by the graduate (作废, G10), or by a signing that superseded it. */
export const VOID_CAUSES = ['graduate', 'signing'] as const;
export type VoidCause = (typeof VOID_CAUSES)[number];

/** Approved: the registration is the graduate's destination (the projection reads it). */
export const APPROVED_DESTINATION_STATES = ['approved'] as const satisfies readonly DestinationState[];
