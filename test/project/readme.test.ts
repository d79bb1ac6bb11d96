/** The README's declaration example is real: extract it, run it, and check it synthesizes. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');

test("the README's declaration example synthesizes", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const example = /## The declaration\n\n```ts\n([\s\S]*?)```/.exec(readme);
  expect(example).not.toBeNull();
  const code = example![1]
    .replace("from 'cdktf-distributed-postgres'", "from '../../lib'")
    .replace('new App()', 'new App({ outdir: process.env.README_OUTDIR })');
  const genDir = path.join(ROOT, 'test', '.gen');
  fs.mkdirSync(genDir, { recursive: true });
  const file = path.join(genDir, 'readme-example.ts');
  fs.writeFileSync(file, code);
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-'));
  process.env.README_OUTDIR = outdir;
  try {
    jest.isolateModules(() => require(file));
    const json = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'ledger', 'cdk.tf.json'), 'utf8'));
    const instances = Object.keys(json.resource.aws_instance ?? {}).length + Object.keys(json.resource.google_compute_instance ?? {}).length;
    expect(instances).toBe(9);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
