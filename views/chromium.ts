// Finding and launching headless Chromium (PDF printing of agreements, real-browser tests).
//
// The binary is resolved in this order:
//   1. the CHROMIUM_PATH setting (config.chromiumPath) — it must exist, or we refuse to start;
//   2. /usr/bin/chromium, if the distribution package is installed;
//   3. @sparticuz/chromium — a headless_shell build shipped through npm. Its executablePath()
//      decompresses it into os.tmpdir() on first use (≈2–3 s, ≈210 MB on disk):
//        <tmp>/chromium                       the binary
//        <tmp>/libEGL.so, libGLESv2.so, …     SwiftShader, looked up next to the binary
//        <tmp>/fonts/                         fonts.conf + Open Sans (Latin, Greek, Cyrillic only)
//      and we additionally unpack its Amazon Linux libraries (NSS, NSPR, expat) into
//        <tmp>/al2023/lib
//      and put them on LD_LIBRARY_PATH, so the binary also starts on a bare Debian/Ubuntu
//      without libnss3/libnspr4/libexpat1 installed.
//
// The package writes those files in place, and its "already extracted?" test is only
// "does <tmp>/chromium exist". A half-written binary (process killed mid-way, or two test
// files extracting at once) would therefore be picked up forever. We serialise extraction
// with a lock file and record a marker (package version + binary size) once it completed.

import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, open, readFile, rename, rm, stat, writeFile, access, constants } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import type { Browser } from 'puppeteer-core';

export const SYSTEM_CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for every launch: we run as root inside a sandboxed container with no network.
 * `--disable-software-rasterizer` (with `--disable-gpu`) keeps Chromium from starting a GPU
 * process at all; WebGL is therefore unavailable, which nothing here needs.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-software-rasterizer',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export type ChromiumSource = 'configured' | 'system' | 'sparticuz';

export type ResolvedChromium = {
  path: string;
  source: ChromiumSource;
  /** Extra environment the binary needs (only for @sparticuz/chromium). */
  env: Record<string, string>;
};

/** Where the Chromium binary is, following CHROMIUM_PATH → /usr/bin/chromium → @sparticuz/chromium. */
export async function resolveChromiumPath(configured?: string): Promise<string> {
  return (await resolveChromium(configured)).path;
}

export async function resolveChromium(configured?: string): Promise<ResolvedChromium> {
  if (configured !== undefined && configured !== '') {
    await assertExecutable(configured);
    return { path: configured, source: 'configured', env: {} };
  }
  if (existsSync(SYSTEM_CHROMIUM_PATH)) return { path: SYSTEM_CHROMIUM_PATH, source: 'system', env: {} };
  sparticuz ??= prepareSparticuz().catch((err: unknown) => {
    sparticuz = undefined; // let a later call try again
    throw err;
  });
  return await sparticuz;
}

async function assertExecutable(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    throw new Error(`CHROMIUM_PATH=${JSON.stringify(path)}: 文件不存在 (no such file). Unset CHROMIUM_PATH to use ${SYSTEM_CHROMIUM_PATH} or the bundled @sparticuz/chromium.`);
  }
  if (!info.isFile()) throw new Error(`CHROMIUM_PATH=${JSON.stringify(path)}: 不是文件 (not a regular file)`);
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new Error(`CHROMIUM_PATH=${JSON.stringify(path)}: 没有执行权限 (not executable)`);
  }
}

export type LaunchChromiumOptions = {
  /** Appended after CHROMIUM_ARGS. */
  args?: string[];
  /** Pipe Chromium's stdout/stderr into ours (debugging). */
  dumpio?: boolean;
  /** Launch timeout in ms (puppeteer default 30 000). */
  timeout?: number;
};

/**
 * Launch headless Chromium over a CDP pipe (no debugging port is opened) with a fresh
 * profile directory that is deleted as soon as the browser process exits.
 * Always `await browser.close()`.
 */
export async function launchChromium(configured?: string, options: LaunchChromiumOptions = {}): Promise<Browser> {
  const chromium = await resolveChromium(configured);
  const userDataDir = await mkdtemp(join(tmpdir(), 'wangqian-chromium-profile-'));
  profileDirs.add(userDataDir);
  const removeProfile = () => {
    profileDirs.delete(userDataDir);
    rmSync(userDataDir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
  };
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const dir of profileDirs) rmSync(dir, { recursive: true, force: true });
    });
  }

  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: chromium.path,
      // @sparticuz/chromium is a headless_shell build; a full Chromium gets the new headless mode.
      headless: chromium.source === 'sparticuz' ? 'shell' : true,
      pipe: true,
      userDataDir,
      args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
      env: { ...process.env, ...chromium.env },
      dumpio: options.dumpio ?? false,
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    });
  } catch (err) {
    removeProfile();
    throw err;
  }
  const child = browser.process();
  // Synchronous on purpose: puppeteer's close() resolves only after the 'exit' listeners ran,
  // so the profile is gone by the time `await browser.close()` returns.
  if (child && child.exitCode === null && child.signalCode === null) child.once('exit', removeProfile);
  else removeProfile();
  return browser;
}

