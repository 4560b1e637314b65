// 学生名单导入: queued → running → done | failed.
export const ROSTER_IMPORT_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export type RosterImportStatus = (typeof ROSTER_IMPORT_STATUSES)[number];

export const ROSTER_IMPORT_STATUS_LABELS: Record<RosterImportStatus, string> = {
  queued: '排队中',
  running: '导入中',
  done: '导入完成',
  failed: '导入失败',
};
