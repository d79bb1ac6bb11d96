/** The replication engine between node groups: conflict handling, delta-apply columns, snowflake ids. */
import { defaultMaxNodeGroups, MAX_NODE_GROUPS, sizeSettingMb, snowflakeIdsOf, walBudgetMb, walOverheadMb, walRetentionMb, WAL_SIZE_PARAMETERS } from '../derived';
import { ConflictPolicy, ReplicationEngine } from '../props';
import { Finding } from '../spec';
import { MAX_MEMBERS, PATTERNS } from './limits';
import { finding, isInt, Rule } from './rule';
import { qualify } from '../derived';

export const CONFLICTS: Rule = {
  id: 'DPG-CONFLICTS',
  description: 'The conflict policy, delta-apply columns and snowflake ids fit the engine.',
  check: (spec) => {
    const { engine, conflictPolicy, deltaApplyColumns, snowflakeIds } = spec.replication;
    const out: Finding[] = [];
    if (engine === ReplicationEngine.SPOCK && conflictPolicy !== ConflictPolicy.LAST_UPDATE_WINS) {
      out.push(finding('DPG-CONFLICTS', 'replication.conflictPolicy', `Spock resolves conflicts only with last_update_wins, not '${conflictPolicy}'. Fix: use ConflictPolicy.LAST_UPDATE_WINS.`));
    }
    if (engine === ReplicationEngine.PGLOGICAL && conflictPolicy === ConflictPolicy.ERROR) {
      out.push(finding('DPG-CONFLICTS', 'replication.conflictPolicy', "pglogical's 'error' policy stops replication at the first conflict. Fix: use last_update_wins."));
    }
    if (engine === ReplicationEngine.NATIVE && conflictPolicy !== ConflictPolicy.ERROR) {
      out.push(finding('DPG-CONFLICTS', 'replication.conflictPolicy', `native logical replication has no conflict resolution, so '${conflictPolicy}' cannot be honoured. ` +
        "Fix: use ConflictPolicy.ERROR (and write each row in one node group only), or engine 'spock'."));
    }
    if (deltaApplyColumns.length > 0 && engine !== ReplicationEngine.SPOCK) {
      out.push(finding('DPG-CONFLICTS', 'replication.deltaApplyColumns', `delta-apply columns are a Spock feature, not available with '${engine}'. Fix: remove them or use engine 'spock'.`));
    }
    deltaApplyColumns.forEach((c, i) => {
      if (!PATTERNS.table.test(c.table) || !PATTERNS.identifier.test(c.column)) {
        out.push(finding('DPG-CONFLICTS', `replication.deltaApplyColumns[${i}]`, `'${c.table}'.'${c.column}' is not a plain lower-case table and column name. Fix: use [schema.]table and column of lower-case letters, digits and '_'.`));
      }
    });
    if (snowflakeIds && engine !== ReplicationEngine.SPOCK) {
      out.push(finding('DPG-CONFLICTS', 'replication.snowflakeIds', `snowflake ids come from pgEdge's snowflake extension, available with Spock only, not '${engine}'. Fix: set snowflakeIds to false or use engine 'spock'.`));
    }
    return out;
  },
};

export const SNOWFLAKE_IDS: Rule = {
  id: 'DPG-SNOWFLAKE',
  description: 'Snowflake node ids are 1..1023, one per member and unique in the fleet.',
  check: (spec) => {
    if (!spec.replication.snowflakeIds) return [];
    const out: Finding[] = [];
    const owners = new Map<number, string>();
    for (const g of spec.nodeGroups) {
      // DPG-MEMBERS reports a bad count; deriving ids for, say, 1e9 members would exhaust memory.
      if (!isInt(g.members, 1, MAX_MEMBERS)) continue;
      const ids = snowflakeIdsOf(g);
      if (g.snowflakeNodeIds !== undefined && g.snowflakeNodeIds.length !== g.members) {
        out.push(finding('DPG-SNOWFLAKE', `${g.path}.snowflakeNodeIds`, `lists ${g.snowflakeNodeIds.length} id(s) for ${g.members} member(s). Fix: give exactly one id per member.`));
        continue;
      }
      ids.forEach((id, i) => {
        if (!isInt(id, 1, 1023)) {
          out.push(finding('DPG-SNOWFLAKE', `${g.path}.snowflakeNodeIds`, `member ${i + 1} gets snowflake id ${id}, outside 1..1023. ` +
            `Fix: ${g.snowflakeNodeIds ? 'use ids in 1..1023' : 'give snowflakeNodeIds explicitly, or a lower node group number'}.`));
        } else if (owners.has(id)) {
          out.push(finding('DPG-SNOWFLAKE', `${g.path}.snowflakeNodeIds`, `snowflake id ${id} of member ${i + 1} is also used by ${owners.get(id)}; ids must be unique in the fleet. Fix: give unique ids.`));
        } else {
          owners.set(id, `${g.name} member ${i + 1}`);
        }
      });
    }
    return out;
  },
};

