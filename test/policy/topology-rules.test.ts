/**
 * The topology rules are pure functions of a resolved Topology: the sample fleets pass, and each
 * rule catches a topology changed to break what it guards (as a resolver bug or a hand-built
 * topology would).
 */
import { Topology } from '../../lib';
import { resolveFleet } from '../../lib/pipeline';
import { evaluateTopology, TOPOLOGY_RULES } from '../../lib/policy';
import { ledgerFleet, pglogicalFleet, singleGroupDedicatedEtcd } from '../fixtures/fleets';

function ledger(): Topology {
  return JSON.parse(JSON.stringify(resolveFleet(ledgerFleet(), 'stack/Ledger', 'ledger').topology));
}

/** The findings of one rule, as messages. */
function findings(ruleId: string, topology: Topology): string[] {
  return evaluateTopology(topology, 'stack/Ledger', TOPOLOGY_RULES.filter((r) => r.id === ruleId)).map((r) => r.message);
}

describe('the sample fleets pass every topology rule', () => {
  test.each([
    ['ledger', ledgerFleet()],
    ['pglogical', pglogicalFleet()],
    ['dedicated etcd', singleGroupDedicatedEtcd()],
  ])('%s', (_name, props) => {
    expect(evaluateTopology(resolveFleet(props, 'x', 'x').topology, 'x')).toEqual([]);
  });
});

describe('DPG-P010 node group spread over zones', () => {
  test('two of three etcd members in one zone', () => {
    const t: any = ledger();
    t.nodeGroups[0].etcd.members[1].zone = t.nodeGroups[0].etcd.members[0].zone;
    expect(findings('DPG-P010', t)).toEqual([
      "node group 'use1': 2 of 3 etcd members are in us-east-1a; the quorum tolerates 1 lost member(s), so losing us-east-1a loses it",
    ]);
  });

  test('three of five etcd members in one zone', () => {
    const t: any = ledger();
    const g = t.nodeGroups[1];
    const zone = g.zones[0];
    g.etcd.members = [0, 1, 2, 3, 4].map((i) => ({ ...g.etcd.members[0], name: `e${i}`, zone: i < 3 ? zone : g.zones[i - 2] }));
    expect(findings('DPG-P010', t)).toEqual([expect.stringMatching(/^node group 'euw1': 3 of 5 etcd members are in eu-west-1a; the quorum tolerates 2/)]);
  });

  test('all Postgres members in one zone', () => {
    const t: any = ledger();
    for (const m of t.nodeGroups[2].members) m.zone = 'europe-west3-a';
    expect(findings('DPG-P010', t)).toEqual(expect.arrayContaining(["node group 'euw3': all 3 Postgres members are in europe-west3-a"]));
  });
});

describe('DPG-P011 synchronous settings that block commits', () => {
  test('as many synchronous standbys as standbys', () => {
    const t: any = ledger();
    t.patroni.synchronousNodeCount = 2;
    expect(findings('DPG-P011', t)).toEqual([
      "node group 'use1': synchronous_node_count 2 with 2 standby(s) (synchronous_mode on): losing one standby blocks or degrades commits",
      "node group 'euw1': synchronous_node_count 2 with 2 standby(s) (synchronous_mode on): losing one standby blocks or degrades commits",
      "node group 'euw3': synchronous_node_count 2 with 2 standby(s) (synchronous_mode on): losing one standby blocks or degrades commits",
    ]);
  });

  test('strict mode in a two-member group', () => {
    const t: any = ledger();
    t.patroni.synchronousMode = 'strict';
    t.nodeGroups[0].members = t.nodeGroups[0].members.slice(0, 2);
    expect(findings('DPG-P011', t)).toEqual([expect.stringMatching(/^node group 'use1': synchronous_node_count 1 with 1 standby\(s\) \(synchronous_mode strict\): losing one standby blocks commits$/)]);
  });

  test('synchronous mode with no synchronous standby', () => {
    const t: any = ledger();
    t.patroni.synchronousNodeCount = 0;
    expect(findings('DPG-P011', t)).toEqual(['synchronous_mode is on but synchronous_node_count is 0']);
  });

  test('asynchronous groups are fine at any size', () => {
    const t: any = ledger();
    t.patroni.synchronousMode = 'off';
    t.patroni.synchronousNodeCount = 0;
    t.nodeGroups[0].members = t.nodeGroups[0].members.slice(0, 1);
    expect(findings('DPG-P011', t)).toEqual([]);
  });
});

