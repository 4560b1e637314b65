import { spawnSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../config.ts';
import { generateSigningCa, generateSigningIdentity, identityFromP12, issueSigningCertificate, loadSigningIdentity, SigningIdentityError, type SigningIdentity } from '../../db/signing-identity.ts';
import { networkOf } from '../../domain/agreements/queries.ts';
import { platformSigning, sealReason } from '../../domain/agreements/sealing.ts';
import { verifierKey } from '../../domain/agreements/document.ts';
import { CadesSigner } from '../../domain/signing/cades.ts';
import { inspectPdfSignature } from '../../domain/signing/inspect.ts';
import { sealPdf } from '../../domain/signing/seal.ts';
import { makeP12, ownedBy } from '../helpers/p12.ts';
import { pdfsig } from '../helpers/pdfsig.ts';
import { tinyPdf } from '../helpers/tiny-pdf.ts';

// Issue 15: the platform's signing identity and the PAdES signature, checked by pdfsig (poppler),
// by openssl against the CA a reader downloads, and by the platform's own /verify reader.
let dir: string;
let identity: SigningIdentity;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signing-'));
  identity = await loadSigningIdentity({ dataDir: dir });
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const seal = (pdf: Buffer, id = identity, reason = sealReason('2026-10001-000001', 'signed')) =>
  sealPdf(pdf, { reason, name: '全国高校毕业生网上签约与毕业去向登记平台', location: 'localhost', contactInfo: 'http://localhost/verify', signingTime: new Date('2026-06-01T02:03:04Z') }, new CadesSigner(id));

test('15: the generated CA and signing certificate are created once in DATA_DIR/keys, private to the owner, and reloaded as they are', async () => {
  const path = join(dir, 'keys', 'signing-identity.json');
  assert.is(statSync(path).mode & 0o777, 0o600);
  const again = await loadSigningIdentity({ dataDir: dir });
  assert.is(again.chain[0]!.fingerprint256, identity.chain[0]!.fingerprint256);
  assert.is(identity.source, 'generated');
  const [leaf, ca] = identity.chain as [X509Certificate, X509Certificate];
  assert.is(identity.anchor, ca);
  assert.ok(ca.ca, 'the anchor is a CA');
  assert.not.ok(leaf.ca);
  assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey), 'the CA issued the signing certificate');
  assert.ok(leaf.keyUsage?.includes('1.3.6.1.5.5.7.3.4'), 'emailProtection, which NSS readers check a document signer for');
  const created: string[] = [];
  const other = await loadSigningIdentity({ dataDir: join(dir, 'other'), onCreated: (p) => created.push(p) });
  assert.equal(created, [join(dir, 'other', 'keys', 'signing-identity.json')], 'told once, with the path only');
  assert.is.not(other.anchor.fingerprint256, ca.fingerprint256, 'each install has its own CA');
});

test('15: a sealed PDF is ETSI.CAdES.detached over the whole file; pdfsig says valid, and the chain verifies against the CA', async () => {
  const signed = await seal(tinyPdf());
  const report = pdfsig(signed);
  assert.match(report, 'Signature Type: ETSI.CAdES.detached');
  assert.match(report, 'Signature Validation: Signature is Valid.');
  assert.match(report, 'Total document signed');
  assert.match(report, 'Signing Hash Algorithm: SHA-256');

  // The CMS itself, by openssl, against the CA certificate alone (as a reader downloads it).
  const work = mkdtempSync(join(tmpdir(), 'cms-'));
  try {
    const text = signed.toString('latin1');
    const [, a, b, c, d] = (/\/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]/.exec(text) ?? []).map(Number) as number[];
    writeFileSync(join(work, 'content'), Buffer.concat([signed.subarray(a!, b!), signed.subarray(c!, c! + d!)]));
    const hex = text.slice(b! + 1, c! - 1).replace(/(00)+$/, '');
    writeFileSync(join(work, 'sig.der'), Buffer.from(hex.length % 2 ? `${hex}0` : hex, 'hex'));
    writeFileSync(join(work, 'ca.pem'), identity.anchor.toString());
    const run = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(work, 'sig.der'), '-content', join(work, 'content'), '-CAfile', join(work, 'ca.pem'), '-purpose', 'any', '-out', '/dev/null'], { encoding: 'utf8' });
    assert.is(run.status, 0, run.stderr);
    assert.match(run.stderr, 'Verification successful');
    const printed = spawnSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', join(work, 'sig.der')], { encoding: 'utf8' }).stdout;
    assert.match(printed, 'signingCertificateV2', 'the signer certificate is bound into the signed attributes (PAdES B-B)');
    assert.not.match(printed, 'signingTime', 'PAdES takes the time from /M, not from the CMS');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const own = (await inspectPdfSignature(signed, ownedBy(identity.chain[0]!)));
  assert.is(own.status, 'intact');
  if (own.status === 'intact') {
    assert.ok(own.ours);
    assert.is(own.reason, '全国高校毕业生网上签约与毕业去向登记平台签发：就业协议书 2026-10001-000001（已签约）', 'the reason is readable text, not mis-encoded bytes');
    assert.equal(own.signedAt, new Date('2026-06-01T02:03:04Z'));
  }
});

