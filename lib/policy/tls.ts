/**
 * TLS on every channel, read from the text a machine boots with: etcd (client and peer URLs, client
 * certificate auth, as a YAML config file, an environment file or command-line flags), Patroni
 * (etcd3 protocol and certificates, REST API certfile, Postgres `ssl`, pg_hba, authentication
 * sslmode), postgresql.conf, pg_hba.conf, and libpq connection strings. Pure.
 */
import { parseYamlText } from './simple-yaml';
import { ConfigDocument, documentsOf, TextSource } from './user-data';
import { TextMemo } from '../memo';

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

function at(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) current = record(current)?.[key];
  return current;
}

function isOn(value: unknown): boolean {
  return value === true || value === 1 || (typeof value === 'string' && ['on', 'true', 'yes', '1'].includes(value.trim().toLowerCase()));
}

function isOff(value: unknown): boolean {
  return value === false || value === 0 || (typeof value === 'string' && ['off', 'false', 'no', '0'].includes(value.trim().toLowerCase()));
}

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** `http://` URLs in a list of URLs (comma-separated, or `name=url` pairs), other than loopback. */
function plainUrls(text: string): string[] {
  return [...text.matchAll(/http:\/\/(\[[^\]]+\]|[^\s,:/'"]+)(:\d+)?/gi)]
    .filter((m) => !isLoopbackHost(m[1]))
    .map((m) => m[0]);
}

function hasNonLoopbackUrl(text: string): boolean {
  return [...text.matchAll(/https?:\/\/(\[[^\]]+\]|[^\s,:/'"]+)/gi)].some((m) => !isLoopbackHost(m[1]));
}

const ETCD_URL_KEYS = ['listen-client-urls', 'advertise-client-urls', 'listen-peer-urls', 'initial-advertise-peer-urls', 'initial-cluster'];

/** An etcd YAML config file (`etcd --config-file`). */
function etcdYamlProblems(config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const urls = ETCD_URL_KEYS.map((k) => (typeof config[k] === 'string' ? config[k] as string : '')).join(',');
  for (const url of plainUrls(urls)) problems.push(`etcd serves or dials ${url} without TLS`);
  if (!hasNonLoopbackUrl(urls)) return problems;
  for (const [section, what] of [['client-transport-security', 'client'], ['peer-transport-security', 'peer']]) {
    const tls = record(config[section]) ?? {};
    if (!tls['cert-file']) problems.push(`etcd ${what} TLS has no certificate (${section}.cert-file)`);
    if (!isOn(tls['client-cert-auth'])) problems.push(`etcd does not require ${what} certificates (${section}.client-cert-auth is not true)`);
  }
  return problems;
}

/** An etcd environment file (`/etc/default/etcd`: `ETCD_LISTEN_CLIENT_URLS=...`). */
function etcdEnvProblems(text: string): string[] {
  const env = new Map<string, string>();
  for (const m of text.matchAll(/^\s*(?:export\s+)?(ETCD_[A-Z_]+)=(.*)$/gm)) env.set(m[1], m[2].trim().replace(/^(['"])(.*)\1$/, '$2'));
  const urls = ['ETCD_LISTEN_CLIENT_URLS', 'ETCD_ADVERTISE_CLIENT_URLS', 'ETCD_LISTEN_PEER_URLS', 'ETCD_INITIAL_ADVERTISE_PEER_URLS', 'ETCD_INITIAL_CLUSTER']
    .map((k) => env.get(k) ?? '').join(',');
  const problems = plainUrls(urls).map((url) => `etcd serves or dials ${url} without TLS`);
  if (!hasNonLoopbackUrl(urls)) return problems;
  if (!env.get('ETCD_CERT_FILE')) problems.push('etcd client TLS has no certificate (ETCD_CERT_FILE)');
  if (!isOn(env.get('ETCD_CLIENT_CERT_AUTH'))) problems.push('etcd does not require client certificates (ETCD_CLIENT_CERT_AUTH is not true)');
  if (!env.get('ETCD_PEER_CERT_FILE')) problems.push('etcd peer TLS has no certificate (ETCD_PEER_CERT_FILE)');
  if (!isOn(env.get('ETCD_PEER_CLIENT_CERT_AUTH'))) problems.push('etcd does not require peer certificates (ETCD_PEER_CLIENT_CERT_AUTH is not true)');
  return problems;
}

/** An `etcd --flag ...` command line (script or systemd ExecStart). */
function etcdFlagProblems(line: string): string[] {
  const flag = (name: string): string | undefined => {
    const m = new RegExp(`--${name}(?:[= ]+(?!--)(\\S+))?(?=\\s|$)`).exec(line);
    return m ? (m[1] ?? 'true') : undefined;
  };
  const urls = ETCD_URL_KEYS.map((k) => flag(k) ?? '').join(',');
  const problems = plainUrls(urls).map((url) => `etcd serves or dials ${url} without TLS`);
  if (!hasNonLoopbackUrl(urls)) return problems;
  if (!flag('cert-file')) problems.push('etcd client TLS has no certificate (--cert-file)');
  if (!isOn(flag('client-cert-auth'))) problems.push('etcd does not require client certificates (no --client-cert-auth)');
  if (!flag('peer-cert-file')) problems.push('etcd peer TLS has no certificate (--peer-cert-file)');
  if (!isOn(flag('peer-client-cert-auth'))) problems.push('etcd does not require peer certificates (no --peer-client-cert-auth)');
  return problems;
}

/** A pg_hba line that accepts a non-TLS TCP connection from beyond the machine itself. */
export function plainHbaLine(line: string): boolean {
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== 'host' && fields[0] !== 'hostnossl') return false;
  const address = fields[3] ?? '';
  const method = fields[fields.length - 1];
  if (method === 'reject') return false;
  return !(address === 'samehost' || isLoopbackHost(address.split('/')[0]));
}

function hbaProblems(lines: unknown, where: string): string[] {
  if (!Array.isArray(lines)) return [];
  return lines
    .filter((l): l is string => typeof l === 'string' && plainHbaLine(l))
    .map((l) => `${where} line "${l.trim()}" accepts connections without TLS (use hostssl)`);
}

/** Patroni's part of a mesh document (`patroni.json`): the pg_hba the group's leader keeps in the DCS. */
export function tlsProblemsInMeshPatroni(text: string): string[] {
  let part: unknown;
  try {
    part = JSON.parse(text);
  } catch {
    return [];
  }
  return hbaProblems(at(part, 'pg_hba'), 'mesh document, patroni.json: pg_hba');
}

/** A Patroni configuration (YAML). */
function patroniProblems(config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const dcsKey = config.etcd3 !== undefined ? 'etcd3' : config.etcd !== undefined ? 'etcd' : undefined;
  if (dcsKey) {
    const dcs = record(config[dcsKey]) ?? {};
    const urls = [dcs.url, dcs.urls, dcs.hosts, dcs.host].flat().filter((u): u is string => typeof u === 'string').join(',');
    const https = String(dcs.protocol ?? '').toLowerCase() === 'https' || /^https:\/\//.test(urls.trim());
    if (!https || plainUrls(urls).length > 0) problems.push(`Patroni talks to etcd without TLS (${dcsKey}.protocol is ${JSON.stringify(dcs.protocol ?? 'http')})`);
    if (!dcs.cacert) problems.push(`Patroni does not verify etcd's certificate (${dcsKey}.cacert unset)`);
    if (!dcs.cert) problems.push(`Patroni presents no client certificate to etcd (${dcsKey}.cert unset)`);
  }
  if (config.restapi !== undefined && !at(config, 'restapi', 'certfile')) {
    problems.push('the Patroni REST API serves plain HTTP (restapi.certfile unset)');
  }
  const postgresql = record(config.postgresql);
  if (postgresql) {
    const ssl = [at(config, 'postgresql', 'parameters', 'ssl'), at(config, 'bootstrap', 'dcs', 'postgresql', 'parameters', 'ssl')];
    if (ssl.some(isOff) || !ssl.some(isOn)) problems.push('Postgres runs without TLS (postgresql.parameters.ssl is not on)');
    problems.push(...hbaProblems(postgresql.pg_hba, 'postgresql.pg_hba'));
    for (const [role, auth] of Object.entries(record(postgresql.authentication) ?? {})) {
      const mode = at(auth, 'sslmode');
      if (typeof mode === 'string' && ['disable', 'allow', 'prefer'].includes(mode)) {
        problems.push(`Patroni connects as ${role} with sslmode=${mode}`);
      }
    }
  }
  problems.push(...hbaProblems(at(config, 'bootstrap', 'pg_hba'), 'bootstrap.pg_hba'));
  problems.push(...hbaProblems(at(config, 'bootstrap', 'dcs', 'postgresql', 'pg_hba'), 'bootstrap.dcs.postgresql.pg_hba'));
  return problems;
}

function yamlMapping(text: string): Record<string, unknown> | undefined {
  try {
    return record(parseYamlText(text));
  } catch {
    return undefined;
  }
}

// Every machine of a fleet carries the same scripts and units: each distinct document is read once.
const CHECKED = new TextMemo<readonly string[]>(1 << 20, 16 << 10);

/** Problems of one document, without its location. */
export function tlsProblemsInDocument(doc: Pick<ConfigDocument, 'text' | 'path' | 'script'>): string[] {
  const key = `${doc.script ? 's' : 'f'}${doc.path ?? ''}\u0000${doc.text}`;
  return [...CHECKED.get(key, () => tlsProblemsInDocumentOnce(doc))];
}

function tlsProblemsInDocumentOnce(doc: Pick<ConfigDocument, 'text' | 'path' | 'script'>): string[] {
  const problems: string[] = [];
  const mapping = doc.script ? undefined : yamlMapping(doc.text);
  if (mapping) {
    if (mapping.restapi !== undefined || mapping.etcd3 !== undefined || (mapping.scope !== undefined && mapping.postgresql !== undefined)) {
      problems.push(...patroniProblems(mapping));
    }
    if (ETCD_URL_KEYS.some((k) => mapping[k] !== undefined)) problems.push(...etcdYamlProblems(mapping));
  }
  if (/^\s*(?:export\s+)?ETCD_[A-Z_]+=/m.test(doc.text)) problems.push(...etcdEnvProblems(doc.text));
  // Lines are split only when some line can hold such a command (the flag is part of every match).
  if (/--(listen-client-urls|listen-peer-urls|initial-cluster)\b/.test(doc.text)) {
    for (const line of doc.text.split(/\r?\n/)) {
      if (/(^|[\s/=])etcd\s[^\n]*--(listen-client-urls|listen-peer-urls|initial-cluster)\b/.test(line)) problems.push(...etcdFlagProblems(line));
    }
  }
  if (doc.path !== undefined && /pg_hba\.conf$/.test(doc.path)) {
    problems.push(...hbaProblems(doc.text.split(/\r?\n/), 'pg_hba.conf'));
  }
  if (/^\s*ssl\s*=\s*'?(off|false|no|0)'?\s*(#.*)?$/im.test(doc.text)) problems.push("postgresql.conf sets ssl = off");
  for (const m of doc.text.matchAll(/\bsslmode\s*[=:]\s*['"]?(disable|allow|prefer)\b/g)) {
    problems.push(`a connection uses sslmode=${m[1]}, which does not require TLS`);
  }
  for (const m of doc.text.matchAll(/http:\/\/(\[[^\]]+\]|[^\s,:/'"]+):(2379|2380|8008)\b/gi)) {
    if (!isLoopbackHost(m[1])) problems.push(`${m[0]} is plain HTTP on an etcd/Patroni port`);
  }
  return [...new Set(problems)];
}

/** TLS problems in a machine's boot text (every document it carries), with where each was found. */
export function tlsProblemsInBootText(source: TextSource): string[] {
  return tlsProblemsInDocuments(documentsOf(source));
}

/** TLS problems in the files a machine boots with (a cloud-config's, or a scripts document's), with where each was found. */
export function tlsProblemsInDocuments(documents: readonly ConfigDocument[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const doc of documents) {
    for (const problem of tlsProblemsInDocument(doc)) {
      // A heredoc is also part of its script: report each problem once.
      if (seen.has(problem)) continue;
      seen.add(problem);
      out.push(`${doc.where}: ${problem}`);
    }
  }
  return out;
}
