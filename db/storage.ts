import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';

// Where uploaded files live: behind this interface, local disk under DATA_DIR now, object storage
// later. Keys are generated here, never taken from a user's file name.
export interface Storage {
  put(bytes: Uint8Array, extension: string): Promise<string>;
  get(key: string): Promise<Buffer>;
  delete(key: string): Promise<void>;
}

export function localStorage(root: string): Storage {
  const base = resolve(root);
  const pathOf = (key: string) => {
    const path = resolve(base, key);
    if (!path.startsWith(base + sep) || !/^[0-9a-f]{2}\/[0-9a-f]{32}\.[a-z]{3,4}$/.test(key)) throw new Error('invalid storage key');
    return path;
  };
  return {
    async put(bytes, extension) {
      const name = randomBytes(16).toString('hex');
      const key = `${name.slice(0, 2)}/${name}.${extension}`;
      const path = pathOf(key);
      // A delete may remove the folder between our mkdir and the write (it removes folders it
      // empties): then make it again.
      for (let attempt = 0; ; attempt++) {
        await mkdir(dirname(path), { recursive: true });
        try {
          await writeFile(path, bytes, { flag: 'wx', mode: 0o600 });
          return key;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 2) throw e;
        }
      }
    },
    get: async (key) => readFile(pathOf(key)),
    async delete(key) {
      const path = pathOf(key);
      await rm(path, { force: true });
      // A refused or removed upload leaves no empty folder behind (rmdir only removes an empty one).
      await rmdir(dirname(path)).catch(() => {});
    },
  };
}

export const uploadsDir = (dataDir: string) => join(dataDir, 'uploads');
