import type { agreements } from '../../db/schema/index.ts';

/** An agreement row, of any kind. */
export type Agreement = typeof agreements.$inferSelect;
/** What brings an agreement into being; the kernel sets the state. */
export type NewAgreement = Omit<typeof agreements.$inferInsert, 'state'>;
