import { Hono, type Context, type Next } from 'hono';
import { z } from 'zod';
import { EMPLOYER_TYPE_OPTIONS, EMPLOYER_TYPES, INDUSTRIES, INDUSTRY_OPTIONS, labelOf } from '../../domain/codes/tables.ts';
import { regionName } from '../../domain/codes/regions.ts';
import { confirmRemittanceAmount, latestVerification, MAX_AMOUNT_ATTEMPTS, submitVerification } from '../../domain/employers/verification/identity-verification.ts';
import { archiveHistory, ARCHIVE_LABELS, changeOwnPassword, getArchive, getUnit, saveArchive, unitUsers, updateOwnInfo, verifiedUnitOf } from '../../domain/employers/unit.ts';
import { VERIFICATION_METHOD_LABELS } from '../../domain/employers/verification/states.ts';
import { employerVerification } from '../../domain/employers/verification/workflow.ts';
import { availableActions, inGroup } from '../../domain/workflow/kernel.ts';
import { latestNotifications } from '../../domain/notifications.ts';
import { employerCounts } from '../../domain/agreements/queries.ts';
import { clientIp } from '../client-ip.ts';
import { MAX_UPLOAD_BYTES } from '../../domain/uploads/accept-upload.ts';
import { uploadLimit } from '../body.ts';
import type { AppEnv } from '../context.ts';
import { serveUpload, storageOf } from '../files.ts';
import { formProblems, formValues, type PageStatus } from '../forms.ts';
import { notificationRoutes } from '../notifications.ts';
import { agreementDocumentRoutes } from '../agreement-documents.ts';
import { render } from '../render.ts';
import { authorizationLetterRoutes } from './authorization-letter.ts';
import { signingRoutes } from './signing.ts';
import { employerTerminationRoutes } from '../terminations.ts';

export const employerRoutes = new Hono<AppEnv>();

const source = (c: Context<AppEnv>) => ({ actor: c.get('actor')!, ip: clientIp(c) });
const options = (opts: ReadonlyArray<{ code: string; label: string }>) => opts.map((o) => ({ value: o.code, label: o.label }));
const UNIT_OPTIONS = { employerType: options(EMPLOYER_TYPE_OPTIONS), industry: options(INDUSTRY_OPTIONS) };

// E3: until the unit is verified, only the verification pages, the guide and the letter template.
async function requireVerified(c: Context<AppEnv>, next: Next) {
  if (!c.get('actor')!.employerVerified) return c.redirect('/employer', 303);
  await next();
}

employerRoutes.route('/', authorizationLetterRoutes);
employerRoutes.route('/notifications', notificationRoutes);
employerRoutes.get('/files/:file{[A-Za-z0-9_-]{22}}', serveUpload);
employerRoutes.get('/guide', (c) => render(c, 'employer/guide', { title: '操作指南' }));

// 签约/解约 status words of the employer guide (E6), counted per tab of EMPLOYER_TABS.
const WORKBENCH_STATUSES = ['签约中', '已签约', '签约失败', '解约中', '已解约', '解约失败', '失效'];
export const cohortQuery = z.object({ cohort: z.coerce.number().int().min(2000).max(2100).optional().catch(undefined) });

employerRoutes.get('/', async (c) => {
  const actor = c.get('actor')!;
  const { db } = c.get('app');
  if (!actor.employerVerified) return verificationPage(c);
  const thisYear = new Date().getFullYear();
  const cohort = cohortQuery.parse(c.req.query()).cohort ?? thisYear;
  const [unit, notices, counts] = await Promise.all([getUnit(db, verifiedUnitOf(actor)), latestNotifications(db, actor.userId), employerCounts(db, actor, cohort)]);
  return render(c, 'employer/workbench', {
    title: '工作台',
    unit,
    notices,
    cohort,
    cohorts: [thisYear - 1, thisYear, thisYear + 1],
    counts: WORKBENCH_STATUSES.map((label) => ({ label, n: counts.find((c) => c.label === label)?.n ?? 0 })),
  });
});

async function verificationPage(c: Context<AppEnv>, form?: { values: Record<string, unknown>; error?: string; fields?: Record<string, string> }, status: PageStatus = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const latest = await latestVerification(db, actor);
  const open = latest && inGroup(employerVerification.groups.open, latest.state) ? latest : null;
  const actions = open ? await availableActions(db, employerVerification, open, actor) : {};
  return render(
    c,
    'employer/verification',
    {
      title: '身份认证',
      latest: latest && { ...latest, stateLabel: employerVerification.labels.employer[latest.state], methodLabel: VERIFICATION_METHOD_LABELS[latest.method], rejected: inGroup(employerVerification.groups.rejected, latest.state) },
      open,
      canConfirmAmount: actions.confirm_amount?.allowed === true,
      attemptsLeft: open ? MAX_AMOUNT_ATTEMPTS - open.remittanceAttempts : 0,
      options: UNIT_OPTIONS,
      values: form?.values ?? { method: 'documents' },
      fields: form?.fields ?? {},
      error: form?.error,
      notice: c.req.query('submitted') === '1' ? '认证材料已提交，请等待平台处理。' : undefined,
    },
    status,
  );
}

employerRoutes.get('/verification', async (c) => (c.get('actor')!.employerVerified ? c.redirect('/employer', 303) : verificationPage(c)));

