import { maskIdNumbersIn, parseIdNumber } from '../codes/id-number.ts';
import { resolveRegion } from '../codes/regions.ts';
import { plainHeader } from '../spreadsheets/headers.ts';
import { EDUCATION_LEVEL_SHORT, EDUCATION_LEVELS, ETHNICITIES, POLITICAL_STATUSES, SEXES, TRAINING_MODES, isCode } from '../codes/tables.ts';

// The one validator of a roster record (rule S5), shared by the roster import and the school's
// add/edit form: every field arrives as text and leaves as the graduates table stores it.

/** The 19 roster fields of rule S5 in the guide's order (the template's columns), with the Ministry's column codes. */
export const S5_FIELDS = [
  { key: 'examNo', header: '考生号', ministryCode: 'Ksh', required: false },
  { key: 'name', header: '姓名', ministryCode: 'Xm', required: true },
  { key: 'sex', header: '性别', ministryCode: 'Xbdm', required: true },
  { key: 'idNumber', header: '身份证号', ministryCode: 'Sfzh', required: true },
  { key: 'ethnicity', header: '民族', ministryCode: 'Mzdm', required: true },
  { key: 'politicalStatus', header: '政治面貌', ministryCode: 'Zzmmdm', required: true },
  { key: 'birthDate', header: '出生日期', ministryCode: 'Csrq', required: true },
  { key: 'school', header: '毕业院校', ministryCode: 'Yxdm', required: true },
  { key: 'departmentName', header: '院系', ministryCode: 'Szyx', required: true },
  { key: 'educationLevel', header: '学历层次', ministryCode: 'Xldm', required: true },
  { key: 'majorName', header: '专业', ministryCode: 'Zymc', required: true },
  { key: 'trainingMode', header: '培养方式', ministryCode: 'Pyfsdm', required: true },
  { key: 'originRegion', header: '生源所在地', ministryCode: 'Syszddm', required: true },
  { key: 'studentNo', header: '学号', ministryCode: 'Xh', required: true },
  { key: 'programYears', header: '学制', ministryCode: 'Xz', required: true },
  { key: 'enrolledOn', header: '入学时间', ministryCode: 'Rxsj', required: true },
  { key: 'graduatesOn', header: '毕业时间', ministryCode: 'Bysj', required: true },
  { key: 'phone', header: '手机号码', ministryCode: 'Sjhm', required: true },
  { key: 'email', header: '电子邮箱', ministryCode: 'Dzyx', required: false },
] as const;

/** Every column a roster record has: the S5 fields and the optional 专业代码. */
export const ROSTER_FIELDS = [...S5_FIELDS, { key: 'majorCode', header: '专业代码', ministryCode: 'Zydm', required: false }] as const;

export type RosterField = (typeof ROSTER_FIELDS)[number];
export type FieldKey = RosterField['key'];
export type RosterInput = Partial<Record<FieldKey, string>>;
export type RosterErrors = Partial<Record<FieldKey, string>>;

/** A valid record in the graduates table's terms (毕业院校 is checked, not stored: it is the school itself). */
export type NormalizedRecord = {
  examNo: string | null;
  name: string;
  sex: string;
  idNumber: string;
  ethnicity: string;
  politicalStatus: string;
  birthDate: string;
  departmentName: string;
  educationLevel: string;
  majorCode: string | null;
  majorName: string;
  trainingMode: string;
  originRegion: string;
  studentNo: string;
  programYears: string;
  enrolledOn: string;
  graduatesOn: string;
  phone: string;
  email: string | null;
};

export type RosterContext = { school: { id: number; code: string; name: string } };

/** `regionFromName`: the 生源所在地 was written as a name; which code it became, to say so. */
export type RosterValidation = { ok: true; record: NormalizedRecord; regionFromName?: { name: string; code: string } } | { ok: false; errors: RosterErrors };

/** Short names a code column also accepts (alias → code): the roster's 本科/硕士…, and the common forms of GB/T 4762 names. */
export const CODE_ALIASES = {
  sex: { 男性: '1', 女性: '2' } as Record<string, string>,
  politicalStatus: { 中共党员: '01', 党员: '01', 中共预备党员: '02', 预备党员: '02', 共青团员: '03', 团员: '03' } as Record<string, string>,
  educationLevel: {
    ...(Object.fromEntries(Object.entries(EDUCATION_LEVEL_SHORT).map(([code, short]) => [short, code])) as Record<string, string>),
    // The long forms 学籍 systems export.
    博士研究生: '01', 博士研究生毕业: '01', 硕士研究生: '11', 硕士研究生毕业: '11', 本科生: '31', 本科毕业: '31', 大学本科: '31', 专科生: '41', 专科毕业: '41', 大专: '41', 高职: '41', 高职专科: '41',
  } as Record<string, string>,
};

