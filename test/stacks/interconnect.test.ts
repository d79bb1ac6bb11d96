/** Fleet networking across regions and clouds: VPC peering both ways, the HA VPN's tunnels, BGP and keys. */
import { Cloud } from '../../lib';
import { ledgerFleet, pglogicalFleet, singleGroupDedicatedEtcd } from '../fixtures/fleets';
import { fleetStack, ownedBy, resourcesOf, synthJson } from './helpers';

test('AWS regions are peered: requester and accepter through their own providers, routes to every group CIDR both ways', () => {
  const { stack, fleet } = fleetStack(pglogicalFleet());
  const json = synthJson(stack);
  const [[pcxId, pcx]] = resourcesOf(json, 'aws_vpc_peering_connection');
  const [[, accepter]] = resourcesOf(json, 'aws_vpc_peering_connection_accepter');
  const [peering] = fleet.topology.network.awsPeerings;
  expect(pcx).toMatchObject({ region: peering.requesterRegion, peer_region: peering.accepterRegion, provider: `aws.${peering.requesterRegion}`, auto_accept: false });
  expect(accepter).toMatchObject({ region: peering.accepterRegion, provider: `aws.${peering.accepterRegion}`, auto_accept: true, vpc_peering_connection_id: `\${aws_vpc_peering_connection.${pcxId}.id}` });
  const routes = resourcesOf(json, 'aws_route').filter(([, r]) => r.vpc_peering_connection_id).map(([, r]) => ({ region: r.region, to: r.destination_cidr_block }));
  const cidrOf = (region: string) => fleet.topology.nodeGroups.filter((g) => g.region === region).map((g) => g.cidr);
  expect(routes).toEqual(expect.arrayContaining([
    ...cidrOf(peering.accepterRegion).map((to) => ({ region: peering.requesterRegion, to })),
    ...cidrOf(peering.requesterRegion).map((to) => ({ region: peering.accepterRegion, to })),
  ]));
  expect(routes).toHaveLength(2);
  // One cloud: no VPN.
  expect(resourcesOf(json, 'aws_vpn_connection')).toEqual([]);
  expect(resourcesOf(json, 'google_compute_vpn_tunnel')).toEqual([]);
});

test('AWS <-> GCP HA VPN per AWS region: 4 IKEv2 tunnels, planned /30s, BGP both sides, route propagation', () => {
  const { stack, fleet } = fleetStack(ledgerFleet());
  const json = synthJson(stack);
  const links = fleet.topology.network.vpnLinks;
  expect(links.map((l) => l.awsRegion)).toEqual(['eu-west-1', 'us-east-1']);
  for (const link of links) {
    const mine = <T extends string>(type: T) => resourcesOf(json, type).filter(([id]) => ownedBy(id, `vpn-${link.awsRegion}`));
    const [[, vgw]] = mine('aws_vpn_gateway');
    expect(vgw).toMatchObject({ amazon_side_asn: String(link.awsAsn), region: link.awsRegion });
    expect(mine('aws_vpn_gateway_route_propagation')).toHaveLength(1);
    expect(mine('aws_customer_gateway').map(([, c]) => c.bgp_asn)).toEqual([String(link.gcpAsn), String(link.gcpAsn)]);
    const connections = mine('aws_vpn_connection');
    expect(connections).toHaveLength(2);
    for (const [, c] of connections) {
      expect(c).toMatchObject({ type: 'ipsec.1', static_routes_only: false, tunnel1_ike_versions: ['ikev2'], tunnel2_ike_versions: ['ikev2'] });
      expect(c.tunnel1_preshared_key).toBeUndefined();
    }
    const inside = connections.flatMap(([, c]) => [c.tunnel1_inside_cidr, c.tunnel2_inside_cidr]).sort();
    expect(inside).toEqual(link.tunnels.map((t) => t.insideCidr).sort());
    const [[, external]] = mine('google_compute_external_vpn_gateway');
    expect(external.redundancy_type).toBe('FOUR_IPS_REDUNDANCY');
    expect(external.interface.map((i: any) => i.id)).toEqual([0, 1, 2, 3]);
    const tunnels = mine('google_compute_vpn_tunnel').map(([, t]) => t);
    expect(tunnels).toHaveLength(4);
    for (const t of tunnels) {
      expect(t.ike_version).toBe(2);
      expect(t.region).toBe(link.gcpRegion);
      // The key is a reference to AWS's generated key, never a value.
      expect(t.shared_secret).toMatch(/^\$\{aws_vpn_connection\.[^.]+\.tunnel[12]_preshared_key\}$/);
    }
    expect(tunnels.map((t) => t.vpn_gateway_interface).sort()).toEqual([0, 0, 1, 1]);
    const interfaces = mine('google_compute_router_interface').map(([, i]) => i.ip_range).sort();
    const peers = mine('google_compute_router_peer').map(([, p]) => ({ ip: p.peer_ip_address, asn: p.peer_asn }));
    const expectedGcp = link.tunnels.map((t) => t.insideCidr.replace(/\.(\d+)\/30$/, (_, d) => `.${Number(d) + 2}/30`)).sort();
    expect(interfaces).toEqual(expectedGcp);
    expect(peers.map((p) => p.ip).sort()).toEqual(link.tunnels.map((t) => t.insideCidr.replace(/\.(\d+)\/30$/, (_, d) => `.${Number(d) + 1}`)).sort());
    for (const p of peers) expect(p.asn).toBe(link.awsAsn);
  }
  const routers = resourcesOf(json, 'google_compute_router').filter(([, r]) => r.bgp);
  expect(routers.map(([, r]) => ({ region: r.region, asn: r.bgp.asn }))).toEqual([{ region: 'europe-west3', asn: 65000 }]);
});

test('an external interconnect or a single cloud creates no VPN', () => {
  const external = fleetStack({ ...ledgerFleet(), network: { interconnect: 'external' as any } });
  expect(resourcesOf(synthJson(external.stack), 'google_compute_ha_vpn_gateway')).toEqual([]);
  const gcpOnly = fleetStack(singleGroupDedicatedEtcd());
  const json = synthJson(gcpOnly.stack);
  expect(Object.keys(json.resource).filter((t) => t.startsWith('aws_'))).toEqual([]);
  expect(gcpOnly.fleet.topology.nodeGroups.every((g) => g.cloud === Cloud.GCP)).toBe(true);
});
