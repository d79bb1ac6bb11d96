/**
 * Rehearsal images: the root filesystem a test host boots from (the lower layer of its overlay), as a cloud machine
 * boots from an AMI. A built image is made by one recipe, `images/<name>/recipe.sh ROOTFS` (sourcing images/common.sh),
 * from Debian's archive and the files of its own directory, and cached under
 * `/var/cache/dpg-rehearsal/images/<name>-<hash12>/` (`rootfs/` and `manifest.json`) by a hash of those inputs: it is
 * rebuilt only when an input changes. A golden image no recipe here builds (Spock's) is imported instead
 * (`importImage`, `<name>-imported/`). The manifest records the versions read inside the root filesystem.
 */
import { createHash } from 'crypto';
import {
  existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync,
} from 'fs';
import * as path from 'path';
import { run } from './shell';

export const IMAGE_NAMES = ['debian-12', 'debian-13', 'spock', 's3-standin'] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];
/** Images built from a recipe in this repository. */
export const BUILT_IMAGES: readonly ImageName[] = ['debian-12', 'debian-13', 's3-standin'];
/**
 * Images of the rehearsal's own stand-in hosts (cloud services, never a fleet machine): no stack selects them. The
 * object store's (S3 through moto's server, and the instance metadata service) boots from `s3-standin`.
 */
export const STANDIN_IMAGES: readonly ImageName[] = ['s3-standin'];
/**
 * Golden images no recipe here builds, imported from a root filesystem someone built (`image import NAME DIR`), as
 * a platform team's Packer build publishes an AMI. Spock needs PostgreSQL compiled with Spock's own patches: no
 * Debian package has it, CI reaches no other archive, and this repository commits neither Spock's sources nor a
 * recipe that builds them (the workplace's rule for code fetched from public repositories).
 */
export const IMPORTED_IMAGES: Readonly<Partial<Record<ImageName, string>>> = {
  spock: 'Debian 12 with cloud-init, python3, iproute2, procps, util-linux, curl, openssl, python3-yaml, python3-boto3, ' +
    'postgresql-common, patroni, python3-etcd, python3-psycopg2, etcd-server, etcd-client, pgbackrest, prometheus-postgres-exporter and ' +
    'prometheus-node-exporter from Debian, and PostgreSQL 15 ' +
    "built with Spock 5's patches installed in /usr/lib/postgresql/15 (bin/, lib/, share in /usr/share/postgresql/15) with the " +
    'spock and snowflake extensions; tools/rehearsal/images/spock/smoke-test.sh must pass in it',
};

export function isImported(name: string): boolean {
  return IMPORTED_IMAGES[name as ImageName] !== undefined;
}

/** Where built images live (override: DPG_IMAGE_CACHE). */
export const IMAGE_CACHE = process.env.DPG_IMAGE_CACHE ?? '/var/cache/dpg-rehearsal/images';
/** The recipes: tools/rehearsal/images (src/ and dist/ both sit beside it). */
export const IMAGES_DIR = path.join(__dirname, '..', 'images');
/**
 * Bump when the builder's own handling changes what an image holds (the shell side is images/common.sh, hashed as a
 * file). Part of every image's hash.
 */
export const BUILDER_VERSION = 'dpg-image-builder 1';

export interface ImageVersions {
  readonly postgres?: string;
  readonly patroni?: string;
  readonly etcd?: string;
  readonly cloudInit?: string;
  /** The replication extension, e.g. `pglogical 2.4.2-1` or `spock 5.0.11`. */
  readonly extension?: { readonly name: string; readonly version: string };
}

export interface ImageManifest {
  readonly name: string;
  /** Full hash of the inputs (the directory name carries its first 12 hex digits). */
  readonly hash: string;
  readonly builtAt: string;
  readonly buildSeconds: number;
  /** Size of rootfs/ on disk, bytes. */
  readonly sizeBytes: number;
  readonly inputs: string[];
  readonly versions: ImageVersions;
  /** Every installed package and its version (dpkg-query inside the root filesystem). */
  readonly packages: Record<string, string>;
}

