import { createCipheriv, createDecipheriv, createHmac, createSecretKey, randomBytes, randomFillSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { maskIdNumber } from '../domain/codes/id-number.ts';
import { keyFileOnce, rewriteKeyFile } from './key-files.ts';

// 身份证号 at rest: AES-256-GCM under a key with
// an id, so keys can rotate (new numbers under the current key, old ones still open under theirs),
// and an HMAC blind index for the exact look-ups (sign-in by ID number, 添加学生, the roster's key).
// The keys come from ID_NUMBER_KEYS / ID_NUMBER_KEY_CURRENT / ID_NUMBER_HMAC_KEY, or from a file;
// for the embedded default they are generated into DATA_DIR/keys/ on first start (mode 0600).
// Key material is never logged or served.

export type IdNumberKeys = {
  current: string;
  keys: ReadonlyMap<string, Buffer>;
  hmacKey: Buffer;
  // The same keys imported once: Node's cipher and HMAC take a KeyObject several times faster than bytes.
  cipherKeys: ReadonlyMap<string, KeyObject>;
  indexKey: KeyObject;
};

type KeyFile = { current: string; keys: Record<string, string>; hmac: string };

const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;
const SEALED = /^v1:([A-Za-z0-9_-]{1,16}):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]{22,})$/;
const AAD = Buffer.from('id_number');

function parse(file: KeyFile): IdNumberKeys {
  const keys = new Map(Object.entries(file.keys).map(([id, b64]) => [id, Buffer.from(b64 ?? '', 'base64')] as const));
  for (const [id, key] of keys) {
    // The id is echoed only when it looks like one: a pair written the wrong way round would put the key itself in the message.
    if (!KEY_ID.test(id)) throw new Error('身份证号密钥编号格式不对：应为“编号:base64密钥”，编号为 1–16 位字母、数字、下划线或短横线');
    if (key.length !== 32) throw new Error(`身份证号密钥 ${id} 无效：应为 32 字节（base64）`);
  }
  if (!keys.has(file.current)) throw new Error(`当前身份证号密钥 ${file.current} 不在密钥列表中`);
  const hmacKey = Buffer.from(file.hmac, 'base64');
  if (hmacKey.length < 32) throw new Error('身份证号索引密钥应至少 32 字节（base64）');
  return { current: file.current, keys, hmacKey, cipherKeys: new Map([...keys].map(([id, key]) => [id, createSecretKey(key)])), indexKey: createSecretKey(hmacKey) };
}

/** A new key id: the date, and random letters so two hosts making keys on one day do not share an id. */
function newKeyId(now: Date): string {
  return `k${now.toISOString().slice(0, 10).replaceAll('-', '')}${randomBytes(3).toString('hex')}`;
}

/**
 * The keys from the environment, else from `DATA_DIR/keys/id-number-keys.json`, created on first use
 * (`onCreated` is told, so the start can say loudly that a key file now needs keeping safe).
 */
export async function loadIdNumberKeys(opts: { dataDir: string; env?: Record<string, string | undefined>; onCreated?: (path: string) => void }): Promise<IdNumberKeys> {
  const env = opts.env ?? process.env;
  if (env.ID_NUMBER_KEYS) {
    const keys = Object.fromEntries(env.ID_NUMBER_KEYS.split(',').map((pair) => pair.split(':') as [string, string]));
    return parse({ current: env.ID_NUMBER_KEY_CURRENT ?? Object.keys(keys).at(-1)!, keys, hmac: env.ID_NUMBER_HMAC_KEY ?? '' });
  }
  const make = (): KeyFile => {
    const id = newKeyId(new Date());
    return { current: id, keys: { [id]: randomBytes(32).toString('base64') }, hmac: randomBytes(32).toString('base64') };
  };
  return parse((await keyFileOnce({ dataDir: opts.dataDir, name: 'id-number-keys.json', make, onCreated: opts.onCreated })) as KeyFile);
}

/**
 * Rotation for the key file of DATA_DIR: adds a new random key and makes it current, keeping the old
 * ones (they still open what they sealed until everything is sealed again). Returns the new key id.
 */
export async function addIdNumberKeyToFile(dataDir: string, now = new Date()): Promise<string> {
  const path = join(dataDir, 'keys', 'id-number-keys.json');
  const file = JSON.parse(await readFile(path, 'utf8')) as KeyFile;
  let id = newKeyId(now);
  while (id in file.keys) id = newKeyId(now);
  const next: KeyFile = { current: id, keys: { ...file.keys, [id]: randomBytes(32).toString('base64') }, hmac: file.hmac };
  parse(next);
  await rewriteKeyFile(dataDir, 'id-number-keys.json', next);
  return id;
}

