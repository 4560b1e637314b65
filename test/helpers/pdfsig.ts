import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// pdfsig (Debian's poppler-utils) as an outside reader of the signed PDFs (issue 15), and certutil
// (libnss3-tools) to trust a CA in its NSS database. A machine that lacks them gets them here, once,
// the way the issue asks: with apt, as root.

const installed = new Set<string>();

function ensure(command: string, versionArg: string, aptPackage: string): void {
  if (installed.has(command)) return;
  const present = () => !spawnSync(command, [versionArg], { stdio: 'ignore' }).error;
  if (!present()) {
    if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) {
      throw new Error(`${command} is missing: install ${aptPackage} (apt-get install ${aptPackage}) to run the signature tests`);
    }
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    // Test files run side by side: one install at a time (flock), each waiting for dpkg's own lock too.
    const apt = (...args: string[]) => spawnSync('flock', [join(tmpdir(), 'wangqian-apt.lock'), 'apt-get', '-o', 'DPkg::Lock::Timeout=300', ...args], { stdio: 'ignore', env }).status === 0;
    const install = () => present() || apt('install', '-y', '--no-install-recommends', aptPackage);
    if (!install()) {
      apt('update');
      if (!install()) throw new Error(`apt-get install ${aptPackage} failed`);
    }
    if (!present()) throw new Error(`${command} still missing after installing ${aptPackage}`);
  }
  installed.add(command);
}

export const ensurePdfsig = () => ensure('pdfsig', '-v', 'poppler-utils');

/**
 * What pdfsig prints for a PDF (its own verdicts, in English). With `trust`, the PEM of a CA
 * certificate, it reads the PDF with an NSS database that trusts that CA for signed documents.
 */
export function pdfsig(pdf: Uint8Array, opts: { trust?: string; args?: string[] } = {}): string {
  ensurePdfsig();
  const dir = mkdtempSync(join(tmpdir(), 'pdfsig-'));
  try {
    const file = join(dir, 'document.pdf');
    writeFileSync(file, pdf);
    const args = [...(opts.args ?? [])];
    if (opts.trust) {
      ensure('certutil', '-H', 'libnss3-tools');
      const nss = join(dir, 'nssdb');
      writeFileSync(join(dir, 'ca.crt'), opts.trust);
      spawnSync('mkdir', [nss]);
      for (const step of [['-N', '-d', `sql:${nss}`, '--empty-password'], ['-A', '-d', `sql:${nss}`, '-n', 'ca', '-t', 'C,C,C', '-a', '-i', join(dir, 'ca.crt')]]) {
        const run = spawnSync('certutil', step, { encoding: 'utf8' });
        if (run.status !== 0) throw new Error(`certutil ${step[0]}: ${run.stderr}`);
      }
      args.push('-nssdir', `sql:${nss}`);
    } else {
      args.push('-nocert');
    }
    // pdfsig exits non-zero when a signature is invalid; its report is what the tests read.
    const run = spawnSync('pdfsig', [...args, file], { encoding: 'utf8' });
    return `${run.stdout}${run.stderr}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
