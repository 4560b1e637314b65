import { FIGURES_EVERY_MINUTES, refreshSchoolFigures } from '../domain/statistics/overview.ts';
import type { Job } from './scheduler.ts';

// The province's and the platform's 数据统计 read school_figures; this recounts it every few
// minutes (and once at start, so a fresh platform has figures), with the time shown on the pages.
export const statisticsJob: Job = {
  name: 'statistics',
  schedule: `*/${FIGURES_EVERY_MINUTES} * * * *`,
  runAtStart: true,
  async run(tx) {
    const started = performance.now();
    const rows = await refreshSchoolFigures(tx);
    return { rows, ms: Math.round(performance.now() - started) };
  },
};
