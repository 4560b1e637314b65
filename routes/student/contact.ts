import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { parseForm } from '../../domain/forms.ts';
import { changeEmail, completePhoneChange, startPhoneChange } from '../../domain/graduates/contact.ts';
import { getGraduate } from '../../domain/graduates/roster.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { formValues, refusalOf } from '../forms.ts';
import { render } from '../render.ts';

// 修改手机号/邮箱: the graduate's own contact details (G1). A new phone takes two steps: the number,
// then the code sent to it (the number travels in the code's row, not in the form).
export const contactRoutes = new Hono<AppEnv>();

export const newPhoneForm = z.object({ phone: z.string().trim().min(1, { error: '请输入新手机号' }).max(20, { error: '请输入 11 位手机号' }) });
export const phoneCodeForm = z.object({
  ticket: z.string().max(64),
  code: z.string().trim().regex(/^\d{6}$/, { error: '请输入 6 位数字验证码' }),
});
export const emailForm = z.object({ email: z.string().trim().min(1, { error: '请输入电子邮箱' }).max(100, { error: '电子邮箱过长' }) });

const UPDATED_NOTICES = { phone: '手机号已修改，今后可用新手机号登录。', email: '电子邮箱已修改。' } as const;

contactRoutes.get('/contact', (c) => {
  const updated = c.req.query('updated');
  return contactPage(c, { notice: updated === 'phone' || updated === 'email' ? UPDATED_NOTICES[updated] : undefined });
});

contactRoutes.post('/contact/phone', async (c) => {
  const { db } = c.get('app');
  const source = { actor: c.get('actor')!, ip: clientIp(c) };
  const body = formValues(await c.req.parseBody());
  const resending = body.resend !== undefined;
  if (!body.ticket || resending) {
    try {
      const form = parseForm(newPhoneForm, body);
      const pending = await startPhoneChange(db, source, form);
      return contactPage(c, { phoneStep: 'verify', newPhone: form.phone, ticket: pending.ticket, notice: `验证码已发送至 ${pending.maskedPhone}，10 分钟内有效。` });
    } catch (e) {
      // A refused resend leaves the code already sent usable: stay on step two.
      const step = resending && body.ticket ? 'verify' : 'number';
      return contactPage(c, { phoneStep: step, newPhone: body.phone, ticket: body.ticket, ...refusalOf(e) });
    }
  }
  try {
    await completePhoneChange(db, source, parseForm(phoneCodeForm, body));
  } catch (e) {
    return contactPage(c, { phoneStep: 'verify', newPhone: body.phone, ticket: body.ticket, ...refusalOf(e) });
  }
  return c.redirect('/student/contact?updated=phone', 303);
});

contactRoutes.post('/contact/email', async (c) => {
  const body = formValues(await c.req.parseBody());
  try {
    await changeEmail(c.get('app').db, { actor: c.get('actor')!, ip: clientIp(c) }, parseForm(emailForm, body));
  } catch (e) {
    return contactPage(c, { email: body.email, ...refusalOf(e) });
  }
  return c.redirect('/student/contact?updated=email', 303);
});

type ContactPage = {
  phoneStep?: 'number' | 'verify';
  newPhone?: string | undefined;
  ticket?: string | undefined;
  email?: string | undefined;
  notice?: string | undefined;
  error?: string;
  fields?: Record<string, string>;
  status?: 403 | 404 | 409 | 422 | 429;
};

async function contactPage(c: Context<AppEnv>, page: ContactPage) {
  const actor = c.get('actor')!;
  const graduate = await getGraduate(c.get('app').db, actor, actor.graduateId!);
  return render(
    c,
    'student/contact',
    {
      title: '修改手机号/邮箱',
      phone: graduate.phone,
      phoneStep: page.phoneStep ?? 'number',
      newPhone: page.newPhone ?? '',
      ticket: page.ticket ?? '',
      email: page.email ?? graduate.email ?? '',
      notice: page.notice,
      error: page.error,
      fields: page.fields ?? {},
    },
    page.status ?? 200,
  );
}
