import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes, { flag: 'wx', mode: 0o600 });
      return key;
    },
    get: async (key) => readFile(pathOf(key)),
    delete: async (key) => rm(pathOf(key), { force: true }),
  };
}

export const uploadsDir = (dataDir: string) => join(dataDir, 'uploads');
