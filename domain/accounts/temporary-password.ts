import { randomInt } from 'node:crypto';

// A password an administrator hands over once (a new account, a reset); it meets passwordProblem.
const LOWER = 'abcdefghjkmnpqrstuvwxyz';
const UPPER = 'ABCDEFGHJKMNPQRSTUVWXYZ';
const DIGITS = '23456789';

export function temporaryPassword(): string {
  const pick = (set: string) => set[randomInt(set.length)]!;
  const chars = [pick(UPPER), pick(DIGITS), pick(LOWER), ...Array.from({ length: 9 }, () => pick(LOWER + UPPER + DIGITS)), '#'];
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}
