import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { parseForm } from '../../domain/forms.ts';
import {
  completeActivation,
  completePasswordReset,
  startActivation,
  startPasswordReset,
  type NewPasswordInput,
  type PendingCode,
  type Visitor,
} from '../../domain/graduates/activation.ts';
import { startBrowserSession } from '../auth.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { formValues, refusalOf } from '../forms.ts';
import { render } from '../render.ts';

// The graduate's pages before sign-in: 激活账号 and 忘记密码, each in two steps. Step one names the
// graduate and sends a code; step two takes the code and a new password, then signs the graduate
// in (to 学生信息 for the G1 check). Step two's form carries the code's ticket, and the step-one
// values only so that 重新获取验证码 can run step one again; they are checked again there.

export const studentAccountRoutes = new Hono<AppEnv>();

const name = z.string().trim().min(1, { error: '请输入姓名' }).max(50, { error: '姓名过长' });

export const activationStartForm = z.object({
  name,
  id_number: z.string().trim().min(1, { error: '请输入身份证号' }).max(18, { error: '身份证号为 18 位' }),
});

export const passwordResetStartForm = z.object({
  name,
  login: z.string().trim().min(1, { error: '请输入手机号或身份证号' }).max(18, { error: '请输入 11 位手机号或 18 位身份证号' }),
});

export const newPasswordForm = z
  .object({
    ticket: z.string().max(64),
    code: z.string().trim().regex(/^\d{6}$/, { error: '请输入 6 位数字验证码' }),
    password: z.string().min(1, { error: '请设置密码' }).max(128, { error: '密码过长' }),
    password_confirmation: z.string().max(128),
  })
  .refine((f) => f.password === f.password_confirmation, { path: ['password_confirmation'], error: '两次输入的密码不一致' });

type IdentityField = { name: string; label: string; autocomplete: string; maxlength: number; hint?: string };

type CodeFlow = {
  path: string;
  heading: string;
  identity: IdentityField[];
  start: (db: Db, body: Record<string, string>, ip: string | null) => Promise<PendingCode>;
  complete: (db: Db, visitor: Visitor, input: NewPasswordInput) => Promise<{ token: string }>;
  submitLabel: string;
  otherLink: { href: string; label: string };
};

const FLOWS: CodeFlow[] = [
  {
    path: '/activation',
    heading: '激活账号',
    identity: [
      { name: 'name', label: '姓名', autocomplete: 'name', maxlength: 50 },
      { name: 'id_number', label: '身份证号', autocomplete: 'off', maxlength: 18, hint: '请填写学校毕业生名单中的姓名和身份证号，验证码将发送到名单中登记的手机号。' },
    ],
    start: (db, body, ip) => {
      const form = parseForm(activationStartForm, body);
      return startActivation(db, { name: form.name, idNumber: form.id_number, ip });
    },
    complete: completeActivation,
    submitLabel: '激活并登录',
    otherLink: { href: '/student/password-reset', label: '忘记密码' },
  },
  {
    path: '/password-reset',
    heading: '忘记密码',
    identity: [
      { name: 'name', label: '姓名', autocomplete: 'name', maxlength: 50 },
      { name: 'login', label: '手机号/身份证号', autocomplete: 'username', maxlength: 18, hint: '验证码将发送到账号绑定的手机号。' },
    ],
    start: (db, body, ip) => {
      const form = parseForm(passwordResetStartForm, body);
      return startPasswordReset(db, { name: form.name, login: form.login, ip });
    },
    complete: completePasswordReset,
    submitLabel: '重置密码并登录',
    otherLink: { href: '/student/activation', label: '激活账号' },
  },
];

for (const flow of FLOWS) {
  studentAccountRoutes.get(flow.path, (c) => {
    if (c.get('actor')?.portal === 'student') return c.redirect('/student', 303);
    return flowPage(c, flow, { step: 'identify', values: {} });
  });

  studentAccountRoutes.post(flow.path, async (c) => {
    const { db } = c.get('app');
    const body = formValues(await c.req.parseBody());
    const values = Object.fromEntries(flow.identity.map((f) => [f.name, body[f.name] ?? '']));
    const resending = body.resend !== undefined;
    if (!body.ticket || resending) {
      try {
        const pending = await flow.start(db, body, clientIp(c));
        return flowPage(c, flow, { step: 'verify', values, ticket: pending.ticket, notice: `验证码已发送至 ${pending.maskedPhone}，10 分钟内有效。` });
      } catch (e) {
        // A refused resend leaves the code already sent usable: stay on step two.
        const step = resending && body.ticket ? 'verify' : 'identify';
        return flowPage(c, flow, { step, values, ticket: body.ticket, ...refusalOf(e) });
      }
    }
    try {
      const form = parseForm(newPasswordForm, body);
      const session = await flow.complete(db, { ip: clientIp(c), userAgent: c.req.header('user-agent') ?? null }, form);
      await startBrowserSession(c, session.token);
      return c.redirect('/student', 303);
    } catch (e) {
      return flowPage(c, flow, { step: 'verify', values, ticket: body.ticket, ...refusalOf(e) });
    }
  });
}

type FlowPage = {
  step: 'identify' | 'verify';
  values: Record<string, string>;
  ticket?: string | undefined;
  notice?: string;
  error?: string;
  fields?: Record<string, string>;
  status?: 403 | 404 | 409 | 422 | 429;
};

function flowPage(c: Context<AppEnv>, flow: CodeFlow, page: FlowPage) {
  return render(
    c,
    'student/account-code',
    {
      title: flow.heading,
      portal: 'student',
      heading: flow.heading,
      action: `/student${flow.path}`,
      identity: flow.identity.map((f) => ({ ...f, value: page.values[f.name] ?? '' })),
      submitLabel: flow.submitLabel,
      otherLink: flow.otherLink,
      step: page.step,
      ticket: page.ticket ?? '',
      notice: page.notice,
      error: page.error,
      fields: page.fields ?? {},
    },
    page.status ?? 200,
  );
}
