import { maskIdNumbersIn } from '../domain/codes/id-number.ts';

// Structured logs: one JSON object per line on stdout. Personal data and secrets are redacted here,
// at the logger, so no call site can forget (issue 13, defect 4): a database error carries its
// query's parameters, a failed import its rows, an error its message.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = Record<LogLevel, (msg: string, fields?: Record<string, unknown>) => void>;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Fields whose value is a secret whatever it looks like. */
const SECRET_KEY = /pass(word|wd)?|token|secret|cookie|authori[sz]ation|session|captcha|verification_?code|otp|api_?key|hmac|^(.*_)?keys?$/i;

/**
 * What is masked in any text of a line: ID numbers (18 digits, the last may be X; and the old 15),
 * mobile phone numbers, password hashes and bearer credentials. A mask keeps enough to tell records
 * apart in a support case (the region and the last digits), as the pages' masks do.
 */
const PATTERNS: Array<[RegExp, (m: string, ...groups: string[]) => string]> = [
  [/(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)/g, (_m, head, tail) => `${head}****${tail}`],
  [/\$argon2[a-z]*\$[^\s"',]+/g, () => '[redacted]'],
  [/(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi, (_m, scheme) => `${scheme} [redacted]`],
];

/** A line's text with personal data masked. */
export function redact(text: string): string {
  return PATTERNS.reduce((t, [re, to]) => t.replace(re, to as (m: string, ...g: string[]) => string), maskIdNumbersIn(text));
}

function withoutSecrets(value: unknown, depth = 0): unknown {
  // Strings are masked before JSON escapes them: in "行3:\n110105…" the escape's letter would
  // otherwise sit against the digits and hide them from the patterns.
  if (typeof value === 'string') return redact(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return redact(value.stack ?? String(value));
  if (Array.isArray(value)) return value.map((v) => withoutSecrets(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : withoutSecrets(v, depth + 1)]));
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stdout.write(l + '\n')): Logger {
  const at = (l: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[l] < ORDER[level]) return;
    write(redact(JSON.stringify({ time: new Date().toISOString(), level: l, msg: redact(msg), ...(withoutSecrets(fields ?? {}) as Record<string, unknown>) })));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