export interface CachedImage {
  readonly name: string;
  readonly dir: string;
  readonly rootfs: string;
  readonly manifest: ImageManifest;
}

/**
 * Removes a build or image directory, first unmounting anything mounted beneath it (a recipe killed mid-way may leave
 * /proc, /sys or /dev mounts in its root filesystem: removing through those would reach the test machine's own).
 */
export async function removeImageDir(dir: string): Promise<void> {
  const root = path.resolve(dir);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined && (p === root || p.startsWith(`${root}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    const r = await run('umount', [m], { allowFail: true });
    if (r.code !== 0) await run('umount', ['-l', m]);
  }
  rmSync(root, { recursive: true, force: true });
}

/** Whether a test host (in any mount namespace) has an image's rootfs as its overlay's lower layer. */
export function imageInUse(dir: string): boolean {
  const needle = `lowerdir=${path.join(path.resolve(dir), 'rootfs')}`;
  const seen = new Set<string>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const ns = readlinkSync(`/proc/${pid}/ns/mnt`);
      if (seen.has(ns)) continue;
      seen.add(ns);
      if (readFileSync(`/proc/${pid}/mountinfo`, 'utf8').includes(needle)) return true;
    } catch {
      // the process ended meanwhile
    }
  }
  return false;
}

function isImageName(name: string): name is ImageName {
  return (IMAGE_NAMES as readonly string[]).includes(name);
}

function filesUnder(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return filesUnder(p, base);
    return e.isFile() ? [path.relative(base, p)] : [];
  }).sort();
}

/** The files an image's hash covers, relative to the images directory: images/common.sh and everything in its own directory. */
export function imageInputs(name: string, imagesDir = IMAGES_DIR): string[] {
  if (!isImageName(name)) throw new Error(`no image recipe named ${name} (images: ${IMAGE_NAMES.join(', ')})`);
  if (isImported(name)) throw new Error(`image ${name} is imported, not built from a recipe`);
  return ['common.sh', ...filesUnder(path.join(imagesDir, name)).map((f) => path.join(name, f))];
}

/** sha256 over the builder version and every input's path, executable bit and content (order-independent of the file system). */
export function imageHash(name: string, imagesDir = IMAGES_DIR): string {
  const h = createHash('sha256');
  h.update(`${BUILDER_VERSION}\n${name}\n`);
  for (const rel of imageInputs(name, imagesDir)) {
    const file = path.join(imagesDir, rel);
    const content = readFileSync(file);
    const exec = (statSync(file).mode & 0o111) !== 0 ? 'x' : '-';
    h.update(`${rel}\0${exec}\0${createHash('sha256').update(content).digest('hex')}\n`);
  }
  return h.digest('hex');
}

export function imageDirName(name: string, hash: string): string {
  return `${name}-${hash.slice(0, 12)}`;
}

/** Reads and checks a manifest.json (what `image list` and the rehearsal trust). */
export function parseManifest(text: string, where = 'manifest.json'): ImageManifest {
  let m: Partial<ImageManifest>;
  try {
    m = JSON.parse(text) as Partial<ImageManifest>;
  } catch (e) {
    throw new Error(`${where}: not JSON (${(e as Error).message})`);
  }
  for (const key of ['name', 'hash', 'builtAt'] as const) {
    if (typeof m[key] !== 'string' || !m[key]) throw new Error(`${where}: no ${key}`);
  }
  if (!/^[0-9a-f]{64}$/.test(m.hash!)) throw new Error(`${where}: hash is not a sha256 (${m.hash})`);
  if (typeof m.versions !== 'object' || m.versions === null) throw new Error(`${where}: no versions`);
  if (typeof m.packages !== 'object' || m.packages === null) throw new Error(`${where}: no packages`);
  return {
    name: m.name!, hash: m.hash!, builtAt: m.builtAt!, buildSeconds: Number(m.buildSeconds ?? 0), sizeBytes: Number(m.sizeBytes ?? 0),
    inputs: m.inputs ?? [], versions: m.versions, packages: m.packages,
  };
}

function readCached(dir: string): CachedImage | undefined {
  const file = path.join(dir, 'manifest.json');
  if (!existsSync(file) || !existsSync(path.join(dir, 'rootfs'))) return undefined;
  const manifest = parseManifest(readFileSync(file, 'utf8'), file);
  return { name: manifest.name, dir, rootfs: path.join(dir, 'rootfs'), manifest };
}

/** Where an imported image lives in the cache (one per name: a new import replaces it). */
export function importedDirName(name: string): string {
  return `${name}-imported`;
}

/** The image built from the current inputs (or the imported one), if it is in the cache. */
export function cachedImage(name: string, cache = IMAGE_CACHE, imagesDir = IMAGES_DIR): CachedImage | undefined {
  if (isImported(name)) return readCached(path.join(cache, importedDirName(name)));
  return readCached(path.join(cache, imageDirName(name, imageHash(name, imagesDir))));
}

/** Every image in the cache, with whether it is built from the current inputs. */
export function listImages(cache = IMAGE_CACHE, imagesDir = IMAGES_DIR): (CachedImage & { current: boolean })[] {
  if (!existsSync(cache)) return [];
  const found: (CachedImage & { current: boolean })[] = [];
  for (const entry of readdirSync(cache).sort()) {
    if (entry.startsWith('.')) continue;
    const image = readCached(path.join(cache, entry));
    if (!image) continue;
    const current = isImported(image.name) ? entry === importedDirName(image.name)
      : isImageName(image.name) && existsSync(path.join(imagesDir, image.name)) && imageHash(image.name, imagesDir) === image.manifest.hash;
    found.push({ ...image, current });
  }
  return found;
}

/** The packages whose versions the manifest names. */
export function versionsFrom(packages: Record<string, string>, extra: { postgres?: string; extension?: ImageVersions['extension'] } = {}): ImageVersions {
  const server = Object.keys(packages).filter((p) => /^postgresql-\d+$/.test(p)).sort().pop();
  const pglogical = Object.keys(packages).filter((p) => /^postgresql-\d+-pglogical$/.test(p)).sort().pop();
  return {
    postgres: extra.postgres ?? (server ? `${server.slice('postgresql-'.length)} (${packages[server]})` : undefined),
    patroni: packages.patroni,
    etcd: packages['etcd-server'],
    cloudInit: packages['cloud-init'],
    extension: extra.extension ?? (pglogical ? { name: 'pglogical', version: packages[pglogical] } : undefined),
  };
}

export async function inspect(rootfs: string): Promise<{ packages: Record<string, string>; versions: ImageVersions }> {
  const q = await run('dpkg-query', [`--admindir=${rootfs}/var/lib/dpkg`, '-W', '-f', '${Package}\t${Version}\t${db:Status-Abbrev}\n']);
  const packages: Record<string, string> = {};
  for (const line of q.stdout.split('\n')) {
    const [pkg, version, status] = line.split('\t');
    if (pkg && status?.startsWith('ii')) packages[pkg] = version;
  }
  // A PostgreSQL built into the image (no server package): its own pg_config, and the replication extension's control file.
  let postgres: string | undefined;
  let extension: ImageVersions['extension'];
  if (!Object.keys(packages).some((p) => /^postgresql-\d+$/.test(p))) {
    const libs = existsSync(`${rootfs}/usr/lib/postgresql`) ? readdirSync(`${rootfs}/usr/lib/postgresql`) : [];
    for (const major of libs.sort()) {
      const pgConfig = `/usr/lib/postgresql/${major}/bin/pg_config`;
      if (!existsSync(path.join(rootfs, pgConfig))) continue;
      const v = await run('chroot', [rootfs, pgConfig, '--version'], { allowFail: true });
      if (v.code === 0) postgres = `${major} (${v.stdout.trim()}, built in the image)`;
      for (const ext of ['spock', 'pglogical']) {
        const control = path.join(rootfs, 'usr/share/postgresql', major, 'extension', `${ext}.control`);
        if (!existsSync(control)) continue;
        const def = /default_version\s*=\s*'([^']+)'/.exec(readFileSync(control, 'utf8'));
        extension = { name: ext, version: def ? def[1] : '?' };
      }
    }
  }
  return { packages, versions: versionsFrom(packages, { postgres, extension }) };
}

/**
 * Builds an image from its recipe (unless the cache has it), into a temporary directory renamed into place when
 * complete; then prunes older builds of the same name.
 */
export async function buildImage(name: string, log: (line: string) => void = () => undefined,
  options: { cache?: string; imagesDir?: string; force?: boolean } = {}): Promise<CachedImage> {
  const cache = options.cache ?? IMAGE_CACHE;
  const imagesDir = options.imagesDir ?? IMAGES_DIR;
  if (isImported(name)) {
    const imported = readCached(path.join(cache, importedDirName(name)));
    if (imported) return imported;
    throw new Error(`image ${name}: not in ${cache}, and no recipe here builds it: it is a golden image to import ` +
      `(\`dpg-rehearse image import ${name} ROOTFS\`). It must hold: ${IMPORTED_IMAGES[name as ImageName]}`);
  }
  const hash = imageHash(name, imagesDir);
  const final = path.join(cache, imageDirName(name, hash));
  const existing = readCached(final);
  if (existing && !options.force) {
    log(`image ${name}: cached at ${final} (built ${existing.manifest.builtAt} in ${existing.manifest.buildSeconds} s)`);
    return existing;
  }
  if (process.getuid?.() !== 0) throw new Error(`image ${name}: building needs root (mmdebstrap --mode=root, chroot)`);
  const mm = await run('sh', ['-c', 'command -v mmdebstrap'], { allowFail: true });
  if (mm.code !== 0) throw new Error(`image ${name}: mmdebstrap is missing. Fix: apt-get install -y mmdebstrap`);
  const recipe = path.join(imagesDir, name, 'recipe.sh');
  mkdirSync(cache, { recursive: true });
  // Leftovers of builds that died (their PID is gone).
  for (const entry of readdirSync(cache)) {
    const m = /^\.build-.*-(\d+)$/.exec(entry);
    if (m && !existsSync(`/proc/${m[1]}`)) await removeImageDir(path.join(cache, entry));
  }
  const tmp = path.join(cache, `.build-${imageDirName(name, hash)}-${process.pid}`);
  await removeImageDir(tmp);
  mkdirSync(path.join(tmp, 'rootfs'), { recursive: true });
  const logFile = path.join(cache, `${imageDirName(name, hash)}.build.log`);
  const started = Date.now();
  log(`image ${name}: building ${imageDirName(name, hash)} with ${path.relative(process.cwd(), recipe) || recipe} (log: ${logFile})`);
  const r = await run('sh', ['-c', `sh "$0" "$1" > "$2" 2>&1`, recipe, path.join(tmp, 'rootfs'), logFile], { allowFail: true, timeoutMs: 3_600_000 });
  if (r.code !== 0) {
    const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-25).join('\n') : '';
    await removeImageDir(tmp);
    throw new Error(`image ${name}: recipe ${recipe} failed (exit ${r.code}) after ${((Date.now() - started) / 1000).toFixed(0)} s; ` +
      `last lines of ${logFile}:\n${tail}`);
  }
  const { packages, versions } = await inspect(path.join(tmp, 'rootfs'));
  const du = await run('du', ['-sxb', path.join(tmp, 'rootfs')]);
  const manifest: ImageManifest = {
    name, hash, builtAt: new Date().toISOString(), buildSeconds: Math.round((Date.now() - started) / 100) / 10,
    sizeBytes: Number(du.stdout.split(/\s+/)[0]), inputs: imageInputs(name, imagesDir), versions, packages,
  };
  writeFileSync(path.join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (existsSync(final)) await removeImageDir(final);
  renameSync(tmp, final);
  log(`image ${name}: built in ${manifest.buildSeconds} s, ${(manifest.sizeBytes / 1e6).toFixed(0)} MB: ${describeVersions(versions)}`);
  for (const entry of readdirSync(cache)) {
    if (entry.startsWith(`${name}-`) && entry !== path.basename(final) && /^[0-9a-f]{12}$/.test(entry.slice(name.length + 1))) {
      if (imageInUse(path.join(cache, entry))) {
        log(`image ${name}: kept the older build ${entry}: a test host is running from it`);
        continue;
      }
      await removeImageDir(path.join(cache, entry));
      log(`image ${name}: pruned the older build ${entry}`);
    }
  }
  return readCached(final)!;
}

/**
 * Imports a golden image: copies ROOTFS into the cache (hard links where the file system allows: the source stays
 * untouched), runs the image's smoke test in it when the repository has one (images/NAME/smoke-test.sh, run in a
 * chroot with /proc and /dev), and records what it holds. The hash is over the installed packages and the versions
 * found, so `image list` tells two imports apart.
 */
export async function importImage(name: string, source: string, log: (line: string) => void = () => undefined,
  options: { cache?: string; imagesDir?: string } = {}): Promise<CachedImage> {
  const cache = options.cache ?? IMAGE_CACHE;
  const imagesDir = options.imagesDir ?? IMAGES_DIR;
  if (!isImported(name)) throw new Error(`image ${name} is built from its recipe here (image build ${name}); imported images: ${Object.keys(IMPORTED_IMAGES).join(', ')}`);
  if (process.getuid?.() !== 0) throw new Error(`image ${name}: importing needs root (chroot)`);
  for (const needed of ['usr/bin/python3', 'usr/bin/cloud-init', 'var/lib/dpkg/status']) {
    if (!existsSync(path.join(source, needed))) throw new Error(`image ${name}: ${source} has no /${needed}: not a root filesystem this image needs (${IMPORTED_IMAGES[name as ImageName]})`);
  }
  mkdirSync(cache, { recursive: true });
  const started = Date.now();
  const tmp = path.join(cache, `.import-${name}-${process.pid}`);
  await removeImageDir(tmp);
  mkdirSync(tmp, { recursive: true });
  await run('cp', ['-a', '--reflink=auto', source, path.join(tmp, 'rootfs')], { timeoutMs: 1_800_000 });
  const rootfs = path.join(tmp, 'rootfs');
  const smoke = path.join(imagesDir, name, 'smoke-test.sh');
  if (existsSync(smoke)) {
    log(`image ${name}: running ${path.relative(process.cwd(), smoke)} in the imported root filesystem`);
    const mounts: string[] = [];
    try {
      for (const [what, where, args] of [['proc', 'proc', ['-t', 'proc']], ['/dev', 'dev', ['--bind']]] as const) {
        await run('mount', [...args, what, path.join(rootfs, where)]);
        mounts.unshift(path.join(rootfs, where));
      }
      writeFileSync(path.join(rootfs, 'tmp', 'dpg-smoke-test.sh'), readFileSync(smoke));
      const r = await run('chroot', [rootfs, '/bin/bash', '/tmp/dpg-smoke-test.sh'], { allowFail: true, timeoutMs: 600_000 });
      rmSync(path.join(rootfs, 'tmp', 'dpg-smoke-test.sh'), { force: true });
      for (const line of r.stdout.trim().split('\n').slice(-12)) log(`  ${line}`);
      if (r.code !== 0) throw new Error(`image ${name}: the smoke test failed in ${source} (exit ${r.code}):\n${(r.stdout + r.stderr).trim().slice(-3000)}`);
    } finally {
      for (const m of mounts) await run('umount', ['-l', m], { allowFail: true });
    }
  }
  const { packages, versions } = await inspect(rootfs);
  const du = await run('du', ['-sxb', rootfs]);
  const hash = createHash('sha256').update(`${name}\nimported\n${JSON.stringify(packages)}\n${JSON.stringify(versions)}\n`).digest('hex');
  const manifest: ImageManifest = {
    name, hash, builtAt: new Date().toISOString(), buildSeconds: Math.round((Date.now() - started) / 100) / 10,
    sizeBytes: Number(du.stdout.split(/\s+/)[0]), inputs: [`imported from ${path.resolve(source)}`], versions, packages,
  };
  writeFileSync(path.join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const final = path.join(cache, importedDirName(name));
  if (existsSync(final)) {
    if (imageInUse(final)) throw new Error(`image ${name}: a test host is running from ${final}; import again when it is down`);
    await removeImageDir(final);
  }
  renameSync(tmp, final);
  log(`image ${name}: imported in ${manifest.buildSeconds} s, ${(manifest.sizeBytes / 1e6).toFixed(0)} MB: ${describeVersions(versions)}`);
  return readCached(final)!;
}

export function describeVersions(v: ImageVersions): string {
  return [
    `postgres ${v.postgres ?? '-'}`, `patroni ${v.patroni ?? '-'}`, `etcd ${v.etcd ?? '-'}`, `cloud-init ${v.cloudInit ?? '-'}`,
    `extension ${v.extension ? `${v.extension.name} ${v.extension.version}` : '-'}`,
  ].join(', ');
}

// ---------- which image a stack boots ----------

/** The image tags the library puts on every machine (AWS tags; GCP labels use `-` for `:`). */
export const IMAGE_TAGS = {
  image: 'distributed-postgres:image',
  packageSource: 'distributed-postgres:package-source',
  postgres: 'distributed-postgres:postgres',
  engine: 'distributed-postgres:engine',
} as const;

/** What a machine asks for: from its tags, or inferred from its user-data's `packages:` when the tags are absent. */
export interface ImageRequest {
  readonly image?: string;
  readonly packageSource?: string;
  readonly postgres?: string;
  readonly engine?: string;
  /** Where the request came from. */
  readonly from: 'tags' | 'user-data';
}

interface Rule {
  readonly image: string;
  readonly packageSource: string;
  readonly postgres: string;
  readonly engines: string[];
  readonly name: ImageName;
}

/** The stacks each image can boot. */
export const IMAGE_RULES: Rule[] = [
  { image: 'debian-12', packageSource: 'distro', postgres: '15', engines: ['pglogical', 'native'], name: 'debian-12' },
  { image: 'debian-13', packageSource: 'distro', postgres: '17', engines: ['pglogical', 'native'], name: 'debian-13' },
  { image: 'debian-12', packageSource: 'image', postgres: '15', engines: ['spock'], name: 'spock' },
];

/** Reads the image tags (AWS `tags`) or labels (GCP `labels`, `-` for `:`); undefined when the machine has none. */
export function imageRequestFromTags(tags: Record<string, string>, cloud: 'aws' | 'gcp'): ImageRequest | undefined {
  const get = (key: string) => {
    const v = tags[cloud === 'gcp' ? key.replace(/:/g, '-') : key];
    return typeof v === 'string' && v ? v : undefined;
  };
  const r = { image: get(IMAGE_TAGS.image), packageSource: get(IMAGE_TAGS.packageSource), postgres: get(IMAGE_TAGS.postgres), engine: get(IMAGE_TAGS.engine) };
  return Object.values(r).some((v) => v !== undefined) ? { ...r, from: 'tags' } : undefined;
}

/**
 * Without tags (stacks synthesized before the library tagged machines): inferred from the user-data. Only Debian's
 * own server packages are inferred (postgresql-15 is Debian 12's, postgresql-17 Debian 13's); anything with extra apt
 * sources or pgEdge packages gets a request no image matches.
 */
export function imageRequestFromUserData(doc: Record<string, unknown>): ImageRequest | undefined {
  const packages = ((doc.packages ?? []) as unknown[]).filter((p): p is string => typeof p === 'string');
  const aptSources = (doc.apt as { sources?: Record<string, unknown> } | undefined)?.sources ?? {};
  const pgedge = packages.find((p) => p.startsWith('pgedge-'));
  const server = packages.map((p) => /^postgresql-(\d+)$/.exec(p)).find((m) => m);
  if (pgedge) {
    const v = packages.map((p) => /^pgedge-enterprise-postgres-(\d+)$/.exec(p)).find((m) => m);
    return { packageSource: 'pgedge', engine: 'spock', postgres: v?.[1], from: 'user-data' };
  }
  if (!server) return undefined;
  const major = server[1];
  const source = Object.keys(aptSources).length ? Object.keys(aptSources).sort().join('+') : 'distro';
  const image = source !== 'distro' ? undefined : major === '15' ? 'debian-12' : major === '17' ? 'debian-13' : undefined;
  const engine = packages.includes(`postgresql-${major}-pglogical`) ? 'pglogical' : 'native';
  return { image, packageSource: source, postgres: major, engine, from: 'user-data' };
}

function describe(r: Partial<ImageRequest>): string {
  return `image flavour ${r.image ?? '(none)'}, package source ${r.packageSource ?? '(none)'}, PostgreSQL ${r.postgres ?? '(none)'}, engine ${r.engine ?? '(none)'}`;
}

/** The image a request boots, or an error naming what it asked for and which images exist. */
export function imageFor(r: ImageRequest): ImageName {
  const rule = IMAGE_RULES.find((x) => x.image === r.image && x.packageSource === r.packageSource && x.postgres === r.postgres && x.engines.includes(r.engine ?? ''));
  if (rule) return rule.name;
  throw new Error(`rehearsal: no image for ${describe(r)} (from the machine's ${r.from === 'tags' ? 'tags' : 'user-data packages'}). ` +
    `Images: ${IMAGE_RULES.map((x) => `${x.name} (${describe({ ...x, engine: x.engines.join('|') })})`).join('; ')}`);
}

export interface MachineImageInput {
  readonly name: string;
  readonly cloud: 'aws' | 'gcp';
  readonly tags: Record<string, string>;
  readonly userData: Record<string, unknown>;
}

export interface ImageSelection {
  readonly name: ImageName;
  readonly from: 'tags' | 'user-data';
  readonly request: ImageRequest;
}

/**
 * One image for the whole stack. Machines without a database (dedicated etcd) may carry no PostgreSQL version or
 * engine: they boot the image the database machines choose, which must have their flavour.
 */
export function selectImage(machines: MachineImageInput[]): ImageSelection {
  const requests = machines.map((m) => ({ m, r: imageRequestFromTags(m.tags, m.cloud) ?? imageRequestFromUserData(m.userData) }));
  const full = requests.filter((x) => x.r?.postgres !== undefined || x.r?.engine !== undefined);
  if (full.length === 0) {
    throw new Error(`rehearsal: no machine says which image it needs: no ${Object.values(IMAGE_TAGS).join(' / ')} tags and no PostgreSQL ` +
      `server package in its user-data (machines: ${machines.map((m) => m.name).join(', ')})`);
  }
  const chosen = new Map<ImageName, string[]>();
  for (const { m, r } of full) {
    const name = imageFor(r!);
    chosen.set(name, [...(chosen.get(name) ?? []), m.name]);
  }
  if (chosen.size > 1) {
    throw new Error(`rehearsal: the machines need different images (${[...chosen].map(([n, ms]) => `${n}: ${ms.join(', ')}`).join('; ')}); ` +
      'a rehearsal boots one image');
  }
  const name = [...chosen.keys()][0];
  const rule = IMAGE_RULES.find((x) => x.name === name)!;
  for (const { m, r } of requests) {
    if (r?.image !== undefined && r.image !== rule.image) {
      throw new Error(`rehearsal: ${m.name} asks for image flavour ${r.image}, the stack's database machines boot ${name} (${rule.image})`);
    }
  }
  return { name, from: full[0].r!.from, request: full[0].r! };
}

/** Packages a machine's user-data lists that the image lacks (cloud-init's packages module is not run). */
export function missingPackages(doc: Record<string, unknown>, manifest: ImageManifest): string[] {
  const packages = ((doc.packages ?? []) as unknown[]).filter((p): p is string => typeof p === 'string');
  return packages.filter((p) => manifest.packages[p] === undefined);
}
