import { formatShanghai } from '../domain/agreements/deadline.ts';
import { ARCHIVE_MODE_LABELS, type ArchiveMode } from '../domain/agreements/states.ts';
import { labelOf, POSITION_CATEGORIES } from '../domain/codes/tables.ts';

// What views/agreement/_letter.eta shows of an agreement, for every party's page alike.
type Shown = { invitedAt: Date | null; deadline: Date | null; archiveMode: ArchiveMode; positionCategory: string };

export function letterView<A extends Shown>(a: A, stateLabel: string) {
  return {
    ...a,
    stateLabel,
    invitedText: a.invitedAt ? formatShanghai(a.invitedAt) : '',
    deadlineText: a.deadline ? formatShanghai(a.deadline) : '',
    archiveModeLabel: ARCHIVE_MODE_LABELS[a.archiveMode],
    positionCategoryLabel: labelOf(POSITION_CATEGORIES, a.positionCategory),
  };
}