const TEXT_LIMITS = { name: 50, departmentName: 50, majorName: 100, studentNo: 30 } as const;

/** A code column accepts the code or its exact label; a one-digit number is a two-digit code whose leading zero Excel dropped. */
function resolveCode(table: Readonly<Record<string, string>>, value: string, aliases: Record<string, string> = {}): string | undefined {
  if (isCode(table, value)) return value;
  if (/^\d$/.test(value) && isCode(table, `0${value}`)) return `0${value}`;
  // Own properties only: a cell saying constructor or __proto__ is no code.
  return Object.keys(table).find((code) => table[code] === value) ?? (Object.hasOwn(aliases, value) ? aliases[value] : undefined);
}

function isRealDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

const pad2 = (n: string) => n.padStart(2, '0');

/** YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD or YYYYMMDD → YYYY-MM-DD; an error message otherwise. */
function parseDay(value: string, header: string): { day: string } | { error: string } {
  const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(value) ?? /^(\d{4})(\d{2})(\d{2})$/.exec(value) ?? /^(\d{4})年(\d{1,2})月(\d{1,2})日$/.exec(value);
  if (!m) return { error: `${header}格式不正确，应为YYYY-MM-DD（如 2004-03-01、2004/3/1、2004年3月1日）` };
  const [y = '', mo = '', d = ''] = m.slice(1);
  if (!isRealDate(Number(y), Number(mo), Number(d))) return { error: `${header}不存在：${value}` };
  return { day: `${y}-${pad2(mo)}-${pad2(d)}` };
}

/**
 * YYYY-MM, YYYYMM, YYYY/MM, YYYY.MM or a full date → YYYY-MM. A dotted month needs two digits:
 * Excel turns a typed 2022.10 into the number 2022.1, which must not read as January.
 */
function parseMonth(value: string, header: string): { month: string } | { error: string } {
  const m =
    /^(\d{4})[-/](\d{1,2})(?:[-/]\d{1,2})?$/.exec(value) ??
    /^(\d{4})\.(\d{1,2})(?:\.\d{1,2})?$/.exec(value) ??
    /^(\d{4})年(\d{1,2})月(?:\d{1,2}日)?$/.exec(value) ??
    /^(\d{4})(\d{2})(?:\d{2})?$/.exec(value);
  const year = Number(m?.[1]);
  const month = Number(m?.[2]);
  if (!m || month < 1 || month > 12 || year < 1950 || year > 2100) return { error: `${header}格式不正确，应为YYYY-MM（如 2022-09、2022/9、2022.09、202209、2022年9月）` };
  if (value.length > 7 && !('day' in parseDay(value, header))) return { error: `${header}不存在：${value}` };
  return { month: `${year}-${pad2(String(month))}` };
}

const HEADER_OF = Object.fromEntries(ROSTER_FIELDS.map((f) => [f.key, f.header])) as Record<FieldKey, string>;

