/**
 * A fast reader for the plain subset of YAML that configuration files are usually written in (block mappings and
 * sequences, one-line plain or quoted scalars, literal block scalars), giving exactly what `yaml`'s `parse()` gives
 * (YAML 1.2 core schema). Anything outside the subset (flow collections, anchors, tags, escapes, folded or multi-line
 * scalars, tabs, odd indentation...) is not guessed at: the reader says OUTSIDE and the caller uses `yaml` itself.
 * The pack reads every machine's cloud-config and Patroni file; `yaml`'s general parser was most of its time.
 */
import { parse as parseYaml } from 'yaml';

export const OUTSIDE: unique symbol = Symbol('outside the simple subset');

class Outside extends Error {}

/** `yaml.parse(text)` (throwing as it throws), through the fast reader when the text is inside its subset. */
export function parseYamlText(text: string): unknown {
  const value = parseSimpleYaml(text);
  return value === OUTSIDE ? parseYaml(text) : value;
}

// Only printable characters, spaces and line feeds (no tabs, carriage returns, BOM or other line breaks).
const UNUSUAL = /[^\n\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]/;
const KEY = /^([A-Za-z_][A-Za-z0-9_./-]*):(?: |$)/;
const NOT_STRING_KEY = /^(?:~|[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE|__proto__)$/;
const INDICATOR = /^[-?:,[\]{}#&*!|>'"%@`]/;

/** The value, or OUTSIDE when the text is not in the subset. */
export function parseSimpleYaml(text: string): unknown {
  if (UNUSUAL.test(text)) return OUTSIDE;
  try {
    return new Reader(text.split('\n')).document();
  } catch (e) {
    if (e instanceof Outside) return OUTSIDE;
    throw e;
  }
}

function outside(): never {
  throw new Outside();
}

function indentOf(line: string): number {
  let n = 0;
  while (n < line.length && line.charCodeAt(n) === 32) n++;
  return n;
}

/** A plain scalar as the core schema resolves it. */
function plainValue(s: string): unknown {
  if (/^(?:~|[Nn]ull|NULL)$/.test(s)) return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(s)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(s)) return false;
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(s)) return parseInt(s, 10);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s)) outside();
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s)) return parseFloat(s);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s)) return parseFloat(s);
  return s;
}

class Reader {
  private i = 0;

  constructor(private readonly lines: string[]) {}

  public document(): unknown {
    this.skipBlank();
    if (this.i >= this.lines.length || indentOf(this.lines[this.i]) !== 0) outside();
    const value = this.block(0);
    this.skipBlank();
    if (this.i < this.lines.length) outside();
    return value;
  }

  /** Past empty lines and comment lines. */
  private skipBlank(): void {
    while (this.i < this.lines.length) {
      const line = this.lines[this.i];
      const n = indentOf(line);
      if (n < line.length && line[n] !== '#') return;
      this.i++;
    }
  }

  /** The indentation of the next content line, or -1 at the end. */
  private nextIndent(): number {
    this.skipBlank();
    return this.i < this.lines.length ? indentOf(this.lines[this.i]) : -1;
  }

  /** A block collection starting at the current line, at its indentation (which must be at least `min`). */
  private block(min: number): unknown {
    const col = this.nextIndent();
    if (col < min) outside();
    const content = this.lines[this.i].slice(col);
    if (content === '-' || content.startsWith('- ')) return this.sequence(col);
    if (KEY.test(content)) return this.mapping(col);
    return outside();
  }

  private sequence(col: number): unknown[] {
    const items: unknown[] = [];
    while (this.nextIndent() === col) {
      const line = this.lines[this.i];
      if (line.length === col + 1 && line[col] === '-') outside();
      if (!line.startsWith('- ', col)) break;
      const at = indentOf(line.slice(col + 1)) + col + 1;
      const content = line.slice(at);
      if (content === '-' || content.startsWith('- ') || KEY.test(content)) {
        // A compact nested collection: read as if its first line were indented to where it starts.
        this.lines[this.i] = ' '.repeat(at) + content;
        items.push(this.block(at));
      } else {
        items.push(this.inline(content, col, false));
      }
    }
    if (this.i < this.lines.length && this.nextIndent() > col) outside();
    return items;
  }

