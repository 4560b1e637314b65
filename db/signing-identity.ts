import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import forge from 'node-forge';
import { keyFileOnce, rewriteKeyFile } from './key-files.ts';

// The key and certificate every issued agreement PDF is signed with (issue 15). Either a PKCS#12
// file the operator configures (SIGNING_P12, SIGNING_P12_PASSWORD: a certificate from a real CA),
// or, by default, the platform's own signing CA and a signing certificate it issues, generated into
// DATA_DIR/keys/signing-identity.json on first start (mode 0600, like the ID-number keys).
// The CA's certificate is published (/verify/ca) so a reader can trust it; key material is never
// logged or served.

export type SigningIdentity = {
  /** The signer's private key (RSA). */
  key: KeyObject;
  /** The signer's certificate first, then its issuers as far as known. */
  chain: X509Certificate[];
  /** The certificate a reader trusts: the generated CA, or the top of the configured chain. */
  anchor: X509Certificate;
  source: 'generated' | 'p12';
};

/** The platform's name in the certificates and signatures. */
export const SIGNING_PLATFORM = '全国高校毕业生网上签约与毕业去向登记平台';

/** The generated identity as kept in DATA_DIR/keys: the signing key and certificate, and the CA's certificate (not its key). */
type IdentityFile = { version: 1; caCert: string; key: string; cert: string };

const X509_DAY = 24 * 60 * 60 * 1000;

function serial(): string {
  // Positive (a leading byte below 0x80) and 128 bits of randomness, as CAs do.
  return `01${randomBytes(16).toString('hex')}`;
}

function forgeKeys(modulusLength: number) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return { privatePem, forgePrivate: forge.pki.privateKeyFromPem(privatePem), forgePublic: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()) };
}

/** A certificate for `publicKey`, valid from a day before `now` for `years`, with a fresh serial; names and extensions to be set. */
function newCertificate(publicKey: forge.pki.PublicKey, years: number, now: Date): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now.getTime() - X509_DAY);
  cert.validity.notAfter = new Date(now.getTime() + years * 365 * X509_DAY);
  return cert;
}

const utf8Name = (cn: string, unit: string) => [
  { name: 'commonName', value: cn, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class },
  { name: 'organizationName', value: SIGNING_PLATFORM, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class },
  { name: 'organizationalUnitName', value: unit, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class },
  { name: 'countryName', value: 'CN' },
];

/** A signing CA (20 years) as PEM, with its key: the key is only for issuing, and the platform does not keep it. */
export function generateSigningCa(tag: string, now = new Date()): { caKey: string; caCert: string } {
  const ca = forgeKeys(3072);
  const caCert = newCertificate(ca.forgePublic, 20, now);
  caCert.setSubject(utf8Name(`网签平台签章根证书 ${tag}`, '电子签章'));
  caCert.setIssuer(utf8Name(`网签平台签章根证书 ${tag}`, '电子签章'));
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.forgePrivate, forge.md.sha256.create());
  return { caKey: ca.privatePem, caCert: forge.pki.certificateToPem(caCert) };
}

/** A document-signing certificate (10 years) the CA issues, with its new key, as PEM. */
export function issueSigningCertificate(ca: { caKey: string; caCert: string }, tag: string, now = new Date()): { key: string; cert: string } {
  const caCert = forge.pki.certificateFromPem(ca.caCert);
  const signer = forgeKeys(2048);
  const cert = newCertificate(signer.forgePublic, 10, now);
  cert.setSubject(utf8Name(`网签平台电子签章 ${tag}`, '就业协议书签章'));
  // forge reads a UTF8String name as its UTF-8 bytes and would encode them again when writing it.
  cert.setIssuer(caCert.subject.attributes.map((a) => (a.valueTagClass === (forge.asn1.Type.UTF8 as unknown) ? { ...a, value: forge.util.decodeUtf8(a.value as string) } : a)));
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true },
    // emailProtection is what NSS (pdfsig) checks a document signer for; 1.3.6.1.4.1.311.10.3.12 is Adobe's "document signing".
    { name: 'extKeyUsage', emailProtection: true, '1.3.6.1.4.1.311.10.3.12': true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.caKey), forge.md.sha256.create());
  return { key: signer.privatePem, cert: forge.pki.certificateToPem(cert) };
}

/**
 * A new identity: a CA, the signing certificate it issues, and the CA's key thrown away, so that
 * the server that signs holds nothing that could issue another certificate under the CA.
 */
