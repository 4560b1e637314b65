import { Hono } from 'hono';
import { apart } from '../../db/client.ts';
import { FLAG_KIND_LABELS, FLAG_RULES, schoolFlags, type FlagKind } from '../../domain/reviews/flags.ts';
import type { AppEnv } from '../context.ts';
import { cachedVerb } from '../school-cache.ts';
import { render } from '../render.ts';

// 风险预警: the school's list of patterns that point to fake employment, each in one sentence.
export const reviewFlagRoutes = new Hono<AppEnv>();

const hints = (verb: string): Record<FlagKind, string> => ({
  unit: `同一单位与本校 ${FLAG_RULES.unitGraduates} 名及以上毕业生签约或正在办理，且该单位为新认证（${FLAG_RULES.newlyVerifiedDays} 天内）、预警单位，或没有与其他高校毕业生签约的记录。`,
  reviewer: `同一${verb}人近 ${FLAG_RULES.windowDays} 天有 ${FLAG_RULES.fastApprovals} 份及以上在提交后 ${FLAG_RULES.fastSeconds} 秒内${verb}通过。`,
  proof: '证明材料或协议书扫描件与另一名毕业生上传的文件内容完全相同。',
  wait: `等待处理超过本校同类事项通常用时的 ${FLAG_RULES.waitFactor} 倍（且不少于 ${FLAG_RULES.minWaitDays} 天）。`,
});

reviewFlagRoutes.get('/', async (c) => {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const verb = actor.schoolId === null ? '审核' : await cachedVerb(c);
  // Over a year of the school's decisions: apart from the lanes the pages' statements share.
  const flags = await schoolFlags(apart(db), actor, verb);
  const HINTS = hints(verb);
  const sections = (Object.keys(FLAG_KIND_LABELS) as FlagKind[]).map((kind) => ({ kind, label: FLAG_KIND_LABELS[kind], hint: HINTS[kind], flags: flags[kind] }));
  return render(c, 'school/review-flags', { title: '风险预警', verb, sections, total: sections.reduce((n, s) => n + s.flags.length, 0) });
});
