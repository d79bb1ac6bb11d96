/** Geoshards: existing node groups, partitions owned by one geography, nothing leaking into the global set. */
import { qualify } from '../derived';
import { Finding } from '../spec';
import { PATTERNS } from './limits';
import { duplicates, finding, Rule } from './rule';

export const GEOSHARDS: Rule = {
  id: 'DPG-GEOSHARD',
  description: 'Geoshards name existing node groups, own their partitions alone, and never leak into the global set.',
  check: (spec) => {
    const out: Finding[] = [];
    const groups = new Set(spec.nodeGroups.map((g) => g.name));
    const global = new Set(spec.replication.globalTables.map(qualify));
    const partitionOwner = new Map<string, string>();
    const valueOwner = new Map<string, string>();
    for (const s of spec.geoshards) {
      if (s.nodeGroups.length === 0) {
        out.push(finding('DPG-GEOSHARD', `${s.path}.nodeGroups`, 'is empty: a geography with no node group would hold its rows nowhere. Fix: list the node groups inside the geography.'));
      }
      for (const name of s.nodeGroups.filter((n) => !groups.has(n))) {
        out.push(finding('DPG-GEOSHARD', `${s.path}.nodeGroups`, `'${name}' is not a node group of this fleet. Fix: use one of ${[...groups].join(', ') || '(none declared)'}.`));
      }
      for (const d of duplicates(s.nodeGroups)) {
        out.push(finding('DPG-GEOSHARD', `${s.path}.nodeGroups`, `'${d}' is listed twice. Fix: list each node group once.`));
      }
      if (s.tables.length === 0) {
        out.push(finding('DPG-GEOSHARD', `${s.path}.tables`, 'is empty. Fix: list the partitions that must stay inside the geography.'));
      }
      s.tables.forEach((t, i) => {
        const path = `${s.path}.tables[${i}]`;
        if (!PATTERNS.table.test(t.table) || !PATTERNS.table.test(t.partition)) {
          out.push(finding('DPG-GEOSHARD', path, `'${t.table}' / '${t.partition}' are not plain lower-case table names. Fix: use [schema.]name of lower-case letters, digits and '_'.`));
          return;
        }
        if (qualify(t.table) === qualify(t.partition)) {
          out.push(finding('DPG-GEOSHARD', path, `the partition '${t.partition}' is the parent table itself. Fix: name the partition that holds the geography's rows.`));
        }
        if (t.values.length === 0) {
          out.push(finding('DPG-GEOSHARD', `${path}.values`, 'is empty. Fix: list the partition key values of this geography, e.g. [\'eu\'].'));
        }
        for (const d of duplicates(t.values)) {
          out.push(finding('DPG-GEOSHARD', `${path}.values`, `value '${d}' is listed twice. Fix: list each value once.`));
        }
        for (const v of t.values.filter((value) => !PATTERNS.partitionValue.test(value))) {
          out.push(finding('DPG-GEOSHARD', `${path}.values`, `${JSON.stringify(v)} is not a plain partition value. Fix: use 1-63 letters, digits, ' ', '.', '_' or '-'.`));
        }
        const partition = qualify(t.partition);
        const owner = partitionOwner.get(partition);
        if (owner !== undefined && owner !== s.name) {
          out.push(finding('DPG-GEOSHARD', path, `partition '${t.partition}' is in geoshards '${owner}' and '${s.name}'; a partition belongs to one geography. Fix: keep it in one geoshard.`));
        }
        partitionOwner.set(partition, s.name);
        for (const v of t.values) {
          const key = `${qualify(t.table)}=${v}`;
          const valueShard = valueOwner.get(key);
          if (valueShard !== undefined && valueShard !== s.name) {
            out.push(finding('DPG-GEOSHARD', `${path}.values`, `value '${v}' of '${t.table}' belongs to geoshards '${valueShard}' and '${s.name}'. Fix: give each value to one geography.`));
          }
          valueOwner.set(key, s.name);
        }
        if (global.has(qualify(t.table)) || global.has(partition)) {
          out.push(finding('DPG-GEOSHARD', path, `'${global.has(partition) ? t.partition : t.table}' is also a global table, so its rows would replicate outside '${s.name}'. ` +
            'Fix: remove it from replication.globalTables.'));
        }
      });
    }
    return out;
  },
};
