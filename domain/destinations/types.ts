import { z } from 'zod';
import { isRegionCode } from '../codes/regions.ts';
import { DESTINATIONS, EMPLOYER_TYPES, INDUSTRIES, isCode, POSITION_CATEGORIES, type Destination } from '../codes/tables.ts';
import { checkUscc } from '../codes/uscc.ts';

// 无需就业协议去向登记: every destination type a graduate may register, the code of the 毕业去向 table
// it counts as, the fields it asks and the proof it needs. ONE table: the form, its validation (one
// zod schema per type, built from the type's fields), the reviewer's page and the export read it.
//
// Where the guides disagree: the graduate guide (section 6, the national platform's own guide)
// puts 公招接收函, 士官, 医学规培, 国际组织任职 and 出国出境工作 under 10 签就业协议形式就业; the
// school guide (8) and the campus edition put them under 12 其他录用形式就业. We follow the graduate
// guide, the newer text of the platform we re-implement; changing a type's `code` below is all it
// takes to follow the other. 定向/委培毕业去向补充登记 counts as 10 too (a 定向/委培 graduate is bound to
// a unit by agreement), and 聘用证明 is 12 in both guides.

/** The inputs a field is drawn with. */
type Input = 'text' | 'select' | 'region' | 'textarea';

type FieldSpec = {
  label: string;
  input: Input;
  options?: ReadonlyArray<{ value: string; label: string }>;
  maxlength?: number;
  hint?: string;
  /** Validates a submitted value; an optional field turns '' into null. */
  schema: z.ZodType<string | null>;
};

const text = (label: string, min: number, max: number) =>
  z
    .string({ error: `请填写${label}` })
    .trim()
    .min(min, { error: `请填写${label}` })
    .max(max, { error: `不超过 ${max} 个字` });
const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, { error: `不超过 ${max} 个字` })
    .optional()
    .transform((v) => v || null);
const codeOf = (table: Readonly<Record<string, string>>, message: string) => z.string({ error: message }).refine((v) => isCode(table, v), { error: message });
const options = (table: Readonly<Record<string, string>>) =>
  Object.keys(table)
    .sort()
    .map((value) => ({ value, label: table[value]! }));
const listed = (values: readonly string[], message: string) => z.string({ error: message }).refine((v) => values.includes(v), { error: message });

export const NATIONAL_PROJECTS = ['三支一扶', '大学生志愿服务西部计划', '农村义务教育阶段学校教师特设岗位计划（特岗教师）', '其他国家基层项目'] as const;
export const POSTGRADUATE_LEVELS = ['硕士研究生', '博士研究生'] as const;

