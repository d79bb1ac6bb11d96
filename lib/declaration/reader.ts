/**
 * Reads untyped input (a declaration from JavaScript, another jsii language or `any`): each read returns a value of
 * the expected type, or the fallback and a DPG-TYPE finding, so one pass reports every type problem.
 */
import { Finding } from './spec';

/** Edit distance, for "did you mean" hints (names are short). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

/** Collects type findings while reading untyped input. */
export class Reader {
  readonly findings: Finding[] = [];

  private bad(path: string, expected: string, value: unknown): void {
    this.findings.push({
      rule: 'DPG-TYPE',
      path,
      message: `must be ${expected}, got ${describe(value)}. Fix: give ${expected}.`,
    });
  }

  string(value: unknown, path: string, fallback: string): string {
    if (value === undefined) return fallback;
    if (typeof value === 'string') return value;
    this.bad(path, 'a string', value);
    return fallback;
  }

  /** A string that may be left out: undefined stays undefined (the caller's default applies later). */
  optionalString(value: unknown, path: string): string | undefined {
    return value === undefined ? undefined : this.string(value, path, '');
  }

  number(value: unknown, path: string, fallback: number): number {
    if (value === undefined) return fallback;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    this.bad(path, 'a finite number', value);
    return fallback;
  }

  boolean(value: unknown, path: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value === 'boolean') return value;
    this.bad(path, 'true or false', value);
    return fallback;
  }

  enumValue<T extends string>(value: unknown, values: Record<string, T>, path: string, fallback: T): T {
    if (value === undefined) return fallback;
    const allowed = Object.values(values);
    if (typeof value === 'string' && (allowed as string[]).includes(value)) return value as T;
    this.bad(path, `one of ${allowed.map((v) => `'${v}'`).join(', ')}`, value);
    return fallback;
  }

  array(value: unknown, path: string): unknown[] {
    if (value === undefined) return [];
    if (Array.isArray(value)) return value;
    this.bad(path, 'a list', value);
    return [];
  }

  stringArray(value: unknown, path: string): string[] {
    return this.array(value, path).flatMap((item, i) => {
      if (typeof item === 'string') return [item];
      this.bad(`${path}[${i}]`, 'a string', item);
      return [];
    });
  }

  object(value: unknown, path: string, properties?: readonly string[]): Record<string, unknown> {
    if (value === undefined) return {};
    if (isPlainObject(value)) {
      if (properties) this.unknownProperties(value, path, properties);
      return value;
    }
    this.bad(path, 'an object', value);
    return {};
  }

  private unknownProperties(value: Record<string, unknown>, path: string, properties: readonly string[]): void {
    for (const key of Object.keys(value).filter((k) => !properties.includes(k))) {
      const hint = properties.find((p) => distance(p, key.slice(0, 40)) <= 2);
      this.findings.push({
        rule: 'DPG-TYPE',
        path: path === 'props' ? key.slice(0, 40) : `${path}.${key.slice(0, 40)}`,
        message: `is not a property${path === 'props' ? '' : ` of ${path}`}. Fix: ${hint ? `did you mean '${hint}'? ` : ''}` +
          `remove it, or use one of ${properties.join(', ')}.`,
      });
    }
  }

  /** A provider object given through `any`: duck-typed, so this pure stage needs no cdktf import. */
  provider(value: unknown, path: string, type: 'aws' | 'google', expected: string): void {
    if (value === undefined) return;
    if (isPlainObject(value) && value.terraformResourceType === type) return;
    this.bad(path, expected, value);
  }

  stringMap(value: unknown, path: string): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [key, item] of Object.entries(this.object(value, path))) {
      if (typeof item === 'string') result[key] = item;
      else this.bad(`${path}.${key}`, 'a string', item);
    }
    return result;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '...' : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