export function validateRosterRecord(input: RosterInput, ctx: RosterContext): RosterValidation {
  const errors: RosterErrors = {};
  const value = Object.fromEntries(ROSTER_FIELDS.map((f) => [f.key, input[f.key]?.trim() ?? ''])) as Record<FieldKey, string>;
  for (const f of ROSTER_FIELDS) if (f.required && value[f.key] === '') errors[f.key] = '必填';
  const present = (key: FieldKey) => value[key] !== '' && errors[key] === undefined;
  // A misaligned column can put an ID number where a code belongs: quoted in a reason, it is masked.
  const shown = (v: string) => maskIdNumbersIn(v.length > 20 ? `${v.slice(0, 20)}…` : v);

  for (const key of ['name', 'departmentName', 'majorName', 'studentNo'] as const) {
    if (present(key) && value[key].length > TEXT_LIMITS[key]) errors[key] = `${HEADER_OF[key]}不能超过${TEXT_LIMITS[key]}个字`;
  }
  if (present('examNo') && !/^[0-9A-Za-z]{1,20}$/.test(value.examNo)) errors.examNo = '考生号格式不正确，应为不超过20位的数字或字母';
  if (present('majorCode') && !/^[0-9A-Za-z]{2,12}$/.test(value.majorCode)) errors.majorCode = '专业代码格式不正确';

  const id = present('idNumber') ? parseIdNumber(value.idNumber) : undefined;
  if (id && !id.ok) errors.idNumber = id.reason;

  const codes = {
    sex: resolveCode(SEXES, value.sex, CODE_ALIASES.sex),
    ethnicity: resolveCode(ETHNICITIES, value.ethnicity),
    politicalStatus: resolveCode(POLITICAL_STATUSES, value.politicalStatus, CODE_ALIASES.politicalStatus),
    educationLevel: resolveCode(EDUCATION_LEVELS, value.educationLevel, CODE_ALIASES.educationLevel),
    trainingMode: resolveCode(TRAINING_MODES, value.trainingMode),
  };
  for (const key of Object.keys(codes) as (keyof typeof codes)[]) {
    if (present(key) && codes[key] === undefined) errors[key] = `${HEADER_OF[key]}代码不存在：${shown(value[key])}`;
  }
  if (id?.ok && codes.sex !== undefined && codes.sex !== id.sex) errors.sex = '性别与身份证号不一致';

  let birthDate = '';
  if (present('birthDate')) {
    const day = parseDay(value.birthDate, '出生日期');
    if ('error' in day) errors.birthDate = day.error;
    else if (id?.ok && day.day !== id.birthDate) errors.birthDate = '出生日期与身份证号不一致';
    else birthDate = day.day;
  }

  if (present('school') && value.school !== ctx.school.name && value.school !== ctx.school.code) {
    errors.school = `毕业院校须为本校（${ctx.school.name}或代码${ctx.school.code}），不能是：${shown(value.school)}`;
  }

  // 生源所在地: the code, or a name that names one region (北京市海淀区); the code it became is told back.
  let originRegion = '';
  let regionFromName: { name: string; code: string } | undefined;
  if (present('originRegion')) {
    const region = resolveRegion(value.originRegion);
    if ('error' in region) errors.originRegion = region.error;
    else {
      originRegion = region.code;
      if (region.fromName) regionFromName = { name: value.originRegion.replace(/\s+/g, ''), code: region.code };
    }
  }

  if (present('programYears') && !(/^\d(\.5)?$/.test(value.programYears) && Number(value.programYears) >= 1)) {
    errors.programYears = '学制应为年数，例如 4 或 2.5';
  }

  const months: Partial<Record<'enrolledOn' | 'graduatesOn', string>> = {};
  for (const key of ['enrolledOn', 'graduatesOn'] as const) {
    if (!present(key)) continue;
    const m = parseMonth(value[key], HEADER_OF[key]);
    if ('error' in m) errors[key] = m.error;
    else months[key] = m.month;
  }
  if (months.enrolledOn && months.graduatesOn && months.graduatesOn <= months.enrolledOn) errors.graduatesOn = '毕业时间应晚于入学时间';

  const phone = value.phone.replace(/[\s-]/g, '');
  if (present('phone') && !/^1\d{10}$/.test(phone)) errors.phone = '手机号码格式不正确，应为11位手机号';
  if (present('email') && !(value.email.length <= 254 && /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(value.email))) {
    errors.email = '电子邮箱格式不正确';
  }

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    ...(regionFromName ? { regionFromName } : {}),
    record: {
      examNo: value.examNo || null,
      name: value.name,
      sex: codes.sex!,
      idNumber: value.idNumber.toUpperCase(),
      ethnicity: codes.ethnicity!,
      politicalStatus: codes.politicalStatus!,
      birthDate,
      departmentName: value.departmentName,
      educationLevel: codes.educationLevel!,
      majorCode: value.majorCode.toUpperCase() || null,
      majorName: value.majorName,
      trainingMode: codes.trainingMode!,
      originRegion,
      studentNo: value.studentNo,
      programYears: value.programYears,
      enrolledOn: months.enrolledOn!,
      graduatesOn: months.graduatesOn!,
      phone,
      email: value.email || null,
    },
  };
}

/** One self-explaining sentence per failed field, in column order: "姓名：必填", "身份证号校验位错误…". */
export function describeRosterErrors(errors: RosterErrors): string[] {
  return ROSTER_FIELDS.flatMap((f) => {
    const message = errors[f.key];
    if (message === undefined) return [];
    return [message.startsWith(f.header) ? message : `${f.header}：${message}`];
  });
}

const FIELD_BY_HEADER = new Map<string, FieldKey>(ROSTER_FIELDS.flatMap((f) => [[f.header, f.key] as const, [f.ministryCode.toLowerCase(), f.key] as const]));

/** Chinese header or the Ministry's column code in any case; the template's “*” marks and stray spaces are ignored. */
export function fieldOfHeader(text: string): FieldKey | undefined {
  const plain = plainHeader(text);
  return FIELD_BY_HEADER.get(plain) ?? FIELD_BY_HEADER.get(plain.toLowerCase());
}
