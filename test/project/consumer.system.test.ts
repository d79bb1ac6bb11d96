/**
 * The packed library installs beside a consumer's own cdktf and providers: a scratch project with the newest AWS 21.x
 * and Google 16.x provider packages installs our tarball, compiles a small TypeScript app against it (root and
 * `/pipeline`, with the module resolution cdktf projects use and with node16's), synthesizes a fleet, and ends up with
 * exactly one copy of cdktf, constructs and each provider: ours are peer dependencies, not nested copies.
 *
 * Slow (a library build and an install of both provider packages); skipped, saying why, when the registry cannot be
 * reached.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const ENV = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

function run(command: string, args: string[], cwd: string, timeoutMs: number): string {
  return execFileSync(command, args, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
}

function newest(versions: string[]): string {
  const parts = (v: string) => v.split('.').map(Number);
  return versions.filter((v) => /^\d+\.\d+\.\d+$/.test(v)).sort((a, b) => {
    const [x, y] = [parts(a), parts(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  }).pop()!;
}

/** The newest provider versions in our peer ranges, or why the registry could not say. */
function probeRegistry(): { aws: string; google: string; tls: string } | { skip: string } {
  try {
    const versions = (range: string) => {
      const out = JSON.parse(run('npm', ['view', range, 'version', '--json', '--fetch-retries=1', '--fetch-timeout=15000'], ROOT, 60_000));
      return newest(Array.isArray(out) ? out : [out]);
    };
    return {
      aws: versions('@cdktf/provider-aws@>=21.9.1 <22'), google: versions('@cdktf/provider-google@>=16.9.0 <17'), tls: versions('@cdktf/provider-tls@>=11.0.1 <12'),
    };
  } catch (e) {
    return { skip: `the npm registry could not be reached (${String((e as Error).message).split('\n')[0]})` };
  }
}

const registry = probeRegistry();
if ('skip' in registry) {
  // eslint-disable-next-line no-console
  console.warn(`consumer install test skipped: ${registry.skip}`);
}

const CONSUMER_APP = `import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { App, TerraformStack, Testing } from 'cdktf';
import { applyPolicyPack, Cloud, DistributedPostgres } from 'cdktf-distributed-postgres';
import { machinesOf, renderCloudConfig, toReviewableJson } from 'cdktf-distributed-postgres/pipeline';

const app = new App({ outdir: 'cdktf.out' });
const stack = new TerraformStack(app, 'shop');
new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
new GoogleProvider(stack, 'google', { project: 'shop-prod' });
const fleet = new DistributedPostgres(stack, 'db', {
  name: 'shop',
  nodeGroups: [
    { name: 'euw1', cloud: Cloud.AWS, region: 'eu-west-1' },
    { name: 'euw3', cloud: Cloud.GCP, region: 'europe-west3' },
  ],
});
const first: string = machinesOf(fleet.topology)[0].name;
if (!renderCloudConfig(fleet.topology, first).startsWith('#cloud-config')) throw new Error('the pipeline subpath did not load');
// The README's snapshot helper: user-data decoded.
if (!JSON.stringify(toReviewableJson(Testing.synth(stack))).includes('#cloud-config')) throw new Error('toReviewableJson did not decode user-data');
// The platform team's own check of the whole stack, as the README shows.
applyPolicyPack(stack);
app.synth();
`;

const maybe = 'skip' in registry ? test.skip : test;

maybe('the packed tarball installs beside the newest providers and synthesizes a fleet with one copy of each', () => {
  const { aws, google, tls } = registry as { aws: string; google: string; tls: string };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dpg-consumer-'));
  try {
    // Build and pack a copy, so the checkout's dist/ stays as it is.
    const pkgDir = path.join(work, 'package');
    fs.mkdirSync(pkgDir);
    for (const file of ['package.json', 'README.md', 'LICENSE']) fs.copyFileSync(path.join(ROOT, file), path.join(pkgDir, file));
    run(process.execPath, [TSC, '-p', path.join(ROOT, 'tsconfig.lib.json'), '--outDir', path.join(pkgDir, 'dist')], ROOT, 300_000);
    const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], pkgDir, 120_000))[0];
    const files = (packed.files as { path: string }[]).map((f) => f.path);
    expect(files.filter((f) => !/^(LICENSE|README\.md|package\.json|dist\/lib\/.+\.(js|d\.ts))$/.test(f))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/pipeline/index.js', 'dist/lib/pipeline/index.d.ts']));

    const app = path.join(work, 'consumer');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '0.0.0', private: true }));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(work, packed.filename),
      `@cdktf/provider-aws@${aws}`, `@cdktf/provider-google@${google}`, `@cdktf/provider-tls@${tls}`, 'cdktf@0.21.0', 'constructs@^10.4.2'], app, 900_000);

    // One copy of each: the lockfile lists every installed location.
    const lock = JSON.parse(fs.readFileSync(path.join(app, 'package-lock.json'), 'utf8'));
    const copies = (name: string) => Object.keys(lock.packages).filter((p) => p === `node_modules/${name}` || p.endsWith(`/node_modules/${name}`));
    for (const name of ['@cdktf/provider-aws', '@cdktf/provider-google', '@cdktf/provider-tls', 'cdktf', 'constructs']) {
      expect({ name, copies: copies(name) }).toEqual({ name, copies: [`node_modules/${name}`] });
    }
    expect(lock.packages['node_modules/@cdktf/provider-aws'].version).toBe(aws);
    expect(lock.packages['node_modules/@cdktf/provider-google'].version).toBe(google);
    expect(lock.packages['node_modules/@cdktf/provider-tls'].version).toBe(tls);
    expect(lock.packages['node_modules/cdktf'].version).toBe('0.21.0');

    // TypeScript -> JavaScript, as a cdktf project compiles (CommonJS, node10 resolution); node16 resolution reads exports.
    fs.writeFileSync(path.join(app, 'main.ts'), CONSUMER_APP);
    const compilerOptions = { target: 'ES2022', module: 'commonjs', moduleResolution: 'node', strict: true, skipLibCheck: true, types: [], outDir: 'dist' };
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['main.ts'] }));
    run(process.execPath, [TSC, '-p', app], app, 300_000);
    run(process.execPath, [TSC, '-p', app, '--noEmit', '--module', 'node16', '--moduleResolution', 'node16'], app, 300_000);
    run(process.execPath, ['dist/main.js'], app, 300_000);

    const stackDir = path.join(app, 'cdktf.out', 'stacks', 'shop');
    const json = JSON.parse(fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8'));
    expect(Object.keys(json.resource.aws_instance)).toHaveLength(3);
    expect(Object.keys(json.resource.google_compute_instance)).toHaveLength(3);
    expect(fs.existsSync(path.join(stackDir, 'topology.mmd'))).toBe(true);
    // The resources were written with the consumer's provider classes: its provider schema versions are required.
    const providerVersion = (name: string) => JSON.parse(fs.readFileSync(path.join(app, 'node_modules', '@cdktf', name, 'package.json'), 'utf8')).cdktf.provider.version;
    expect(json.terraform.required_providers.aws.version).toBe(providerVersion('provider-aws'));
    expect(json.terraform.required_providers.google.version).toBe(providerVersion('provider-google'));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}, 1_500_000);
