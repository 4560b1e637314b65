import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { loadAgreementDocument, verifyAgreement, type AgreementValidity } from '../domain/agreements/document.ts';
import { printable } from '../views/pdf.ts';
import { clientIp } from './client-ip.ts';
import type { AppEnv } from './context.ts';
import { refusalOf } from './forms.ts';
import { idParam } from './params.ts';
import { render } from './render.ts';

// 就业协议书 (G8): the preview page and the PDF from the one template views/agreement/document.eta.
// Mounted under each party's portal (/employer, /student, /school …/agreements), behind its guard;
// the domain decides whether this actor is a party of this agreement.
export const agreementDocumentRoutes = new Hono<AppEnv>();

/** Where /verify is reached from outside: the configured ORIGIN, else the address this request came to. */
const publicOrigin = (c: Context<AppEnv>) => c.get('app').config.linkOrigin;

const documentOf = (c: Context<AppEnv>) =>
  loadAgreementDocument(c.get('app').db, { actor: c.get('actor')!, ip: clientIp(c) }, idParam(c), publicOrigin(c));

agreementDocumentRoutes.get('/:id{[0-9]+}/document', async (c) => {
  const doc = await documentOf(c);
  return render(c, 'agreement/document', { title: `就业协议书 ${doc.number}`, print: false, doc });
});

agreementDocumentRoutes.get('/:id{[0-9]+}/document.pdf', async (c) => {
  const { views, pdf } = c.get('app');
  const doc = await documentOf(c);
  const html = printable(views, 'agreement/document', { doc });
  return c.body(new Uint8Array(await pdf.print(html)), 200, {
    'Content-Type': 'application/pdf',
    // The ASCII name is for browsers that ignore filename* (old IE-compatibility modes).
    'Content-Disposition': `attachment; filename="agreement-${doc.number}.pdf"; filename*=UTF-8''${encodeURIComponent(`就业协议书-${doc.number}.pdf`)}`,
    'Cache-Control': 'no-store',
  });
});

// 协议查验 (public): the number and code printed on an agreement, typed in or opened from its QR code.
export const verifyRoutes = new Hono<AppEnv>();

verifyRoutes.get('/verify', async (c) => {
  const values = { no: c.req.query('no') ?? '', code: c.req.query('code') ?? '' };
  const page = (data: { result?: AgreementValidity; error?: string; fields?: Record<string, string> }, status: ContentfulStatusCode = 200) =>
    render(c, 'agreement/verify', { title: '协议查验', values, fields: {}, ...data }, status);
  if (!values.no && !values.code) return page({});
  try {
    return await page({ result: await verifyAgreement(c.get('app').db, values, clientIp(c)) });
  } catch (e) {
    const refusal = refusalOf(e);
    return page(refusal, refusal.status);
  }
});
