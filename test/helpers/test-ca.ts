import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throw-away CA with a server (localhost / 127.0.0.1) and a client (CN=test-client) certificate. */
export interface TestCa {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  remove(): Promise<void>;
}

/** EC P-256 keys: generated in milliseconds, unlike RSA. */
const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function makeTestCa(): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'mqttsn-ca-'));
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  try {
    await openssl('req', '-x509', ...newKey, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=mqttsn-test-ca');
    // OpenSSL 3.0 `x509 -req` has no -addext, so the SAN goes in an extfile.
    await writeFile(file('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    for (const [name, cn, ext] of [['server', 'localhost', ['-extfile', 'server.ext']], ['client', 'test-client', []]] as const) {
      await openssl('req', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
      await openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', ...ext, '-out', `${name}.crt`);
    }
    // Run as root, mosquitto 2 drops to user 'mosquitto' *before* loading cafile/certfile/keyfile,
    // so the (0700) temp dir and the (0600) keys must be readable by others. Test-only material.
    await chmod(dir, 0o755);
    for (const name of await readdir(dir)) await chmod(file(name), 0o644);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    caFile: file('ca.crt'),
    serverCert: file('server.crt'),
    serverKey: file('server.key'),
    clientCert: file('client.crt'),
    clientKey: file('client.key'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * mosquitto config lines for an extra TLS listener on 127.0.0.1:port. Needs no per_listener_settings:
 * by default (per_listener_settings false) allow_anonymous / password_file are global and apply here too.
 */
export function tlsListenerConfig(port: number, ca: TestCa, requireClientCert: boolean): string {
  return [
    `listener ${port} 127.0.0.1`,
    `cafile ${ca.caFile}`,
    `certfile ${ca.serverCert}`,
    `keyfile ${ca.serverKey}`,
    `require_certificate ${requireClientCert}`,
    '',
  ].join('\n');
}
