/** Certificates for TLS tests, made with openssl as an operator would: a CA, a server certificate, client certificates. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertificatePair {
  cert: string;
  key: string;
}

export interface TestCertificates {
  /** The CA that signed the server's and the client's certificates. */
  ca: string;
  /** For 127.0.0.1 and localhost. */
  server: CertificatePair;
  /** Signed by ca: the one the proxy accepts. */
  client: CertificatePair;
  /** Signed by another CA: well formed, and refused. */
  intruder: CertificatePair;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): CertificatePair {
  const pair = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', pair.key, '-out', pair.cert, '-days', '2', '-subj', `/CN=${name}`]);
  return pair;
}

function makeSigned(dir: string, name: string, ca: CertificatePair, extensions: string): CertificatePair {
  const pair = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', pair.key, '-out', csr, '-subj', `/CN=${name}`]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    pair.cert,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
  return pair;
}

/** Writes every file into dir (which should be private to the test). */
export function makeTestCertificates(dir: string): TestCertificates {
  const ca = makeCa(dir, 'cutover-test-ca');
  const other = makeCa(dir, 'another-ca');
  return {
    ca: ca.cert,
    server: makeSigned(dir, 'temporal-proxy', ca, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'),
    client: makeSigned(dir, 'cutover-worker', ca, 'extendedKeyUsage=clientAuth\n'),
    intruder: makeSigned(dir, 'intruder', other, 'extendedKeyUsage=clientAuth\n'),
  };
}
