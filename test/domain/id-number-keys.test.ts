import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { idNumberIndex, loadIdNumberKeys, openIdNumber, sealIdNumber, withNewKey } from '../../db/id-number-keys.ts';

// Issue 13, 身份证号 at rest: the sealing, the blind index and the key file (the columns: test/routes/id-numbers-at-rest.test.ts).
const ID = '11010520020506102X';
let dir: string;
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wq-keys-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('keys are generated into DATA_DIR on first use, readable by the owner only, and the same on the next start', async () => {
  const first = await loadIdNumberKeys({ dataDir: dir, env: {} });
  const file = join(dir, 'keys', 'id-number-keys.json');
  assert.is((await stat(file)).mode & 0o777, 0o600);
  const second = await loadIdNumberKeys({ dataDir: dir, env: {} });
  assert.is(openIdNumber(second, sealIdNumber(first, ID)), ID);
  assert.is(idNumberIndex(second, ID), idNumberIndex(first, ID));
  assert.not.match(await readFile(file, 'utf8'), ID);
});

test('a sealed number reads back only with its key; one changed byte is refused; each sealing differs', async () => {
  const keys = await loadIdNumberKeys({ dataDir: dir, env: {} });
  const a = sealIdNumber(keys, ID);
  const b = sealIdNumber(keys, ID);
  assert.is.not(a, b, 'a fresh IV each time');
  assert.not.match(a, ID.slice(6, 14));
  assert.is(openIdNumber(keys, a), ID);
  const tampered = a.slice(0, -2) + (a.at(-2) === 'A' ? 'B' : 'A') + a.at(-1);
  assert.throws(() => openIdNumber(keys, tampered));
  const stranger = await loadIdNumberKeys({ dataDir: join(dir, 'other'), env: {} });
  assert.throws(() => openIdNumber(stranger, a));
});

test('rotation: new numbers go under the new key, old ones still open; the blind index does not change', async () => {
  const keys = await loadIdNumberKeys({ dataDir: dir, env: {} });
  const old = sealIdNumber(keys, ID);
  const rotated = withNewKey(keys, 'k2');
  const fresh = sealIdNumber(rotated, ID);
  assert.match(fresh, /^v1:k2:/);
  assert.is(openIdNumber(rotated, old), ID);
  assert.is(openIdNumber(rotated, fresh), ID);
  assert.is(idNumberIndex(rotated, ID.toLowerCase()), idNumberIndex(keys, ID), 'the index of the same number, however typed');
  assert.is.not(idNumberIndex(keys, ID), idNumberIndex(keys, '110105200205061026'));
});

test('keys from the environment: a list with ids, the current one named; bad keys are refused with a message', async () => {
  const k1 = randomBytes(32).toString('base64');
  const k2 = randomBytes(32).toString('base64');
  const hmac = randomBytes(32).toString('base64');
  const keys = await loadIdNumberKeys({ dataDir: dir, env: { ID_NUMBER_KEYS: `a:${k1},b:${k2}`, ID_NUMBER_KEY_CURRENT: 'a', ID_NUMBER_HMAC_KEY: hmac } });
  assert.match(sealIdNumber(keys, ID), /^v1:a:/);
  const refused = await loadIdNumberKeys({ dataDir: dir, env: { ID_NUMBER_KEYS: 'a:c2hvcnQ=', ID_NUMBER_HMAC_KEY: hmac } }).then(() => null, (e: unknown) => String(e));
  assert.match(refused!, '应为 32 字节');
});

test('a DATA_DIR that does not exist yet keeps the usual mode (the embedded database must enter it); only keys/ is private', async () => {
  const dataDir = join(dir, 'fresh', 'data');
  await loadIdNumberKeys({ dataDir, env: {} });
  assert.is((await stat(dataDir)).mode & 0o755, 0o755);
  assert.is((await stat(join(dataDir, 'keys'))).mode & 0o777, 0o700);
});

test('a key file is created once, and the start is told so; a reversed ID_NUMBER_KEYS pair is refused without echoing the key', async () => {
  const dataDir = join(dir, 'told');
  const created: string[] = [];
  await loadIdNumberKeys({ dataDir, env: {}, onCreated: (p) => created.push(p) });
  await loadIdNumberKeys({ dataDir, env: {}, onCreated: (p) => created.push(p) });
  assert.equal(created, [join(dataDir, 'keys', 'id-number-keys.json')]);
  const secret = randomBytes(32).toString('base64');
  const refused = await loadIdNumberKeys({ dataDir, env: { ID_NUMBER_KEYS: `${secret}:k1`, ID_NUMBER_HMAC_KEY: randomBytes(32).toString('base64') } }).then(
    () => 'loaded',
    (e: Error) => e.message,
  );
  assert.match(refused, '编号格式不对');
  assert.not.match(refused, secret.slice(0, 12));
});

test.run();
