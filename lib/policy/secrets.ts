/**
 * Finds secret values in synthesized Terraform: literal values of secret-bearing attributes, and
 * secret-looking text (private keys, cloud credentials, literal passwords) in any string, including
 * user-data after base64/gzip decoding and the files a cloud-config writes. Messages never repeat
 * the secret itself. Pure.
 */
import { gunzipSync } from 'zlib';
import { decodeBase64Text, decodeValue, documentsOf, isCloudConfig, TextSource } from './user-data';
import { isReference } from './network';
import { TextMemo } from '../memo';

/** Attributes whose value is a secret: they must come from a reference (random_password, a secret store), never a literal. */
export const SECRET_ATTRIBUTES: readonly string[] = [
  'password', 'master_password', 'admin_password', 'root_password', 'secret_string', 'secret_binary', 'secret_data',
  'shared_secret', 'preshared_key', 'tunnel1_preshared_key', 'tunnel2_preshared_key', 'private_key', 'private_key_pem',
  'raw_key', 'rsa_encrypted_key', 'disk_encryption_key_raw', 'client_secret', 'secret_key', 'auth_token',
  'sensitive_content',
];

/** `withinLine` (global): the pattern matches no line break, and every match contains a match of it. */
const PATTERNS: { what: string; pattern: RegExp; withinLine?: RegExp }[] = [
  { what: 'a PEM private key', pattern: /-----BEGIN ((RSA|EC|DSA|OPENSSH|ENCRYPTED) )?PRIVATE KEY-----/ },
  { what: 'an AWS access key id', pattern: /(?<![A-Z0-9])(AKIA|ASIA|A3T[A-Z0-9])[A-Z2-7]{16}(?![A-Z0-9])/ },
  { what: 'a Google API key', pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/ },
  { what: 'a GitHub token', pattern: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9_])/ },
  // pgBackRest's repository keys (`repo1-s3-key-type=auto` names no key and is not one of these).
  { what: 'a pgBackRest repository key', pattern: /^[ \t]*repo\d+-(s3-key|s3-key-secret|s3-token|cipher-pass|azure-key|gcs-key-secret|sftp-private-key-passphrase)[ \t]*=[ \t]*\S/m, withinLine: /repo\d+-/g },
  { what: 'a URL with a password', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]+:(?![$%{<*])[^\s@/'"]+@[^\s]/i, withinLine: /:\/\//g },
];

/** `password: x`, `PGPASSWORD=x`, `password=x` in a DSN, `"secret_access_key": "x"`... */
const ASSIGNMENT = /(^|[^A-Za-z0-9])((?:[A-Za-z0-9_.-]*[_.-])?(?:password|passwd|pgpassword|secret_access_key|secret_key|client_secret|api_key|apikey))["']?([ \t]*)([:=])[ \t]*(.*)$/gim;
/** SQL `PASSWORD 'x'` (CREATE/ALTER ROLE). */
const SQL_PASSWORD = /\bPASSWORD\s+E?'((?:[^']|'')*)'/gi;
/** Contained in every match of ASSIGNMENT and SQL_PASSWORD. */
const KEYWORD = /passw|secret|api_?key/gi;

/**
 * A value that stands for a secret rather than being one: empty, a variable, a template or format placeholder
 * (`$X`, `{{secret:x}}`, `%s`, `{}`), a function call.
 */
