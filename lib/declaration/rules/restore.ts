/** A node group built from a backup of another: a source that has backups, in the same region, a time pgBackRest takes. */
import { Finding } from '../spec';
import { finding, Rule } from './rule';

/** ISO-8601 with seconds (optionally fractions) and an explicit offset: `2026-11-27T10:14:59Z`, `...59.250+01:00`. */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-](\d{2}):(\d{2}))$/;

/**
 * The target time in UTC as pgBackRest and PostgreSQL take it (`YYYY-MM-DD HH:MM:SS[.ffffff]+00`), or undefined when
 * it is not a well-formed ISO-8601 time with an explicit offset naming a real moment.
 */
export function restoreTargetUtc(targetTime: string): string | undefined {
  const m = ISO_TIME.exec(targetTime);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const fraction = m[7] ?? '';
  const offsetMinutes = m[8] === 'Z' ? 0 : (m[8].startsWith('-') ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10]));
  if (hour > 23 || minute > 59 || second > 59 || Number(m[9] ?? 0) > 23 || Number(m[10] ?? 0) > 59) return undefined;
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(local);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  const utc = new Date(local - offsetMinutes * 60_000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${utc.getUTCFullYear()}-${two(utc.getUTCMonth() + 1)}-${two(utc.getUTCDate())} ` +
    `${two(utc.getUTCHours())}:${two(utc.getUTCMinutes())}:${two(utc.getUTCSeconds())}${fraction}+00`;
}

/** A node group name as DPG-NAME takes it (a removed source is named in paths and stanzas). */
const GROUP_NAME = /^[a-z][a-z0-9-]{0,19}$/;

export const RESTORE: Rule = {
  id: 'DPG-RESTORE',
  description: 'A restored node group names another group with backups in its own cloud and region, a well-formed target time, stays out of geoshards and archives nothing.',
  check: (spec) => {
    const out: Finding[] = [];
    for (const g of spec.nodeGroups) {
      const r = g.restoreFrom;
      if (!r) continue;
      const source = spec.nodeGroups.find((s) => s.name === r.nodeGroup);
      if (r.nodeGroup === g.name) {
        out.push(finding('DPG-RESTORE', `${r.path}.nodeGroup`, `names the group itself ('${g.name}'): a group is built from another one's ` +
          'backups. Fix: declare a new node group (another name, number and range) with restoreFrom naming this one.'));
      } else if (!source) {
        // A group removed from the declaration (or lost and removed): its repository stays in its region's bucket, at
        // /<fleet>/<group>; the restored group must be in that region, and the bucket must still be the fleet's.
        const bucketKept = spec.nodeGroups.some((s) => s !== g && !s.restoreFrom && s.backup.enabled && s.cloud === g.cloud && s.region === g.region);
        if (!GROUP_NAME.test(r.nodeGroup)) {
          out.push(finding('DPG-RESTORE', `${r.path}.nodeGroup`, `'${r.nodeGroup}' is not a node group name. ` +
            `Fix: name a node group of this fleet (declared: ${spec.nodeGroups.filter((s) => s !== g).map((s) => s.name).join(', ') || 'none'}, or one removed whose backups are in this region's bucket).`));
        } else if (!bucketKept) {
          out.push(finding('DPG-RESTORE', `${r.path}.nodeGroup`, `'${r.nodeGroup}' is not declared, and no declared group of ${g.cloud} ${g.region} ` +
            "backs up, so the fleet keeps no bucket there for a removed group's repository. Fix: name a declared group with backups on, or restore " +
            "in the region the removed group was in while a group there backs up (the bucket is then the fleet's)."));
        }
      } else {
        if (source.restoreFrom) {
          out.push(finding('DPG-RESTORE', `${r.path}.nodeGroup`, `'${source.name}' is itself restored from a backup and takes no backups. ` +
            `Fix: restore from the group it was restored from ('${source.restoreFrom.nodeGroup}').`));
        } else if (!source.backup.enabled) {
          out.push(finding('DPG-RESTORE', `${r.path}.nodeGroup`, `'${source.name}' has backups off, so there is nothing to restore. ` +
            'Fix: name a group with backups on (the default).'));
        }
        if (source.cloud !== g.cloud || source.region !== g.region) {
          out.push(finding('DPG-RESTORE', r.path, `restores '${source.name}' (${source.cloud} ${source.region}) into ${g.cloud} ${g.region}: ` +
            "a group's backups stay in its own region (data residency: a geoshard's rows never leave its geography), and the " +
            `machines read them from that region's bucket. Fix: put the restored group in ${source.cloud} ${source.region}.`));
        }
      }
      if (!restoreTargetUtc(r.targetTime)) {
        out.push(finding('DPG-RESTORE', `${r.path}.targetTime`, `'${r.targetTime}' is not an ISO-8601 time with seconds and an explicit UTC offset. ` +
          "Fix: write e.g. '2026-11-27T10:14:59Z' or '2026-11-27T11:14:59+01:00'."));
      }
      for (const shard of spec.geoshards.filter((s) => s.nodeGroups.includes(g.name))) {
        out.push(finding('DPG-RESTORE', `${shard.path}.nodeGroups`, `lists '${g.name}', which is restored from a backup and stands apart from the mesh. ` +
          `Fix: remove '${g.name}' from geoshard '${shard.name}'.`));
      }
      if (g.backupEnabledDeclared && g.backup.enabled) {
        out.push(finding('DPG-RESTORE', `${g.path}.backup.enabled`, 'is true on a restored group: it archives nothing, so that no copy ever writes ' +
          "a timeline into a live group's repository. Fix: leave backup out (or set enabled: false) on the restored group."));
      }
    }
    return out;
  },
};
