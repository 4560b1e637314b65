import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';

/**
 * Where files live: uploads, roster spreadsheets waiting for their import, finished 就业方案
 * exports. Local disk under DATA_DIR by default; S3-compatible object storage when configured, so
 * that several app processes on several machines see the same files (DESIGN section 10). Keys are
 * generated here, never taken from a user's file name.
 */
export interface Storage {
  /**
   * Stores a file under a new key. `transient`: a working file (a roster spreadsheet waiting for its
   * import, a 就业方案 export kept 24 hours) that holds graduates' ID numbers in clear: it is kept
   * apart (DATA_DIR/work, or `w/` in the bucket), out of the backups, so it lives no longer than
   * the platform keeps it.
   */
  put(bytes: Uint8Array, extension: string, opts?: { transient?: boolean }): Promise<string>;
  /** The file's bytes; a missing key throws {@link MissingFile}. */
  get(key: string): Promise<Buffer>;
  /** Removes the file; a missing one is not an error. */
  delete(key: string): Promise<void>;
}

export class MissingFile extends Error {
  constructor(key: string) {
    super(`stored file missing: ${key}`);
    this.name = 'MissingFile';
  }
}

const KEY = /^(w\/)?[0-9a-f]{2}\/[0-9a-f]{32}\.[a-z]{3,4}$/;
// Roster spreadsheets and exports were kept under DATA_DIR/imports and DATA_DIR/exports before they
// moved behind this interface; a row written then still names such a path.
const LEGACY_KEY = /^(imports|exports)\/[0-9a-f]{32}\.[a-z]{3,4}$/;

function newKey(extension: string, transient = false): string {
  if (!/^[a-z]{3,4}$/.test(extension)) throw new Error('invalid storage extension');
  const name = randomBytes(16).toString('hex');
  return `${transient ? 'w/' : ''}${name.slice(0, 2)}/${name}.${extension}`;
}

/**
 * Files under `root` (DATA_DIR/uploads), transient ones under `workRoot` (DATA_DIR/work; by default
 * beside `root`, never inside it, as the backup copies `root`); `legacyRoot` (DATA_DIR) answers the
 * old imports/ and exports/ paths.
 */
export function localStorage(root: string, opts: { workRoot?: string; legacyRoot?: string } = {}): Storage {
  const base = resolve(root);
  const work = resolve(opts.workRoot ?? `${base}-work`);
  const pathOf = (key: string) => {
    const legacy = opts.legacyRoot !== undefined && LEGACY_KEY.test(key);
    if (!legacy && !KEY.test(key)) throw new Error('invalid storage key');
    const [under, rest] = legacy ? [resolve(opts.legacyRoot!), key] : key.startsWith('w/') ? [work, key.slice(2)] : [base, key];
    const path = resolve(under, rest);
    if (!path.startsWith(under + sep)) throw new Error('invalid storage key');
    return path;
  };
  return {
    async put(bytes, extension, putOpts) {
      const key = newKey(extension, putOpts?.transient);
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
    async get(key) {
      try {
        return await readFile(pathOf(key));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingFile(key);
        throw e;
      }
    },
    async delete(key) {
      const path = pathOf(key);
      await rm(path, { force: true });
      // A refused or removed upload leaves no empty folder behind (rmdir only removes an empty one).
      if (KEY.test(key)) await rmdir(dirname(path)).catch(() => {});
    },
  };
}

export type S3Options = {
  bucket: string;
  region: string;
  /** An S3-compatible server's address (MinIO, Ceph, a cloud's OSS/COS S3 endpoint); unset for AWS itself. */
  endpoint: string | undefined;
  forcePathStyle: boolean;
  /** Unset: the AWS SDK's own chain (AWS_ACCESS_KEY_ID…, an instance role). */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Prepended to every key, so one bucket can hold several platforms' files. */
  prefix: string;
};

/** Files as objects in one bucket, through the AWS SDK. Objects are private: they are only ever read through the app, which checks who may see them. */
export function s3Storage(
  opts: S3Options,
  client = new S3Client({
    region: opts.region,
    endpoint: opts.endpoint,
    forcePathStyle: opts.forcePathStyle,
    credentials: opts.credentials,
    // Checksums only where S3 requires them: the SDK's default CRC32 headers are refused by some
    // S3-compatible servers (older MinIO and Ceph, some clouds' S3 endpoints).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  }),
): Storage & { client: S3Client } {
  const objectKey = (key: string) => {
    if (!KEY.test(key)) throw new Error('invalid storage key');
    return opts.prefix + key;
  };
  return {
    client,
    async put(bytes, extension, putOpts) {
      const key = newKey(extension, putOpts?.transient);
      await client.send(new PutObjectCommand({ Bucket: opts.bucket, Key: objectKey(key), Body: bytes, ContentLength: bytes.length, ContentType: 'application/octet-stream' }));
      return key;
    },
    async get(key) {
      // A file of an earlier version's imports/ or exports/ folder was never in the bucket.
      if (LEGACY_KEY.test(key)) throw new MissingFile(key);
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: opts.bucket, Key: objectKey(key) }));
        return Buffer.from(await out.Body!.transformToByteArray());
      } catch (e) {
        if (e instanceof NoSuchKey || (e as { name?: string }).name === 'NoSuchKey') throw new MissingFile(key);
        throw e;
      }
    },
    async delete(key) {
      if (LEGACY_KEY.test(key)) return;
      await client.send(new DeleteObjectCommand({ Bucket: opts.bucket, Key: objectKey(key) }));
    },
  };
}

export const uploadsDir = (dataDir: string) => join(dataDir, 'uploads');

/** The storage the settings name: S3 when STORAGE=s3, else DATA_DIR/uploads. */
export function storageFor(config: { dataDir: string; s3: S3Options | undefined }): Storage {
  return config.s3 ? s3Storage(config.s3) : localStorage(uploadsDir(config.dataDir), { workRoot: join(config.dataDir, 'work'), legacyRoot: config.dataDir });
}
