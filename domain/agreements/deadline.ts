// G3: 应约截止时间 is 00:00 (Asia/Shanghai, UTC+8 all year) of the day after the invitation day
// plus the validity days. Guide example: invited 2020-11-05 16:05, validity 1 day → 2020-11-07 00:00.
const SHANGHAI_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export function responseDeadline(invitedAt: Date, validityDays: number): Date {
  const localMidnight = Math.floor((invitedAt.getTime() + SHANGHAI_OFFSET_MS) / DAY_MS) * DAY_MS;
  return new Date(localMidnight + (validityDays + 1) * DAY_MS - SHANGHAI_OFFSET_MS);
}

/** A time as people in China read it, e.g. 2020-11-07 00:00. */
export function formatShanghai(at: Date): string {
  return new Date(at.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}
