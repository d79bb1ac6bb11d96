/** Address ranges (private, large enough, never overlapping), the DNS zone and secret names. */
import { formatCidr, Ipv4Cidr, isPrivate, overlaps, parseCidr, subnet } from '../../net/cidr';
import { GROUP_PREFIX } from '../derived';
import { Finding } from '../spec';
import { MIN_GROUP_PREFIX, PATTERNS } from './limits';
import { finding, isInt, Rule } from './rule';

export const CIDRS: Rule = {
  id: 'DPG-CIDR',
  description: 'CIDRs are private, large enough for the members, and overlap nowhere in the fleet.',
  check: (spec) => {
    const out: Finding[] = [];
    const fleet = parseCidr(spec.network.fleetCidr);
    if (!fleet) {
      out.push(finding('DPG-CIDR', 'network.fleetCidr', `'${spec.network.fleetCidr}' is not an IPv4 CIDR (network address with no host bits). Fix: use e.g. 10.64.0.0/12.`));
    } else if (!isPrivate(fleet)) {
      out.push(finding('DPG-CIDR', 'network.fleetCidr', `${spec.network.fleetCidr} is not a private (RFC 1918) range. Fix: use a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16.`));
    }
    const placed: { path: string; cidr: Ipv4Cidr }[] = [];
    for (const g of spec.nodeGroups) {
      if (g.existingNetwork) {
        // Its subnets are its ranges (DPG-EXISTING-NETWORK checks them); they must still overlap no other group's.
        g.existingNetwork.subnets.forEach((s, i) => {
          const cidr = parseCidr(s.cidr);
          if (cidr) placed.push({ path: `${g.existingNetwork!.path}.subnets[${i}]`, cidr });
        });
        continue;
      }
      if (g.cidr !== undefined) {
        const cidr = parseCidr(g.cidr);
        if (!cidr) {
          out.push(finding('DPG-CIDR', `${g.path}.cidr`, `'${g.cidr}' is not an IPv4 CIDR (network address with no host bits). Fix: use e.g. 10.64.16.0/20.`));
          continue;
        }
        if (!isPrivate(cidr)) {
          out.push(finding('DPG-CIDR', `${g.path}.cidr`, `${g.cidr} is not a private (RFC 1918) range. Fix: use a private range.`));
        }
        if (cidr.prefix > MIN_GROUP_PREFIX) {
          out.push(finding('DPG-CIDR', `${g.path}.cidr`, `${g.cidr} is too small for the member plan (one block per zone for members, etcd and the load balancer). Fix: use a /${MIN_GROUP_PREFIX} or larger.`));
        }
        placed.push({ path: `${g.path}.cidr`, cidr });
      } else if (fleet && isInt(g.number, 1, 100)) {
        const carved = subnet(fleet, GROUP_PREFIX, g.number - 1);
        if (!carved) {
          out.push(finding('DPG-CIDR', `${g.path}.cidr`, `the fleet CIDR ${spec.network.fleetCidr} holds only ${2 ** Math.max(0, GROUP_PREFIX - fleet.prefix)} node group(s) of /${GROUP_PREFIX}, not number ${g.number}. ` +
            'Fix: widen network.fleetCidr or give the group an explicit cidr.'));
        } else {
          placed.push({ path: `${g.path} (carved ${formatCidr(carved)})`, cidr: carved });
        }
      }
    }
    for (let i = 0; i < placed.length; i++) {
      for (let j = i + 1; j < placed.length; j++) {
        if (overlaps(placed[i].cidr, placed[j].cidr)) {
          out.push(finding('DPG-CIDR', placed[j].path, `${formatCidr(placed[j].cidr)} overlaps ${formatCidr(placed[i].cidr)} of ${placed[i].path}. Fix: give every node group its own, non-overlapping CIDR.`));
        }
      }
    }
    spec.network.clientCidrs.forEach((text, i) => {
      const cidr = parseCidr(text);
      if (!cidr) {
        out.push(finding('DPG-CIDR', `network.clientCidrs[${i}]`, `'${text}' is not an IPv4 CIDR. Fix: give the applications' private range, e.g. 10.20.0.0/16.`));
      } else if (!isPrivate(cidr)) {
        out.push(finding('DPG-CIDR', `network.clientCidrs[${i}]`, `${text} is not a private range; the database must never be reachable from the internet. Fix: list only private application ranges.`));
      }
    });
    return out;
  },
};

export const NETWORK_NAMES: Rule = {
  id: 'DPG-NETWORK',
  description: 'The DNS zone and secret names are valid.',
  check: (spec) => {
    const out: Finding[] = [];
    if (!PATTERNS.dnsZone.test(spec.network.privateDnsZone)) {
      out.push(finding('DPG-NETWORK', 'network.privateDnsZone', `'${spec.network.privateDnsZone}' is not a DNS zone name. Fix: use lower-case labels joined by '.', e.g. ledger.db.internal.`));
    }
    if (!PATTERNS.secretPrefix.test(spec.secrets.namePrefix)) {
      out.push(finding('DPG-NETWORK', 'secrets.namePrefix', `'${spec.secrets.namePrefix}' cannot prefix secret names in both clouds. Fix: use letters, digits, '-' or '_', starting with a letter.`));
    }
    return out;
  },
};
