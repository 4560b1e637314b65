import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import {
  completeEmployerPasswordReset,
  completeRegistration,
  startEmployerPasswordReset,
  startRegistration,
  type StartInput,
} from '../../domain/employers/registration.ts';
import { parseForm } from '../../domain/forms.ts';
import type { NewPasswordInput, Visitor } from '../../domain/graduates/activation.ts';
import { startBrowserSession } from '../auth.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { formValues, refusalOf } from '../forms.ts';
import { render } from '../render.ts';
import { newPasswordForm } from '../student/account.ts';

// The employer's pages before sign-in: 用户注册 (E1) and 忘记密码, each in two steps. Step one takes
// the phone and sends a code (免费获取); step two takes the code and a password, then signs the
// user in and goes to the 工作台, where identity verification starts. Step two's form carries the
// code's ticket, and the phone only so that 重新获取验证码 can run step one again.

export const employerAccountRoutes = new Hono<AppEnv>();

export const phoneForm = z.object({
  phone: z.string().trim().min(1, { error: '请输入手机号' }).max(11, { error: '请输入 11 位手机号' }),
});

type CodeFlow = {
  path: string;
  heading: string;
  phoneHint: string;
  sentNotice: string;
  start: (db: Db, input: StartInput) => Promise<{ ticket: string }>;
  complete: (db: Db, visitor: Visitor, input: NewPasswordInput) => Promise<{ token: string }>;
  passwordLabel: string;
  confirmationLabel: string;
  submitLabel: string;
  otherLink: { href: string; label: string };
};

const FLOWS: CodeFlow[] = [
  {
    path: '/register',
    heading: '用户注册',
    phoneHint: '点击“免费获取”，短信验证码将发送到该手机号；该手机号即为登录账号。',
    sentNotice: '验证码已发送，10 分钟内有效。',
    start: startRegistration,
    complete: completeRegistration,
    passwordLabel: '密码',
    confirmationLabel: '密码确认',
    submitLabel: '立即开通',
    otherLink: { href: '/employer/password-reset', label: '忘记密码' },
  },
  {
    path: '/password-reset',
    heading: '忘记密码',
    phoneHint: '请输入注册时使用的手机号，点击“免费获取”获取短信验证码。',
    // The same words whether or not the phone has an account.
    sentNotice: '若该手机号已注册用人单位账号，验证码已发送，10 分钟内有效。',
    start: startEmployerPasswordReset,
    complete: completeEmployerPasswordReset,
    passwordLabel: '新密码',
    confirmationLabel: '新密码确认',
    submitLabel: '重置密码并登录',
    otherLink: { href: '/employer/register', label: '注册' },
  },
];

for (const flow of FLOWS) {
  employerAccountRoutes.get(flow.path, (c) => {
    if (c.get('actor')?.portal === 'employer') return c.redirect('/employer', 303);
    return flowPage(c, flow, { step: 'phone', phone: '' });
  });

  employerAccountRoutes.post(flow.path, async (c) => {
    const { db } = c.get('app');
    const body = formValues(await c.req.parseBody());
    const phone = body.phone?.trim() ?? '';
    const resending = body.resend !== undefined;
    if (!body.ticket || resending) {
      try {
        const form = parseForm(phoneForm, body);
        const pending = await flow.start(db, { phone: form.phone, ip: clientIp(c) });
        return flowPage(c, flow, { step: 'verify', phone, ticket: pending.ticket, notice: flow.sentNotice });
      } catch (e) {
        // A refused resend leaves the code already sent usable: stay on step two.
        const step = resending && body.ticket ? 'verify' : 'phone';
        return flowPage(c, flow, { step, phone, ticket: body.ticket, ...refusalOf(e) });
      }
    }
    try {
      const form = parseForm(newPasswordForm, body);
      const session = await flow.complete(db, { ip: clientIp(c), userAgent: c.req.header('user-agent') ?? null }, form);
      await startBrowserSession(c, session.token);
      return c.redirect('/employer', 303);
    } catch (e) {
      const refusal = refusalOf(e);
      // 409: the phone already has an account; another code would not help, so step one shows the way on.
      const step = refusal.status === 409 ? 'phone' : 'verify';
      return flowPage(c, flow, { step, phone, ticket: body.ticket, code: body.code, ...refusal });
    }
  });
}

type FlowPage = {
  step: 'phone' | 'verify';
  phone: string;
  ticket?: string | undefined;
  code?: string | undefined;
  notice?: string;
  error?: string;
  fields?: Record<string, string>;
  status?: 403 | 404 | 409 | 422 | 429;
};

function flowPage(c: Context<AppEnv>, flow: CodeFlow, page: FlowPage) {
  return render(
    c,
    'employer/account-code',
    {
      title: flow.heading,
      portal: 'employer',
      heading: flow.heading,
      action: `/employer${flow.path}`,
      phoneHint: flow.phoneHint,
      passwordLabel: flow.passwordLabel,
      confirmationLabel: flow.confirmationLabel,
      submitLabel: flow.submitLabel,
      otherLink: flow.otherLink,
      step: page.step,
      phone: page.phone,
      ticket: page.ticket ?? '',
      code: page.code ?? '',
      notice: page.notice,
      error: page.error,
      fields: page.fields ?? {},
    },
    page.status ?? 200,
  );
}