/** Every member reserves slots, senders and workers for this many node groups at its group's creation. */
export const MAX_NODE_GROUPS_RULE: Rule = {
  id: 'DPG-MAX-GROUPS',
  description: 'replication.maxNodeGroups holds every declared node group and is at most 100.',
  check: (spec) => {
    const max = spec.replication.maxNodeGroups;
    const groups = spec.nodeGroups.length;
    if (!isInt(max, 1, MAX_NODE_GROUPS)) {
      return [finding('DPG-MAX-GROUPS', 'replication.maxNodeGroups', `${max} is not a whole number from 1 to ${MAX_NODE_GROUPS}. ` +
        `Fix: the most node groups the fleet will hold (at least ${Math.max(groups, 1)}), or leave it out for ${defaultMaxNodeGroups(groups)}.`)];
    }
    if (max < groups) {
      return [finding('DPG-MAX-GROUPS', 'replication.maxNodeGroups', `${max} is below the ${groups} node groups declared: their members could not ` +
        `hold a slot for every peer. Fix: at least ${groups} (node groups already running keep what they reserved at their creation; ` +
        'a group beyond that needs its members replaced one at a time), or leave it out.')];
    }
    return [];
  },
};

/** Below this a slot would be lost after minutes of a peer's absence (a restart, a short partition). */
const MIN_WAL_RETENTION_MB = 1024;

export const ANTI_ENTROPY: Rule = {
  id: 'DPG-ANTI-ENTROPY',
  description: 'The anti-entropy check runs at a whole number of minutes, at most once a week apart, or only after leader changes (0).',
  check: (spec) => {
    const out = isInt(spec.replication.antiEntropyMinutes, 0, 10080) ? [] : [finding('DPG-ANTI-ENTROPY', 'replication.antiEntropyMinutes',
      `${spec.replication.antiEntropyMinutes} is not a whole number of minutes from 0 to 10080. Fix: e.g. 60 (hourly), more for large tables; 0 checks only after a leader change.`)];
    const replicated = new Set([...spec.replication.globalTables, ...spec.geoshards.flatMap((g) => g.tables.flatMap((t) => [t.table, t.partition]))].map(qualify));
    spec.replication.antiEntropyIgnoredColumns.forEach((c, i) => {
      const parts = /^([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)$/.exec(c);
      if (!parts) {
        out.push(finding('DPG-ANTI-ENTROPY', `replication.antiEntropyIgnoredColumns[${i}]`, `'${c}' is not schema.table.column of lower-case names. Fix: e.g. 'public.items.arrived_at'.`));
      } else if (!replicated.has(`${parts[1]}.${parts[2]}`)) {
        out.push(finding('DPG-ANTI-ENTROPY', `replication.antiEntropyIgnoredColumns[${i}]`, `'${parts[1]}.${parts[2]}' is not a replicated table (a global table, a geoshard's table or partition). Fix: name a column of one of those, or remove the entry.`));
      }
    });
    return out;
  },
};

export const WAL_RETENTION: Rule = {
  id: 'DPG-WAL-RETENTION',
  description: "Replication slots keep a bounded share of each member's data disk in pg_wal, large enough for a peer's short absence.",
  check: (spec) => {
    const percent = spec.replication.walRetentionPercent;
    if (!isInt(percent, 5, 50)) {
      return [finding('DPG-WAL-RETENTION', 'replication.walRetentionPercent', `${percent} is not a whole percent from 5 to 50 of the data disk. ` +
        'Fix: e.g. 20 (a peer away longer than what that holds loses its slots; above 50 the WAL of an absent peer can crowd out the data).')];
    }
    // The budget bounds pg_wal as a whole; the slots get what max_wal_size, wal_keep_size and two segments leave, so
    // their declared sizes must be readable (an unread one would be taken at its default and the budget overrun).
    const unread = WAL_SIZE_PARAMETERS.filter((name) => spec.postgres.parameters[name] !== undefined && sizeSettingMb(spec.postgres.parameters[name]) === undefined);
    if (unread.length > 0) {
      return unread.map((name) => finding('DPG-WAL-RETENTION', `postgres.parameters.${name}`, `${JSON.stringify(spec.postgres.parameters[name])} is not a size ` +
        `the WAL budget can count (replication.walRetentionPercent leaves the slots what ${name} does not take). Fix: a whole number with kB, MB, GB or TB, e.g. 2GB.`));
    }
    const overhead = walOverheadMb(spec.postgres.parameters);
    return spec.nodeGroups.filter((g) => isInt(g.dataDisk.sizeGiB, 1, 65536) && walRetentionMb(g.dataDisk.sizeGiB, percent, spec.postgres.parameters) < MIN_WAL_RETENTION_MB).map((g) =>
      finding('DPG-WAL-RETENTION', `${g.path}.dataDisk.sizeGiB`, `${percent}% of ${g.dataDisk.sizeGiB} GiB is a WAL budget of ${walBudgetMb(g.dataDisk.sizeGiB, percent)} MB, ` +
        `of which max_wal_size, wal_keep_size and two segments take ${overhead} MB: ${Math.max(0, walRetentionMb(g.dataDisk.sizeGiB, percent, spec.postgres.parameters))} MB ` +
        `are left for an absent peer's slots, and they would be lost within minutes of a restart. Fix: a data disk of at least ` +
        `${Math.ceil(((MIN_WAL_RETENTION_MB + overhead) * 100) / (percent * 1024))} GiB, or a larger replication.walRetentionPercent.`));
  },
};
