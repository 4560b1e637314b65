import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A key file in DATA_DIR/keys/ (mode 0600, the directory 0700), made by `make` on first use and read
 * as it is afterwards. It is written whole, then linked into place: a crash leaves no half file, and
 * of two first starts one file wins and both read it. `onCreated` is told the path (never the contents).
 */
export async function keyFileOnce(opts: { dataDir: string; name: string; make: () => unknown; onCreated?: ((path: string) => void) | undefined }): Promise<unknown> {
  const dir = join(opts.dataDir, 'keys');
  const path = join(dir, opts.name);
  if (!existsSync(path)) {
    // DATA_DIR itself keeps the usual mode (the embedded database's postgres user must enter it); only keys/ is private.
    await mkdir(opts.dataDir, { recursive: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(opts.make(), null, 2), { mode: 0o600, flag: 'wx' });
    try {
      await link(tmp, path);
      opts.onCreated?.(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      await rm(tmp, { force: true });
    }
  }
  await chmod(dir, 0o700);
  await chmod(path, 0o600);
  return JSON.parse(await readFile(path, 'utf8'));
}

/** A key file in DATA_DIR/keys/ replaced whole (mode 0600): written beside it, then renamed over it, so a reader sees the old or the new. */
export async function rewriteKeyFile(dataDir: string, name: string, contents: unknown): Promise<void> {
  const path = join(dataDir, 'keys', name);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(contents, null, 2), { mode: 0o600, flag: 'wx' });
  await rename(tmp, path);
}
