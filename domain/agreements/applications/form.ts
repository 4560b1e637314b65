import { z } from 'zod';
import { isRegionCode } from '../../codes/regions.ts';
import { EMPLOYER_TYPES, INDUSTRIES, isCode, POSITION_CATEGORIES } from '../../codes/tables.ts';
import { checkUscc } from '../../codes/uscc.ts';
import type { UnitSnapshot } from '../snapshots.ts';
import { ARCHIVE_MODES } from '../states.ts';

// The agreement a graduate fills in: 未签就业协议申请签约 (offline) and 已签就业协议登记信息 (补登)
// ask the same fields, those of the campus edition's STEP 1, in its order and words.

const optional = (max: number) => z.string().trim().max(max, { error: `不超过 ${max} 个字` }).optional().transform((v) => v || null);
const MOBILE = /^1\d{10}$/;
const PHONE = /^(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$/;

export const applicationForm = z.object({
  unitName: z.string().trim().min(2, { error: '请填写单位名称' }).max(100, { error: '不超过 100 个字' }),
  uscc: z
    .string()
    .trim()
    .toUpperCase()
    .refine((v) => checkUscc(v).format, { error: '统一社会信用代码为 18 位数字或大写字母' }),
  employerType: z.string().refine((v) => isCode(EMPLOYER_TYPES, v), { error: '请选择单位性质' }),
  industry: z.string().refine((v) => isCode(INDUSTRIES, v), { error: '请选择单位行业' }),
  region: z.string().refine((v) => isRegionCode(v), { error: '请选择通讯地址所在省市' }),
  address: z.string().trim().min(5, { error: '请填写详细的通讯地址' }).max(100, { error: '不超过 100 个字' }),
  positionCategory: z.string().refine((v) => isCode(POSITION_CATEGORIES, v), { error: '请选择职位类别' }),
  positionName: z.string().trim().min(1, { error: '请填写岗位名称' }).max(50, { error: '不超过 50 个字' }),
  contactName: z.string().trim().min(2, { error: '请填写单位联系人' }).max(30, { error: '不超过 30 个字' }),
  contactPhone: z.union([z.literal(''), z.string().trim().regex(PHONE, { error: '请填写手机号或带区号的固定电话' })]).optional().transform((v) => v || null),
  contactMobile: z.string().trim().regex(MOBILE, { error: '请填写 11 位联系人手机' }),
  contactEmail: z.email({ error: '请填写正确的联系人邮箱' }),
  probation: optional(20),
  probationPay: optional(20),
  regularPay: optional(20),
  penalty: optional(50),
  reportPlace: optional(100),
  reportDeadline: z.union([z.literal(''), z.iso.date({ error: '报到期限格式为 YYYY-MM-DD' })]).optional().transform((v) => v || null),
  workPlace: optional(100),
  archiveMode: z.enum(ARCHIVE_MODES, { error: '请选择单位是否解决户档' }),
  supplement: z.string().trim().max(1000, { error: '协议补充内容不超过 1000 字' }).optional().transform((v) => v || null),
});
export type ApplicationInput = z.infer<typeof applicationForm>;

export const APPLICATION_FIELDS = Object.keys(applicationForm.shape) as Array<keyof ApplicationInput>;

/** What 暂存 keeps: the form's own fields as typed, each within a sane length, nothing else. */
export function draftOf(input: Record<string, string>): Record<string, string> {
  return Object.fromEntries(APPLICATION_FIELDS.flatMap((k) => (typeof input[k] === 'string' ? [[k, input[k]!.slice(0, 1000)]] : [])));
}

/** The unit as the agreement shows it, from the form. */
export function unitSnapshotOf(f: ApplicationInput): UnitSnapshot {
  return {
    name: f.unitName,
    uscc: f.uscc,
    employerType: f.employerType,
    industry: f.industry,
    region: f.region,
    address: f.address,
    contactName: f.contactName,
    contactPhone: f.contactPhone,
    contactMobile: f.contactMobile,
    contactEmail: f.contactEmail,
  };
}

/** The agreement's terms, from the form. */
export function termsOf(f: ApplicationInput) {
  return {
    positionCategory: f.positionCategory,
    positionName: f.positionName,
    probation: f.probation,
    probationPay: f.probationPay,
    regularPay: f.regularPay,
    penalty: f.penalty,
    reportPlace: f.reportPlace,
    reportDeadline: f.reportDeadline,
    workPlace: f.workPlace,
    archiveMode: f.archiveMode,
    archive: null,
    supplement: f.supplement,
  };
}

/** An agreement row back as the form's values, to edit it after 撤回修改 or 退回修改. */
export function formValuesOf(a: { unitSnapshot: UnitSnapshot } & Record<string, unknown>): Record<string, string> {
  const u = a.unitSnapshot;
  const text = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  return {
    unitName: u.name,
    uscc: u.uscc,
    employerType: u.employerType,
    industry: u.industry,
    region: u.region,
    address: u.address,
    contactName: text(u.contactName),
    contactPhone: text(u.contactPhone),
    contactMobile: text(u.contactMobile),
    contactEmail: text(u.contactEmail),
    ...Object.fromEntries(['positionCategory', 'positionName', 'probation', 'probationPay', 'regularPay', 'penalty', 'reportPlace', 'reportDeadline', 'workPlace', 'archiveMode', 'supplement'].map((k) => [k, text(a[k])])),
  };
}
