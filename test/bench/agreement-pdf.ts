import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import postgres from 'postgres';
import { loadConfig } from '../../config.ts';
import { connect } from '../../db/client.ts';
import { silentLogger } from '../../db/log.ts';
import { users } from '../../db/schema/index.ts';
import { actorOf } from '../../domain/auth/sessions.ts';
import { loadAgreementDocument } from '../../domain/agreements/document.ts';
import { agreementSeal, completionCertificate } from '../../domain/agreements/sealing.ts';
import { loadSigningIdentity } from '../../db/signing-identity.ts';
import { CadesSigner } from '../../domain/signing/cades.ts';
import { sealPdf } from '../../domain/signing/seal.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createViews } from '../../views/index.ts';
import { createPdfPrinter, printable } from '../../views/pdf.ts';
import { insertAgreement } from '../helpers/signed-agreement.ts';
import { signIn, spawnBenchServer } from './page-cpu.ts';
import { runAlone } from './standalone.ts';

// Issue 14, goal 4: a warm 就业协议书 PDF in ≤ 80 ms at the median in-process (issue 5 asked ≤ 150),
// and ≥ 12 PDFs/s two at a time over HTTP. One signed agreement is printed N times after one
// warm-up, as the PDF route does it (load the document, render the template, print) on a printer
// configured as the app's: first one at a time for the latency, then two at a time, the printer's
// pool size, for the throughput; then the same two at a time through the app's PDF route over HTTP
// (session, tenancy, the route, the bytes on the socket), from a graduate signed in.
const PRINTS = Number(process.env.BENCH_PDFS ?? 40);
const BUDGET_P50_MS = 80;
const BUDGET_HTTP_PER_SECOND = 12;
// Issue 15: signing (the signature field, the CMS, the RSA signature) adds at most this to a PDF.
const BUDGET_SIGNING_MS = 20;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

