import { paperRegistration } from '../agreements/registered/workflow.ts';
import { offlineSigning } from '../agreements/offline/workflow.ts';
import { onlineSigning } from '../agreements/online/workflow.ts';
import { AGREEMENT_KIND_LABELS, AGREEMENT_STATES, type AgreementKind, type AgreementState } from '../agreements/states.ts';
import { DESTINATIONS, DESTINATION_OPTIONS, isCode, type Destination } from '../codes/tables.ts';

// What 数据统计 counts, in one place: the groups of the 毕业去向 codes the 落实率 is made of, and
// the stages of the signing pipeline each agreement state falls in.

/**
 * 落实率 (codes.md, 2024 definition): 单位就业 + 自主创业 + 自由职业 + 升学, over all graduates.
 * Which code is which group follows the Ministry's headings of the code table: 单位就业 is every
 * employment with a unit (agreement, contract, other hiring, research assistant, conscription and the
 * grassroots projects); 升学 is study at home and abroad (80, 85). 70–72 and 未登记 are not 落实.
 */
export const DESTINATION_GROUPS = [
  { key: 'unit', label: '单位就业', codes: ['10', '11', '12', '27', '46', '50', '51'], placed: true },
  { key: 'startup', label: '自主创业', codes: ['75'], placed: true },
  { key: 'freelance', label: '自由职业', codes: ['76'], placed: true },
  { key: 'study', label: '升学', codes: ['80', '85'], placed: true },
  { key: 'waiting', label: '暂不就业', codes: ['70', '71', '72'], placed: false },
] as const satisfies ReadonlyArray<{ key: string; label: string; codes: readonly Destination[]; placed: boolean }>;

/** The codes that count as 落实. */
export const PLACED_CODES: readonly Destination[] = DESTINATION_GROUPS.filter((g) => g.placed).flatMap((g) => g.codes);

export const PLACEMENT_DEFINITION =
  '落实率 =（单位就业 + 自主创业 + 自由职业 + 升学）÷ 毕业生总数。单位就业含毕业去向 10、11、12、27、46、50、51，升学含 80 升学和 85 出国、出境；70 待就业、71 不就业拟升学、72 其他暂不就业和未登记的毕业生不计入落实。毕业生总数为本届名单中的全部毕业生（已移出名单的除外）。';

/** Every 毕业去向 in the table's order, then 未登记 (key ''), as the statistics list them. */
export const DESTINATION_COLUMNS: ReadonlyArray<{ code: string; label: string }> = [
  ...DESTINATION_OPTIONS.map((o) => ({ code: o.code, label: o.label })),
  { code: '', label: '未登记' },
];

export const destinationColumnLabel = (code: string): string => (code === '' ? '未登记' : isCode(DESTINATIONS, code) ? DESTINATIONS[code] : code);

/** The signing pipeline: where each agreement stands, whatever its path. */
export const PIPELINE_STAGES = [
  { key: 'open', label: '邀请或办理中', hint: '签约邀请待毕业生答复，或申请待提交、待回传协议书' },
  { key: 'review', label: '审核中', hint: '等待院系或学校审核（鉴证）' },
  { key: 'signed', label: '已签约', hint: '各方确认、审核完成' },
  { key: 'terminated', label: '已解约', hint: '签约后解除' },
  { key: 'failed', label: '未成', hint: '拒绝、逾期、审核不通过、失效或放弃' },
] as const;
export type PipelineStage = (typeof PIPELINE_STAGES)[number]['key'];

const KIND_TABLES = { online: onlineSigning, offline: offlineSigning, registered: paperRegistration } as const;

/** Each kind's state → stage, read from the kind's workflow table (its named groups). */
export const PIPELINE_STAGE_OF: Record<AgreementKind, Partial<Record<AgreementState, PipelineStage>>> = (() => {
  const out = {} as Record<AgreementKind, Partial<Record<AgreementState, PipelineStage>>>;
  for (const [kind, table] of Object.entries(KIND_TABLES) as Array<[AgreementKind, (typeof KIND_TABLES)[AgreementKind]]>) {
    const g = table.groups as unknown as Record<string, readonly AgreementState[]>;
    const map: Partial<Record<AgreementState, PipelineStage>> = {};
    const put = (states: readonly AgreementState[] | undefined, stage: PipelineStage) => {
      for (const s of states ?? []) map[s] ??= stage;
    };
    put(g.signed, 'signed');
    put(g.terminated, 'terminated');
    put(g.inReview, 'review');
    put(g.pending, 'open');
    put(g.editable, 'open');
    put(g.awaitingCopy, 'open');
    for (const s of table.states as readonly AgreementState[]) map[s] ??= 'failed';
    out[kind] = map;
  }
  return out;
})();

export const PIPELINE_KINDS: ReadonlyArray<{ kind: AgreementKind; label: string }> = (['online', 'offline', 'registered'] as const).map((kind) => ({ kind, label: AGREEMENT_KIND_LABELS[kind] }));

export function pipelineStage(kind: AgreementKind, state: AgreementState): PipelineStage {
  return PIPELINE_STAGE_OF[kind][state] ?? 'failed';
}

/** The states of AGREEMENT_STATES, for the test that every one of them has a stage in each kind it occurs in. */
export const ALL_AGREEMENT_STATES = AGREEMENT_STATES;

/** A share as the pages print it: one decimal, or — when there is nobody. */
export function percent(part: number, whole: number): string {
  return whole === 0 ? '—' : `${((part * 100) / whole).toFixed(1)}%`;
}