function isPlaceholder(raw: string): boolean {
  let value = raw.trim().replace(/[,;]$/, '');
  const quoted = /^(['"])(.*?)\1/.exec(value);
  if (quoted) value = quoted[2];
  else if (/^[A-Za-z_][\w.]*\(/.test(value)) return true;
  else value = value.split(/[\s'"]/)[0];
  if (value === '') return true;
  if (/^(\$|\{|<|%|\*|!|@|&|:)/.test(value)) return true;
  return ['null', '~', 'none', 'true', 'false', '|', '>', '|-', '>-'].includes(value.toLowerCase());
}

/** `name = value` with spaces and an unquoted value is a program's variable assignment (Python, SQL), not configuration. */
function isCodeAssignment(space: string, separator: string, value: string): boolean {
  return separator === '=' && space.length > 0 && !/^\s*['"]/.test(value);
}

function isComment(line: string): boolean {
  // Also a YAML list item holding a comment (`- "# ..."`), as runcmd entries are.
  return /^\s*(-\s+)?["']?\s*(#|--(\s|$)|\/\/|;)/.test(line);
}

const PGPASS_PATH = /(^|\/)\.?pgpass$/;

// Every machine of a fleet carries the same scripts and units: each distinct text is scanned once.
const SCANNED = new TextMemo<readonly string[]>(1 << 20, 16 << 10);

/**
 * Found in every match of every pattern above, case aside: a text without any of these holds no secret-looking thing
 * (except a pgpass file, checked by its path). Most strings of a configuration are names and ids; this says so with
 * one pass instead of every pattern (test/policy/secrets.test.ts checks each pattern's matches contain it).
 */
export const SECRET_HINT = /PRIVATE KEY|AKIA|ASIA|A3T|AIza|gh[pousr]_|repo\d+-|:\/\/|passw|secret|api_?key/i;

/** What secret-looking things a text contains (descriptions, never the values). */
export function secretsInText(text: string, path?: string): string[] {
  if (!SECRET_HINT.test(text) && !(path !== undefined && PGPASS_PATH.test(path))) return [];
  return [...SCANNED.get(`${path === undefined ? '\u0001' : path}\u0000${text}`, () => secretsInTextOnce(text, path))];
}

/**
 * The lines of `text` (as `text.split(/\r?\n/)` gives them, with their 1-based numbers) that hold a match of `pattern`
 * (global; its matches never span lines), in order, each once. Cutting out only those lines spares splitting a whole
 * cloud-config into lines for a few matches.
 */
function* linesHolding(text: string, pattern: RegExp): Generator<{ line: string; number: number }> {
  let counted = 0;
  let number = 1;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const start = text.lastIndexOf('\n', m.index - 1) + 1;
    const next = text.indexOf('\n', m.index);
    const end = next < 0 ? text.length : next;
    for (let at = text.indexOf('\n', counted); at >= 0 && at < start; at = text.indexOf('\n', at + 1)) number++;
    counted = start;
    const line = text.slice(start, end);
    yield { line: next >= 0 && line.endsWith('\r') ? line.slice(0, -1) : line, number };
    if (next < 0) break;
    pattern.lastIndex = next + 1;
  }
}

function secretsInTextOnce(text: string, path?: string): string[] {
  const found = new Set<string>();
  for (const { what, pattern, withinLine } of PATTERNS) {
    // A pattern that cannot span lines is tried only on the lines holding its fixed part (same matches, far fewer starts).
    let hit = false;
    if (withinLine === undefined) {
      hit = pattern.test(text);
    } else {
      for (const { line } of linesHolding(text, withinLine)) {
        if (pattern.test(line)) {
          hit = true;
          break;
        }
      }
    }
    if (hit) found.add(what);
  }
  // Both patterns below need one of these words; most lines have none.
  for (const { line, number } of linesHolding(text, KEYWORD)) {
    if (isComment(line)) continue;
    for (const m of line.matchAll(ASSIGNMENT)) {
      if (!isPlaceholder(m[5]) && !isCodeAssignment(m[3], m[4], m[5])) found.add(`'${m[2]}' set to a literal value (line ${number})`);
    }
    for (const m of line.matchAll(SQL_PASSWORD)) {
      if (!isPlaceholder(m[1])) found.add(`a literal SQL PASSWORD (line ${number})`);
    }
  }
  if (path !== undefined && PGPASS_PATH.test(path)) {
    text.split(/\r?\n/).forEach((line, i) => {
      const fields = line.split(/(?<!\\):/);
      if (!isComment(line) && fields.length === 5 && !isPlaceholder(fields[4])) found.add(`a password in a pgpass line (line ${i + 1})`);
    });
  }
  return [...found];
}

/** Calls `visit` for every string inside a JSON value, with its path (`a.b[0].c`). */
export function walkStrings(value: unknown, path: string, visit: (path: string, key: string, text: string) => void, key = ''): void {
  if (typeof value === 'string') {
    visit(path, key, value);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => walkStrings(item, `${path}[${i}]`, visit, key));
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, item] of Object.entries(value)) {
      if (k === '//') continue;
      walkStrings(item, path ? `${path}.${k}` : k, visit, k);
    }
  }
}

/** Every text a string value carries: itself, its decoded forms, and the files of a cloud-config. */
function textsOf(where: string, value: string): TextSource[] {
  const texts: TextSource[] = [];
  const plain = decodeValue(value, 'plain');
  if (plain !== undefined) texts.push({ where, text: plain });
  if (!/\s/.test(value.trim()) && value.length >= 16) {
    const decoded = decodeBase64Text(value);
    if (decoded !== undefined) texts.push({ where: `${where} (base64-decoded)`, text: decoded });
  }
  for (const source of [...texts]) {
    if (isCloudConfig(source.text)) texts.push(...documentsOf(source).filter((d) => !d.script || d.path !== undefined));
  }
  return texts;
}

/** Secret findings of one block's config, as messages. */
export function secretsInConfig(config: Record<string, unknown>): string[] {
  const messages: string[] = [];
  walkStrings(config, '', (path, key, value) => {
    // `_wo` twins are write-only in state, but a literal is still written into the JSON.
    if (SECRET_ATTRIBUTES.includes(key.replace(/_wo$/, '')) && value !== '' && !isReference(value)) {
      const document = storedDocumentOf(value);
      if (document === undefined) {
        messages.push(`${path} holds a literal value (${value.length} characters)`);
      } else {
        // A node group's mesh or scripts document is stored in the secret store but is no secret: its files are checked instead.
        for (const [name, text] of Object.entries(document.files)) {
          for (const what of secretsInText(text, name)) messages.push(`${path} (${document.kind}, ${name}) contains ${what}`);
        }
      }
    }
    // The same secret seen in the raw text and again in a decoded file is reported once.
    const seen = new Set<string>();
    for (const text of textsOf(path, value)) {
      const filePath = (text as { path?: string }).path;
      for (const what of secretsInText(text.text, filePath)) {
        const kind = what.replace(/ \(line \d+\)$/, '');
        if (!seen.has(kind)) messages.push(`${text.where} contains ${what}`);
        seen.add(kind);
      }
    }
  });
  return messages;
}

/**
 * The files of a mesh document (`{"format": "dpg-mesh/1", "generation": G, "gzip": B}`, B base64 of gzipped JSON
 * `{"files": {NAME: TEXT}, "patroni": {...}, "metrics": {...}}`), or undefined when the value is not one. Patroni's part
 * is given as the file mesh-sync writes for it, `patroni.json`; the metrics part as postgres_exporter's queries file.
 */
export const MESH_PATRONI_FILE = 'patroni.json';
/** The file mesh-sync writes the metrics part's queries to (as render/paths.ts names it; policy sits below render). */
export const MESH_QUERIES_FILE = 'postgres-exporter-queries.yaml';

export function meshDocumentFiles(value: string): Record<string, string> | undefined {
  try {
    const doc = JSON.parse(value) as Record<string, unknown>;
    if (!doc || typeof doc !== 'object' || Object.keys(doc).sort().join(',') !== 'format,generation,gzip') return undefined;
    if (typeof doc.format !== 'string' || !doc.format.startsWith('dpg-mesh/') || typeof doc.gzip !== 'string') return undefined;
    const { files, patroni, metrics } = JSON.parse(gunzipSync(Buffer.from(doc.gzip, 'base64')).toString('utf8')) as
      { files?: unknown; patroni?: unknown; metrics?: { postgres_exporter_queries?: unknown } };
    if (!files || typeof files !== 'object') return undefined;
    const entries = Object.entries(files as Record<string, unknown>);
    if (patroni !== undefined) entries.push([MESH_PATRONI_FILE, `${JSON.stringify(patroni, null, 1)}\n`]);
    if (metrics !== undefined) entries.push([MESH_QUERIES_FILE, metrics.postgres_exporter_queries]);
    return entries.every(([, text]) => typeof text === 'string') ? Object.fromEntries(entries) as Record<string, string> : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The files of a scripts document (`{"format": "dpg-scripts/1", "sha256": H, "gzip": B}`, B base64 of gzipped JSON
 * `{"files": [{"path", "permissions", "when", "content"}]}`) by path, or undefined when the value is not one.
 */
export function scriptsDocumentFiles(value: string): Record<string, string> | undefined {
  try {
    const doc = JSON.parse(value) as Record<string, unknown>;
    if (!doc || typeof doc !== 'object' || Object.keys(doc).sort().join(',') !== 'format,gzip,sha256') return undefined;
    if (typeof doc.format !== 'string' || !doc.format.startsWith('dpg-scripts/') || typeof doc.gzip !== 'string') return undefined;
    const { files } = JSON.parse(gunzipSync(Buffer.from(doc.gzip, 'base64')).toString('utf8')) as { files?: unknown };
    if (!Array.isArray(files)) return undefined;
    const entries = files.map((f) => [(f as Record<string, unknown>)?.path, (f as Record<string, unknown>)?.content]);
    return entries.every(([p, text]) => typeof p === 'string' && typeof text === 'string') ? Object.fromEntries(entries) as Record<string, string> : undefined;
  } catch {
    return undefined;
  }
}

/** A node group's document stored as a secret value (mesh or scripts), with its files; undefined for any other value. */
export function storedDocumentOf(value: string): { kind: 'mesh document' | 'scripts document'; files: Record<string, string> } | undefined {
  if (!value.startsWith('{"format":"dpg-')) return undefined;
  const mesh = meshDocumentFiles(value);
  if (mesh !== undefined) return { kind: 'mesh document', files: mesh };
  const scripts = scriptsDocumentFiles(value);
  return scripts === undefined ? undefined : { kind: 'scripts document', files: scripts };
}
