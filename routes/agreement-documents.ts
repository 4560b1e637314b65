import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { loadAgreementDocument, verifyAgreement, type AgreementDocument, type AgreementValidity } from '../domain/agreements/document.ts';
import { agreementSeal, checkUploadedAgreement, completionCertificate, type UploadedAgreementCheck } from '../domain/agreements/sealing.ts';
import { formatShanghai } from '../domain/agreements/deadline.ts';
import { sealPdf } from '../domain/signing/seal.ts';
import { printable } from '../views/pdf.ts';
import { uploadLimit } from './body.ts';
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

agreementDocumentRoutes.get('/:id{[0-9]+}/document.pdf', async (c) => agreementPdf(c, await documentOf(c)));

/**
 * The agreement as a PDF download. Once every party's review is complete (signed, or terminated) it
 * is issued sealed (issue 15): the 签约完成证明 as its last page, and the platform's PAdES signature
 * over the whole file. Before that (an offline agreement printed for the unit's stamp) it is a draft
 * to print and stamp, unsigned.
 */
export async function agreementPdf(c: Context<AppEnv>, doc: AgreementDocument) {
  const { views, pdf, db, signing } = c.get('app');
  let bytes: Uint8Array;
  if (doc.sealed) {
    const issuedAt = new Date();
    const [identity, signer] = await Promise.all([signing.identity(), signing.signer()]);
    const certificate = await completionCertificate(db, doc, identity, issuedAt);
    const printed = await pdf.print(printable(views, 'agreement/document', { doc, certificate }));
    bytes = await sealPdf(Buffer.from(printed.buffer, printed.byteOffset, printed.byteLength), agreementSeal(doc, issuedAt), signer);
  } else {
    bytes = await pdf.print(printable(views, 'agreement/document', { doc }));
  }
  return c.body(new Uint8Array(bytes), 200, {
    'Content-Type': 'application/pdf',
    // The ASCII name is for browsers that ignore filename* (old IE-compatibility modes).
    'Content-Disposition': `attachment; filename="agreement-${doc.number}.pdf"; filename*=UTF-8''${encodeURIComponent(`就业协议书-${doc.number}.pdf`)}`,
    'Cache-Control': 'no-store',
  });
}

// 协议查验 (public): the number and code printed on an agreement, typed in or opened from its QR code.
export const verifyRoutes = new Hono<AppEnv>();

type VerifyPage = { result?: AgreementValidity; file?: UploadedAgreementCheck; error?: string; fields?: Record<string, string> };

const verifyPage = (c: Context<AppEnv>, values: { no: string; code: string }, data: VerifyPage, status: ContentfulStatusCode = 200) =>
  render(c, 'agreement/verify', { title: '协议查验', values, fields: {}, ...data }, status);

verifyRoutes.get('/verify', async (c) => {
  const values = { no: c.req.query('no') ?? '', code: c.req.query('code') ?? '' };
  const page = (data: VerifyPage, status: ContentfulStatusCode = 200) => verifyPage(c, values, data, status);
  if (!values.no && !values.code) return page({});
  try {
    return await page({ result: await verifyAgreement(c.get('app').db, values, clientIp(c)) });
  } catch (e) {
    const refusal = refusalOf(e);
    return page(refusal, refusal.status);
  }
});

/** The largest PDF /verify reads: a signed agreement is about 300 KB. */
export const MAX_VERIFY_PDF_BYTES = 5 * 1024 * 1024;

// 协议查验 with the file itself: the PDF's own signature says whether it is intact and ours, and for
// which agreement; nothing is stored.
verifyRoutes.post('/verify', uploadLimit(MAX_VERIFY_PDF_BYTES + 64 * 1024, '上传的协议书文件不能超过 5MB。'), async (c) => {
  const values = { no: '', code: '' };
  const body = await c.req.parseBody();
  const file = body.pdf;
  if (!(file instanceof File) || file.size === 0) return verifyPage(c, values, { fields: { pdf: '请选择要查验的协议书 PDF 文件' } }, 422);
  if (file.size > MAX_VERIFY_PDF_BYTES) return verifyPage(c, values, { fields: { pdf: '上传的协议书文件不能超过 5MB' } }, 413);
  const bytes = Buffer.from(await file.arrayBuffer());
  if (bytes.subarray(0, 5).toString('latin1') !== '%PDF-') return verifyPage(c, values, { fields: { pdf: '该文件不是 PDF 文件，请上传从平台下载的协议书 PDF' } }, 422);
  try {
    return verifyPage(c, values, { file: await checkUploadedAgreement(c.get('app').db, bytes, clientIp(c)) });
  } catch (e) {
    const refusal = refusalOf(e);
    return verifyPage(c, values, refusal, refusal.status);
  }
});

// The certificate a reader trusts to check signed agreements offline, with its fingerprint.
const onDay = (d: Date) => formatShanghai(d).slice(0, 10);

verifyRoutes.get('/verify/ca', async (c) => {
  const { anchor, chain, source } = await c.get('app').signing.identity();
  const signer = chain[0]!;
  return render(c, 'agreement/ca', {
    title: '协议书签章证书',
    ca: { subject: anchor.subject, fingerprint256: anchor.fingerprint256, fingerprint: anchor.fingerprint, validFrom: onDay(anchor.validFromDate), validTo: onDay(anchor.validToDate) },
    signer: { subject: signer.subject, fingerprint256: signer.fingerprint256, validTo: onDay(signer.validToDate) },
    generated: source === 'generated',
  });
});

verifyRoutes.get('/verify/ca.crt', async (c) => {
  const { anchor } = await c.get('app').signing.identity();
  return c.body(anchor.toString(), 200, {
    'Content-Type': 'application/x-x509-ca-cert',
    'Content-Disposition': 'attachment; filename="wangqian-signing-ca.crt"',
    'Cache-Control': 'public, max-age=3600',
  });
});
