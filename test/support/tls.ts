import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, redisServerBinary, waitForExit, waitForPort } from './local-redis.js';

/** A certificate authority and a server certificate it signed, as PEM files in a temporary directory. */
export interface TestCertificates {
  readonly dir: string;
  /** The CA's certificate (PEM), what clients trust. */
  readonly ca: Buffer;
  readonly caFile: string;
  /** The server's certificate (for 127.0.0.1 and localhost) and key. */
  readonly certFile: string;
  readonly keyFile: string;
  /** Another CA's certificate, which did not sign the server's: trusting only it must fail. */
  readonly otherCa: Buffer;
}

/** A `redis-server` that speaks TLS only, on a free loopback port. */
export interface TlsRedis {
  readonly port: number;
  /** `rediss://127.0.0.1:<port>`. */
  readonly url: string;
  readonly certificates: TestCertificates;
  /** Stops the server (by PID) and removes the certificates. */
  stop(): Promise<void>;
}

function openssl(dir: string, args: string[]): void {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (result.error !== undefined)
    throw new Error(`openssl could not be run (${result.error.message}); install it (apt-get install -y openssl).`);
  if (result.status !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed:\n${result.stderr}`);
}

/** A self-signed CA, named `name`, as `<name>.crt` and `<name>.key` in `dir`. */
function makeCa(dir: string, name: string): void {
  // EC keys: generated in milliseconds, where RSA takes a noticeable part of a second.
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=nestjs-redis-streams test ${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
  ]);
}

/**
 * Makes a CA, a server certificate it signs (subject alternative names
 * IP:127.0.0.1 and DNS:localhost) and a second, unrelated CA, with `openssl`,
 * in a new temporary directory.
 */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'nrs-tls-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  ]);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.crt',
  ]);
  return {
    dir,
    ca: readFileSync(join(dir, 'ca.crt')),
    caFile: join(dir, 'ca.crt'),
    certFile: join(dir, 'server.crt'),
    keyFile: join(dir, 'server.key'),
    otherCa: readFileSync(join(dir, 'other-ca.crt')),
  };
}

/**
 * Makes certificates ({@link makeCertificates}) and starts `redis-server`
 * (the one {@link redisServerBinary} names) with TLS on a free loopback port
 * and its plain port off; clients need not present certificates.
 *
 * @throws Error saying so when the binary was built without TLS
 */
export async function startTlsRedis(): Promise<TlsRedis> {
  const certificates = makeCertificates();
  const port = await freePort();
  const args = [
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--tls-cert-file',
    certificates.certFile,
    '--tls-key-file',
    certificates.keyFile,
    '--tls-ca-cert-file',
    certificates.caFile,
    '--tls-auth-clients',
    'no',
    '--bind',
    '127.0.0.1',
    '--dir',
    certificates.dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--loglevel',
    'warning',
  ];
  const child: ChildProcess = spawn(redisServerBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  try {
    await waitForPort(port, child, 10_000);
  } catch (error) {
    await waitForExit(child, 'SIGKILL', 0);
    rmSync(certificates.dir, { recursive: true, force: true });
    throw new Error(
      `${redisServerBinary()} did not start with TLS (${(error as Error).message}). A redis-server built without TLS ` +
        `refuses --tls-port: point REDIS_SERVER at one built with BUILD_TLS=yes (Debian's is).\n${stderr}`,
      { cause: error },
    );
  }
  return {
    port,
    url: `rediss://127.0.0.1:${port}`,
    certificates,
    async stop() {
      await waitForExit(child, 'SIGTERM', 5_000);
      rmSync(certificates.dir, { recursive: true, force: true });
    },
  };
}
