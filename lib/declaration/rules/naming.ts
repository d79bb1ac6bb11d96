/** Names of the fleet, its node groups and geoshards; node group numbers. */
import { Finding } from '../spec';
import { PATTERNS } from './limits';
import { duplicates, finding, isInt, Rule } from './rule';

export const NAMES: Rule = {
  id: 'DPG-NAME',
  description: 'Fleet, node group and geoshard names are DNS labels / identifiers and unique.',
  check: (spec) => {
    const out: Finding[] = [];
    if (!PATTERNS.fleetName.test(spec.name)) {
      out.push(finding('DPG-NAME', 'name', `'${spec.name}' is not a valid fleet name. Fix: use 1-16 lower-case letters, digits or '-', starting with a letter (it prefixes machine and secret names).`));
    }
    for (const g of spec.nodeGroups) {
      if (!PATTERNS.groupName.test(g.name)) {
        out.push(finding('DPG-NAME', `${g.path}.name`, `'${g.name}' is not a valid node group name. Fix: use 1-20 lower-case letters, digits or '-', starting with a letter.`));
      }
    }
    for (const d of duplicates(spec.nodeGroups.map((g) => g.name))) {
      out.push(finding('DPG-NAME', 'nodeGroups', `node group name '${d}' is used more than once. Fix: give every node group its own name.`));
    }
    for (const s of spec.geoshards) {
      if (!PATTERNS.geoshardName.test(s.name)) {
        out.push(finding('DPG-NAME', `${s.path}.name`, `'${s.name}' is not a valid geoshard name. Fix: use 1-20 lower-case letters, digits or '_', starting with a letter.`));
      }
    }
    for (const d of duplicates(spec.geoshards.map((s) => s.name))) {
      out.push(finding('DPG-NAME', 'geoshards', `geoshard name '${d}' is used more than once. Fix: give every geography its own name.`));
    }
    return out;
  },
};

export const GROUP_NUMBERS: Rule = {
  id: 'DPG-GROUPS',
  description: 'At least one node group; numbers unique in 1..100.',
  check: (spec) => {
    const out: Finding[] = [];
    if (spec.nodeGroups.length === 0) {
      out.push(finding('DPG-GROUPS', 'nodeGroups', 'is empty. Fix: declare at least one node group.'));
    }
    for (const g of spec.nodeGroups) {
      if (!isInt(g.number, 1, 100)) {
        out.push(finding('DPG-GROUPS', `${g.path}.number`, `${g.number} is not a whole number in 1..100. Fix: give a stable number between 1 and 100.`));
      }
    }
    for (const d of duplicates(spec.nodeGroups.map((g) => String(g.number)))) {
      out.push(finding('DPG-GROUPS', 'nodeGroups', `node group number ${d} is used more than once. Fix: give every node group its own number (it picks the group's CIDR and ids).`));
    }
    return out;
  },
};