export function generateSigningIdentity(now = new Date()): IdentityFile {
  // The install's own tag in both names, so two platforms' certificates are never mistaken for each other.
  const tag = randomBytes(4).toString('hex').toUpperCase();
  const ca = generateSigningCa(tag, now);
  const { key, cert } = issueSigningCertificate(ca, tag, now);
  return { version: 1, caCert: ca.caCert, key, cert };
}

function fromFile(file: IdentityFile): SigningIdentity {
  const cert = new X509Certificate(file.cert);
  const ca = new X509Certificate(file.caCert);
  return { key: createPrivateKey(file.key), chain: [cert, ca], anchor: ca, source: 'generated' };
}

export class SigningIdentityError extends Error {}

/** The identity in a PKCS#12 file: its key, the certificate of that key, and the issuers it carries. */
export function identityFromP12(p12: Buffer, password: string): SigningIdentity {
  let parsed: forge.pkcs12.Pkcs12Pfx;
  try {
    parsed = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(p12.toString('binary')), false, password);
  } catch {
    // forge's own message may quote bytes of the file; say only what to check.
    throw new SigningIdentityError('签章证书文件无法打开：请检查 SIGNING_P12 是否为 PKCS#12（.p12/.pfx）文件，以及 SIGNING_P12_PASSWORD 是否正确');
  }
  const bags = (type: string | undefined): forge.pkcs12.Bag[] => parsed.getBags({ bagType: type! })[type!] ?? [];
  const keyBags = [...bags(forge.pki.oids.pkcs8ShroudedKeyBag), ...bags(forge.pki.oids.keyBag)];
  const rsaKey = keyBags.find((b) => b.key)?.key as forge.pki.rsa.PrivateKey | undefined;
  if (!rsaKey) throw new SigningIdentityError('签章证书文件中没有可用的 RSA 私钥（仅支持 RSA 密钥）');
  const certs = bags(forge.pki.oids.certBag).flatMap((b) => (b.cert ? [b.cert] : []));
  const own = certs.find((c) => {
    const pub = c.publicKey as forge.pki.rsa.PublicKey;
    return pub.n?.compareTo(rsaKey.n) === 0 && pub.e?.compareTo(rsaKey.e) === 0;
  });
  if (!own) throw new SigningIdentityError('签章证书文件中没有与私钥对应的证书');
  const x509 = (c: forge.pki.Certificate) => new X509Certificate(Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(c)).getBytes(), 'binary'));
  const others = certs.filter((c) => c !== own).map(x509);
  const chain = [x509(own)];
  // Up the chain as far as the file's certificates go.
  for (let top = chain[0]!; top.issuer !== top.subject; ) {
    const issuer = others.find((o) => !chain.includes(o) && top.checkIssued(o) && top.verify(o.publicKey));
    if (!issuer) break;
    chain.push(issuer);
    top = issuer;
  }
  return { key: createPrivateKey(forge.pki.privateKeyToPem(rsaKey)), chain, anchor: chain.at(-1)!, source: 'p12' };
}

/**
 * The configured PKCS#12 identity, else the generated one from `DATA_DIR/keys/signing-identity.json`,
 * created on first use (`onCreated` is told, so the start can say that a key file now needs keeping).
 */
export async function loadSigningIdentity(opts: { dataDir: string; p12?: { path: string; password: string } | undefined; onCreated?: (path: string) => void }): Promise<SigningIdentity> {
  if (opts.p12) {
    let bytes: Buffer;
    try {
      bytes = await readFile(opts.p12.path);
    } catch {
      throw new SigningIdentityError(`无法读取签章证书文件 SIGNING_P12=${opts.p12.path}`);
    }
    return identityFromP12(bytes, opts.p12.password);
  }
  const file = (await keyFileOnce({ dataDir: opts.dataDir, name: 'signing-identity.json', make: generateSigningIdentity, onCreated: opts.onCreated })) as IdentityFile & { caKey?: string };
  if (file.caKey !== undefined) {
    // A file written before the CA's key stopped being kept: rewritten without it.
    const { caKey: _dropped, ...kept } = file;
    await rewriteKeyFile(opts.dataDir, 'signing-identity.json', kept);
  }
  return fromFile(file);
}

/** A certificate's subject common name, as readers show the signer. */
export const commonName = (cert: X509Certificate) => /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? cert.subject;

/** SHA-256 of a certificate's DER in hex: how the platform's signing certificates are known (signing_certificates). */
export const certificateSha256 = (der: Buffer) => createHash('sha256').update(der).digest('hex');
