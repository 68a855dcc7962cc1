/**
 * The TLS certificate of the server. By default a self-signed one made on first start and kept in
 * `<data>/tls/` (clients pin its SHA-256 fingerprint, which the server prints); `--cert/--key` give
 * a real one instead. The fingerprint is computed here from the certificate itself, as clients see it.
 */
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { RecoveryError } from '../core/errors.ts';

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  /** "AB:CD:…", as `openssl x509 -fingerprint -sha256` and Node print it. */
  readonly fingerprint256: string;
  /** True when this start made the certificate. */
  readonly created: boolean;
}

const VALID_DAYS = 3650;

export async function loadTlsMaterial(dataDir: string, given?: { readonly certFile: string; readonly keyFile: string }): Promise<TlsMaterial> {
  if (given !== undefined) {
    const [cert, key] = await Promise.all([readPem(given.certFile), readPem(given.keyFile)]);
    return { cert, key, fingerprint256: fingerprintOf(cert), created: false };
  }
  const dir = join(dataDir, 'tls');
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  const existing = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]).catch(() => undefined);
  if (existing !== undefined) return { cert: existing[0], key: existing[1], fingerprint256: fingerprintOf(existing[0]), created: false };

  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: hostname() }, { name: 'organizationName', value: 'Lifeline backup server' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + VALID_DAYS * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: hostname() }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // The key first and private: a crash between the two writes leaves no certificate, so the next start makes a new pair.
  await writeFile(keyFile, pems.private, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  await writeFile(certFile, pems.cert);
  return { cert: pems.cert, key: pems.private, fingerprint256: fingerprintOf(pems.cert), created: true };
}

export function fingerprintOf(certPem: string): string {
  try {
    return new X509Certificate(certPem).fingerprint256;
  } catch (e) {
    throw new RecoveryError('tls.bad-certificate', 'the TLS certificate is not a PEM X.509 certificate', { cause: e });
  }
}

async function readPem(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new RecoveryError('tls.bad-certificate', `cannot read ${file}`, { cause: e, data: { file } });
  }
}