export async function measureAgreementPdf(serverUrl: string): Promise<{ rows: string[][]; over: number }> {
  const { TEMPLATE_DB } = await import('../helpers/cluster.ts');
  const name = `bench_pdf_${randomBytes(4).toString('hex')}`;
  const admin = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template ${TEMPLATE_DB}`);
  const db = connect(`${serverUrl}/${name}`, 4);
  const printer = createPdfPrinter({ chromiumPath: loadConfig().chromiumPath, log: silentLogger });
  const keysDir = await mkdtemp(join(tmpdir(), 'bench-signing-'));
  try {
    const identity = await loadSigningIdentity({ dataDir: keysDir });
    const signer = new CadesSigner(identity);
    const signing: number[] = [];
    const [user] = await db.select().from(users).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
    const agreement = await insertAgreement(db, { graduateId: user!.graduateId!, number: '2026-10001-000001', code: 'K7P3Q9XA' });
    const views = createViews({ cache: true });
    const source = { actor: actorOf(user!, 'bench', false), ip: null };
    // As the PDF route issues a signed agreement: the document, its 签约完成证明, the print, the seal.
    const printOnce = async () => {
      const started = performance.now();
      const doc = await loadAgreementDocument(db, source, agreement.id, 'http://127.0.0.1:3000');
      const certificate = await completionCertificate(db, doc, identity, new Date());
      const printed = await printer.print(printable(views, 'agreement/document', { doc, certificate }));
      const sealing = performance.now();
      await sealPdf(Buffer.from(printed.buffer, printed.byteOffset, printed.byteLength), agreementSeal(doc, new Date()), signer);
      signing.push(performance.now() - sealing);
      return performance.now() - started;
    };

    await printOnce();
    const sequential: number[] = [];
    for (let i = 0; i < PRINTS; i++) sequential.push(await printOnce());
    sequential.sort((a, b) => a - b);

    const paired: number[] = [];
    const started = performance.now();
    let left = PRINTS;
    await Promise.all([0, 1].map(async () => {
      while (left-- > 0) paired.push(await printOnce());
    }));
    const perSecond = PRINTS / ((performance.now() - started) / 1000);
    paired.sort((a, b) => a - b);

    const p50 = percentile(sequential, 50);
    signing.sort((a, b) => a - b);
    const signingP50 = percentile(signing, 50);
    await printer.close();
    const http = await overHttp(serverUrl);
    return {
      rows: [
        [`agreement PDF warm render p50 (${PRINTS} prints, one at a time)`, `${p50.toFixed(0)} ms`, `≤ ${BUDGET_P50_MS} ms${p50 > BUDGET_P50_MS ? ' OVER' : ''}`],
        ['  p95', `${percentile(sequential, 95).toFixed(0)} ms`, ''],
        [`  of which signing (PAdES), p50 / p95 (${signing.length} PDFs)`, `${signingP50.toFixed(1)} / ${percentile(signing, 95).toFixed(1)} ms`, `≤ ${BUDGET_SIGNING_MS} ms${signingP50 > BUDGET_SIGNING_MS ? ' OVER' : ''}`],
        ['  at concurrency 2: p50 / p95', `${percentile(paired, 50).toFixed(0)} / ${percentile(paired, 95).toFixed(0)} ms`, ''],
        ['  at concurrency 2: PDFs/s', perSecond.toFixed(1), ''],
        [`agreement PDF over HTTP at concurrency 2 (${PRINTS} downloads)`, `${http.perSecond.toFixed(1)} PDFs/s, p50 ${http.p50.toFixed(0)} ms`, `≥ ${BUDGET_HTTP_PER_SECOND}/s${http.perSecond < BUDGET_HTTP_PER_SECOND ? ' OVER' : ''}`],
      ],
      over: Number(p50 > BUDGET_P50_MS) + Number(http.perSecond < BUDGET_HTTP_PER_SECOND) + Number(signingP50 > BUDGET_SIGNING_MS),
    };
  } finally {
    await printer.close();
    await rm(keysDir, { recursive: true, force: true });
    await db.$client.end();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

/** The app's own PDF route, two downloads at a time, on the bench server (its own database clone). */
async function overHttp(serverUrl: string): Promise<{ perSecond: number; p50: number }> {
  const server = await spawnBenchServer(serverUrl);
  try {
    const sql = postgres(`${serverUrl}/${server.database}`, { max: 1, onnotice: () => {} });
    const [student] = await sql`select u.graduate_id, u.phone from users u where u.role = 'student' and not exists (select 1 from agreements a where a.graduate_id = u.graduate_id) order by u.id limit 1`;
    await sql.end();
    const db = connect(`${serverUrl}/${server.database}`, 1);
    const agreement = await insertAgreement(db, { graduateId: Number(student!.graduate_id), number: '2026-10001-000002', code: 'K7P3Q9XB' });
    await db.$client.end();
    const cookie = await signIn(server.base, 'student', String(student!.phone));
    const download = async () => {
      const started = performance.now();
      const res = await fetch(`${server.base}/student/agreements/${agreement.id}/document.pdf`, { headers: { cookie } });
      const bytes = await res.arrayBuffer();
      if (res.status !== 200 || bytes.byteLength < 1000) throw new Error(`the PDF route answered ${res.status}`);
      if (!Buffer.from(bytes).includes('/ETSI.CAdES.detached')) throw new Error('the PDF route answered an unsigned PDF');
      return performance.now() - started;
    };
    await download();
    const times: number[] = [];
    let left = PRINTS;
    const started = performance.now();
    await Promise.all([0, 1].map(async () => {
      while (left-- > 0) times.push(await download());
    }));
    return { perSecond: PRINTS / ((performance.now() - started) / 1000), p50: percentile(times.sort((a, b) => a - b), 50) };
  } finally {
    server.child.kill();
  }
}

if (import.meta.main) {
  await runAlone(measureAgreementPdf);
}