/** Every field any type asks, by name; a type may call one by another label (企业名称 for 单位名称). */
const FIELDS = {
  unitName: { label: '单位名称', input: 'text', maxlength: 100, schema: text('单位名称', 2, 100) },
  uscc: {
    label: '统一社会信用代码',
    input: 'text',
    maxlength: 18,
    schema: z
      .string({ error: '请填写统一社会信用代码' })
      .trim()
      .toUpperCase()
      .refine((v) => checkUscc(v).format, { error: '统一社会信用代码为 18 位数字或大写字母' }),
  },
  employerType: { label: '单位性质', input: 'select', options: options(EMPLOYER_TYPES), schema: codeOf(EMPLOYER_TYPES, '请选择单位性质') },
  industry: { label: '单位行业', input: 'select', options: options(INDUSTRIES), schema: codeOf(INDUSTRIES, '请选择单位行业') },
  region: { label: '单位所在地', input: 'region', schema: z.string({ error: '请选择所在省市' }).refine((v) => isRegionCode(v), { error: '请选择所在省市' }) },
  positionCategory: { label: '职位类别', input: 'select', options: options(POSITION_CATEGORIES), schema: codeOf(POSITION_CATEGORIES, '请选择职位类别') },
  positionName: { label: '岗位名称', input: 'text', maxlength: 50, schema: text('岗位名称', 1, 50) },
  country: { label: '国家（地区）', input: 'text', maxlength: 50, schema: text('国家（地区）', 2, 50) },
  schoolName: { label: '录取学校', input: 'text', maxlength: 100, schema: text('录取学校', 2, 100) },
  major: { label: '录取专业', input: 'text', maxlength: 100, schema: text('录取专业', 2, 100) },
  studyLevel: { label: '录取层次', input: 'select', options: POSTGRADUATE_LEVELS.map((v) => ({ value: v, label: v })), schema: listed(POSTGRADUATE_LEVELS, '请选择录取层次') },
  nationalProject: { label: '项目名称', input: 'select', options: NATIONAL_PROJECTS.map((v) => ({ value: v, label: v })), schema: listed(NATIONAL_PROJECTS, '请选择项目名称') },
  projectName: { label: '项目名称', input: 'text', maxlength: 100, hint: '例如：地方选调生、地方特岗计划', schema: text('项目名称', 2, 100) },
  serviceUnit: { label: '服务单位', input: 'text', maxlength: 100, schema: text('服务单位', 2, 100) },
  occupation: { label: '从业内容', input: 'text', maxlength: 100, hint: '例如：自媒体运营、独立设计', schema: text('从业内容', 2, 100) },
  note: { label: '情况说明', input: 'textarea', maxlength: 500, hint: '选填', schema: optionalText(500) },
} satisfies Record<string, FieldSpec>;
export type FieldName = keyof typeof FIELDS;

/** A field as one type asks it: the name, and the label it goes by there. */
type TypeField = FieldName | readonly [FieldName, string];

/** The unit of an employment: what the Ministry's export needs of it (Dwmc, Dwzzjgdm, Dwxzdm, Dwhydm, Dwszddm, Gzzwlbdm). */
const UNIT: readonly TypeField[] = ['unitName', 'uscc', 'employerType', 'industry', 'region', 'positionCategory', 'positionName'];
const STUDY: readonly TypeField[] = ['schoolName', 'major'];

type TypeSpec = {
  code: Destination;
  /** The words on the chooser and wherever the registration is named. */
  label: string;
  /** The group it is listed under on the chooser (the guides' headings). */
  group: string;
  fields: readonly TypeField[];
  /** Values the type implies, kept with the fields (a 士官's unit is 部队). */
  fixed?: Partial<Record<FieldName, string>>;
  /** The proof to upload, or null where none is asked (待就业 …). */
  proof: { label: string; hint: string } | null;
  /** 定向/委培毕业去向补充登记: the only type of graduates in training modes 21 and 41 (G9), and only theirs. */
  directed?: true;
};

const EMPLOYED_BY_AGREEMENT = '签就业协议形式就业';

