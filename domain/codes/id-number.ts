// 公民身份号码, GB 11643-1999 (check character by ISO 7064 MOD 11-2).

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = '10X98765432';

export type IdNumberResult =
  | { ok: true; birthDate: string; sex: '1' | '2' }
  | { ok: false; reason: string };

export function idNumberCheckDigit(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError(`expected 17 digits, got ${JSON.stringify(first17)}`);
  const sum = WEIGHTS.reduce((acc, w, i) => acc + Number(first17[i]) * w, 0);
  return CHECK_CHARS[sum % 11] as string;
}

function isRealDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

// Birth dates are Beijing calendar dates, whatever the server's time zone.
// One formatter for all calls: each new Intl.DateTimeFormat holds native memory until a GC, and a
// 50,000-row roster import checks 50,000 ID numbers.
const CHINA_DAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' });

function todayInChina(): string {
  return CHINA_DAY.format(new Date());
}

export function parseIdNumber(id: string): IdNumberResult {
  const value = id.toUpperCase();
  if (!/^\d{17}[\dX]$/.test(value)) {
    return { ok: false, reason: '身份证号格式不正确：应为18位，前17位为数字，末位为数字或X' };
  }
  const y = Number(value.slice(6, 10));
  const m = Number(value.slice(10, 12));
  const d = Number(value.slice(12, 14));
  if (!isRealDate(y, m, d)) return { ok: false, reason: '身份证号中的出生日期不存在' };
  const birthDate = `${value.slice(6, 10)}-${value.slice(10, 12)}-${value.slice(12, 14)}`;
  if (y < 1900) return { ok: false, reason: '身份证号中的出生日期早于1900年' };
  if (birthDate > todayInChina()) return { ok: false, reason: '身份证号中的出生日期晚于今天' };
  if (idNumberCheckDigit(value.slice(0, 17)) !== value[17]) {
    return { ok: false, reason: '身份证号校验位错误，请核对是否输错' };
  }
  return { ok: true, birthDate, sex: Number(value[16]) % 2 === 1 ? '1' : '2' };
}

/** Text with every run that could be an ID number (18 characters, or an old 15-digit one) masked: for messages that quote what was uploaded. */
export function maskIdNumbersIn(text: string): string {
  return text.replace(/(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])/g, (m) => (m.length === 18 ? maskIdNumber(m) : `${m.slice(0, 6)}******${m.slice(12)}`));
}

export function maskIdNumber(id: string): string {
  // A malformed number is masked whole rather than partly revealed.
  if (id.length !== 18) return '*'.repeat(id.length);
  return `${id.slice(0, 6)}********${id.slice(14)}`;
}

export function makeIdNumber(regionCode6: string, birthDate: string, seq3: number, sex: '1' | '2'): string {
  if (!/^\d{6}$/.test(regionCode6)) throw new RangeError(`region code must be 6 digits: ${regionCode6}`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(birthDate)) throw new RangeError(`birth date must be YYYY-MM-DD: ${birthDate}`);
  if (!Number.isInteger(seq3) || seq3 < 0 || seq3 > 999) throw new RangeError(`sequence must be 0–999: ${seq3}`);
  const seq = sex === '1' ? seq3 | 1 : seq3 & ~1;
  const first17 = regionCode6 + birthDate.replaceAll('-', '') + String(seq).padStart(3, '0');
  return first17 + idNumberCheckDigit(first17);
}
