import { createHash, verify, X509Certificate } from 'node:crypto';
import { children, content, DerError, expect, issuerAndSerial, oidText, read, TAG, whole, type Node } from './der.ts';
import { certificateSha256, commonName } from '../../db/signing-identity.ts';
import { OIDS } from './cades.ts';

// Reading the signature of a PDF someone uploads to /verify: is the signature intact, does it cover
// the whole file (nothing added after signing), and was it made with a certificate of this
// platform. Written for the PDFs the platform signs (one PAdES signature, Chromium's plain
// cross-reference table), and strict: anything it cannot read is "not verifiable", never "valid".

export type PdfSignature =
  | { status: 'unsigned' }
  /** A signature whose bytes or certificates do not check out: the file was changed, or is not one we made. */
  | { status: 'invalid'; why: string }
  | {
      status: 'intact';
      /** Signed with one of this platform's own signing certificates (not merely one its CA vouches for). */
      ours: boolean;
      /** The signer's certificate subject's common name. */
      signer: string;
      signedAt: Date | null;
      reason: string;
    };

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

/** A PDF literal string's bytes: escapes resolved; UTF-16BE (with its BOM) or PDFDocEncoding read as Latin-1. */
export function pdfString(literal: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < literal.length; i++) {
    const ch = literal.charCodeAt(i);
    if (literal[i] !== '\\') {
      bytes.push(ch & 0xff);
      continue;
    }
    const next = literal[++i] ?? '';
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, b: 8, f: 12, '(': 40, ')': 41, '\\': 92 };
    if (next in simple) bytes.push(simple[next]!);
    else if (/[0-7]/.test(next)) {
      let octal = next;
      while (octal.length < 3 && /[0-7]/.test(literal[i + 1] ?? '')) octal += literal[++i];
      bytes.push(Number.parseInt(octal, 8) & 0xff);
    } else if (next === '\r' && literal[i + 1] === '\n') i++; // a line continuation
    else if (next !== '\n' && next !== '\r') bytes.push(next.charCodeAt(0) & 0xff);
  }
  const buf = Buffer.from(bytes);
  if (buf[0] === 0xfe && buf[1] === 0xff) return buf.subarray(2).swap16().toString('utf16le');
  return buf.toString('latin1');
}

/** A literal string value of `key` in a dictionary's text (balanced parentheses, escapes kept). */
function literalOf(dict: string, key: string): string | null {
  const at = dict.indexOf(`/${key}`);
  if (at === -1) return null;
  const open = dict.indexOf('(', at);
  if (open === -1 || dict.slice(at + key.length + 1, open).trim() !== '') return null;
  let depth = 0;
  for (let i = open; i < dict.length; i++) {
    if (dict[i] === '\\') i++;
    else if (dict[i] === '(') depth++;
    else if (dict[i] === ')' && --depth === 0) return pdfString(dict.slice(open + 1, i));
  }
  return null;
}

/** A PDF date (D:YYYYMMDDHHmmSS+HH'mm'). */
function pdfDate(value: string | null): Date | null {
  const m = value && /^D:(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(Z|([+-])(\d{2})'?(\d{2})'?)?/.exec(value);
  if (!m) return null;
  const offset = m[8] ? (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10])) : 0;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]) - offset, Number(m[6])));
}


/** Whether a certificate (by the SHA-256 of its DER, hex) is one the platform signs with. */
export type OwnCertificates = (sha256: string) => boolean | Promise<boolean>;

/** Certificates a signature may carry: ours carries two; the rest is not read. */
const MAX_CERTIFICATES = 8;

/**
 * The last signature of `pdf`, and whether its signer's certificate is one of the platform's own.
 * The cheap checks come first (the byte ranges, the digest), the key is bounded before the one RSA
 * verification: a public upload must not make the server do unbounded work.
 */
