import { Hono } from 'hono';
import { z } from 'zod';
import { EDUCATION_LEVEL_SHORT, TRAINING_MODES, labelOf } from '../../domain/codes/tables.ts';
import { maskIdNumber } from '../../domain/codes/id-number.ts';
import { getGraduate, listGraduates } from '../../domain/graduates/roster.ts';
import { AGREEMENT_TYPE_LABELS } from '../../domain/tenancy/agreement-types.ts';
import { schoolWorkbench } from '../../domain/tenancy/summaries.ts';
import { notFound } from '../../domain/errors.ts';
import type { AppEnv } from '../context.ts';
import { render } from '../render.ts';
import { accountRoutes } from './accounts.ts';
import { settingsRoutes } from './settings.ts';

export const schoolRoutes = new Hono<AppEnv>();

schoolRoutes.route('/settings', settingsRoutes);
schoolRoutes.route('/accounts', accountRoutes);

schoolRoutes.get('/', async (c) => {
  const bench = await schoolWorkbench(c.get('app').db, c.get('actor')!);
  return render(c, 'school/home', { title: '工作台', ...bench, agreementTypeLabel: AGREEMENT_TYPE_LABELS[bench.school.agreementType] });
});

const listQuery = z.object({
  q: z.string().trim().max(50).optional(),
  page: z.coerce.number().int().min(1).max(100000).catch(1),
});

schoolRoutes.get('/graduates', async (c) => {
  const query = listQuery.parse(c.req.query());
  const result = await listGraduates(c.get('app').db, c.get('actor')!, query);
  return render(c, 'school/graduates/index', {
    title: '学生名单管理',
    q: query.q ?? '',
    ...result,
    rows: result.rows.map((r) => ({ ...r, educationLevel: labelOf(EDUCATION_LEVEL_SHORT, r.educationLevel), trainingMode: labelOf(TRAINING_MODES, r.trainingMode) })),
  });
});

schoolRoutes.get('/graduates/:id{[0-9]+}', async (c) => {
  const id = Number(c.req.param('id'));
  if (!Number.isSafeInteger(id)) throw notFound('毕业生');
  const g = await getGraduate(c.get('app').db, c.get('actor')!, id);
  return render(c, 'school/graduates/show', {
    title: g.name,
    graduate: { ...g, idNumber: maskIdNumber(g.idNumber), educationLevel: labelOf(EDUCATION_LEVEL_SHORT, g.educationLevel), trainingMode: labelOf(TRAINING_MODES, g.trainingMode) },
  });
});
