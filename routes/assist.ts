import { Hono, type Context } from 'hono';
import { MAX_PAGES } from '../domain/agreements/applications/apply.ts';
import { checkLink, openAssistLink, uploadViaAssistLink, usedJustNow } from '../domain/agreements/offline/assist.ts';
import { agreementPdf } from './agreement-documents.ts';
import { clientIp } from './client-ip.ts';
import { uploadLimit } from './body.ts';
import type { AppEnv } from './context.ts';
import { BATCH_BODY_LIMIT, incomingFiles, storageOf } from './files.ts';
import { refusalOf, type PageStatus } from './forms.ts';
import { render } from './render.ts';

// 用人单位协助回传协议书 (public, no account): the unit opens the link from the SMS, downloads the
// agreement, and uploads the copy it stamped. What it sees is the agreement itself and nothing else.
export const assistRoutes = new Hono<AppEnv>();

const publicOrigin = (c: Context<AppEnv>) => c.get('app').config.linkOrigin;
const tokenOf = (c: Context<AppEnv>) => c.req.param('token') ?? '';

async function assistPage(c: Context<AppEnv>, extra: { error?: string; fields?: Record<string, string> } = {}, status: PageStatus = 200) {
  const doc = await openAssistLink(c.get('app').db, tokenOf(c), clientIp(c), publicOrigin(c));
  return render(c, 'assist/show', { title: '用人单位协助回传协议书', doc, token: tokenOf(c), maxPages: MAX_PAGES, fields: {}, ...extra }, status);
}

assistRoutes.get('/assist/:token', (c) => assistPage(c));

assistRoutes.get('/assist/:token/document.pdf', async (c) => agreementPdf(c, await openAssistLink(c.get('app').db, tokenOf(c), clientIp(c), publicOrigin(c))));

// The token is checked (and a wrong one counted) before the body is read: a stranger cannot make the
// server read uploads; a repeat of an upload that went through is answered as done.
assistRoutes.post(
  '/assist/:token',
  async (c, next) => {
    const { db } = c.get('app');
    if (await usedJustNow(db, tokenOf(c))) return render(c, 'assist/done', { title: '回传成功' });
    await checkLink(db, tokenOf(c), clientIp(c));
    await next();
  },
  uploadLimit(BATCH_BODY_LIMIT, '一次上传的文件合计不能超过 30MB，请分次上传或压缩后再传。'),
  async (c) => {
    const files = await incomingFiles(await c.req.parseBody({ all: true }), 'pages');
    try {
      await uploadViaAssistLink(c.get('app').db, storageOf(c), tokenOf(c), clientIp(c), files);
    } catch (e) {
      const refusal = refusalOf(e);
      if (refusal.status === 404 || refusal.status === 429) return render(c, 'errors/error', { title: '链接不可用', heading: '链接不可用', message: refusal.error }, refusal.status);
      return assistPage(c, refusal, refusal.status);
    }
    return render(c, 'assist/done', { title: '回传成功' });
  },
);