describe('DPG-P012 Patroni timing', () => {
  test.each<[string, { ttl: number; loopWait: number; retryTimeout: number }, string[]]>([
    ['rule broken', { ttl: 25, loopWait: 10, retryTimeout: 10 }, ['loop_wait 10 + 2 x retry_timeout 10 = 30 exceeds ttl 25']],
    ['below the minimums', { ttl: 10, loopWait: 0, retryTimeout: 2 }, [
      "ttl 10 is below Patroni's minimum of 20", 'loop_wait 0 is below 1', "retry_timeout 2 is below Patroni's minimum of 3"]],
  ])('%s', (_name, timing, expected) => {
    const t: any = ledger();
    Object.assign(t.patroni, timing);
    expect(findings('DPG-P012', t)).toEqual(expected);
  });

  test('the fast profile 20 / 2 / 9 passes', () => {
    const t: any = ledger();
    Object.assign(t.patroni, { ttl: 20, loopWait: 2, retryTimeout: 9 });
    expect(findings('DPG-P012', t)).toEqual([]);
  });
});

describe('DPG-P013 geoshard residency', () => {
  test('a subscription carrying the eu set to a group outside eu', () => {
    const t: any = ledger();
    const sub = t.subscriptions.find((s: any) => s.subscriber === 'use1' && s.provider === 'euw1');
    sub.replicationSets.push('geo_eu');
    expect(findings('DPG-P013', t)).toEqual([
      "subscription sub_use1_euw1 (euw1 -> use1) carries 'geo_eu', but 'use1' is outside geoshard 'eu' (euw1, euw3)",
    ]);
  });

  test('a group outside the geography publishing its set', () => {
    const t: any = ledger();
    t.nodeGroups[0].replicationSets.push('geo_eu');
    expect(findings('DPG-P013', t)).toEqual(["node group 'use1' publishes 'geo_eu' but is outside geoshard 'eu'"]);
  });

  test('a geo set of no declared geoshard', () => {
    const t: any = ledger();
    t.subscriptions[0].replicationSets.push('geo_us');
    expect(findings('DPG-P013', t)).toEqual([expect.stringMatching(/carries set 'geo_us', which belongs to no declared geoshard/)]);
  });

  test('a geoshard table that is also global', () => {
    const t: any = ledger();
    t.replication.globalTables.push('ledger.entries_eu');
    expect(findings('DPG-P013', t)).toEqual(["'ledger.entries_eu' of geoshard 'eu' is also a global table, so it replicates to every node group"]);
  });

  test('the resolved ledger mesh keeps geo_eu between euw1 and euw3', () => {
    const t = ledger();
    const carrying = t.subscriptions.filter((s) => s.replicationSets.includes('geo_eu')).map((s) => s.name);
    expect(carrying).toEqual(['sub_euw1_euw3', 'sub_euw3_euw1']);
    expect(findings('DPG-P013', t)).toEqual([]);
  });
});

describe('DPG-P014 plain-text or unverified channel in the topology', () => {
  test('an http etcd peer URL and a DSN that does not verify the server', () => {
    const t: any = ledger();
    t.nodeGroups[0].etcd.members[0].peerUrl = t.nodeGroups[0].etcd.members[0].peerUrl.replace('https', 'http');
    t.subscriptions[0].providerDsn = t.subscriptions[0].providerDsn.replace('sslmode=verify-full', 'sslmode=require');
    t.nodeGroups[1].leaderDsn = t.nodeGroups[1].leaderDsn.replace(/ sslmode=\S+/, '');
    expect(findings('DPG-P014', t)).toEqual([
      "node group 'use1': etcd member ledger-use1-pg1 uses http://10.64.0.10:2380",
      "node group 'euw1': leader DSN has sslmode=(unset, i.e. prefer)",
      `subscription ${t.subscriptions[0].name}: provider DSN has sslmode=require`,
    ]);
  });
});
