/**
 * Finds the text a machine boots with inside a Terraform block (AWS user_data / user_data_base64,
 * GCP metadata user-data and startup scripts), decodes it (Terraform template escapes, base64, gzip,
 * `${base64gzip("...")}` expressions), and splits a cloud-config into the documents it writes
 * (write_files contents in any encoding, runcmd/bootcmd scripts, heredocs inside scripts). Pure.
 */
import { gunzipSync } from 'zlib';
import { parseYamlText } from './simple-yaml';
import { TextMemo } from '../memo';

/** A piece of text found in a block, with where it came from. */
export interface TextSource {
  /** e.g. `user_data`, `metadata.user-data`, `user_data > write_files[2] /etc/patroni.yml`. */
  readonly where: string;
  readonly text: string;
}

/** A file or script a cloud-config carries. */
export interface ConfigDocument extends TextSource {
  /** The file path (write_files path, or the heredoc's target), when known. */
  readonly path?: string;
  /** True for shell (runcmd, bootcmd, scripts, heredoc hosts). */
  readonly script: boolean;
}

/** Terraform JSON strings are templates: `$${` and `%%{` stand for literal `${` and `%{`. */
export function unescapeTemplate(text: string): string {
  return text.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
}

/** Unescapes the body of an HCL quoted string (as cdktf writes `Fn.rawString` arguments). */
export function unescapeHclString(body: string): string {
  const out = body.replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (_, c: string) => {
    switch (c[0]) {
      case 'n': return '\n';
      case 'r': return '\r';
      case 't': return '\t';
      case 'u':
      case 'U': return String.fromCodePoint(parseInt(c.slice(1), 16));
      default: return c;
    }
  });
  return unescapeTemplate(out);
}

const FUNCTION_LITERAL = /^\$\{\s*(base64gzip|base64encode|gzip)\(\s*"((?:[^"\\]|\\.)*)"\s*\)\s*\}$/s;

/** Mostly printable text (so a lucky base64 decode of something else is not taken for text). */
function isText(text: string): boolean {
  if (text.length === 0 || text.includes('\u0000')) return false;
  const printable = text.replace(/[^\t\n\r\x20-\x7e\u00a0-\uffff]/g, '').length;
  return printable / text.length > 0.95;
}

// Two rules decode the same user-data of a block, one after the other: the last two or three decodings are kept.
const DECODED = new TextMemo<string | undefined>(64 << 10, 64 << 10);

/** Decodes base64 (and gzip inside it) to text, or undefined when it is not base64 of text. */
export function decodeBase64Text(value: string): string | undefined {
  // Most strings are no base64 at all (names, ids, ARNs): said without hashing them for the memo.
  const compact = /\s/.test(value) ? value.replace(/\s+/g, '') : value;
  if (compact.length < 8 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  return DECODED.get(value, () => decodeBase64TextOnce(compact));
}

function decodeBase64TextOnce(compact: string): string | undefined {
  const bytes = Buffer.from(compact, 'base64');
  let text: string;
  if (bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      text = gunzipSync(bytes).toString('utf8');
    } catch {
      return undefined;
    }
  } else {
    text = bytes.toString('utf8');
  }
  return isText(text) ? text : undefined;
}

/**
 * The text a string value stands for. `encoding` says how the attribute is defined: `plain` (a
 * Terraform template string) or `base64` (possibly gzip inside).
 */