export const DESTINATION_TYPES = {
  public_offer: { code: '10', label: '公招接收函', group: EMPLOYED_BY_AGREEMENT, fields: UNIT, proof: { label: '公务员录用通知书或事业单位接收函', hint: '加盖公章的录用通知书或接收函' } },
  sergeant: { code: '10', label: '士官', group: EMPLOYED_BY_AGREEMENT, fields: [['unitName', '入伍部队（单位）'], ['region', '入伍地']], fixed: { employerType: '40', industry: '80', positionCategory: '80' }, proof: { label: '士官入伍通知书', hint: '直招士官入伍通知书' } },
  residency: { code: '10', label: '医学规培', group: EMPLOYED_BY_AGREEMENT, fields: [['unitName', '规培基地（医院）'], 'uscc', 'region'], fixed: { employerType: '23', industry: '43', positionCategory: '19' }, proof: { label: '规培录取通知或规培协议', hint: '住院医师规范化培训录取通知或协议' } },
  international_org: { code: '10', label: '国际组织任职', group: EMPLOYED_BY_AGREEMENT, fields: [['unitName', '国际组织名称'], 'country', 'positionName'], fixed: { industry: '46' }, proof: { label: '录用通知或任职证明', hint: '国际组织出具的录用通知或任职证明' } },
  abroad_work: { code: '10', label: '出国出境工作', group: EMPLOYED_BY_AGREEMENT, fields: [['unitName', '境外单位名称'], 'country', 'positionName'], proof: { label: '工作合同或录用通知', hint: '境外单位的工作合同或录用通知' } },
  labour_contract: { code: '11', label: '签劳动合同形式就业', group: '签劳动合同形式就业', fields: UNIT, proof: { label: '劳动合同', hint: '双方签字盖章的劳动合同' } },
  employment_proof: { code: '12', label: '聘用证明', group: '其他录用形式就业', fields: UNIT, proof: { label: '单位聘用证明', hint: '加盖单位公章的聘用证明' } },
  research_assistant: { code: '27', label: '科研助理、管理助理', group: '科研助理、管理助理', fields: UNIT, proof: { label: '聘用协议或聘用证明', hint: '科研助理、管理助理的聘用协议或证明' } },
  conscript: { code: '46', label: '应征义务兵', group: '应征义务兵', fields: [['region', '入伍地']], fixed: { employerType: '40', industry: '80', positionCategory: '80' }, proof: { label: '入伍通知书', hint: '应征公民入伍通知书' } },
  national_project: { code: '50', label: '国家基层项目', group: '国家基层项目', fields: ['nationalProject', 'serviceUnit', ['region', '服务地']], proof: { label: '项目录取或派遣证明', hint: '项目主管部门的录取、派遣或服务证明' } },
  local_project: { code: '51', label: '地方基层项目', group: '地方基层项目', fields: ['projectName', 'serviceUnit', ['region', '服务地']], proof: { label: '项目录取或派遣证明', hint: '项目主管部门的录取、派遣或服务证明' } },
  startup: { code: '75', label: '自主创业', group: '自主创业', fields: [['unitName', '企业名称'], 'uscc', 'industry', ['region', '企业所在地']], proof: { label: '营业执照', hint: '本人为法定代表人或股东的企业营业执照' } },
  freelance: { code: '76', label: '自由职业', group: '自由职业', fields: ['occupation', ['region', '从业所在地']], proof: { label: '自由职业声明', hint: '本人签字的自由职业情况声明' } },
  upgrade: { code: '80', label: '专升本', group: '升学', fields: STUDY, proof: { label: '录取通知书', hint: '专升本录取通知书' } },
  postgraduate: { code: '80', label: '考研', group: '升学', fields: [...STUDY, 'studyLevel'], proof: { label: '录取通知书', hint: '研究生录取通知书或拟录取证明' } },
  second_degree: { code: '80', label: '第二学士学位', group: '升学', fields: STUDY, proof: { label: '录取通知书', hint: '第二学士学位录取通知书' } },
  study_abroad: { code: '85', label: '深造', group: '出国、出境', fields: [['schoolName', '境外院校'], 'country', 'major'], proof: { label: '录取通知（offer）', hint: '境外院校的录取通知' } },
  directed: { code: '10', label: '定向/委培毕业去向补充登记', group: '定向/委培毕业去向补充登记', directed: true, fields: [['unitName', '定向/委培单位'], 'uscc', 'employerType', 'industry', 'region'], proof: { label: '定向/委培协议', hint: '与定向/委培单位签订的协议' } },
  awaiting_work: { code: '70', label: '待就业', group: '待就业', fields: ['note'], proof: null },
  preparing_study: { code: '71', label: '不就业拟升学', group: '不就业拟升学', fields: ['note'], proof: null },
  not_working: { code: '72', label: '其他暂不就业', group: '其他暂不就业', fields: ['note'], proof: null },
} as const satisfies Record<string, TypeSpec>;

export type DestinationType = keyof typeof DESTINATION_TYPES;
export const DESTINATION_TYPE_KEYS = Object.keys(DESTINATION_TYPES) as DestinationType[];