test('15: one changed byte of the signed content makes pdfsig and the platform\'s reader report it invalid; so does content added after signing', async () => {
  const signed = await seal(tinyPdf('hello'));
  const changed = Buffer.from(signed);
  const at = changed.indexOf('(hello)');
  changed[at + 1] = 'j'.charCodeAt(0);
  assert.not.match(pdfsig(changed), 'Signature is Valid.');
  assert.equal((await inspectPdfSignature(changed, ownedBy(identity.chain[0]!))), { status: 'invalid', why: '文件内容与签名不符（签名后被修改过）' });
  const appended = Buffer.concat([signed, Buffer.from('\n6 0 obj\n<< >>\nendobj\n')]);
  assert.equal((await inspectPdfSignature(appended, ownedBy(identity.chain[0]!))), { status: 'invalid', why: '文件在签名后被修改过（签名之后追加了内容）' });
  assert.equal((await inspectPdfSignature(tinyPdf(), ownedBy(identity.chain[0]!))), { status: 'unsigned' });
});

test('15: the reader of uploaded PDFs never throws on mangled bytes, and never calls a file changed outside its signature value intact', async () => {
  const signed = await seal(tinyPdf());
  const text = signed.toString('latin1');
  const [, , b, c] = (/\/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]/.exec(text) ?? []).map(Number) as number[];
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.nat(signed.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(signed.length), async (flips, cut) => {
      const mangled = Buffer.from(signed.subarray(0, Math.max(cut, signed.length - 64)));
      for (const [at, xor] of flips) if (at < mangled.length) mangled[at]! ^= xor;
      const report = (await inspectPdfSignature(mangled, ownedBy(identity.chain[0]!)));
      const outside = mangled.length !== signed.length || flips.some(([at]) => at < b! || at >= c!);
      if (outside) assert.is.not(report.status, 'intact', `flips ${JSON.stringify(flips)}, length ${mangled.length}`);
    }),
    { numRuns: 300 },
  );
});

test('15: a signature by another install\'s CA is intact but not this platform\'s', async () => {
  const stranger = await loadSigningIdentity({ dataDir: join(dir, 'stranger') });
  const report = await inspectPdfSignature(await seal(tinyPdf(), stranger), ownedBy(identity.chain[0]!));
  assert.is(report.status, 'intact');
  assert.is(report.status === 'intact' && report.ours, false);
});

test('15: "ours" is the platform\'s own signing certificate, not any certificate its CA issued: another holder of a certificate from the same CA cannot pass as the platform', async () => {
  // With SIGNING_P12 a commercial CA issues the platform's certificate, and other customers' too.
  const ca = generateSigningCa('SHARED');
  const platform = issueSigningCertificate(ca, 'PLATFORM');
  const mallory = issueSigningCertificate(ca, 'MALLORY');
  const asIdentity = (made: { key: string; cert: string }): SigningIdentity => {
    const anchor = new X509Certificate(ca.caCert);
    return { key: createPrivateKey(made.key), chain: [new X509Certificate(made.cert), anchor], anchor, source: 'p12' };
  };
  const ours = ownedBy(asIdentity(platform).chain[0]!);
  const forged = await inspectPdfSignature(await seal(tinyPdf('forged terms'), asIdentity(mallory)), ours);
  assert.is(forged.status, 'intact');
  assert.is(forged.status === 'intact' && forged.ours, false, 'a sibling certificate is not the platform');
  const real = await inspectPdfSignature(await seal(tinyPdf(), asIdentity(platform)), ours);
  assert.ok(real.status === 'intact' && real.ours);
});

