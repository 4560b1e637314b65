import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// pdfsig (Debian's poppler-utils) as an outside reader of the signed PDFs (issue 15). If the machine
// lacks it, it is installed here, once, the way the issue asks; only with apt and as root.

let ready = false;

function present(): boolean {
  return spawnSync('pdfsig', ['-v'], { stdio: 'ignore' }).status === 0;
}

export function ensurePdfsig(): void {
  if (ready || present()) {
    ready = true;
    return;
  }
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('pdfsig is missing: install poppler-utils (apt-get install poppler-utils) to run the signature tests');
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'poppler-utils'], { stdio: 'ignore', env }).status === 0;
  if (!install()) {
    execFileSync('apt-get', ['update'], { stdio: 'ignore', env });
    if (!install()) throw new Error('apt-get install poppler-utils failed');
  }
  if (!present()) throw new Error('pdfsig still missing after installing poppler-utils');
  ready = true;
}

/** What pdfsig prints for a PDF (its own verdicts, in English). */
export function pdfsig(pdf: Uint8Array, ...args: string[]): string {
  ensurePdfsig();
  const dir = mkdtempSync(join(tmpdir(), 'pdfsig-'));
  try {
    const file = join(dir, 'document.pdf');
    writeFileSync(file, pdf);
    // pdfsig exits non-zero when a signature is invalid; its report is what the tests read.
    const run = spawnSync('pdfsig', [...args, file], { encoding: 'utf8' });
    return `${run.stdout}${run.stderr}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
