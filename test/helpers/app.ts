import { eq } from 'drizzle-orm';
import type { Hono } from 'hono';
import { loadConfig, type Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import { DEMO_PASSWORDS } from '../../db/demo.ts';
import { silentLogger } from '../../db/log.ts';
import { openedIdNumber } from '../../db/id-number-keys.ts';
import { graduates, users } from '../../db/schema/index.ts';
import type { Portal } from '../../domain/auth/roles.ts';
import type { AppEnv } from '../../routes/context.ts';
import { createApp } from '../../routes/index.ts';
import { createPdfPrinter } from '../../views/pdf.ts';
import { freshDatabase } from './db.ts';
import { parseHtml, type Doc } from './html.ts';

export const ORIGIN = 'http://localhost';

/** The demo accounts of the foundation issue, by a short name tests use. */
export const DEMO_ACCOUNTS = {
  admin: { portal: 'admin', login: 'admin', password: DEMO_PASSWORDS.admin },
  province: { portal: 'province', login: 'bj-province', password: DEMO_PASSWORDS.province },
  province2: { portal: 'province', login: 'sh-province', password: DEMO_PASSWORDS.province },
  school: { portal: 'school', login: '10001-admin', password: DEMO_PASSWORDS.school },
  school2: { portal: 'school', login: '10002-admin', password: DEMO_PASSWORDS.school },
  department: { portal: 'school', login: '10001-cs', password: DEMO_PASSWORDS.department },
  department2: { portal: 'school', login: '10001-em', password: DEMO_PASSWORDS.department },
  employer: { portal: 'employer', login: '13800000001', password: DEMO_PASSWORDS.employer },
  employer2: { portal: 'employer', login: '13800000002', password: DEMO_PASSWORDS.employer },
  employerUnverified: { portal: 'employer', login: '13800000009', password: DEMO_PASSWORDS.employer },
  student: { portal: 'student', login: '', password: DEMO_PASSWORDS.student },
} satisfies Record<string, { portal: Portal; login: string; password: string }>;
export type DemoAccount = keyof typeof DEMO_ACCOUNTS;

/** `raw`: the app's own Response object. */
export type TestResponse = { status: number; headers: Headers; text: string; bytes: Uint8Array; doc: Doc; location: string | null; raw: Response };

/** A browser-like client of the in-process app: keeps cookies, sends our Origin on POST. */
export class Client {
  readonly cookies = new Map<string, string>();
  private readonly app: Hono<AppEnv>;
  private readonly ip: string;
  constructor(app: Hono<AppEnv>, ip = '127.0.0.1') {
    this.app = app;
    this.ip = ip;
  }

  async request(method: string, path: string, opts: { form?: Record<string, string>; multipart?: FormData; headers?: Record<string, string> } = {}): Promise<TestResponse> {
    const headers = new Headers(opts.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    let body: string | FormData | undefined = opts.multipart;
    if (opts.form) {
      body = new URLSearchParams(opts.form).toString();
      if (!headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded');
    }
    if (method !== 'GET' && !opts.headers?.origin && !('origin' in (opts.headers ?? {}))) headers.set('origin', ORIGIN);
    const env = { incoming: { socket: { remoteAddress: this.ip, remotePort: 50000, remoteFamily: 'IPv4' } } };
    const res = await this.app.request(path, { method, headers, body }, env);
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const [name, ...value] = pair!.split('=');
      const cleared = attrs.some((a) => /max-age=0/i.test(a.trim()));
      if (cleared || value.join('=') === '') this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), value.join('='));
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    let doc: Doc | undefined;
    return {
      status: res.status,
      headers: res.headers,
      text,
      bytes,
      location: res.headers.get('location'),
      raw: res,
      get doc() {
        return (doc ??= parseHtml(text));
      },
    };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, { headers });
  }

  post(path: string, form: Record<string, string>, headers?: Record<string, string>) {
    return this.request('POST', path, { form, headers });
  }

  /** A multipart form, as a browser sends one with files. */
  upload(path: string, fields: Record<string, string>, files: Record<string, { name: string; bytes: Uint8Array<ArrayBuffer> }>) {
    const multipart = new FormData();
    for (const [k, v] of Object.entries(fields)) multipart.set(k, v);
    for (const [k, f] of Object.entries(files)) multipart.set(k, new File([f.bytes], f.name));
    return this.request('POST', path, { multipart });
  }
}

export type TestApp = {
  app: Hono<AppEnv>;
  db: Db;
  config: Config;
  client: (ip?: string) => Client;
  /** A client signed in as a demo account (CAPTCHA is off unless the test turned it on); a graduate has confirmed the roster record. */
  signInAs: (account: DemoAccount, ip?: string) => Promise<Client>;
  close: () => Promise<void>;
};

/** The app on a given database with test settings: CAPTCHA and jobs off unless `env` says otherwise. */
export function appOnDb(db: Db, env: Record<string, string> = {}) {
  const config = loadConfig({ CAPTCHA: 'off', JOBS: 'off', DEMO: 'on', ...env });
  // The printer launches Chromium only if a test prints; close() ends it so the test process can exit.
  const pdf = createPdfPrinter({ chromiumPath: config.chromiumPath, log: silentLogger });
  const app = createApp({ config, db, log: silentLogger, pdf });
  return { app, config, pdf, client: (ip?: string) => new Client(app, ip) };
}

export async function setupApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await freshDatabase();
  const { app, config, client, pdf } = appOnDb(database.db, env);
  return {
    app,
    db: database.db,
    config,
    client,
    async signInAs(account, ip) {
      const c = client(ip);
      const { portal, login, password } = DEMO_ACCOUNTS[account];
      const res = await c.post(`/${portal}/login`, { login: login || (await firstStudentLogin(database.db)), password });
      if (res.status !== 303) throw new Error(`sign-in as ${account} failed: ${res.status}`);
      // G1: a graduate confirms the roster record before anything else (信息确认无误，进入系统).
      if (portal === 'student' && (await c.post('/student/check', {})).status !== 303) throw new Error('the demo graduate could not confirm the roster record');
      return c;
    },
    async close() {
      await pdf.close();
      await database.drop();
    },
  };
}

/** The ID numbers demo graduates sign in with, in account order (a graduate's login column holds only its blind index). */
export async function studentLogins(db: Db): Promise<string[]> {
  const rows = await db.select({ sealed: graduates.idNumberSealed }).from(users).innerJoin(graduates, eq(graduates.id, users.graduateId)).where(eq(users.role, 'student')).orderBy(users.id);
  return rows.map((r) => openedIdNumber(r.sealed));
}

/** The ID number of the first demo graduate who can sign in. */
export async function firstStudentLogin(db: Db): Promise<string> {
  const [u] = await db.select({ sealed: graduates.idNumberSealed }).from(users).innerJoin(graduates, eq(graduates.id, users.graduateId)).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
  return openedIdNumber(u!.sealed);
}
