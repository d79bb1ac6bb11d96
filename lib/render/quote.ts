/**
 * Quoting at the boundary: every value that reaches shell, SQL or a libpq/.pgpass line goes through one of
 * these, even though the declaration's names are validated already.
 */

/** A POSIX shell word: `'...'` with embedded single quotes closed, escaped and reopened. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `NAME='value'` lines for a file that shell scripts `source`. */
export function shellAssignments(vars: Record<string, string | number | boolean>): string {
  return Object.entries(vars)
    .map(([name, value]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`invalid shell variable name '${name}'`);
      const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
      return `${name}=${shellQuote(text)}`;
    })
    .join('\n') + '\n';
}

/** An SQL string literal: `'...'` with `'` doubled (standard_conforming_strings is on since PostgreSQL 9.1). */
export function sqlLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('SQL literal cannot contain NUL');
  return `'${value.replace(/'/g, "''")}'`;
}

/** An SQL identifier, always double-quoted (like `quote_ident`, but unconditionally). */
export function sqlIdent(name: string): string {
  if (name.length === 0 || name.includes('\0')) throw new Error(`invalid SQL identifier '${name}'`);
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.table` (already qualified by the resolver) as two quoted identifiers. */
export function sqlQualified(table: string): string {
  const dot = table.indexOf('.');
  if (dot < 0) return `${sqlIdent('public')}.${sqlIdent(table)}`;
  return `${sqlIdent(table.slice(0, dot))}.${sqlIdent(table.slice(dot + 1))}`;
}

/** `to_regclass('"schema"."table"')`: the relation or NULL when it does not exist (yet). */
export function sqlRegclass(table: string): string {
  return `to_regclass(${sqlLiteral(sqlQualified(table))})`;
}

/** An SQL `text[]` literal, e.g. `ARRAY['a', 'b']::text[]`. */
export function sqlTextArray(values: string[]): string {
  return `ARRAY[${values.map(sqlLiteral).join(', ')}]::text[]`;
}

/** Text for a comment or a one-line description: control characters (line breaks above all) become spaces. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ');
}

const CHECKS = {
  'an IPv4 address': /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/,
  'an IPv4 CIDR': /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/([0-9]|[12]\d|3[0-2])$/,
  'a DNS name': /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/,
  'a role name': /^[a-z_][a-z0-9_]{0,62}$/,
};

/**
 * For values written into line-oriented formats that have no quoting we can rely on (pg_hba lines, openssl
 * extension lines): the value must have its plain shape, else rendering stops with a clear error.
 */
export function checked(kind: keyof typeof CHECKS, value: string): string {
  if (!CHECKS[kind].test(value)) throw new Error(`render: ${JSON.stringify(value)} is not ${kind}; refusing to write it into a config line.`);
  return value;
}