employerRoutes.post('/verification', uploadLimit(2 * MAX_UPLOAD_BYTES + 256 * 1024, '认证材料（授权书和营业执照）每个文件不能超过 10MB。请压缩后重新提交。'), async (c) => {
  const body = await c.req.parseBody();
  const values = formValues(body);
  const file = (name: string) => {
    const f = body[name];
    return f instanceof File && f.size > 0 ? f : undefined;
  };
  try {
    const incoming = async (f: File | undefined) => (f ? { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) } : undefined);
    await submitVerification(c.get('app').db, storageOf(c), source(c), values, { authorization: await incoming(file('authorization')), licence: await incoming(file('licence')) });
    return c.redirect('/employer?submitted=1', 303);
  } catch (e) {
    const problems = formProblems(e);
    return verificationPage(c, { values, ...problems }, problems.status);
  }
});

employerRoutes.post('/verification/amount', async (c) => {
  const result = await confirmRemittanceAmount(c.get('app').db, source(c), formValues(await c.req.parseBody())).catch((e: unknown) => ({ problems: formProblems(e) }));
  if ('problems' in result) return verificationPage(c, { values: {}, ...result.problems }, result.problems.status);
  if (result.ok) return c.redirect('/employer', 303);
  const error = result.attemptsLeft > 0 ? `金额不正确，还可以再填写 ${result.attemptsLeft} 次` : '金额填写错误已达 3 次，请等待平台重新汇款';
  return verificationPage(c, { values: {}, error, fields: { amount: error } }, 422);
});

// E3: every other room is a verified unit's, on one sub-app behind one guard. It is mounted last:
// the rooms above (verification, guide, notifications) answer before its guard is reached.
export const verifiedUnitRoutes = new Hono<AppEnv>();
verifiedUnitRoutes.use('*', requireVerified);
verifiedUnitRoutes.route('/', signingRoutes);
verifiedUnitRoutes.route('/agreements', agreementDocumentRoutes);
verifiedUnitRoutes.route('/', employerTerminationRoutes);

const archivePage = async (c: Context<AppEnv>, form?: { values: Record<string, unknown>; error?: string; fields?: Record<string, string> }, status: PageStatus = 200) =>
  render(c, 'employer/archive', {
    title: '户档信息管理',
    labels: ARCHIVE_LABELS,
    values: form?.values ?? (await getArchive(c.get('app').db, c.get('actor')!)) ?? {},
    fields: form?.fields ?? {},
    error: form?.error,
    notice: c.req.query('saved') === '1' ? '户档信息已保存。' : undefined,
  }, status);

verifiedUnitRoutes.get('/archive', (c) => archivePage(c));
verifiedUnitRoutes.post('/archive', async (c) => {
  const values = formValues(await c.req.parseBody());
  try {
    await saveArchive(c.get('app').db, source(c), values);
    return c.redirect('/employer/archive?saved=1', 303);
  } catch (e) {
    const refusal = formProblems(e);
    return archivePage(c, { values, ...refusal }, refusal.status);
  }
});
verifiedUnitRoutes.get('/archive/history', async (c) => render(c, 'employer/archive-history', { title: '查看编辑记录', history: await archiveHistory(c.get('app').db, c.get('actor')!) }));

const accountsPage = async (c: Context<AppEnv>, form?: { error?: string; fields?: Record<string, string>; values?: Record<string, unknown> }, status: PageStatus = 200) => {
  const actor = c.get('actor')!;
  const members = await unitUsers(c.get('app').db, actor);
  const me = members.find((m) => m.id === actor.userId)!;
  return render(c, 'employer/accounts', {
    title: '账号管理',
    members,
    me,
    values: form?.values ?? me,
    fields: form?.fields ?? {},
    error: form?.error,
    notice: { info: '个人信息已保存。', password: '密码已修改，其他设备上的登录已退出。' }[c.req.query('saved') ?? ''],
  }, status);
};

verifiedUnitRoutes.get('/accounts', (c) => accountsPage(c));
verifiedUnitRoutes.post('/accounts/me', async (c) => {
  const values = formValues(await c.req.parseBody());
  try {
    await updateOwnInfo(c.get('app').db, source(c), values);
    return c.redirect('/employer/accounts?saved=info', 303);
  } catch (e) {
    const refusal = formProblems(e);
    return accountsPage(c, { values, ...refusal }, refusal.status);
  }
});
verifiedUnitRoutes.post('/accounts/password', async (c) => {
  try {
    await changeOwnPassword(c.get('app').db, source(c), formValues(await c.req.parseBody()));
    return c.redirect('/employer/accounts?saved=password', 303);
  } catch (e) {
    const refusal = formProblems(e);
    return accountsPage(c, refusal, refusal.status);
  }
});

verifiedUnitRoutes.get('/unit', async (c) => {
  const unit = await getUnit(c.get('app').db, verifiedUnitOf(c.get('actor')!));
  return render(c, 'employer/unit', {
    title: '单位信息',
    unit: { ...unit, employerType: labelOf(EMPLOYER_TYPES, unit.employerType), industry: labelOf(INDUSTRIES, unit.industry), regionName: regionName(unit.region) ?? unit.region },
  });
});

employerRoutes.route('/', verifiedUnitRoutes);
