/** Patroni's high availability: synchronous replication that survives a lost standby, and timings that hold. */
import { SynchronousMode } from '../props';
import { Finding } from '../spec';
import { MAX_MEMBERS } from './limits';
import { finding, isInt, Rule } from './rule';

export const SYNCHRONOUS_REPLICATION: Rule = {
  id: 'DPG-SYNC',
  description: 'Synchronous replication never blocks commits when one standby is lost.',
  check: (spec) => {
    const { synchronousMode, synchronousStandbys } = spec.ha;
    if (synchronousMode === SynchronousMode.OFF) return [];
    const out: Finding[] = [];
    if (!isInt(synchronousStandbys, 1, MAX_MEMBERS)) {
      out.push(finding('DPG-SYNC', 'ha.synchronousStandbys', `${synchronousStandbys} is not a whole number of at least 1. Fix: use 1.`));
      return out;
    }
    // A member count out of range is DPG-MEMBERS's finding; advice derived from it would contradict that rule.
    for (const g of spec.nodeGroups.filter((group) => isInt(group.members, 1, MAX_MEMBERS))) {
      const standbys = g.members - 1;
      if (synchronousStandbys > standbys - 1) {
        const fewer = standbys - 1 >= 1 ? `use ha.synchronousStandbys <= ${standbys - 1}, or ` : '';
        out.push(finding('DPG-SYNC', `${g.path}.members`,
          `${synchronousStandbys} synchronous standby(s) out of ${standbys} standby(s): losing one standby would block or degrade commits. ` +
          `Fix: ${fewer}give the group at least ${synchronousStandbys + 2} members, or set ha.synchronousMode to 'off'.`));
      }
    }
    return out;
  },
};

export const PATRONI_TIMING: Rule = {
  id: 'DPG-PATRONI-TIMING',
  description: 'Patroni timing keeps loop_wait + 2 * retry_timeout <= ttl and the documented minimums.',
  check: (spec) => {
    const { ttl, loopWait, retryTimeout, maximumLagOnFailoverBytes } = spec.ha;
    const out: Finding[] = [];
    if (!isInt(ttl, 20, 3600)) out.push(finding('DPG-PATRONI-TIMING', 'ha.ttl', `${ttl} is below Patroni's minimum ttl of 20 s (or not a whole number). Fix: use ttl >= 20, or timingProfile 'fast'.`));
    if (!isInt(loopWait, 1, 3600)) out.push(finding('DPG-PATRONI-TIMING', 'ha.loopWait', `${loopWait} is not a whole number of seconds >= 1. Fix: use loopWait >= 1.`));
    if (!isInt(retryTimeout, 3, 3600)) out.push(finding('DPG-PATRONI-TIMING', 'ha.retryTimeout', `${retryTimeout} is below Patroni's minimum retry_timeout of 3 s (or not a whole number). Fix: use retryTimeout >= 3.`));
    if (loopWait + 2 * retryTimeout > ttl) {
      out.push(finding('DPG-PATRONI-TIMING', 'ha', `loop_wait ${loopWait} + 2 x retry_timeout ${retryTimeout} = ${loopWait + 2 * retryTimeout} exceeds ttl ${ttl}: ` +
        'the leader key could expire while a healthy leader is still retrying. Fix: keep loopWait + 2 * retryTimeout <= ttl (e.g. 20 / 2 / 9).'));
    }
    if (!isInt(maximumLagOnFailoverBytes, 0, Number.MAX_SAFE_INTEGER)) {
      out.push(finding('DPG-PATRONI-TIMING', 'ha.maximumLagOnFailoverBytes', `${maximumLagOnFailoverBytes} is not a whole number of bytes >= 0. Fix: use e.g. 1048576.`));
    }
    return out;
  },
};
