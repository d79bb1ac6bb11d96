/**
 * Stand-in for the cloud's secret store: one file per secret under `<rehearsal dir>/secrets/NAME`, read by the
 * secret backend the rehearsal installs on every host. Passwords are random (like the `uuid()` the stack stores);
 * the TLS CA is a fresh fleet CA made with openssl, stored as JSON `{"cert": PEM, "key": PEM}`; values the stack holds
 * itself (the mesh documents) are stored as they are.
 */
import { randomUUID } from 'crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { run } from './shell';

export interface RehearsalSecrets {
  readonly dir: string;
  /** Every secret's value, by name. */
  readonly values: Record<string, string>;
  /** The CA certificate (PEM) clients verify servers with. */
  readonly caCertFile: string;
  readonly caSecretName: string;
}

/**
 * Which secret holds the TLS CA: the one named like it (`...tls-ca`), else the only one Terraform leaves empty
 * (the operator fills the CA; passwords are generated).
 */
export function caSecretOf(names: string[], generated: string[]): string {
  const named = names.filter((n) => /(^|[-_])tls[-_]?ca$/.test(n));
  if (named.length === 1) return named[0];
  const empty = names.filter((n) => !generated.includes(n));
  if (empty.length === 1) return empty[0];
  throw new Error(`rehearsal: cannot tell which secret holds the TLS CA among ${names.join(', ')}`);
}

export async function makeFleetCa(commonName: string): Promise<{ cert: string; key: string }> {
  const work = mkdtempSync(path.join(tmpdir(), 'dpgr-ca-'));
  try {
    const key = path.join(work, 'ca.key');
    const cert = path.join(work, 'ca.crt');
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', key]);
    await run('openssl', [
      'req', '-x509', '-new', '-key', key, '-sha256', '-days', '30', '-subj', `/CN=${commonName}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', cert,
    ]);
    return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Writes every secret into `dir` (world-readable like an instance role's access: any local user may read them). */
export async function writeSecrets(dir: string, names: string[], caSecretName: string, fleet: string,
  literals: Record<string, string> = {}): Promise<RehearsalSecrets> {
  const values: Record<string, string> = {};
  const ca = await makeFleetCa(`${fleet} rehearsal CA`);
  for (const name of names) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`rehearsal: unexpected secret name ${JSON.stringify(name)}`);
    values[name] = name === caSecretName ? JSON.stringify(ca) : literals[name] ?? randomUUID();
    writeFileSync(path.join(dir, name), values[name], { mode: 0o644 });
  }
  const caCertFile = path.join(dir, '.rehearsal-ca.crt');
  writeFileSync(caCertFile, ca.cert, { mode: 0o644 });
  return { dir, values, caCertFile, caSecretName };
}

/** The secret backend installed on each host in place of the cloud one: prints the file's content. */
export function localSecretBackend(dir: string): string {
  return `#!/bin/sh
# Rehearsal stand-in for the cloud secret store: prints ${dir}/NAME.
case "$1" in
  ''|*/*|.*) echo "secret-backend: bad secret name '$1'" >&2; exit 2 ;;
esac
exec cat "${dir}/$1"
`;
}
