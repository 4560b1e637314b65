import { Hono, type Context } from 'hono';
import { WARNING_CATEGORIES, WARNING_CATEGORY_LABELS } from '../../domain/employers/warning-categories.ts';
import { listWarningUnits, markWarningUnit, unmarkWarningUnit } from '../../domain/employers/warnings.ts';
import { forbidden } from '../../domain/errors.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { formProblems, formValues, type PageStatus } from '../forms.ts';
import { idParam } from '../params.ts';
import { render } from '../render.ts';

// 预警单位管理 (S10): school users only; department users have no such room.
export const warningRoutes = new Hono<AppEnv>();

warningRoutes.use(async (c, next) => {
  if (c.get('actor')!.role !== 'school') throw forbidden();
  await next();
});

const categories = WARNING_CATEGORIES.map((k) => ({ value: k, label: WARNING_CATEGORY_LABELS[k] }));

async function page(c: Context<AppEnv>, form: { values?: Record<string, string>; error?: string; fields?: Record<string, string> } = {}, status: PageStatus = 200) {
  const marks = await listWarningUnits(c.get('app').db, c.get('actor')!);
  return render(c, 'school/warnings', {
    title: '预警单位管理',
    marks: marks.map((m) => ({ ...m, categoryLabel: WARNING_CATEGORY_LABELS[m.category] })),
    categories,
    values: form.values ?? {},
    fields: form.fields ?? {},
    error: form.error,
    notice: c.req.query('saved') === '1' ? '已保存。' : undefined,
  }, status);
}

warningRoutes.get('/', (c) => page(c));
warningRoutes.post('/', async (c) => {
  const values = formValues(await c.req.parseBody());
  try {
    await markWarningUnit(c.get('app').db, { actor: c.get('actor')!, ip: clientIp(c) }, values);
    return c.redirect('/school/warnings?saved=1', 303);
  } catch (e) {
    const refusal = formProblems(e);
    return page(c, { values, ...refusal }, refusal.status);
  }
});
warningRoutes.post('/:id{[0-9]+}/removal', async (c) => {
  await unmarkWarningUnit(c.get('app').db, { actor: c.get('actor')!, ip: clientIp(c) }, idParam(c));
  return c.redirect('/school/warnings?saved=1', 303);
});
