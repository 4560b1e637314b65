import { Hono, type Context } from 'hono';
import {
  createDepartmentAccount,
  getDepartmentAccount,
  listDepartmentAccounts,
  listRosterDepartments,
  resetDepartmentAccountPassword,
  setDepartmentAccountDisabled,
  updateDepartmentAccount,
} from '../../domain/accounts/department-accounts.ts';
import { forbidden } from '../../domain/errors.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { formProblems, formValues, type PageStatus } from '../forms.ts';
import { idParam } from '../params.ts';
import { render } from '../render.ts';

// S2 账号管理: department users of the school.
export const accountRoutes = new Hono<AppEnv>();

accountRoutes.use(async (c, next) => {
  if (c.get('actor')!.role !== 'school') throw forbidden();
  await next();
});

const source = (c: Context<AppEnv>) => ({ actor: c.get('actor')!, ip: clientIp(c) });

async function formPage(c: Context<AppEnv>, opts: { id?: number; values: Record<string, unknown>; error?: string; fields?: Record<string, string> }, status: PageStatus = 200) {
  const departments = await listRosterDepartments(c.get('app').db, c.get('actor')!);
  return render(
    c,
    'school/accounts/form',
    { title: opts.id ? '修改院系账号' : '新增院系账号', departments: departments.map((d) => ({ value: d.id, label: d.name })), fields: {}, ...opts },
    status,
  );
}

accountRoutes.get('/', async (c) => {
  const accounts = await listDepartmentAccounts(c.get('app').db, c.get('actor')!);
  return render(c, 'school/accounts/index', { title: '账号管理', accounts, notice: c.req.query('saved') === '1' ? '已保存。' : undefined });
});

accountRoutes.get('/new', (c) => formPage(c, { values: {} }));

accountRoutes.post('/', async (c) => {
  const body = formValues(await c.req.parseBody());
  try {
    const created = await createDepartmentAccount(c.get('app').db, source(c), body);
    const account = await getDepartmentAccount(c.get('app').db, c.get('actor')!, created.id);
    return render(c, 'school/accounts/password', { title: '初始密码', account, password: created.password, created: true });
  } catch (e) {
    const refusal = formProblems(e);
    return formPage(c, { values: body, ...refusal }, refusal.status);
  }
});

accountRoutes.get('/:id{[0-9]+}/edit', async (c) => {
  const account = await getDepartmentAccount(c.get('app').db, c.get('actor')!, idParam(c));
  return formPage(c, { id: account.id, values: account });
});

accountRoutes.post('/:id{[0-9]+}', async (c) => {
  const id = idParam(c);
  const body = formValues(await c.req.parseBody());
  try {
    await updateDepartmentAccount(c.get('app').db, source(c), id, body);
    return c.redirect('/school/accounts?saved=1', 303);
  } catch (e) {
    const account = await getDepartmentAccount(c.get('app').db, c.get('actor')!, id);
    const refusal = formProblems(e);
    return formPage(c, { id, values: { ...body, login: account.login }, ...refusal }, refusal.status);
  }
});

accountRoutes.post('/:id{[0-9]+}/disabled', async (c) => {
  const body = formValues(await c.req.parseBody());
  await setDepartmentAccountDisabled(c.get('app').db, source(c), idParam(c), body.disabled === '1');
  return c.redirect('/school/accounts?saved=1', 303);
});

accountRoutes.get('/:id{[0-9]+}/password-reset', async (c) => {
  const account = await getDepartmentAccount(c.get('app').db, c.get('actor')!, idParam(c));
  return render(c, 'school/accounts/reset', { title: '重置密码', account });
});

accountRoutes.post('/:id{[0-9]+}/password-reset', async (c) => {
  const id = idParam(c);
  const password = await resetDepartmentAccountPassword(c.get('app').db, source(c), id);
  const account = await getDepartmentAccount(c.get('app').db, c.get('actor')!, id);
  return render(c, 'school/accounts/password', { title: '新密码', account, password, created: false });
});
