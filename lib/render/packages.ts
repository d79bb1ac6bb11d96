/**
 * What each machine installs, per image and package source. cloud-init's `packages:` installs them (after
 * write_files has put the unit overrides and createcluster.conf in place, so nothing auto-starts half
 * configured); `apt: sources:` adds PGDG; pgEdge's repository comes from its release package. Repository setup
 * that must precede apt runs in `bootcmd` (before write_files and apt), guarded so later boots skip it.
 */
import { Machine } from './machine';

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

/** Directory of the PostgreSQL binaries (the Debian layout, used by distro, PGDG and pgEdge's deb packages alike). */
export function postgresBinDir(version: number): string {
  return `/usr/lib/postgresql/${version}/bin`;
}

export function packagePlan(machine: Machine): PackagePlan {
  const { topology, group } = machine;
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
  return { packages: [...packages].sort(), aptSources, bootcmd };
}
