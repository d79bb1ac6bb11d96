/** Metrics: the ranges Prometheus may scrape the exporters from are private, never the internet. */
import { isPrivate, parseCidr } from '../../net/cidr';
import { Finding } from '../spec';
import { duplicates, finding, Rule } from './rule';

export const MONITORING: Rule = {
  id: 'DPG-MONITORING',
  description: 'The ranges Prometheus scrapes the exporters from are private IPv4 CIDRs (never the internet).',
  check: (spec) => {
    const out: Finding[] = [];
    spec.monitoring.scrapeCidrs.forEach((text, i) => {
      const path = `monitoring.scrapeCidrs[${i}]`;
      const cidr = parseCidr(text);
      if (!cidr) {
        out.push(finding('DPG-MONITORING', path, `'${text}' is not an IPv4 CIDR (network address with no host bits). Fix: give the monitoring network's private range, e.g. 10.250.0.0/24.`));
      } else if (!isPrivate(cidr)) {
        out.push(finding('DPG-MONITORING', path, `${text} is not a private (RFC 1918) range; the exporters must never be reachable from the internet. ` +
          'Fix: list only the private ranges your Prometheus scrapes from (inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16).'));
      }
    });
    for (const dup of duplicates(spec.monitoring.scrapeCidrs)) {
      out.push(finding('DPG-MONITORING', 'monitoring.scrapeCidrs', `${dup} is listed more than once. Fix: list each range once.`));
    }
    return out;
  },
};
