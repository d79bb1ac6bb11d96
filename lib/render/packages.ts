/**
 * What each machine installs, per image and package source. cloud-init's `packages:` installs them (after
 * write_files has put the unit overrides and createcluster.conf in place, so nothing auto-starts half
 * configured); `apt: sources:` adds PGDG; pgEdge's repository comes from its release package. Repository setup
 * that must precede apt runs in `bootcmd` (before write_files and apt), guarded so later boots skip it.
 */
import { Topology } from '../topology/topology';
import { Machine } from './machine';
import { EXPORTER_PACKAGES, metricsEnabled } from './metrics';

export interface PackagePlan {
  readonly packages: string[];
  /** cloud-init `apt.sources` entries. */
  readonly aptSources: Record<string, { source: string }>;
  /** cloud-init `bootcmd` entries (run before apt, every boot: keep them idempotent). */
  readonly bootcmd: string[][];
}

/** pgEdge's documented repository setup: its release package writes the apt source and installs the signing key. */
export const PGEDGE_RELEASE_DEB = 'https://apt.pgedge.com/repodeb/pgedge-release_latest_all.deb';
const PGEDGE_SOURCES = '/etc/apt/sources.list.d/pgedge.sources';
/** PGDG's signing key (fingerprint B97B 0AFC AA1A 47F0 44F2 44A0 7FCC 7D46 ACCC 4CF8) as Debian's and Ubuntu's postgresql-common ship it. */
export const PGDG_KEY = '/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc';

/**
 * Directory of the PostgreSQL binaries: `postgres.binDir` of the declaration, by default the Debian layout (used by
 * distro, PGDG and pgEdge's deb packages alike).
 */
export function postgresBinDir(topology: Topology): string {
  return topology.postgres.binDir;
}

/**
 * Golden images (`PackageSource.IMAGE`) hold everything already: no packages, no repositories, no bootcmd (and the
 * cloud-config turns package_update/upgrade off, so an air-gapped machine never reaches for a mirror).
 */
export function installsNothing(topology: Topology): boolean {
  return topology.postgres.packageSource === 'image';
}

export function packagePlan(machine: Machine): PackagePlan {
  const { topology, group } = machine;
  if (installsNothing(topology)) return { packages: [], aptSources: {}, bootcmd: [] };
  const packages = new Set<string>(['curl', 'openssl', 'python3-yaml']);
  if (group.cloud === 'aws') packages.add('python3-boto3');
  if (machine.etcd) {
    packages.add('etcd-server');
    packages.add('etcd-client');
  }
  const aptSources: Record<string, { source: string }> = {};
  const bootcmd: string[][] = [];
  if (machine.role === 'postgres') {
    const v = topology.postgres.version;
    const source = topology.postgres.packageSource;
    if (source === 'pgedge') {
      // Patched PostgreSQL with Spock and snowflake, and pgEdge's Patroni build.
      packages.add(`pgedge-enterprise-postgres-${v}`);
      packages.add('pgedge-patroni');
      // pgEdge's documented setup (release package + its prerequisites gnupg and lsb-release); apt resolves the
      // release package's dependencies. Downloaded with Python, which every cloud-init image has.
      bootcmd.push(['sh', '-c',
        `test -e ${PGEDGE_SOURCES} || { python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' ` +
        `${PGEDGE_RELEASE_DEB} /run/pgedge-release.deb && apt-get update -q && DEBIAN_FRONTEND=noninteractive ` +
        'apt-get install -y -q --no-install-recommends gnupg lsb-release /run/pgedge-release.deb; }']);
    } else {
      packages.add(`postgresql-${v}`);
      packages.add('patroni');
      // Patroni's etcd3 DCS talks to etcd's gRPC gateway over urllib3 but imports python-etcd (its exceptions and
      // client base), as do Patroni 3.0.2 (Debian 12), 3.2.2 (Ubuntu 24.04) and 4.0.7 (Debian 13, python3-etcd 0.4.5).
      packages.add('python3-etcd');
      if (topology.replication.engine === 'pglogical') packages.add(`postgresql-${v}-pglogical`);
      if (source === 'pgdg') {
        // PGDG's signing key comes from the distro's own (archive-signed) postgresql-common, as PGDG's setup script
        // uses it: installed before apt configures the source, so no key travels in user-data or comes from a keyserver.
        bootcmd.push(['sh', '-c', `test -e ${PGDG_KEY} || { apt-get update -q && DEBIAN_FRONTEND=noninteractive ` +
          'apt-get install -y -q --no-install-recommends postgresql-common; }']);
        aptSources.pgdg = { source: `deb [signed-by=${PGDG_KEY}] https://apt.postgresql.org/pub/repos/apt $RELEASE-pgdg main` };
      }
    }
  }
  // Backups: pgBackRest, from the distribution (Debian 12: 2.45, Ubuntu 24.04: 2.50, Debian 13: 2.55.1) or from PGDG's
  // or pgEdge's repository where it carries a newer one.
  if (machine.role === 'postgres' && (group.backup || group.restore)) packages.add('pgbackrest');
  // Metrics: Debian's exporters (Debian 12: postgres_exporter 0.11.1, node_exporter 1.5.0), from the distribution.
  if (machine.role === 'postgres' && metricsEnabled(topology)) EXPORTER_PACKAGES.forEach((p) => packages.add(p));
  return { packages: [...packages].sort(), aptSources, bootcmd };
}
