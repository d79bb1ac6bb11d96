/**
 * Metrics (issue 17): every Postgres member's two exporters, scraped as Prometheus would from inside the fleet (the
 * group's client, over the member's private address), over HTTPS with the fleet's CA; plain HTTP must not answer with
 * metrics. Each member must serve the contract's series for its node group: postgres_exporter's `dpg_postgres_*` and
 * retention budget everywhere, and on the leader its slots, the lag of the groups subscribed to it and one
 * `dpg_subscription_up` 1 per subscription it makes; node_exporter's `dpg_mesh_state` and `dpg_mesh_problems` (from
 * mesh-keeper's textfile) and the data disk's `node_filesystem_avail_bytes`. A short load first, so the mesh carries
 * rows and the drill ends with the usual accounting.
 */
import { DrillResult } from '../report';
import { waitFor } from '../shell';
import { DrillEnv, finish, newResult, notApplicable, now, settle, startLoad, step } from './harness';

/**
 * The exporters' ports, as the metrics contract states them. A copy: the rehearsal never imports the library (it judges
 * what the library produced), so test/metrics.test.ts pins it to the library's `PORTS`.
 */
export const EXPORTER_PORTS = { postgres: 9187, node: 9100 };
const PORTS = EXPORTER_PORTS;
/** How long a member may take to serve every series (anti-entropy and mesh state come from loops of their own). */
const WAIT_MS = 120_000;

/**
 * `name{labels} value` lines of an exposition, as [name, labels text (with its braces, escapes kept), value]; a line
 * that is not one gives ['', '', NaN]. Label values are read as quoted strings, so a `}` or `\"` inside one is part of it.
 */
export function series(text: string): [string, string, number][] {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\})?\s+(\S+)/.exec(l);
    return m ? [m[1], m[2] ?? '', Number(m[3])] as [string, string, number] : ['', '', NaN];
  });
}

export function find(text: string, name: string, labels: Record<string, string>): number[] {
  return series(text).filter(([n, l]) => n === name && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))).map(([, , v]) => v);
}

/** One exporter's exposition, scraped over HTTPS with the fleet's CA from the group's client (undefined: no answer). */
export async function scrapeExporter(env: DrillEnv, group: string, ip: string, port: number): Promise<string | undefined> {
  const out = await env.hosts.clientExec(group, ['curl', '-sS', '--fail', '--max-time', '10', '--cacert', env.access.caFile, `https://${ip}:${port}/metrics`],
    { allowFail: true, timeoutMs: 20_000 });
  return out.code === 0 ? out.stdout : undefined;
}

export async function metrics(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('metrics', env);
  const started = now();
  step(env, r, `steady load: ${env.rate} rows/s in every group for 5 s`);
  const writers = startLoad(env, r.drill, 5);
  await Promise.all(writers.map((w) => w.done()));
  await settle(env, r, writers, started + 1);

  // A golden image (the user-data installs nothing) that lacks the exporters: the drill does not apply (the README says
  // such an image must hold them); an image the user-data lists them for must have them.
  const first = env.fleet.groups[0].members[0];
  const installed = await env.hosts.exec(first.machine.name, ['test', '-x', '/usr/bin/prometheus-postgres-exporter'], { allowFail: true });
  if (installed.code !== 0 && !Array.isArray(first.config.doc.packages)) {
    return notApplicable(r, started, `${first.machine.name} boots a golden image without prometheus-postgres-exporter (the image must hold it)`);
  }
  const problems: string[] = [];
  for (const g of env.fleet.groups) {
    for (const m of g.members) {
      const ip = m.machine.privateIp;
      const name = m.machine.name;
      const scrape = (port: number) => scrapeExporter(env, g.name, ip, port);
      const missing = (pg: string, node: string): string[] => {
        const out: string[] = [];
        const need = (text: string, metric: string, labels: Record<string, string>, ok: (v: number) => boolean = () => true) => {
          const values = find(text, metric, labels);
          if (values.length === 0 || !values.some(ok)) out.push(`${metric}${JSON.stringify(labels)}${values.length ? ` = ${values.join(',')}` : ''}`);
        };
        const ng = { node_group: g.name };
        need(pg, 'dpg_postgres_primary', ng);
        need(pg, 'dpg_postgres_timeline', ng, (v) => v >= 1);
        need(pg, 'dpg_slot_wal_keep_budget_bytes', ng, (v) => v > 0);
        need(node, 'dpg_mesh_problems', ng);
        need(node, 'node_filesystem_avail_bytes', { mountpoint: '/var/lib/postgresql' }, (v) => v > 0);
        const leader = find(pg, 'dpg_postgres_primary', ng)[0] === 1;
        need(node, 'dpg_mesh_state', { ...ng, state: leader ? 'complete' : 'not-leader' }, (v) => v === 1);
        if (leader) {
          need(pg, 'dpg_slot_info', { ...ng, kind: 'physical' }, (v) => v === 1);
          need(pg, 'dpg_slot_retained_bytes', { ...ng, kind: 'physical' }, (v) => v >= 0);
          // The full mesh: every other group streams from a slot here, and this group subscribes to every other one.
          for (const peer of env.fleet.groups.filter((x) => x.name !== g.name)) {
            need(pg, 'dpg_replication_lag_bytes', { ...ng, peer_group: peer.name }, (v) => v >= 0);
            need(pg, 'dpg_subscription_up', { ...ng, provider_group: peer.name }, (v) => v === 1);
          }
        }
        return out;
      };
      let last: string[] = [];
      const ok = await waitFor(`the exporters of ${name}`, WAIT_MS, async () => {
        const [pg, node] = [await scrape(PORTS.postgres), await scrape(PORTS.node)];
        if (pg === undefined || node === undefined) {
          last = [`no HTTPS answer on ${pg === undefined ? PORTS.postgres : PORTS.node}`];
          return undefined;
        }
        last = missing(pg, node);
        return last.length === 0 ? true : undefined;
      }, 2000).catch(() => false);
      if (!ok) problems.push(`${name} (${g.name}, ${ip}): ${last.join('; ')}`);
      for (const port of [PORTS.postgres, PORTS.node]) {
        const plain = await env.hosts.clientExec(g.name, ['curl', '-s', '--max-time', '10', `http://${ip}:${port}/metrics`], { allowFail: true, timeoutMs: 20_000 });
        if (/^# HELP/m.test(plain.stdout)) problems.push(`${name}: port ${port} serves metrics over plain HTTP`);
      }
    }
    step(env, r, `${g.name}: ${g.members.length} member(s) scraped over HTTPS on their private addresses`);
  }
  for (const p of problems) r.notes.push(`missing: ${p}`);
  const result = await finish(r, started);
  if (problems.length > 0 && result.status === 'pass') result.status = 'fail';
  return result;
}
