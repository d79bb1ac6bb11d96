/**
 * The validation rule table. Each rule is a small pure function of the normalized spec that returns findings; all
 * rules run together so one error lists every problem. Messages say what is wrong and how to fix it. The files of
 * this folder group the rules by concern; the table's order is the order findings are listed in.
 */
import { Finding, FleetSpec } from '../spec';
import { ETCD_COLOCATED, ETCD_SIZE, ETCD_SPREAD } from './etcd';
import { GEOSHARDS } from './geoshards';
import { EXISTING_NETWORK, EXISTING_ZONES, KEYS } from './existing';
import { GOVERNANCE } from './governance';
import { PATRONI_TIMING, SYNCHRONOUS_REPLICATION } from './ha';
import { GROUP_NUMBERS, NAMES } from './naming';
import { CIDRS, NETWORK_NAMES } from './network';
import { PACKAGES } from './packages';
import { BACKUP } from './backup';
import { RESTORE } from './restore';
import { MONITORING } from './monitoring';
import { IMAGES, MACHINE_IMAGES, MEMBERS, REGIONS } from './placement';
import { POSTGRES_NAMES } from './postgres';
import { ANTI_ENTROPY, CONFLICTS, MAX_NODE_GROUPS_RULE, SNOWFLAKE_IDS, WAL_RETENTION } from './replication';
import { finding, Rule } from './rule';

export type { Rule } from './rule';

export const RULES: Rule[] = [
  NAMES, GROUP_NUMBERS, REGIONS, IMAGES, MACHINE_IMAGES, MEMBERS, ETCD_SIZE, ETCD_SPREAD, ETCD_COLOCATED, CIDRS, SYNCHRONOUS_REPLICATION,
  PATRONI_TIMING, PACKAGES, CONFLICTS, SNOWFLAKE_IDS, GEOSHARDS, POSTGRES_NAMES, NETWORK_NAMES, GOVERNANCE, KEYS,
  EXISTING_ZONES, EXISTING_NETWORK, WAL_RETENTION, ANTI_ENTROPY, MAX_NODE_GROUPS_RULE, BACKUP, RESTORE, MONITORING,
];

/** Runs every rule; a rule that fails on odd input reports itself rather than hiding the others. */
export function runRules(spec: FleetSpec, rules: Rule[] = RULES): Finding[] {
  return rules.flatMap((rule) => {
    try {
      return rule.check(spec);
    } catch (e) {
      return [finding(rule.id, '(declaration)', `could not be checked (${e instanceof Error ? e.message : String(e)}). Fix: correct the other problems listed, then synth again.`)];
    }
  });
}
