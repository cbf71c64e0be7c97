/**
 * Test certificates made by the openssl CLI at test time (no JS crypto): a CA, a server
 * certificate for localhost / 127.0.0.1 / ::1 signed by it, a client certificate for
 * mTLS, and a self-signed certificate no CA vouches for.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Certs {
  dir: string;
  ca: string;
  caFile: string;
  key: string;
  cert: string;
  clientKey: string;
  clientCert: string;
  selfKey: string;
  selfCert: string;
  selfCertFile: string;
  cleanup(): void;
}

let made: Certs | undefined;

export function makeCerts(): Certs {
  if (made !== undefined) return made;
  const dir = mkdtempSync(join(tmpdir(), 'lonet-certs-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const key = (name: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name);
  key('ca.key');
  ssl('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=lonet test CA', '-days', '2', '-out', 'ca.pem');
  const leaf = (name: string, cn: string, ext: string) => {
    key(`${name}.key`);
    ssl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  };
  leaf('server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'lonet client', 'extendedKeyUsage=clientAuth\n');
  key('self.key');
  ssl(
    'req',
    '-x509',
    '-new',
    '-key',
    'self.key',
    '-subj',
    '/CN=localhost',
    '-days',
    '2',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-out',
    'self.pem',
  );
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  made = {
    dir,
    ca: read('ca.pem'),
    caFile: join(dir, 'ca.pem'),
    key: read('server.key'),
    cert: read('server.pem'),
    clientKey: read('client.key'),
    clientCert: read('client.pem'),
    selfKey: read('self.key'),
    selfCert: read('self.pem'),
    selfCertFile: join(dir, 'self.pem'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  return made;
}
