import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { EMPLOYER_TYPE_OPTIONS, EMPLOYER_TYPES, INDUSTRIES, INDUSTRY_OPTIONS, labelOf } from '../../domain/codes/tables.ts';
import { regionName } from '../../domain/codes/regions.ts';
import { decideVerification, getVerificationForReview, listVerificationQueue, sendRemittance } from '../../domain/employers/verification/identity-verification.ts';
import { getUnit, listUnits, updateUnitByAdmin } from '../../domain/employers/unit.ts';
import { VERIFICATION_METHOD_LABELS, VERIFICATION_METHODS, VERIFICATION_STATES } from '../../domain/employers/verification/states.ts';
import { employerVerification } from '../../domain/employers/verification/workflow.ts';
import { availableActions } from '../../domain/workflow/kernel.ts';
import { EMPLOYER_VERIFICATION_LABELS } from '../../domain/employers/verification.ts';
import { UPLOAD_PURPOSE_LABELS } from '../../domain/uploads/purposes.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { serveUpload } from '../files.ts';
import { formProblems, formValues, type PageStatus } from '../forms.ts';
import { idParam } from '../params.ts';
import { render } from '../render.ts';

// The platform's side of E2 (the verification queue) and E9 (editing a unit's information).
export const verificationRoutes = new Hono<AppEnv>();

const source = (c: Context<AppEnv>) => ({ actor: c.get('actor')!, ip: clientIp(c) });
const STATE_LABELS = employerVerification.labels.admin;

verificationRoutes.get('/files/:file{[A-Za-z0-9_-]{22}}', serveUpload);

export const queueQuery = z.object({
  state: z.enum(VERIFICATION_STATES).optional().catch(undefined),
  method: z.enum(VERIFICATION_METHODS).optional().catch(undefined),
  q: z.string().trim().max(50).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100000).catch(1),
});

verificationRoutes.get('/verifications', async (c) => {
  const query = queueQuery.parse(c.req.query());
  const result = await listVerificationQueue(c.get('app').db, c.get('actor')!, query);
  const params = new URLSearchParams(Object.entries({ state: query.state, method: query.method, q: query.q }).filter((e): e is [string, string] => !!e[1]));
  return render(c, 'admin/verifications/index', {
    title: '单位认证审核',
    ...result,
    rows: result.rows.map((r) => ({ ...r, stateLabel: STATE_LABELS[r.state], methodLabel: VERIFICATION_METHOD_LABELS[r.method] })),
    filters: query,
    states: VERIFICATION_STATES.map((s) => ({ value: s, label: STATE_LABELS[s] })),
    methods: VERIFICATION_METHODS.map((m) => ({ value: m, label: VERIFICATION_METHOD_LABELS[m] })),
    pageQuery: params.toString(),
  });
});

async function reviewPage(c: Context<AppEnv>, extra: { error?: string; fields?: Record<string, string>; notice?: string } = {}, status: PageStatus = 200) {
  const { db } = c.get('app');
  const v = await getVerificationForReview(db, c.get('actor')!, idParam(c));
  const actions = await availableActions(db, employerVerification, v, c.get('actor')!);
  return render(c, 'admin/verifications/show', {
    title: `认证审核：${v.unitName}`,
    v: {
      ...v,
      stateLabel: STATE_LABELS[v.state],
      methodLabel: VERIFICATION_METHOD_LABELS[v.method],
      employerType: labelOf(EMPLOYER_TYPES, v.employerType),
      industry: labelOf(INDUSTRIES, v.industry),
      regionName: regionName(v.region) ?? v.region,
      remittance: v.remittanceCents === null ? null : (v.remittanceCents / 100).toFixed(2),
      files: v.files.map((f) => ({ ...f, label: UPLOAD_PURPOSE_LABELS[f.purpose], isImage: f.mime.startsWith('image/') })),
    },
    canRemit: actions.send_remittance?.allowed === true,
    canDecide: actions.approve?.allowed === true,
    canReject: actions.reject?.allowed === true,
    fields: {},
    notice: { remitted: '已记录汇款，并已通知单位用户填写金额。', decided: '审核结果已保存，并已通知单位用户。' }[c.req.query('done') ?? ''],
    ...extra,
  }, status);
}

verificationRoutes.get('/verifications/:id{[0-9]+}', (c) => reviewPage(c));

verificationRoutes.post('/verifications/:id{[0-9]+}/remittance', async (c) => {
  try {
    await sendRemittance(c.get('app').db, source(c), idParam(c));
    return c.redirect(`/admin/verifications/${idParam(c)}?done=remitted`, 303);
  } catch (e) {
    const refusal = formProblems(e);
    return reviewPage(c, refusal, refusal.status);
  }
});

verificationRoutes.post('/verifications/:id{[0-9]+}/decision', async (c) => {
  try {
    await decideVerification(c.get('app').db, source(c), idParam(c), formValues(await c.req.parseBody()));
    return c.redirect(`/admin/verifications/${idParam(c)}?done=decided`, 303);
  } catch (e) {
    const refusal = formProblems(e);
    return reviewPage(c, refusal, refusal.status);
  }
});

// 单位信息 (E9): read-only for the unit's users; platform staff correct it here.
export const unitQuery = z.object({ q: z.string().trim().max(50).optional().catch(undefined), page: z.coerce.number().int().min(1).max(100000).catch(1) });
const toOptions = (opts: ReadonlyArray<{ code: string; label: string }>) => opts.map((o) => ({ value: o.code, label: o.label }));

verificationRoutes.get('/employers', async (c) => {
  const query = unitQuery.parse(c.req.query());
  const result = await listUnits(c.get('app').db, c.get('actor')!, query);
  return render(c, 'admin/employers/index', {
    title: '单位管理',
    ...result,
    rows: result.rows.map((r) => ({ ...r, verificationLabel: EMPLOYER_VERIFICATION_LABELS[r.verification] })),
    q: query.q ?? '',
    pageQuery: query.q ? `q=${encodeURIComponent(query.q)}` : '',
  });
});

async function unitPage(c: Context<AppEnv>, form?: { values: Record<string, unknown>; error?: string; fields?: Record<string, string> }, status: PageStatus = 200) {
  const unit = await getUnit(c.get('app').db, idParam(c));
  return render(c, 'admin/employers/edit', {
    title: `修改单位信息：${unit.name}`,
    unit,
    values: form?.values ?? unit,
    fields: form?.fields ?? {},
    error: form?.error,
    options: { employerType: toOptions(EMPLOYER_TYPE_OPTIONS), industry: toOptions(INDUSTRY_OPTIONS) },
    notice: c.req.query('saved') === '1' ? '单位信息已保存。' : undefined,
  }, status);
}

verificationRoutes.get('/employers/:id{[0-9]+}', (c) => unitPage(c));
verificationRoutes.post('/employers/:id{[0-9]+}', async (c) => {
  const values = formValues(await c.req.parseBody());
  try {
    await updateUnitByAdmin(c.get('app').db, source(c), idParam(c), values);
    return c.redirect(`/admin/employers/${idParam(c)}?saved=1`, 303);
  } catch (e) {
    const refusal = formProblems(e);
    return unitPage(c, { values, ...refusal }, refusal.status);
  }
});
