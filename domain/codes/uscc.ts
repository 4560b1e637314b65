// 统一社会信用代码, GB 32100-2015.

const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;

export function usccCheckChar(first17: string): string {
  const values = [...first17.toUpperCase()].map((c) => ALPHABET.indexOf(c));
  if (values.length !== 17 || values.includes(-1)) {
    throw new RangeError(`expected 17 characters from ${ALPHABET}, got ${JSON.stringify(first17)}`);
  }
  const sum = WEIGHTS.reduce((acc, w, i) => acc + (values[i] as number) * w, 0);
  return ALPHABET[(31 - (sum % 31)) % 31] as string;
}

// Some codes in real use fail the check, so callers get both facts and decide
// (employers: warn and flag for manual review rather than reject).
export function checkUscc(code: string): { format: boolean; checkDigit: boolean } {
  const value = code.toUpperCase();
  const format = /^[0-9A-HJ-NPQRTUWXY]{18}$/.test(value);
  return { format, checkDigit: format && usccCheckChar(value.slice(0, 17)) === value[17] };
}

export function makeUscc(first17: string): string {
  return first17.toUpperCase() + usccCheckChar(first17);
}
