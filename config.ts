import { resolve } from 'node:path';
import { z } from 'zod';
import type { S3Options } from './db/storage.ts';

// Every setting of the platform, read once from the environment. README.md documents each one.
const flag = (fallback: boolean) =>
  z
    .enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'], { error: '只能是 on/off、1/0、true/false 或 yes/no' })
    .optional()
    .transform((v) => (v === undefined ? fallback : ['1', 'true', 'on', 'yes'].includes(v)));

const schema = z
  .object({
    PORT: z.coerce.number({ error: '必须是端口号' }).int().min(1).max(65535).default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, { error: '必须以 postgres:// 或 postgresql:// 开头' })
      .optional(),
    DATA_DIR: z.string().min(1).default('./data'),
    ORIGIN: z
      .url({ error: '必须是完整的地址，例如 https://wq.example.edu.cn' })
      .transform((u) => new URL(u).origin)
      .optional(),
    DEMO: flag(true).optional(),
    CAPTCHA: z.enum(['on', 'off'], { error: '只能是 on 或 off' }).default('on'),
    CHROMIUM_PATH: z.string().min(1).optional(),
    SMS_TRANSPORT: z.enum(['dev', 'webhook'], { error: '只能是 dev 或 webhook' }).default('dev'),
    SMS_WEBHOOK_URL: z.url({ error: '必须是完整的地址' }).optional(),
    MAIL_TRANSPORT: z.enum(['dev', 'webhook'], { error: '只能是 dev 或 webhook' }).default('dev'),
    MAIL_WEBHOOK_URL: z.url({ error: '必须是完整的地址' }).optional(),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error'], { error: '只能是 debug、info、warn 或 error' }).default('info'),
    JOBS: flag(true),
    TRUST_PROXY: flag(false),
    REVIEW_DIGEST_DAYS: z.coerce.number({ error: '必须是 1 至 60 的整数' }).int({ error: '必须是 1 至 60 的整数' }).min(1, { error: '必须是 1 至 60 的整数' }).max(60, { error: '必须是 1 至 60 的整数' }).default(3),
    BACKUP_DIR: z.string().min(1).optional(),
    BACKUP_KEEP: z.coerce.number({ error: '必须是 1 至 365 的整数' }).int({ error: '必须是 1 至 365 的整数' }).min(1, { error: '必须是 1 至 365 的整数' }).max(365, { error: '必须是 1 至 365 的整数' }).default(7),
    STORAGE: z.enum(['local', 's3'], { error: '只能是 local 或 s3' }).default('local'),
    S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: '存储桶名称只能含小写字母、数字、点和连字符（3 至 63 个字符）' }).optional(),
    S3_REGION: z.string().min(1).default('us-east-1'),
    S3_ENDPOINT: z.url({ error: '必须是完整的地址，例如 http://127.0.0.1:9000' }).optional(),
    S3_FORCE_PATH_STYLE: flag(true).optional(),
    S3_ACCESS_KEY_ID: z.string().min(1).optional(),
    S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    S3_PREFIX: z.string().regex(/^([A-Za-z0-9_.-]+\/)*$/, { error: '只能是以 / 结尾的路径，例如 wangqian/' }).default(''),
    SIGNING_P12: z.string().min(1).optional(),
    SIGNING_P12_PASSWORD: z.string().optional(),
    TERMINATION_ANSWER_DAYS: z.coerce.number({ error: '必须是 1 至 60 的整数' }).int({ error: '必须是 1 至 60 的整数' }).min(1, { error: '必须是 1 至 60 的整数' }).max(60, { error: '必须是 1 至 60 的整数' }).default(7),
  })
  .superRefine((c, ctx) => {
    if (c.SMS_TRANSPORT === 'webhook' && !c.SMS_WEBHOOK_URL)
      ctx.addIssue({ code: 'custom', path: ['SMS_WEBHOOK_URL'], message: 'SMS_TRANSPORT=webhook 时必须设置' });
    if (c.MAIL_TRANSPORT === 'webhook' && !c.MAIL_WEBHOOK_URL)
      ctx.addIssue({ code: 'custom', path: ['MAIL_WEBHOOK_URL'], message: 'MAIL_TRANSPORT=webhook 时必须设置' });
    if (c.STORAGE === 's3' && !c.S3_BUCKET) ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'STORAGE=s3 时必须设置' });
    if ((c.S3_ACCESS_KEY_ID === undefined) !== (c.S3_SECRET_ACCESS_KEY === undefined))
      ctx.addIssue({ code: 'custom', path: [c.S3_ACCESS_KEY_ID === undefined ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY'], message: 'S3_ACCESS_KEY_ID 与 S3_SECRET_ACCESS_KEY 须同时设置' });
  });

export type Config = {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  origin: string | undefined;
  /**
   * The address links and QR codes are built from: ORIGIN, or without it the address the server was
   * started for (http://localhost:PORT, or the HOST it binds to); never a request's Host header.
   */
  linkOrigin: string;
  /** Seed demo data into an empty database. Default: on for the embedded database, off for DATABASE_URL. */
  demo: boolean;
  captcha: boolean;
  chromiumPath: string | undefined;
  sms: { transport: 'dev' | 'webhook'; webhookUrl: string | undefined };
  mail: { transport: 'dev' | 'webhook'; webhookUrl: string | undefined };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  jobs: boolean;
  /** Behind a reverse proxy: the client address is the last one the proxy appended to X-Forwarded-For. */
  trustProxy: boolean;
  /** The daily digest tells reviewers about items waiting longer than this many days. */
  reviewDigestDays: number;
  /** A termination waiting longer than this for the other party's answer is flagged to the school in the digest. */
  terminationAnswerDays: number;
  /** The dev mailbox page exists only while a dev transport is in use. */
  devMailbox: boolean;
  /** Where the nightly backup goes (off when unset), and how many backups are kept. */
  backupDir: string | undefined;
  backupKeep: number;
  /** Object storage for files when STORAGE=s3; unset: DATA_DIR/uploads. */
  s3: S3Options | undefined;
  /** The PKCS#12 file (and its password) agreements are signed with; unset: a platform CA generated into DATA_DIR/keys/. */
  signingP12: { path: string; password: string } | undefined;
};

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`配置错误 (configuration error):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const blanksRemoved = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(blanksRemoved);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}=${JSON.stringify(blanksRemoved[String(i.path[0])] ?? '')}: ${i.message}`));
  }
  const c = parsed.data;
  return {
    port: c.PORT,
    host: c.HOST,
    databaseUrl: c.DATABASE_URL,
    dataDir: resolve(c.DATA_DIR),
    origin: c.ORIGIN,
    linkOrigin: c.ORIGIN ?? `http://${['0.0.0.0', '::', '127.0.0.1', '::1'].includes(c.HOST) ? 'localhost' : c.HOST.includes(':') ? `[${c.HOST}]` : c.HOST}:${c.PORT}`,
    demo: c.DEMO ?? c.DATABASE_URL === undefined,
    captcha: c.CAPTCHA === 'on',
    chromiumPath: c.CHROMIUM_PATH,
    sms: { transport: c.SMS_TRANSPORT, webhookUrl: c.SMS_WEBHOOK_URL },
    mail: { transport: c.MAIL_TRANSPORT, webhookUrl: c.MAIL_WEBHOOK_URL },
    logLevel: c.LOG_LEVEL,
    jobs: c.JOBS,
    trustProxy: c.TRUST_PROXY,
    reviewDigestDays: c.REVIEW_DIGEST_DAYS,
    terminationAnswerDays: c.TERMINATION_ANSWER_DAYS,
    devMailbox: c.SMS_TRANSPORT === 'dev' || c.MAIL_TRANSPORT === 'dev',
    backupDir: c.BACKUP_DIR === undefined ? undefined : resolve(c.BACKUP_DIR),
    backupKeep: c.BACKUP_KEEP,
    signingP12: c.SIGNING_P12 === undefined ? undefined : { path: resolve(c.SIGNING_P12), password: c.SIGNING_P12_PASSWORD ?? '' },
    s3:
      c.STORAGE === 's3'
        ? {
            bucket: c.S3_BUCKET!,
            region: c.S3_REGION,
            endpoint: c.S3_ENDPOINT,
            // Path-style addressing (endpoint/bucket/key) is what self-hosted servers such as MinIO expect.
            forcePathStyle: c.S3_FORCE_PATH_STYLE ?? c.S3_ENDPOINT !== undefined,
            credentials: c.S3_ACCESS_KEY_ID ? { accessKeyId: c.S3_ACCESS_KEY_ID, secretAccessKey: c.S3_SECRET_ACCESS_KEY! } : undefined,
            prefix: c.S3_PREFIX,
          }
        : undefined,
  };
}