const profileDirs = new Set<string>();
let exitHookInstalled = false;
let sparticuz: Promise<ResolvedChromium> | undefined;

// ---------------------------------------------------------------------------------------------
// @sparticuz/chromium

type SparticuzFiles = {
  exe: string;
  fontsConf: string; // the package's own config (lists only Lambda paths); we only check it exists
  openSansDir: string;
  libDir: string;
  swiftshader: string;
  marker: string;
  lock: string;
  ourFontsConf: string;
  fontCache: string;
};

function sparticuzFiles(): SparticuzFiles {
  const tmp = tmpdir();
  return {
    exe: join(tmp, 'chromium'),
    fontsConf: join(tmp, 'fonts', 'fonts.conf'),
    openSansDir: join(tmp, 'fonts', 'fonts'),
    libDir: join(tmp, 'al2023', 'lib'),
    swiftshader: join(tmp, 'libGLESv2.so'),
    marker: join(tmp, 'chromium.wangqian-ok.json'),
    lock: join(tmp, 'chromium.wangqian.lock'),
    ourFontsConf: join(tmp, 'chromium.wangqian-fonts.conf'),
    fontCache: join(tmp, 'chromium.wangqian-fontcache'),
  };
}

async function prepareSparticuz(): Promise<ResolvedChromium> {
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve('@sparticuz/chromium'));
  } catch {
    throw new Error(`No Chromium found: CHROMIUM_PATH is not set, ${SYSTEM_CHROMIUM_PATH} does not exist and the npm package @sparticuz/chromium is not installed.`);
  }
  const pkgDir = join(dirname(entry), '..');
  const binDir = join(pkgDir, 'bin');
  const { version } = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const f = sparticuzFiles();

  if (!(await isComplete(f, version))) {
    await withLock(f.lock, async () => {
      if (await isComplete(f, version)) return; // another process finished while we waited
      // Throw away whatever a previous, interrupted or different-version extraction left.
      await rm(f.exe, { force: true });
      if (!existsSync(f.fontsConf)) await rm(dirname(f.fontsConf), { recursive: true, force: true });
      if (!existsSync(join(f.libDir, 'libnss3.so'))) await rm(dirname(f.libDir), { recursive: true, force: true });
      const { default: Chromium, inflate } = await import('@sparticuz/chromium');
      const exe = await Chromium.executablePath(binDir); // chromium + fonts + swiftshader
      if (exe !== f.exe) throw new Error(`@sparticuz/chromium extracted to ${exe}, expected ${f.exe}`);
      await inflate(join(binDir, 'al2023.tar.br')); // → <tmp>/al2023/lib
      await writeFileAtomic(f.ourFontsConf, fontsConf(f));
      const { size } = await stat(f.exe);
      await writeFileAtomic(f.marker, JSON.stringify({ version, size }));
    });
  } else if (!existsSync(f.ourFontsConf)) {
    await writeFileAtomic(f.ourFontsConf, fontsConf(f));
  }

  const env: Record<string, string> = {
    LD_LIBRARY_PATH: [f.libDir, ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter((p) => p && p !== f.libDir)].join(':'),
  };
  // Respect a fontconfig setup the operator chose; otherwise system fonts + the bundled Open Sans.
  if (!process.env.FONTCONFIG_FILE && !process.env.FONTCONFIG_PATH) env.FONTCONFIG_FILE = f.ourFontsConf;
  return { path: f.exe, source: 'sparticuz', env };
}

async function isComplete(f: SparticuzFiles, version: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(f.marker, 'utf8')) as { version?: unknown; size?: unknown };
    const { size } = await stat(f.exe);
    return (
      marker.version === version &&
      marker.size === size &&
      existsSync(f.fontsConf) &&
      existsSync(f.swiftshader) &&
      existsSync(join(f.libDir, 'libnss3.so'))
    );
  } catch {
    return false;
  }
}

/**
 * The binary carries its own fontconfig, which on Lambda is pointed at <tmp>/fonts/fonts.conf
 * (Lambda paths only). Ours keeps the machine's fonts (/etc/fonts/fonts.conf when present) and
 * adds Open Sans, so text is never invisible on a machine without any fonts. There are no CJK
 * fonts in either: Chinese needs an @font-face (Noto Serif SC) or a system CJK font.
 */
function fontsConf(f: SparticuzFiles): string {
  const x = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <cachedir>${x(f.fontCache)}</cachedir>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>/usr/share/fonts</dir>
  <dir>/usr/local/share/fonts</dir>
  <dir>${x(f.openSansDir)}</dir>
</fontconfig>
`;
}

async function writeFileAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}

/** Cross-process mutual exclusion via an O_EXCL lock file holding our pid. */
async function withLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await lockIsStale(lock)) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lock} (another process is extracting Chromium; delete the file if that process is gone)`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

async function lockIsStale(lock: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(lock, 'utf8'), stat(lock)]);
    const pid = Number.parseInt(text, 10);
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - info.mtimeMs > 10_000; // being written, or junk
    try {
      process.kill(pid, 0);
      return false; // still alive
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  } catch {
    return false; // vanished meanwhile: just retry
  }
}