export function decodeValue(value: string, encoding: 'plain' | 'base64'): string | undefined {
  const literal = FUNCTION_LITERAL.exec(value);
  if (literal) return unescapeHclString(literal[2]);
  if (encoding === 'base64') return decodeBase64Text(value);
  return unescapeTemplate(value);
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

const GCP_MACHINE_TYPES = ['google_compute_instance', 'google_compute_instance_template', 'google_compute_region_instance_template', 'google_compute_instance_from_template'];

/** The boot-time text of a machine block (empty for other blocks). */
export function userDataOf(type: string, config: Record<string, unknown>): TextSource[] {
  const found: TextSource[] = [];
  const add = (where: string, value: unknown, encoding: 'plain' | 'base64'): void => {
    if (typeof value !== 'string' || value === '') return;
    const text = decodeValue(value, encoding);
    if (text !== undefined) found.push({ where, text });
  };
  if (type === 'aws_instance') {
    add('user_data', config.user_data, 'plain');
    add('user_data_base64', config.user_data_base64, 'base64');
  } else if (type === 'aws_launch_template') {
    add('user_data', config.user_data, 'base64');
  } else if (GCP_MACHINE_TYPES.includes(type)) {
    const metadata = record(config.metadata) ?? {};
    const encoding = String(metadata['user-data-encoding'] ?? '').toLowerCase() === 'base64' ? 'base64' : 'plain';
    add('metadata.user-data', metadata['user-data'], encoding);
    add('metadata.startup-script', metadata['startup-script'], 'plain');
    add('metadata_startup_script', config.metadata_startup_script, 'plain');
  }
  return found;
}

/** The types `userDataOf` reads. */
export const MACHINE_TYPES: readonly string[] = ['aws_instance', 'aws_launch_template', ...GCP_MACHINE_TYPES];

export function isCloudConfig(text: string): boolean {
  return /^#cloud-config[ \t]*\r?\n/.test(text) || text.trim() === '#cloud-config';
}

/** Parses a cloud-config; undefined when it is not one or is not valid YAML. */
export function parseCloudConfig(text: string): Record<string, unknown> | undefined {
  if (!isCloudConfig(text)) return undefined;
  try {
    return record(parseYamlText(text)) ?? {};
  } catch {
    return undefined;
  }
}

/** write_files content in any encoding cloud-init accepts. */
function decodeWriteFile(content: unknown, encoding: unknown): string | undefined {
  if (typeof content !== 'string') return undefined;
  const enc = String(encoding ?? 'text/plain').toLowerCase();
  if (enc === 'text/plain' || enc === '') return content;
  const bytes = Buffer.from(content.replace(/\s+/g, ''), /b(ase)?64/.test(enc) ? 'base64' : 'latin1');
  try {
    return (/^gz(ip)?/.test(enc) ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch {
    return undefined;
  }
}

function commandText(entry: unknown): string {
  if (typeof entry === 'string') return entry;
  if (Array.isArray(entry)) return entry.map((part) => String(part)).join(' ');
  return '';
}

/** Heredoc bodies in a script: `cat > /etc/x <<'EOF' ... EOF`, with their target path when written to a file. */
export function heredocsOf(script: TextSource): ConfigDocument[] {
  const docs: ConfigDocument[] = [];
  const pattern = /^(.*?)<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\2[^\n]*\n([\s\S]*?)\n[ \t]*\3[ \t]*$/gm;
  for (const m of script.text.matchAll(pattern)) {
    const target = /(?:>\s*|\btee\s+(?:-a\s+)?)(['"]?)(\/[^\s'"<>|;&]+)\1/.exec(m[1]);
    const path = target ? target[2] : undefined;
    docs.push({ where: `${script.where} heredoc${path ? ` ${path}` : ''}`, path, text: m[4], script: false });
  }
  return docs;
}

/**
 * The documents a boot text carries: for a cloud-config every write_files file (decoded) and every
 * runcmd/bootcmd command; for anything else the text itself as a script. Heredocs inside scripts are
 * documents too.
 */
export function documentsOf(source: TextSource): ConfigDocument[] {
  // Split once per text, located relative to it (every `where` starts with the source's), then placed.
  const relative = DOCUMENTS.get(source.text, () => documentsOfOnce({ where: '', text: source.text }));
  return relative.map((d) => ({ ...d, where: `${source.where}${d.where}` }));
}

// The secrets and TLS rules both split the same boot text (parsing its YAML is the cost).
const DOCUMENTS = new TextMemo<readonly ConfigDocument[]>(256 << 10, 256 << 10);

function documentsOfOnce(source: TextSource): ConfigDocument[] {
  const docs: ConfigDocument[] = [];
  const config = parseCloudConfig(source.text);
  if (config === undefined) {
    const script: ConfigDocument = { where: source.where, text: source.text, script: true };
    return [script, ...heredocsOf(script)];
  }
  const files = Array.isArray(config.write_files) ? config.write_files : [];
  files.forEach((raw, i) => {
    const file = record(raw);
    if (!file) return;
    const text = decodeWriteFile(file.content, file.encoding);
    if (text === undefined) return;
    const path = typeof file.path === 'string' ? file.path : undefined;
    const isScript = /^#!/.test(text) || (path !== undefined && /\.sh$|\/s?bin\//.test(path));
    const doc: ConfigDocument = { where: `${source.where} > write_files[${i}]${path ? ` ${path}` : ''}`, path, text, script: isScript };
    docs.push(doc);
    if (isScript) docs.push(...heredocsOf(doc));
  });
  for (const key of ['bootcmd', 'runcmd']) {
    const commands = Array.isArray(config[key]) ? config[key] as unknown[] : [];
    if (commands.length === 0) continue;
    const doc: ConfigDocument = { where: `${source.where} > ${key}`, text: commands.map(commandText).join('\n'), script: true };
    docs.push(doc, ...heredocsOf(doc));
  }
  return docs;
}