/** A new current key (rotation): numbers sealed from now on use it; the old keys still open theirs. */
export function withNewKey(keys: IdNumberKeys, id: string, key = randomBytes(32)): IdNumberKeys {
  return parse({ current: id, keys: Object.fromEntries([...keys.keys, [id, key]].map(([k, v]) => [k, v.toString('base64')])), hmac: keys.hmacKey.toString('base64') });
}

// Random IVs drawn from a pool refilled 4 KB at a time: one randomBytes(12) per number cost as much as the cipher.
const ivPool = Buffer.alloc(4096);
let ivAt = ivPool.length;
function nextIv(): Buffer {
  if (ivAt + 12 > ivPool.length) {
    randomFillSync(ivPool);
    ivAt = 0;
  }
  ivAt += 12;
  return Buffer.from(ivPool.subarray(ivAt - 12, ivAt));
}

/** An ID number sealed under the current key: `v1:<key id>:<iv>:<ciphertext and tag>`. */
export function sealIdNumber(keys: IdNumberKeys, idNumber: string): string {
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', keys.cipherKeys.get(keys.current)!, iv);
  cipher.setAAD(AAD);
  const body = Buffer.concat([cipher.update(idNumber, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `v1:${keys.current}:${iv.toString('base64url')}:${body.toString('base64url')}`;
}

/** The ID number a sealed value holds; throws if it was altered or its key is unknown. */
export function openIdNumber(keys: IdNumberKeys, sealed: string): string {
  const m = SEALED.exec(sealed);
  if (!m) throw new Error('not a sealed ID number');
  const key = keys.cipherKeys.get(m[1]!);
  if (!key) throw new Error(`unknown ID number key ${m[1]}`);
  const body = Buffer.from(m[3]!, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(m[2]!, 'base64url'));
  decipher.setAAD(AAD);
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
}

/** The blind index of an ID number (upper-cased, trimmed): equal numbers, equal index; the number cannot be read back. */
export function idNumberIndex(keys: IdNumberKeys, idNumber: string): string {
  return createHmac('sha256', keys.indexKey).update(idNumber.trim().toUpperCase()).digest('base64url');
}

// The process's keys, installed once at start (server.ts, the scripts, the tests' set-up), so the
// domain seals and looks up without carrying them through every call.
let installed: IdNumberKeys | undefined;

export function installIdNumberKeys(keys: IdNumberKeys): void {
  installed = keys;
}

export function installedIdNumberKeys(): IdNumberKeys {
  if (!installed) throw new Error('身份证号密钥尚未加载（installIdNumberKeys）');
  return installed;
}

/** The three stored forms of one ID number: sealed, its blind index, and the masked form lists show. */
export type StoredIdNumber = { idNumberSealed: string; idNumberIndex: string; idNumberMasked: string };

export function storedIdNumber(idNumber: string): StoredIdNumber {
  const keys = installedIdNumberKeys();
  const normal = idNumber.trim().toUpperCase();
  return { idNumberSealed: sealIdNumber(keys, normal), idNumberIndex: idNumberIndex(keys, normal), idNumberMasked: maskIdNumber(normal) };
}

/** A cell as it was typed (maybe not a valid number at all), sealed: a rejected import row keeps it for correction. */
export function sealedAsTyped(text: string): string {
  return sealIdNumber(installedIdNumberKeys(), text);
}

/** The ID number in a sealed value (graduates.id_number_sealed, an agreement's snapshot, an import's error row). */
export function openedIdNumber(sealed: string): string {
  return openIdNumber(installedIdNumberKeys(), sealed);
}

/** What an exact look-up of an ID number compares with (graduates.id_number_index, a graduate's login). */
export function idNumberLookup(idNumber: string): string {
  return idNumberIndex(installedIdNumberKeys(), idNumber);
}

export function isSealedIdNumber(value: string): boolean {
  return SEALED.test(value);
}

/** The key id a sealed value names, to say which key a restore is missing. */
export function keyIdOf(sealed: string): string | undefined {
  return SEALED.exec(sealed)?.[1];
}

/** A record with a plain `idNumber`, as the columns store it. */
export function withStoredIdNumber<T extends { idNumber: string }>(record: T): Omit<T, 'idNumber'> & StoredIdNumber {
  const { idNumber, ...rest } = record;
  return { ...rest, ...storedIdNumber(idNumber) };
}
