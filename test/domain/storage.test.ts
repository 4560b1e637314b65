import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../config.ts';
import { localStorage, MissingFile, s3Storage, storageFor, type Storage } from '../../db/storage.ts';
import { startS3 } from '../helpers/s3.ts';

// The storage interface (DESIGN section 10): local disk by default, S3-compatible object storage when
// configured. Both keep the same contract, checked here against a real S3 server (s3rver from npm).

let s3: Awaited<ReturnType<typeof startS3>>;
let dir: string;
test.before(async () => {
  s3 = await startS3();
  dir = await mkdtemp(join(tmpdir(), 'wq-storage-'));
});
test.after(async () => {
  await s3.stop();
  await rm(dir, { recursive: true, force: true });
});

const s3Options = (prefix = '') => loadConfig({ DATA_DIR: dir, ...s3.env, S3_PREFIX: prefix }).s3!;

async function contract(storage: Storage) {
  const bytes = new Uint8Array([0x25, 0x50, 0x44, 0x46, 1, 2, 3]);
  const key = await storage.put(bytes, 'pdf');
  assert.match(key, /^[0-9a-f]{2}\/[0-9a-f]{32}\.pdf$/, 'keys are generated, never a user file name');
  assert.equal([...(await storage.get(key))], [...bytes]);
  assert.is.not(await storage.put(bytes, 'pdf'), key, 'each put is a new key');
  for (const bad of ['../x', 'ab/../../etc/passwd', '/etc/passwd', 'ab/cd.pdf']) {
    let refused = false;
    await storage.get(bad).catch((e: Error) => (refused = /invalid storage key/.test(e.message)));
    assert.ok(refused, bad);
  }
  let badExtension = false;
  await storage.put(bytes, '../x').catch(() => (badExtension = true));
  assert.ok(badExtension);
  await storage.delete(key);
  let missing: unknown;
  await storage.get(key).catch((e) => (missing = e));
  assert.instance(missing, MissingFile);
  await storage.delete(key);
}

test('storage contract: local disk', async () => {
  await contract(localStorage(join(dir, 'uploads')));
});

test('transient files (roster sheets, exports: ID numbers in clear) are kept apart from the uploads a backup copies', async () => {
  const local = storageFor(loadConfig({ DATA_DIR: dir }));
  const key = await local.put(new Uint8Array([7]), 'xlsx', { transient: true });
  assert.match(key, /^w\/[0-9a-f]{2}\/[0-9a-f]{32}\.xlsx$/);
  assert.ok((await readdir(join(dir, 'work'), { recursive: true })).includes(key.slice(2)));
  assert.not.ok((await readdir(join(dir, 'uploads'), { recursive: true }).catch(() => [])).some((p) => p.includes(key.slice(5, 37))));
  assert.equal([...(await local.get(key))], [7]);
  await local.delete(key);
  const bucket = s3Storage(s3Options());
  const object = await bucket.put(new Uint8Array([8]), 'xlsx', { transient: true });
  assert.ok((await readdir(join(s3.directory, s3.bucket), { recursive: true })).some((p) => p.startsWith('w/') && p.includes(object.slice(5, 37))), 'under w/ in the bucket, for a lifecycle rule');
  // A row of an earlier version names a file on the old local disk: never in the bucket, and no error on its expiry.
  let missing: unknown;
  await bucket.get(`exports/${'b'.repeat(32)}.xlsx`).catch((e) => (missing = e));
  assert.instance(missing, MissingFile);
  await bucket.delete(`exports/${'b'.repeat(32)}.xlsx`);
});

test('storage contract: S3-compatible object storage (s3rver), private objects under the configured prefix', async () => {
  const storage = s3Storage(s3Options('wangqian/'));
  await contract(storage);
  const key = await storage.put(new Uint8Array([9]), 'png');
  const stored = await readdir(join(s3.directory, s3.bucket), { recursive: true });
  assert.ok(stored.some((p) => p.startsWith('wangqian/') && p.includes(key.slice(3, 35))), 'the object sits under the prefix');
  // A storage without the prefix does not see it: the prefix keeps platforms sharing a bucket apart.
  let missing: unknown;
  await s3Storage(s3Options()).get(key).catch((e) => (missing = e));
  assert.instance(missing, MissingFile);
});

test('storageFor: STORAGE=s3 picks the bucket, the default picks DATA_DIR/uploads (and the old imports/ and exports/ paths)', async () => {
  const viaS3 = storageFor(loadConfig({ DATA_DIR: dir, ...s3.env }));
  const key = await viaS3.put(new Uint8Array([1]), 'xlsx');
  assert.equal([...(await s3Storage(s3Options()).get(key))], [1]);
  const local = storageFor(loadConfig({ DATA_DIR: dir }));
  const localKey = await local.put(new Uint8Array([2]), 'xlsx');
  assert.ok((await readdir(join(dir, 'uploads'), { recursive: true })).includes(localKey));
  await rm(join(dir, 'imports'), { recursive: true, force: true });
  await mkdir(join(dir, 'imports'));
  await writeFile(join(dir, 'imports', `${'a'.repeat(32)}.xlsx`), 'old');
  assert.is((await local.get(`imports/${'a'.repeat(32)}.xlsx`)).toString(), 'old', 'a row written before the move still finds its file');
});

test('config: STORAGE=s3 needs a bucket; keys come in pairs; a bad setting names itself, never the secret', async () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  };
  assert.match(problems({ STORAGE: 's3' }), 'S3_BUCKET');
  assert.match(problems({ STORAGE: 'disk' }), 'STORAGE="disk"');
  const unpaired = problems({ STORAGE: 's3', S3_BUCKET: 'b-1', S3_SECRET_ACCESS_KEY: 'TopSecret123' });
  assert.match(unpaired, 'S3_ACCESS_KEY_ID');
  assert.not.match(unpaired, 'TopSecret123');
  assert.is(loadConfig({ STORAGE: 's3', S3_BUCKET: 'b-1', S3_ENDPOINT: 'http://127.0.0.1:9000' }).s3!.forcePathStyle, true, 'path-style for a self-hosted endpoint');
  assert.is(loadConfig({ STORAGE: 's3', S3_BUCKET: 'b-1' }).s3!.forcePathStyle, false, 'virtual-hosted style for AWS itself');
  assert.is(loadConfig({}).s3, undefined);
});

test.run();