export function isDestinationType(v: unknown): v is DestinationType {
  return typeof v === 'string' && Object.hasOwn(DESTINATION_TYPES, v);
}

const specOf = (type: DestinationType): TypeSpec => DESTINATION_TYPES[type];

/** How a registration is named: the type's words, with its 毕业去向 where they differ (升学（专升本）). */
export function typeLabel(type: DestinationType): string {
  const t = specOf(type);
  return t.group === t.label ? t.label : `${t.group}（${t.label}）`;
}

/** The 毕业去向 code a type counts as. */
export const codeOfType = (type: DestinationType): Destination => specOf(type).code;
export const destinationLabel = (code: string): string => (isCode(DESTINATIONS, code) ? DESTINATIONS[code] : code);

export type FieldView = { name: FieldName; label: string; input: Input; options?: ReadonlyArray<{ value: string; label: string }>; maxlength?: number; hint?: string; required: boolean };

/** The fields a type asks, as the form draws them. */
export function fieldsOf(type: DestinationType): FieldView[] {
  return specOf(type).fields.map((f) => {
    const [name, label] = typeof f === 'string' ? [f, FIELDS[f].label] : f;
    const spec: FieldSpec = FIELDS[name];
    return { name, label, input: spec.input, options: spec.options, maxlength: spec.maxlength, hint: spec.hint, required: name !== 'note' };
  });
}

export const proofOf = (type: DestinationType) => specOf(type).proof;
export const isDirected = (type: DestinationType) => specOf(type).directed === true;

/** One zod schema per type: exactly its fields, each with its rule. */
export const DESTINATION_SCHEMAS = Object.fromEntries(
  DESTINATION_TYPE_KEYS.map((type) => [type, z.object(Object.fromEntries(fieldsOf(type).map((f) => [f.name, FIELDS[f.name].schema])))]),
) as unknown as Record<DestinationType, z.ZodType<Record<string, string | null>>>;

export type Details = Partial<Record<FieldName, string | null>>;

/** What 暂存 keeps: any field of the table as typed, within a sane length, nothing else. */
export function draftValuesOf(input: Record<string, string>): Record<string, string> {
  return Object.fromEntries((Object.keys(FIELDS) as FieldName[]).flatMap((k) => (typeof input[k] === 'string' ? [[k, input[k]!.slice(0, 1000)]] : [])));
}

/** The type's fields as the record keeps them, with what the type implies. */
export function detailsOf(type: DestinationType, parsed: Record<string, string | null>): Details {
  return { ...parsed, ...specOf(type).fixed };
}

/** A registration's fields back as form values. */
export function formValuesOf(details: Details): Record<string, string> {
  return Object.fromEntries(Object.entries(details).map(([k, v]) => [k, v ?? '']));
}

/** Every field of a record in its type's words, for pages (codes as their labels). */
export function describe(type: DestinationType, details: Details, regionName: (code: string) => string | undefined): Array<{ name: FieldName; label: string; value: string }> {
  return fieldsOf(type).map((f) => {
    const raw = details[f.name] ?? '';
    const value = f.input === 'region' ? (regionName(raw) ?? raw) : f.input === 'select' ? (f.options?.find((o) => o.value === raw)?.label ?? raw) : raw;
    return { name: f.name, label: f.label, value };
  });
}

/** The chooser: the types a graduate may pick (G9: 定向/委培 graduates only theirs), in the guide's order, grouped. */
export function typeChoices(directedOnly: boolean) {
  const keys = DESTINATION_TYPE_KEYS.filter((k) => isDirected(k) === directedOnly);
  const groups: Array<{ group: string; options: Array<{ value: DestinationType; label: string }> }> = [];
  for (const k of keys) {
    const t = specOf(k);
    const g = groups.find((x) => x.group === t.group) ?? groups[groups.push({ group: t.group, options: [] }) - 1]!;
    g.options.push({ value: k, label: t.label });
  }
  return groups;
}
