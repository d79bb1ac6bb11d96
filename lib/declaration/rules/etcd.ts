/** Each node group's etcd quorum: its size, its spread over zones, and co-location with Postgres members. */
import { EtcdPlacement } from '../props';
import { finding, Rule } from './rule';

export const ETCD_SIZE: Rule = {
  id: 'DPG-ETCD-SIZE',
  description: 'An etcd quorum is odd-sized: 3 or 5 members.',
  // A fleet-wide size is reported once, at `etcd.size`, not once per node group that inherits it.
  check: (spec) => [...new Map(spec.nodeGroups
    .filter((g) => g.etcd.size !== 3 && g.etcd.size !== 5)
    .map((g) => [g.etcd.sizePath, g.etcd.size] as const)).entries()]
    .map(([path, size]) => finding('DPG-ETCD-SIZE', path,
      `${size} etcd members ${size % 2 === 0 ? 'is an even quorum (it tolerates no more failures than one member fewer)' : 'cannot give a fault-tolerant quorum'}. Fix: use 3 or 5.`)),
};

export const ETCD_SPREAD: Rule = {
  id: 'DPG-ETCD-SPREAD',
  description: 'The etcd quorum survives the loss of any one zone.',
  check: (spec) => spec.nodeGroups.flatMap((g) => {
    const size = g.etcd.size;
    const zones = new Set(g.zones).size;
    if ((size !== 3 && size !== 5) || zones === 0) return [];
    const perZone = Math.ceil(size / zones);
    const tolerated = Math.floor((size - 1) / 2);
    if (perZone <= tolerated) return [];
    return [finding('DPG-ETCD-SPREAD', `${g.path}.zones`,
      `${size} etcd members over ${zones} zone(s) puts ${perZone} in one zone; losing that zone loses the quorum (it tolerates ${tolerated}). ` +
      `Fix: give at least 3 zones.`)];
  }),
};

export const ETCD_COLOCATED: Rule = {
  id: 'DPG-ETCD-COLOCATED',
  description: 'A co-located etcd quorum has a Postgres member for each etcd member.',
  check: (spec) => spec.nodeGroups
    .filter((g) => g.etcd.placement === EtcdPlacement.CO_LOCATED && Number.isInteger(g.members) && g.etcd.size > g.members)
    .map((g) => finding('DPG-ETCD-COLOCATED', `${g.path}.etcd`,
      `a co-located etcd quorum of ${g.etcd.size} needs ${g.etcd.size} Postgres members, but the group has ${g.members}. ` +
      "Fix: raise members, lower etcd.size, or set etcd.placement to 'dedicated'.")),
};
