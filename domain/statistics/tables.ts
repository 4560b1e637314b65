import { DESTINATION_COLUMNS, DESTINATION_GROUPS, PIPELINE_STAGES, percent } from './definitions.ts';
import type { Breakdown, SchoolStatistics } from './school.ts';

// The tables of 数据统计, once: the page prints them and the .xlsx export writes the same cells.

export type Cell = string | number;
/** `links`, when given, makes each row's first cell a link on the page (the .xlsx keeps the text). */
export type StatTable = { id: string; title: string; head: string[]; rows: Cell[][]; foot?: Cell[]; links?: Array<string | null> };

/** The 毕业去向 columns worth a column: those with anyone in them, and 未登记 always. */
function presentColumns(stats: SchoolStatistics) {
  return DESTINATION_COLUMNS.filter((d) => d.code === '' || (stats.byDestination.find((x) => x.code === d.code)?.count ?? 0) > 0);
}

function crossed(id: string, title: string, dimension: string, rows: Breakdown[], stats: SchoolStatistics): StatTable {
  const columns = presentColumns(stats);
  return {
    id,
    title,
    head: [dimension, '毕业生数', ...columns.map((d) => (d.code ? `${d.code} ${d.label}` : d.label)), '落实数', '落实率'],
    rows: rows.map((r) => [r.label, r.total, ...columns.map((d) => r.byCode?.[d.code] ?? 0), r.placed, percent(r.placed, r.total)]),
    foot: ['合计', stats.total, ...columns.map((d) => stats.byDestination.find((x) => x.code === d.code)?.count ?? 0), stats.placed, percent(stats.placed, stats.total)],
  };
}

function simple(id: string, title: string, dimension: string, rows: Breakdown[], stats: SchoolStatistics): StatTable {
  return {
    id,
    title,
    head: [dimension, '毕业生数', '占比', '落实数', '落实率'],
    rows: rows.map((r) => [r.label, r.total, percent(r.total, stats.total), r.placed, percent(r.placed, r.total)]),
    foot: ['合计', stats.total, percent(stats.total, stats.total), stats.placed, percent(stats.placed, stats.total)],
  };
}

/** The 落实 groups and 未登记, as the overview tables' columns. */
export const FIGURE_GROUP_LABELS = [...DESTINATION_GROUPS.map((g) => ({ key: g.key as string, label: g.label as string })), { key: 'unregistered', label: '未登记' }];

export function schoolTables(stats: SchoolStatistics): StatTable[] {
  const pipelineFoot = PIPELINE_STAGES.map((s) => stats.pipeline.reduce((n, p) => n + p.stages[s.key], 0));
  return [
    destinationTable(stats.byDestination, stats.total),
    {
      id: 'by-group',
      title: '落实情况',
      head: ['类别', '是否计入落实', '人数', '占比'],
      rows: stats.byGroup.map((g) => [g.label, g.placed ? '是' : '否', g.count, percent(g.count, stats.total)]),
      foot: ['落实率', '', stats.placed, percent(stats.placed, stats.total)],
    },
    crossed('by-department', '院系 × 毕业去向', '院系', stats.byDepartment, stats),
    crossed('by-level', '学历层次 × 毕业去向', '学历层次', stats.byLevel, stats),
    {
      id: 'by-major',
      title: '专业',
      head: ['院系', '专业', '毕业生数', '落实数', '落实率'],
      rows: stats.byMajor.map((m) => [m.department, m.label, m.total, m.placed, percent(m.placed, m.total)]),
      foot: ['合计', '', stats.total, stats.placed, percent(stats.placed, stats.total)],
    },
    simple('by-sex', '性别', '性别', stats.bySex, stats),
    simple('by-origin', '生源所在地', '生源所在地（省）', stats.byOrigin, stats),
    {
      id: 'pipeline',
      title: '签约进度（协议份数）',
      head: ['签约类型', ...PIPELINE_STAGES.map((s) => s.label), '合计'],
      rows: stats.pipeline.map((p) => [p.label, ...PIPELINE_STAGES.map((s) => p.stages[s.key]), p.total]),
      foot: ['合计', ...pipelineFoot, pipelineFoot.reduce((a, b) => a + b, 0)],
    },
  ];
}

type FigureRow = { label: string[]; graduates: number; placed: number; groups: Record<string, number>; stages: Record<string, number> };

/** Schools (or provinces) side by side: graduates, the 落实 groups, 落实率 and where the agreements stand. */
export function figuresTable(id: string, title: string, labelHead: string[], rows: FigureRow[], total: Omit<FigureRow, 'label'> | null): StatTable {
  const groups = FIGURE_GROUP_LABELS;
  const stages = PIPELINE_STAGES.filter((s) => s.key !== 'failed');
  const cells = (r: Omit<FigureRow, 'label'>): Cell[] => [r.graduates, ...groups.map((g) => r.groups[g.key] ?? 0), r.placed, percent(r.placed, r.graduates), ...stages.map((s) => r.stages[s.key] ?? 0)];
  return {
    id,
    title,
    head: [...labelHead, '毕业生数', ...groups.map((g) => g.label), '落实数', '落实率', ...stages.map((s) => s.label)],
    rows: rows.map((r) => [...r.label, ...cells(r)]),
    foot: total ? ['合计', ...labelHead.slice(1).map(() => ''), ...cells(total)] : undefined,
  };
}

export function destinationTable(byCode: ReadonlyArray<{ code: string; label: string; count: number }>, total: number): StatTable {
  return {
    id: 'by-destination',
    title: '毕业去向',
    head: ['代码', '毕业去向', '人数', '占比'],
    rows: byCode.map((d) => [d.code || '—', d.label, d.count, percent(d.count, total)]),
    foot: ['', '合计', total, percent(total, total)],
  };
}

export function totalsOf(rows: ReadonlyArray<Omit<FigureRow, 'label'>>): Omit<FigureRow, 'label'> {
  const sum = (f: (r: Omit<FigureRow, 'label'>) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const r of rows) for (const [k, n] of Object.entries(f(r))) out[k] = (out[k] ?? 0) + n;
    return out;
  };
  return { graduates: rows.reduce((n, r) => n + r.graduates, 0), placed: rows.reduce((n, r) => n + r.placed, 0), groups: sum((r) => r.groups), stages: sum((r) => r.stages) };
}
