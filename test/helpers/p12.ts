import forge from 'node-forge';
import type { X509Certificate } from 'node:crypto';
import { certificateSha256, generateSigningIdentity } from '../../db/signing-identity.ts';

/** A PKCS#12 file as an operator would configure it: a key, its certificate and the CA that issued it. */
export function makeP12(password: string): { p12: Buffer; certPem: string; caPem: string } {
  const made = generateSigningIdentity();
  const key = forge.pki.privateKeyFromPem(made.key);
  const cert = forge.pki.certificateFromPem(made.cert);
  const ca = forge.pki.certificateFromPem(made.caCert);
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, [cert, ca], password, { algorithm: '3des', friendlyName: 'signing' });
  return { p12: Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'), certPem: made.cert, caPem: made.caCert };
}

/** An inspectPdfSignature predicate that knows exactly these certificates as the platform's. */
export const ownedBy = (...certs: X509Certificate[]) => (sha256: string) => certs.some((c) => certificateSha256(c.raw) === sha256);
