/**
 * Certificates for the simulated API server: a throw-away CA, a server certificate for
 * 127.0.0.1/localhost/::1 and a client certificate, made with the openssl CLI (ECDSA P-256,
 * about 30 ms in all) so the simulator needs no crypto library of its own.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM material for one simulated cluster. */
export interface Pki {
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** A client certificate (CN = clientUser) signed by the CA, for client-certificate auth. */
  clientCert: string;
  clientKey: string;
  clientUser: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '7'];

/** Generates a fresh CA, server and client certificate. Throws with openssl's stderr on failure. */
export function generatePki(clientUser = 'sim-cert-user'): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'kport-pki-'));
  const file = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    openssl(['req', '-x509', ...EC, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-subj', '/CN=kport-sim-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    const signed = (name: string, subject: string, extensions: string[]) =>
      openssl(['req', '-x509', ...EC, '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`), '-subj', subject,
        '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-addext', 'basicConstraints=critical,CA:FALSE',
        ...extensions.flatMap((e) => ['-addext', e])]);
    signed('server', '/CN=kport-sim-apiserver', [
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
      'extendedKeyUsage=serverAuth',
    ]);
    signed('client', `/O=system:masters/CN=${clientUser}`, ['extendedKeyUsage=clientAuth']);
    const read = (name: string) => readFileSync(file(name), 'utf8');
    return {
      caCert: read('ca.crt'),
      serverCert: read('server.crt'),
      serverKey: read('server.key'),
      clientCert: read('client.crt'),
      clientKey: read('client.key'),
      clientUser,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
