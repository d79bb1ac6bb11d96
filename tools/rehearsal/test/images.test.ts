/** Rehearsal images: which image a stack boots (or why none), the inputs' hash, the manifest. No root needed. */
import { chmodSync, cpSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import {
  buildImage, BUILDER_VERSION, cachedImage, IMAGES_DIR, imageDirName, importedDirName, imageFor, imageHash, imageInputs, imageRequestFromTags, imageRequestFromUserData,
  listImages, missingPackages, parseManifest, selectImage, versionsFrom,
} from '../src/images';

const awsTags = (image: string, source: string, postgres: string, engine: string) => ({
  Name: 'x', 'distributed-postgres:image': image, 'distributed-postgres:package-source': source,
  'distributed-postgres:postgres': postgres, 'distributed-postgres:engine': engine,
});

describe('image selection', () => {
  it('maps the tags to an image', () => {
    expect(imageFor(imageRequestFromTags(awsTags('debian-12', 'distro', '15', 'pglogical'), 'aws')!)).toBe('debian-12');
    expect(imageFor(imageRequestFromTags(awsTags('debian-12', 'distro', '15', 'native'), 'aws')!)).toBe('debian-12');
    expect(imageFor(imageRequestFromTags(awsTags('debian-13', 'distro', '17', 'pglogical'), 'aws')!)).toBe('debian-13');
    expect(imageFor(imageRequestFromTags(awsTags('debian-13', 'distro', '17', 'native'), 'aws')!)).toBe('debian-13');
    expect(imageFor(imageRequestFromTags(awsTags('debian-12', 'image', '15', 'spock'), 'aws')!)).toBe('spock');
  });

  it('reads GCP labels (- for :)', () => {
    const labels = {
      'distributed-postgres-image': 'debian-13', 'distributed-postgres-package-source': 'distro',
      'distributed-postgres-postgres': '17', 'distributed-postgres-engine': 'native',
    };
    expect(imageRequestFromTags(labels, 'gcp')).toEqual({ image: 'debian-13', packageSource: 'distro', postgres: '17', engine: 'native', from: 'tags' });
    expect(imageRequestFromTags(labels, 'aws')).toBeUndefined();
  });

  it('refuses any other combination, naming what was asked and which images exist', () => {
    const ask = (t: Record<string, string>) => () => imageFor(imageRequestFromTags(t, 'aws')!);
    expect(ask(awsTags('ubuntu-24.04', 'pgedge', '17', 'spock'))).toThrow(
      /no image for image flavour ubuntu-24\.04, package source pgedge, PostgreSQL 17, engine spock \(from the machine's tags\)\. Images: debian-12 \(image flavour debian-12, package source distro, PostgreSQL 15, engine pglogical\|native\); debian-13 .*; spock \(image flavour debian-12, package source image, PostgreSQL 15, engine spock\)/);
    expect(ask(awsTags('debian-12', 'distro', '17', 'pglogical'))).toThrow(/PostgreSQL 17/);
    expect(ask(awsTags('debian-13', 'distro', '17', 'spock'))).toThrow(/engine spock/);
    expect(ask(awsTags('debian-12', 'pgdg', '15', 'native'))).toThrow(/package source pgdg/);
  });

  it('infers the request from the user-data when the machine has no image tags', () => {
    expect(imageRequestFromUserData({ packages: ['curl', 'postgresql-15', 'postgresql-15-pglogical', 'patroni'] }))
      .toEqual({ image: 'debian-12', packageSource: 'distro', postgres: '15', engine: 'pglogical', from: 'user-data' });
    expect(imageRequestFromUserData({ packages: ['postgresql-17', 'patroni'] }))
      .toEqual({ image: 'debian-13', packageSource: 'distro', postgres: '17', engine: 'native', from: 'user-data' });
    // PGDG's apt source: no image has it.
    const pgdg = imageRequestFromUserData({ packages: ['postgresql-16'], apt: { sources: { pgdg: { source: 'deb ...' } } } })!;
    expect(() => imageFor(pgdg)).toThrow(/package source pgdg, PostgreSQL 16/);
    const pgedge = imageRequestFromUserData({ packages: ['pgedge-enterprise-postgres-17', 'pgedge-patroni'] })!;
    expect(() => imageFor(pgedge)).toThrow(/image flavour \(none\), package source pgedge, PostgreSQL 17, engine spock \(from the machine's user-data packages\)/);
    expect(imageRequestFromUserData({ packages: ['etcd-server'] })).toBeUndefined();
  });

  it('chooses one image for the stack; etcd-only machines follow the database machines', () => {
    const pg = { cloud: 'aws' as const, userData: {} };
    const s = selectImage([
      { ...pg, name: 'a', tags: awsTags('debian-12', 'image', '15', 'spock') },
      { ...pg, name: 'e', tags: { 'distributed-postgres:image': 'debian-12' } },
    ]);
    expect(s).toMatchObject({ name: 'spock', from: 'tags' });
    // Untagged (stacks synthesized before the library tagged machines): from the user-data.
    expect(selectImage([{ name: 'a', cloud: 'aws', tags: { Name: 'a' }, userData: { packages: ['postgresql-15', 'postgresql-15-pglogical'] } }]))
      .toMatchObject({ name: 'debian-12', from: 'user-data' });
    expect(() => selectImage([
      { ...pg, name: 'a', tags: awsTags('debian-12', 'distro', '15', 'native') },
      { ...pg, name: 'b', tags: awsTags('debian-13', 'distro', '17', 'native') },
    ])).toThrow(/different images \(debian-12: a; debian-13: b\)/);
    expect(() => selectImage([
      { ...pg, name: 'a', tags: awsTags('debian-12', 'distro', '15', 'native') },
      { ...pg, name: 'e', tags: { 'distributed-postgres:image': 'debian-13' } },
    ])).toThrow(/e asks for image flavour debian-13/);
    expect(() => selectImage([{ ...pg, name: 'e', tags: {} }])).toThrow(/no machine says which image it needs/);
  });

  it('names the packages a user-data installs that the image lacks', () => {
    const manifest = parseManifest(JSON.stringify({ name: 'debian-12', hash: 'a'.repeat(64), builtAt: 'now', versions: {}, packages: { curl: '1', patroni: '3' } }));
    expect(missingPackages({ packages: ['curl', 'patroni', 'postgresql-16'] }, manifest)).toEqual(['postgresql-16']);
  });
});

describe('image inputs and hash', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'dpg-images-'));
    cpSync(IMAGES_DIR, dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('covers common.sh and every file of the recipe directory', () => {
    expect(imageInputs('debian-12', dir)).toEqual(['common.sh', 'debian-12/recipe.sh']);
    expect(imageInputs('debian-13', dir)).toEqual(['common.sh', 'debian-13/recipe.sh']);
    // The Spock golden image is imported, never built here (no recipe, no sources in this repository).
    expect(() => imageInputs('spock', dir)).toThrow(/image spock is imported, not built from a recipe/);
    expect(() => imageInputs('ubuntu-24.04', dir)).toThrow(/no image recipe named ubuntu-24\.04/);
  });

  it('is stable, and changes with any input of that image only', () => {
    const h12 = imageHash('debian-12', dir);
    const h13 = imageHash('debian-13', dir);
    expect(h12).toMatch(/^[0-9a-f]{64}$/);
    expect(imageHash('debian-12', dir)).toBe(h12);
    expect(imageHash('debian-12', IMAGES_DIR)).toBe(h12); // the location does not matter
    expect(imageDirName('debian-12', h12)).toBe(`debian-12-${h12.slice(0, 12)}`);
    writeFileSync(path.join(dir, 'debian-13', 'recipe.sh'), '# changed\n', { flag: 'a' });
    expect(imageHash('debian-13', dir)).not.toBe(h13);
    expect(imageHash('debian-12', dir)).toBe(h12);
    chmodSync(path.join(dir, 'debian-12', 'recipe.sh'), 0o644);
    expect(imageHash('debian-12', dir)).not.toBe(h12);
    const before = imageHash('debian-13', dir);
    writeFileSync(path.join(dir, 'common.sh'), '# changed\n', { flag: 'a' });
    expect(imageHash('debian-13', dir)).not.toBe(before);
    expect(BUILDER_VERSION).toMatch(/builder/);
  });
});

describe('manifest', () => {
  const good = {
    name: 'debian-12', hash: 'b'.repeat(64), builtAt: '2026-01-01T00:00:00.000Z', buildSeconds: 120.5, sizeBytes: 700e6,
    inputs: ['common.sh'], versions: { postgres: '15 (15.14-0+deb12u1)' }, packages: { 'postgresql-15': '15.14-0+deb12u1' },
  };

  it('parses a manifest and refuses a broken one', () => {
    expect(parseManifest(JSON.stringify(good))).toEqual(good);
    expect(() => parseManifest('{', 'x/manifest.json')).toThrow(/x\/manifest.json: not JSON/);
    expect(() => parseManifest(JSON.stringify({ ...good, hash: 'abc' }))).toThrow(/hash is not a sha256/);
    expect(() => parseManifest(JSON.stringify({ ...good, name: undefined }))).toThrow(/no name/);
    expect(() => parseManifest(JSON.stringify({ ...good, packages: undefined }))).toThrow(/no packages/);
  });

  it('reads the versions from the installed packages', () => {
    expect(versionsFrom({
      'postgresql-17': '17.6-0+deb13u1', 'postgresql-17-pglogical': '2.4.5-2', patroni: '4.0.7-1', 'etcd-server': '3.5.16-4',
      'cloud-init': '25.1.4-1', 'postgresql-common': '278',
    })).toEqual({
      postgres: '17 (17.6-0+deb13u1)', patroni: '4.0.7-1', etcd: '3.5.16-4', cloudInit: '25.1.4-1',
      extension: { name: 'pglogical', version: '2.4.5-2' },
    });
    expect(versionsFrom({ patroni: '3.0.2-1' }, { postgres: '15 (PostgreSQL 15.18, built in the image)', extension: { name: 'spock', version: '5.0.11' } }))
      .toMatchObject({ postgres: '15 (PostgreSQL 15.18, built in the image)', extension: { name: 'spock', version: '5.0.11' } });
  });

  it('lists the cache, saying which builds are current', async () => {
    const cache = mkdtempSync(path.join(tmpdir(), 'dpg-cache-'));
    try {
      const hash = imageHash('debian-12');
      const stale = path.join(cache, 'debian-12-000000000000');
      const current = path.join(cache, imageDirName('debian-12', hash));
      for (const [d, h] of [[stale, '0'.repeat(64)], [current, hash]]) {
        mkdirSync(path.join(d, 'rootfs'), { recursive: true });
        writeFileSync(path.join(d, 'manifest.json'), JSON.stringify({ ...good, hash: h }));
      }
      mkdirSync(path.join(cache, '.build-debian-12-x-1', 'rootfs'), { recursive: true });
      expect(listImages(cache).map((i) => [path.basename(i.dir), i.current])).toEqual([
        ['debian-12-000000000000', false], [path.basename(current), true],
      ]);
      // An imported golden image is found by its name alone; building it is refused with what it must hold.
      expect(cachedImage('spock', cache)).toBeUndefined();
      await expect(buildImage('spock', () => undefined, { cache })).rejects.toThrow(
        /image spock: not in .*no recipe here builds it: it is a golden image to import \(`dpg-rehearse image import spock ROOTFS`\)\. It must hold: Debian 12 .*Spock 5's patches/);
      const imported = path.join(cache, importedDirName('spock'));
      mkdirSync(path.join(imported, 'rootfs'), { recursive: true });
      writeFileSync(path.join(imported, 'manifest.json'), JSON.stringify({ ...good, name: 'spock' }));
      expect(cachedImage('spock', cache)?.dir).toBe(imported);
      expect(listImages(cache).find((i) => i.name === 'spock')?.current).toBe(true);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
