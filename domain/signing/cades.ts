import { createHash, sign } from 'node:crypto';
import { Signer } from '@signpdf/utils';
import type { SigningIdentity } from '../../db/signing-identity.ts';
import { contextTag, integer, issuerAndSerial, octets, oid, sequence, setOf, tlv, TAG } from './der.ts';

// A CAdES detached signature (ETSI EN 319 122, the CMS inside a PAdES B-B signature): SignedData
// over the PDF's signed byte ranges with the signed attributes content-type, message-digest and
// signing-certificate-v2, which binds the signer's certificate into what is signed. No
// signing-time attribute: PAdES takes the time from the signature dictionary's /M.
// It plugs into @signpdf as its Signer. @signpdf's own P12Signer signs in JavaScript with
// node-forge (tens of milliseconds for RSA-2048, and the PKCS#12 decoded again on every call) and
// writes no signing-certificate-v2; this one signs with Node's crypto and builds everything that
// does not change once per identity.

export const OIDS = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha256WithRSA: '1.2.840.113549.1.1.11',
} as const;

const NULL = tlv(TAG.NULL);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

export class CadesSigner extends Signer {
  readonly #identity: SigningIdentity;
  readonly #certificates: Buffer;
  readonly #sid: Buffer;
  readonly #fixedAttributes: Buffer[];

  constructor(identity: SigningIdentity) {
    super();
    if (identity.key.asymmetricKeyType !== 'rsa') throw new Error('only RSA signing keys are supported');
    this.#identity = identity;
    const leaf = identity.chain[0]!.raw;
    const { issuer, serial } = issuerAndSerial(leaf);
    this.#sid = sequence(issuer, serial);
    this.#certificates = contextTag(0, true, ...identity.chain.map((c) => c.raw).sort(Buffer.compare));
    // ESSCertIDv2 with the default hash (SHA-256, so left out), the certificate's hash and its issuer + serial.
    const essCertId = sequence(octets(sha256(leaf)), sequence(sequence(contextTag(4, true, issuer)), serial));
    this.#fixedAttributes = [
      sequence(oid(OIDS.contentType), setOf(oid(OIDS.data))),
      sequence(oid(OIDS.signingCertificateV2), setOf(sequence(sequence(essCertId)))),
    ];
  }

  /** The DER of a ContentInfo holding SignedData over `signedBytes` (the PDF without its /Contents). */
  override async sign(signedBytes: Buffer): Promise<Buffer> {
    return this.signDigest(sha256(signedBytes));
  }

  signDigest(digest: Buffer): Buffer {
    const attributes = setOf(...this.#fixedAttributes, sequence(oid(OIDS.messageDigest), setOf(octets(digest))));
    // The signature is over the attributes as a SET; in SignerInfo they are [0] IMPLICIT.
    const signature = sign('sha256', attributes, this.#identity.key);
    const signerInfo = sequence(
      integer(1),
      this.#sid,
      sequence(oid(OIDS.sha256)),
      Buffer.concat([Buffer.from([0xa0]), attributes.subarray(1)]),
      sequence(oid(OIDS.sha256WithRSA), NULL),
      octets(signature),
    );
    const signedData = sequence(integer(1), setOf(sequence(oid(OIDS.sha256))), sequence(oid(OIDS.data)), this.#certificates, setOf(signerInfo));
    return sequence(oid(OIDS.signedData), contextTag(0, true, signedData));
  }

  /** Room for the signature: the certificates, the RSA signature and the attributes, with margin. */
  get signatureLength(): number {
    return this.#certificates.length + this.#identity.key.asymmetricKeyDetails!.modulusLength! / 8 + 1024;
  }
}
