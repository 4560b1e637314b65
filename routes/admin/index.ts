import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { EMPLOYER_VERIFICATION_LABELS, EMPLOYER_VERIFICATION_STATUSES } from '../../domain/employers/verification.ts';
import { AGREEMENT_TYPE_LABELS, AGREEMENT_TYPES } from '../../domain/tenancy/agreement-types.ts';
import { createSchoolAccount, getProvince, getSchool, listProvinces, listSchools, saveProvince, saveSchool } from '../../domain/tenancy/platform-admin.ts';
import { platformOverview } from '../../domain/tenancy/summaries.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { formProblems, formValues, type PageStatus } from '../forms.ts';
import { idParam } from '../params.ts';
import { notificationRoutes } from '../notifications.ts';
import { render } from '../render.ts';
import { adminStatisticsRoutes } from './statistics.ts';
import { verificationRoutes } from './verifications.ts';

export const adminRoutes = new Hono<AppEnv>();

adminRoutes.route('/', verificationRoutes);
adminRoutes.route('/notifications', notificationRoutes);
adminRoutes.route('/statistics', adminStatisticsRoutes);

const source = (c: Context<AppEnv>) => ({ actor: c.get('actor')!, ip: clientIp(c) });
const agreementTypes = AGREEMENT_TYPES.map((t) => ({ value: t, label: AGREEMENT_TYPE_LABELS[t] }));

adminRoutes.get('/', async (c) => {
  const o = await platformOverview(c.get('app').db, c.get('actor')!);
  const employers = EMPLOYER_VERIFICATION_STATUSES.map((s) => ({
    label: EMPLOYER_VERIFICATION_LABELS[s],
    n: o.byVerification.find((r) => r.status === s)?.n ?? 0,
  }));
  return render(c, 'admin/home', { title: '首页', ...o, employers });
});

// 省份管理
adminRoutes.get('/provinces', async (c) => {
  const rows = await listProvinces(c.get('app').db, c.get('actor')!);
  return render(c, 'admin/provinces/index', { title: '省份管理', rows: rows.map((r) => ({ ...r, agreementType: AGREEMENT_TYPE_LABELS[r.agreementType] })), notice: c.req.query('saved') === '1' ? '已保存。' : undefined });
});

const provinceForm = (c: Context<AppEnv>, id: number | null, values: Record<string, unknown>, problems: { error?: string; fields?: Record<string, string> } = {}, status: PageStatus = 200) =>
  render(c, 'admin/provinces/form', { title: id ? '修改省份' : '新增省份', id, values, agreementTypes, fields: {}, ...problems }, status);

adminRoutes.get('/provinces/new', (c) => provinceForm(c, null, { agreementType: 'three_party' }));
adminRoutes.get('/provinces/:id{[0-9]+}/edit', async (c) => provinceForm(c, idParam(c), await getProvince(c.get('app').db, c.get('actor')!, idParam(c))));

for (const path of ['/provinces', '/provinces/:id{[0-9]+}']) {
  adminRoutes.post(path, async (c) => {
    const id = c.req.param('id') ? idParam(c) : null;
    const body = formValues(await c.req.parseBody());
    try {
      await saveProvince(c.get('app').db, source(c), id, body);
      return c.redirect('/admin/provinces?saved=1', 303);
    } catch (e) {
      const problems = formProblems(e);
      return provinceForm(c, id, body, problems, problems.status);
    }
  });
}

// 学校管理
export const schoolQuery = z.object({
  q: z.string().trim().max(50).optional().catch(undefined),
  province: z.coerce.number().int().positive().optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100000).catch(1),
});

adminRoutes.get('/schools', async (c) => {
  const query = schoolQuery.parse(c.req.query());
  const db = c.get('app').db;
  const [result, provinces] = await Promise.all([listSchools(db, c.get('actor')!, { q: query.q, provinceId: query.province, page: query.page }), listProvinces(db, c.get('actor')!)]);
  const params = new URLSearchParams();
  if (query.q) params.set('q', query.q);
  if (query.province) params.set('province', String(query.province));
  return render(c, 'admin/schools/index', {
    title: '学校管理',
    ...result,
    q: query.q ?? '',
    province: query.province ?? '',
    provinces: provinces.map((p) => ({ value: p.id, label: p.name })),
    pageQuery: params.toString(),
    notice: c.req.query('saved') === '1' ? '已保存。' : undefined,
  });
});

async function schoolForm(c: Context<AppEnv>, id: number | null, values: Record<string, unknown>, problems: { error?: string; fields?: Record<string, string> } = {}, status: PageStatus = 200) {
  const provinces = await listProvinces(c.get('app').db, c.get('actor')!);
  return render(c, 'admin/schools/form', { title: id ? '修改学校' : '新增学校', id, values, provinces: provinces.map((p) => ({ value: p.id, label: p.name })), fields: {}, ...problems }, status);
}

adminRoutes.get('/schools/new', (c) => schoolForm(c, null, {}));
adminRoutes.get('/schools/:id{[0-9]+}/edit', async (c) => schoolForm(c, idParam(c), await getSchool(c.get('app').db, c.get('actor')!, idParam(c))));

for (const path of ['/schools', '/schools/:id{[0-9]+}']) {
  adminRoutes.post(path, async (c) => {
    const id = c.req.param('id') ? idParam(c) : null;
    const body = formValues(await c.req.parseBody());
    try {
      const saved = await saveSchool(c.get('app').db, source(c), id, body);
      return c.redirect(`/admin/schools/${saved}?saved=1`, 303);
    } catch (e) {
      const refusal = formProblems(e);
      return schoolForm(c, id, body, refusal, refusal.status);
    }
  });
}

const schoolPage = async (c: Context<AppEnv>, extra: Record<string, unknown> = {}, status: PageStatus = 200) => {
  const school = await getSchool(c.get('app').db, c.get('actor')!, idParam(c));
  return render(c, 'admin/schools/show', { title: school.name, school, values: {}, fields: {}, notice: c.req.query('saved') === '1' ? '已保存。' : undefined, ...extra }, status);
};

adminRoutes.get('/schools/:id{[0-9]+}', (c) => schoolPage(c));

adminRoutes.post('/schools/:id{[0-9]+}/accounts', async (c) => {
  const body = formValues(await c.req.parseBody());
  try {
    const created = await createSchoolAccount(c.get('app').db, source(c), idParam(c), body);
    return schoolPage(c, { created });
  } catch (e) {
    const refusal = formProblems(e);
    return schoolPage(c, { values: body, ...refusal }, refusal.status);
  }
});