test('15: the public reader bounds its work: a signature carrying many certificates, or a signer key it would spend long on, is refused before any RSA work', async () => {
  const crowded: SigningIdentity = { ...identity, chain: [identity.chain[0]!, ...Array.from({ length: 9 }, () => identity.anchor)] };
  assert.equal(await inspectPdfSignature(await seal(tinyPdf(), crowded), ownedBy(identity.chain[0]!)), { status: 'invalid', why: '签名数据无法识别' });

  // A signer whose RSA exponent is above 2^31 (65537 is usual): exponents near the modulus cost a full exponentiation.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0xffffffff });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(forge.pki.privateKeyFromPem(keyPem).n, forge.pki.privateKeyFromPem(keyPem).e);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date('2026-01-01');
  cert.validity.notAfter = new Date('2036-01-01');
  cert.setSubject([{ name: 'commonName', value: 'heavy' }]);
  cert.setIssuer([{ name: 'commonName', value: 'heavy' }]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  const heavy = new X509Certificate(forge.pki.certificateToPem(cert));
  const report = await inspectPdfSignature(await seal(tinyPdf(), { key: privateKey, chain: [heavy], anchor: heavy, source: 'p12' }), () => true);
  assert.equal(report, { status: 'invalid', why: '签名证书的密钥类型不受支持' });
});

test('15: a configured PKCS#12 (SIGNING_P12, SIGNING_P12_PASSWORD) is used instead of the generated identity; a wrong password is a clear error that does not echo it', async () => {
  const made = makeP12('s3cret-pass');
  const file = join(dir, 'org.p12');
  writeFileSync(file, made.p12);
  const config = loadConfig({ DATA_DIR: dir, SIGNING_P12: file, SIGNING_P12_PASSWORD: 's3cret-pass' });
  const configured = await loadSigningIdentity({ dataDir: config.dataDir, p12: config.signingP12 });
  assert.is(configured.source, 'p12');
  assert.is(configured.chain[0]!.fingerprint256, new X509Certificate(made.certPem).fingerprint256);
  assert.is(configured.anchor.fingerprint256, new X509Certificate(made.caPem).fingerprint256);
  const signed = await seal(tinyPdf(), configured);
  assert.match(pdfsig(signed), 'Signature is Valid.');
  const report = await inspectPdfSignature(signed, ownedBy(configured.chain[0]!));
  assert.ok(report.status === 'intact' && report.ours);
  const elsewhere = await inspectPdfSignature(signed, ownedBy(identity.chain[0]!));
  assert.ok(elsewhere.status === 'intact' && !elsewhere.ours, 'not the generated identity\'s');

  const wrong = (() => {
    try {
      identityFromP12(readFileSync(file), 'wrong-pass');
      return null;
    } catch (e) {
      return e;
    }
  })();
  assert.instance(wrong, SigningIdentityError);
  assert.match(String(wrong), 'SIGNING_P12_PASSWORD');
  assert.not.match(String(wrong), 'wrong-pass');
  await loadSigningIdentity({ dataDir: dir, p12: { path: join(dir, 'missing.p12'), password: '' } }).then(
    () => assert.unreachable(),
    (e: unknown) => assert.match(String(e), '无法读取签章证书文件'),
  );
});

test('15: one signer signs document after document with signatures of one size, within the room its placeholder leaves', async () => {
  // Its speed is npm run bench's to measure, not a test's.
  const signer = new CadesSigner(identity);
  const a = signer.signDigest(Buffer.alloc(32, 1));
  const b = signer.signDigest(Buffer.alloc(32, 2));
  assert.is(a.length, b.length, 'fixed-size signatures: the placeholder is sized once');
  assert.ok(signer.signatureLength > a.length);
});

test('15: the 签约完成证明 shows where each step came from as a network, never a whole address (IPv4 /24, IPv6 /48 however it is written)', () => {
  assert.is(networkOf('203.0.113.45'), '203.0.113.*');
  assert.is(networkOf('::ffff:10.1.2.3'), '10.1.2.*');
  assert.is(networkOf('2001:db8:85a3::8a2e:370:7334'), '2001:db8:85a3:*');
  assert.is(networkOf('2001::5'), '2001:0:0:*', 'the groups "::" stands for are written out before three are kept');
  assert.is(networkOf('::1'), '本机');
  assert.is(networkOf(null), '');
});

test('15: a signing certificate the database could not record a moment ago is recorded on the next print; signing is not stuck until a restart', async () => {
  let fail = true;
  const recorded: unknown[] = [];
  const db = {
    insert: () => ({
      values: (v: unknown) => ({
        onConflictDoNothing: async () => {
          if (fail) throw new Error('database away');
          recorded.push(v);
        },
      }),
    }),
  };
  const signing = platformSigning(db as never, async () => identity);
  await signing.signer().then(() => assert.unreachable(), (e: unknown) => assert.match(String(e), 'database away'));
  fail = false;
  assert.ok(await signing.signer());
  assert.is(recorded.length, 1);
});

test('15: an identity file that still holds the CA\'s key (written before it stopped being kept) is rewritten without it', async () => {
  const old = join(dir, 'old');
  mkdirSync(join(old, 'keys'), { recursive: true });
  const made = generateSigningIdentity();
  writeFileSync(join(old, 'keys', 'signing-identity.json'), JSON.stringify({ ...made, caKey: generateSigningCa('OLD').caKey }), { mode: 0o600 });
  const loaded = await loadSigningIdentity({ dataDir: old });
  assert.is(loaded.chain[0]!.fingerprint256, new X509Certificate(made.cert).fingerprint256);
  const kept = JSON.parse(readFileSync(join(old, 'keys', 'signing-identity.json'), 'utf8')) as Record<string, unknown>;
  assert.not.ok('caKey' in kept);
  assert.is(statSync(join(old, 'keys', 'signing-identity.json')).mode & 0o777, 0o600);
});

test('15: /verify\'s limit counts an IPv6 holder by its /64, however the address is written; IPv4 by its address', () => {
  assert.is(verifierKey('2001:db8:1:2:aaaa::1'), verifierKey('2001:0db8:0001:0002:ffff:ffff:ffff:fffe'));
  assert.is(verifierKey('2001:db8:1:2::5'), 'verify:2001:db8:1:2::/64');
  assert.is.not(verifierKey('2001:db8:1:3::5'), verifierKey('2001:db8:1:2::5'));
  assert.is(verifierKey('203.0.113.7'), 'verify:203.0.113.7');
  assert.is(verifierKey(null), 'verify:unknown');
});

test.run();
