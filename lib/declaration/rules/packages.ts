/** The packages a node group installs: PostgreSQL version, package source, image and engine must go together. */
import { ImageFlavour, PackageSource, ReplicationEngine } from '../props';
import { Finding } from '../spec';
import { finding, isInt, Rule } from './rule';

/** What each distribution ships: its PostgreSQL major and Patroni (checked in the archives). */
export const DISTRO_PACKAGES: Record<ImageFlavour, { postgres: number; patroni: string }> = {
  [ImageFlavour.UBUNTU_24_04]: { postgres: 16, patroni: 'Patroni 3.2.2' },
  [ImageFlavour.DEBIAN_12]: { postgres: 15, patroni: 'Patroni 3.0.2' },
  [ImageFlavour.DEBIAN_13]: { postgres: 17, patroni: 'Patroni 4.0.7' },
};

/** What each package source can install, per image: PostgreSQL majors, and the engines it ships. */
export function packageProblems(source: PackageSource, image: ImageFlavour, version: number, engine: ReplicationEngine): string[] {
  const problems: string[] = [];
  if (source === PackageSource.DISTRO) {
    const { postgres: shipped, patroni } = DISTRO_PACKAGES[image];
    if (version !== shipped) {
      problems.push(`${image} ships only PostgreSQL ${shipped} (and ${patroni}, which supports PostgreSQL <= ${shipped}); ` +
        `PostgreSQL ${version} is not available from its distro packages. Fix: set postgres.version to ${shipped}, or packageSource to 'pgdg'.`);
    }
  }
  if (source === PackageSource.PGDG && !isInt(version, 13, 18)) {
    problems.push(`the PGDG repository ships PostgreSQL 13 to 18, not ${version}. Fix: choose a version in 13..18.`);
  }
  // pgEdge Enterprise Postgres packages: Spock 5.0.4 is supported on PG 16, 17 and 18 (docs.pgedge.com, "Upgrading Spock").
  if (source === PackageSource.PGEDGE && !isInt(version, 16, 18)) {
    problems.push(`pgEdge's Enterprise Postgres packages (Spock 5) support PostgreSQL 16 to 18, not ${version}. Fix: choose a version in 16..18.`);
  }
  if (engine === ReplicationEngine.SPOCK && source !== PackageSource.PGEDGE && source !== PackageSource.IMAGE) {
    problems.push(`Spock needs pgEdge's patched PostgreSQL, but packageSource is '${source}'. ` +
      "Fix: set postgres.packageSource to 'pgedge', or 'image' with a golden image that holds PostgreSQL built with Spock's patches, or use replication.engine 'pglogical'.");
  }
  // Spock 5 (5.0.x) supports PostgreSQL 15 to 18; a golden image carries whichever the platform team built.
  if (engine === ReplicationEngine.SPOCK && source === PackageSource.IMAGE && !isInt(version, 15, 18)) {
    problems.push(`Spock 5 supports PostgreSQL 15 to 18, not ${version}. Fix: set postgres.version to the major version the golden image holds (15..18).`);
  }
  if (source === PackageSource.IMAGE && engine !== ReplicationEngine.SPOCK && !isInt(version, 13, 18)) {
    problems.push(`postgres.version ${version} is not a PostgreSQL major version this library supports (13..18). Fix: set it to the major version the golden image holds.`);
  }
  if (engine === ReplicationEngine.PGLOGICAL && source === PackageSource.PGEDGE) {
    problems.push("pgEdge's repository ships Spock, not pglogical. Fix: use engine 'spock' with pgEdge, or packageSource 'distro'/'pgdg' for pglogical.");
  }
  if (engine === ReplicationEngine.PGLOGICAL && source === PackageSource.PGDG && version > 17) {
    problems.push(`pglogical 2 is packaged for PostgreSQL up to 17, not ${version}. Fix: use PostgreSQL 17 or lower, or engine 'spock'.`);
  }
  if (engine === ReplicationEngine.NATIVE && version < 16) {
    problems.push(`native multi-master replication needs PostgreSQL 16 or later (origin = none), not ${version}. ` +
      'Fix: set postgres.version to 16 or later (on Debian 12 use packageSource \'pgdg\').');
  }
  return problems;
}

export const PACKAGES: Rule = {
  id: 'DPG-PACKAGES',
  description: 'The engine, PostgreSQL version, package source and image can be installed together.',
  check: (spec) => {
    const { version, packageSource } = spec.postgres;
    const { engine } = spec.replication;
    const images = [...new Set(spec.nodeGroups.map((g) => g.image))].sort();
    const seen = new Set<string>();
    const out: Finding[] = [];
    for (const image of images.length ? images : [ImageFlavour.UBUNTU_24_04]) {
      for (const problem of packageProblems(packageSource, image, version, engine)) {
        if (seen.has(problem)) continue;
        seen.add(problem);
        out.push(finding('DPG-PACKAGES', 'postgres', problem));
      }
    }
    return out;
  },
};