  private mapping(col: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.nextIndent() === col) {
      const content = this.lines[this.i].slice(col);
      const m = KEY.exec(content);
      if (!m) break;
      const key = m[1];
      if (NOT_STRING_KEY.test(key) || Object.prototype.hasOwnProperty.call(out, key)) outside();
      const rest = content.slice(key.length + 1).trimStart();
      if (rest === '' || rest.startsWith('#')) {
        this.i++;
        const next = this.nextIndent();
        if (next > col) {
          out[key] = this.block(col + 1);
        } else {
          // A sequence at the key's own indentation is valid YAML, but not in the subset.
          if (next === col && /^-( |$)/.test(this.lines[this.i].slice(col))) outside();
          out[key] = null;
        }
      } else {
        out[key] = this.inline(rest, col, true);
      }
    }
    if (this.i < this.lines.length && this.nextIndent() > col) outside();
    return out;
  }

  /** The scalar written after `key: ` or `- ` on the current line (`parent`: the collection's indentation). */
  private inline(s: string, parent: number, inMapping: boolean): unknown {
    if (s.startsWith('|')) return this.literal(s, parent, inMapping);
    let value: unknown;
    let rest: string;
    if (s.startsWith('"')) {
      const end = s.indexOf('"', 1);
      if (end < 0 || s.slice(1, end).includes('\\')) outside();
      value = s.slice(1, end);
      rest = s.slice(end + 1);
    } else if (s.startsWith("'")) {
      let end = 1;
      let text = '';
      for (;;) {
        const q = s.indexOf("'", end);
        if (q < 0) outside();
        text += s.slice(end, q);
        if (s[q + 1] === "'") {
          text += "'";
          end = q + 2;
        } else {
          end = q + 1;
          break;
        }
      }
      value = text;
      rest = s.slice(end);
    } else {
      // `-x` is a plain scalar (a command's flag); `- x` was read as a sequence entry before this.
      if (INDICATOR.test(s) && !/^-[^\s]/.test(s)) outside();
      const comment = s.indexOf(' #');
      const plain = (comment < 0 ? s : s.slice(0, comment)).replace(/ +$/, '');
      if (plain.includes(': ') || plain.endsWith(':') || plain === '') outside();
      value = plainValue(plain);
      rest = comment < 0 ? '' : s.slice(comment);
    }
    if (rest !== '' && !/^ +(#.*)?$/.test(rest)) outside();
    this.i++;
    // A continuation line (a multi-line scalar) is not in the subset.
    if (this.nextIndent() > parent) outside();
    return value;
  }

  /** A literal block scalar (`|`, `|-`, `|N` under a mapping key), its header on the current line. */
  private literal(header: string, parent: number, inMapping: boolean): string {
    const h = /^\|([1-9]?)(-?)( +#.*)?$/.exec(header);
    if (!h || (h[1] !== '' && !inMapping)) outside();
    const lines = this.lines;
    let j = this.i + 1;
    let n: number;
    if (h[1] !== '') {
      n = parent + Number(h[1]);
    } else {
      let k = j;
      let longestEmpty = 0;
      while (k < lines.length && lines[k].trim() === '') longestEmpty = Math.max(longestEmpty, lines[k++].length);
      if (k >= lines.length) outside();
      n = indentOf(lines[k]);
      if (n <= parent || longestEmpty > n) outside();
    }
    const body: string[] = [];
    for (; j < lines.length; j++) {
      const line = lines[j];
      if (line.trim() === '') {
        if (line.length > n) outside();
        body.push('');
      } else if (indentOf(line) >= n) {
        body.push(line.slice(n));
      } else {
        break;
      }
    }
    let last = body.length - 1;
    while (last >= 0 && body[last] === '') last--;
    // Content at the very end of the text, without a line break after it, is not in the subset.
    if (last < 0 || j - body.length + last + 1 >= lines.length) outside();
    if (j < lines.length && indentOf(lines[j]) > parent && lines[j][indentOf(lines[j])] !== '#') outside();
    this.i = j;
    const text = body.slice(0, last + 1).join('\n');
    return h[2] === '-' ? text : `${text}\n`;
  }
}
