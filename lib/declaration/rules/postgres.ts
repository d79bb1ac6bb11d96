/** Names and values rendered into SQL, YAML and shell: the database, tables, postgresql.conf parameters. */
import { qualify } from '../derived';
import { MANAGED_PARAMETERS } from '../managed-parameters';
import { Finding } from '../spec';
import { PATTERNS, RESERVED_WORDS, SYSTEM_DATABASES } from './limits';
import { duplicates, finding, Rule } from './rule';

export const POSTGRES_NAMES: Rule = {
  id: 'DPG-POSTGRES',
  description: 'Database, table and parameter names and values are safe to render into SQL, YAML and shell.',
  check: (spec) => {
    const out: Finding[] = [];
    if (!PATTERNS.identifier.test(spec.postgres.database)) {
      out.push(finding('DPG-POSTGRES', 'postgres.database', `'${spec.postgres.database}' is not a plain lower-case database name. Fix: use lower-case letters, digits and '_', starting with a letter.`));
    } else if (SYSTEM_DATABASES.includes(spec.postgres.database)) {
      out.push(finding('DPG-POSTGRES', 'postgres.database', `'${spec.postgres.database}' is a system database of every cluster, not the application database to replicate. Fix: name the application database, e.g. app.`));
    }
    const names: [string, string][] = [
      ['postgres.database', spec.postgres.database],
      ...spec.replication.globalTables.map((t, i): [string, string] => [`replication.globalTables[${i}]`, t]),
      ...spec.replication.deltaApplyColumns.flatMap((c, i): [string, string][] => [[`replication.deltaApplyColumns[${i}]`, c.table], [`replication.deltaApplyColumns[${i}]`, c.column]]),
      ...spec.geoshards.flatMap((s) => s.tables.flatMap((t, i): [string, string][] => [[`${s.path}.tables[${i}]`, t.table], [`${s.path}.tables[${i}]`, t.partition]])),
    ];
    for (const [path, name] of names) {
      const reserved = name.split('.').find((part) => RESERVED_WORDS.has(part));
      if (reserved !== undefined) {
        out.push(finding('DPG-POSTGRES', path, `'${name}' uses the reserved word '${reserved}', which PostgreSQL does not accept as a name without quotes. Fix: choose another name (e.g. '${reserved}s' or '${reserved}_').`));
      }
    }
    for (const [name, value] of Object.entries(spec.postgres.parameters)) {
      if (!PATTERNS.parameterName.test(name)) {
        out.push(finding('DPG-POSTGRES', `postgres.parameters.${name}`, `'${name}' is not a postgresql.conf parameter name. Fix: use the lower-case parameter name, e.g. work_mem.`));
      } else if (MANAGED_PARAMETERS.includes(name)) {
        out.push(finding('DPG-POSTGRES', `postgres.parameters.${name}`, `'${name}' is managed by the library for Patroni and replication. Fix: remove it from postgres.parameters.`));
      }
      if (!PATTERNS.parameterValue.test(value)) {
        out.push(finding('DPG-POSTGRES', `postgres.parameters.${name}`, `the value ${JSON.stringify(value)} contains characters that are not allowed (quotes, ';', '\\', newlines). Fix: give a plain value such as 64MB or on.`));
      }
    }
    spec.replication.globalTables.forEach((t, i) => {
      if (!PATTERNS.table.test(t)) {
        out.push(finding('DPG-POSTGRES', `replication.globalTables[${i}]`, `'${t}' is not a plain lower-case table name. Fix: use [schema.]name of lower-case letters, digits and '_'.`));
      }
    });
    for (const d of duplicates(spec.replication.globalTables.map(qualify))) {
      out.push(finding('DPG-POSTGRES', 'replication.globalTables', `'${d}' is listed twice. Fix: list each table once.`));
    }
    return out;
  },
};