export async function inspectPdfSignature(pdf: Buffer, isOurs: OwnCertificates): Promise<PdfSignature> {
  const text = pdf.toString('latin1');
  const at = text.lastIndexOf('/ByteRange');
  if (at === -1) return { status: 'unsigned' };
  const range = /^\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/.exec(text.slice(at, at + 100));
  if (!range) return { status: 'invalid', why: '签名的字节范围无法识别' };
  const [a, b, c, d] = range.slice(1).map(Number) as [number, number, number, number];
  if (a !== 0 || b <= 0 || c <= b || c + d > pdf.length || text[b] !== '<' || text[c - 1] !== '>') return { status: 'invalid', why: '签名的字节范围无效' };
  // Anything after the signed bytes (an incremental update) was added after signing.
  if (text.slice(c + d).trim() !== '') return { status: 'invalid', why: '文件在签名后被修改过（签名之后追加了内容）' };

  let cms: ReturnType<typeof readCms>;
  try {
    const hex = text.slice(b + 1, c - 1);
    if (!/^[0-9a-fA-F]*$/.test(hex)) throw new DerError('contents are not hex');
    cms = readCms(Buffer.from(hex.length % 2 ? `${hex}0` : hex, 'hex'));
  } catch {
    // Whatever the bytes are (a broken DER, a certificate OpenSSL refuses), they are not a signature we can read.
    return { status: 'invalid', why: '签名数据无法识别' };
  }
  if (!sha256(Buffer.concat([pdf.subarray(0, b), pdf.subarray(c, c + d)])).equals(cms.digest)) return { status: 'invalid', why: '文件内容与签名不符（签名后被修改过）' };
  // The certificate the signed attributes name (signing-certificate-v2) must be the one that verifies.
  if (cms.certHash && !cms.certHash.value.equals(createHash(cms.certHash.algorithm).update(cms.signer.raw).digest())) return { status: 'invalid', why: '签名证书与签名记录不符' };
  const key = cms.signer.publicKey.asymmetricKeyDetails;
  if (cms.signer.publicKey.asymmetricKeyType !== 'rsa' || !key?.modulusLength || key.modulusLength > 4096 || (key.publicExponent ?? 0n) > 0x7fffffffn) {
    return { status: 'invalid', why: '签名证书的密钥类型不受支持' };
  }
  if (!safeVerify(cms.attributes, cms.signer, cms.signature)) return { status: 'invalid', why: '签名值无效' };

  // The signature dictionary is inside the signed bytes: its /Reason and /M are what was signed.
  const dictStart = text.lastIndexOf('<<', at);
  const dict = text.slice(dictStart, text.indexOf('endobj', at));
  return {
    status: 'intact',
    ours: await isOurs(certificateSha256(cms.signer.raw)),
    signer: commonName(cms.signer),
    signedAt: pdfDate(literalOf(dict, 'M')),
    reason: literalOf(dict, 'Reason') ?? '',
  };
}

function safeVerify(data: Buffer, signer: X509Certificate, signature: Buffer): boolean {
  try {
    return verify('sha256', data, signer.publicKey, signature);
  } catch {
    return false;
  }
}

/** The hashes a signing-certificate-v2 entry may name, by OID. */
const ESS_HASHES: Record<string, string> = { [OIDS.sha256]: 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512' };

/** The parts of a CMS ContentInfo (SignedData, one signer) that a check needs. */
function readCms(der: Buffer) {
  const [type, explicit] = children(expect(read(der), TAG.SEQUENCE));
  if (oidText(content(expect(type, TAG.OID))) !== OIDS.signedData) throw new DerError('not SignedData');
  const signedData = children(expect(children(expect(explicit, 0xa0))[0], TAG.SEQUENCE));
  const carried = children(expect(signedData.find((n) => n.tag === 0xa0), 0xa0));
  if (carried.length > MAX_CERTIFICATES) throw new DerError('too many certificates');
  const certificates = carried.map((n) => new X509Certificate(whole(n)));
  const signerInfos = children(expect(signedData.at(-1), TAG.SET));
  if (signerInfos.length !== 1) throw new DerError('one signer expected');
  const info = children(expect(signerInfos[0], TAG.SEQUENCE));
  const sid = info[1]!;
  const signed = expect(info[3], 0xa0);
  const signature = content(expect(info[5], TAG.OCTET_STRING));
  const signer = certificates.find((cert) => {
    const { issuer, serial } = issuerAndSerial(cert.raw);
    return content(expect(sid, TAG.SEQUENCE)).equals(Buffer.concat([issuer, serial]));
  });
  if (!signer) throw new DerError('the signer\'s certificate is not in the signature');
  let digest: Buffer | undefined;
  let certHash: { algorithm: string; value: Buffer } | undefined;
  for (const attribute of children(signed)) {
    const [attrType, values] = children(expect(attribute, TAG.SEQUENCE)) as [Node, Node];
    const type = oidText(content(expect(attrType, TAG.OID)));
    const value = children(expect(values, TAG.SET))[0];
    if (type === OIDS.messageDigest) digest = content(expect(value, TAG.OCTET_STRING));
    // SigningCertificateV2 → certs → the first ESSCertIDv2: [hashAlgorithm (SHA-256 when left out)], certHash.
    if (type === OIDS.signingCertificateV2) {
      const essCertId = children(expect(children(expect(children(expect(value, TAG.SEQUENCE))[0], TAG.SEQUENCE))[0], TAG.SEQUENCE));
      const named = essCertId[0]?.tag === TAG.SEQUENCE ? oidText(content(expect(children(essCertId[0])[0], TAG.OID))) : OIDS.sha256;
      const algorithm = ESS_HASHES[named];
      // A hash this reader does not know is left unchecked: such a file can still never read as the platform's.
      if (algorithm) certHash = { algorithm, value: content(expect(essCertId[essCertId[0]?.tag === TAG.SEQUENCE ? 1 : 0], TAG.OCTET_STRING)) };
    }
  }
  if (!digest) throw new DerError('no message digest');
  // What was signed is the attributes with the SET tag in place of [0] IMPLICIT.
  const attributes = Buffer.concat([Buffer.from([TAG.SET]), whole(signed).subarray(1)]);
  return { signer, digest, certHash, attributes, signature };
}
