/**
 * The pack's fast YAML reader against `yaml` itself: on every text inside its subset it must give exactly what
 * `yaml.parse` gives, and say OUTSIDE for the rest (the pack then uses `yaml`). The library's own cloud-configs and
 * Patroni and etcd files must be inside the subset (that is what makes the pack fast on a fleet).
 */
import { isDeepStrictEqual } from 'util';
import { parse } from 'yaml';
import { OUTSIDE, parseSimpleYaml, parseYamlText } from '../../lib/policy/simple-yaml';
import { documentsOf } from '../../lib/policy/user-data';
import { ledgerFleet, pglogicalFleet, singleGroupDedicatedEtcd } from '../fixtures/fleets';
import { matrixCases } from '../render/matrix';
import { renderAll, topologyOf } from '../render/helpers';

function yamlOf(text: string): unknown {
  try {
    return parse(text);
  } catch (e) {
    return `throws ${(e as Error).name}`;
  }
}

function expectSameAsYaml(text: string): boolean {
  const fast = parseSimpleYaml(text);
  if (fast === OUTSIDE) return false;
  const expected = yamlOf(text);
  // Strict equality (types, key order of the objects) first; the readable diff only when it fails.
  if (!isDeepStrictEqual(fast, expected)) expect({ text, value: fast }).toEqual({ text, value: expected });
  return true;
}

test("every rendered machine's cloud-config and YAML files: inside the subset, and read as yaml reads them", () => {
  const topologies = [topologyOf(ledgerFleet()), topologyOf(pglogicalFleet()), topologyOf(singleGroupDedicatedEtcd()),
    ...matrixCases().map((c) => c.topology)];
  let checked = 0;
  // Machines repeat most files: each distinct text once.
  const seen = new Set<string>();
  for (const topology of topologies) {
    for (const machine of renderAll(topology)) {
      const docs = documentsOf({ where: machine.name, text: machine.text });
      // The whole cloud-config once per kind of machine (the files it writes); its files' texts each once below.
      const kind = `${topology.fleetName}:${docs.map((d) => d.path).join(',')}`;
      if (!seen.has(kind)) {
        seen.add(kind);
        expect(expectSameAsYaml(machine.text)).toBe(true);
      }
      for (const doc of docs) {
        if (seen.has(doc.text)) continue;
        seen.add(doc.text);
        const inside = expectSameAsYaml(doc.text);
        if (doc.path !== undefined && /\.ya?ml(\.template)?$/.test(doc.path)) expect({ path: doc.path, inside }).toEqual({ path: doc.path, inside: true });
        checked++;
      }
    }
  }
  expect(checked).toBeGreaterThan(100);
});

test.each([
  ['scalars of the core schema', 'a: 1\nb: -2\nc: +3\nd: 0o17\ne: 0x1F\nf: 1.5\ng: 1.\nh: .5\ni: 1e3\nj: 2.5E-2\nk: 007\nl: null\nm: ~\nn: Null\no: true\np: False\nq: TRUE\nr: yes\ns: off\nt: 10s\nu: 0.0.0.0:8008\nv: 1_000\nw: 1:20\n'],
  ['quoted scalars', "a: \"on\"\nb: 'it''s'\nc: '' \nd: \"\"  # empty\ne: 'a # b'\nf: \"x: y\"\n"],
  ['comments and blank lines', '# head\n\na: 1 # one\n  # indented comment\nb:\n  # inside\n  c: 2\n\n# tail\n'],
  ['nested sequences and compact mappings', 'a:\n  - - sh\n    - -c\n    - echo hi\n  - x: 1\n    y:\n      - 2\n  - plain\n'],
  ['null values', 'a:\nb: 1\nc:\n'],
  ['literal blocks', 'a: |\n  one\n\n    two\n  #three\n\nb: |-\n  keep no newline\nc:\n  - |\n    in a list\n  - after\n'],
  ['literal block with leading blank lines', 'a: |\n\n  x\n'],
  ['literal with an indentation indicator', 'a: |2\n    indented\n  base\nb: 1\n'],
  ['literal with a trailing comment header', 'a: | # note\n  x\n'],
  ['top-level sequence', '- a\n- b: 1\n'],
  ['plain with colons and hashes', 'a: x:y#z\nb: http://h:1/p\nc: a,b [c] {d}\n'],
  ['a key like a number is outside', '1: a\n'],
  ['multi-line plain is outside', 'a: one\n  two\n'],
  ['flow collections are outside', 'a: [1, 2]\n'],
  ['anchors are outside', 'a: &x 1\nb: *x\n'],
  ['tags are outside', 'a: !!str 1\n'],
  ['escapes are outside', 'a: "x\\ty"\n'],
  ['folded blocks are outside', 'a: >\n  x\n'],
  ['keep chomping is outside', 'a: |+\n  x\n\n'],
  ['tabs are outside', 'a:\n\tb: 1\n'],
  ['duplicate keys are outside (yaml refuses them)', 'a: 1\na: 2\n'],
  ['a sequence at its key\'s indentation is outside', 'a:\n- 1\n'],
  ['a literal ending the text without a line break is outside', 'a: |\n  x'],
  ['documents markers are outside', '---\na: 1\n'],
  ['nested mapping in a plain value is outside', 'a: b: c\n'],
  ['a bad indentation is outside', 'a:\n    b: 1\n  c: 2\n'],
  ['__proto__ is outside', '__proto__: 1\n'],
  ['a scalar document is outside', 'just text\n'],
])('%s: what yaml reads, or outside', (_label, text) => {
  const fast = parseSimpleYaml(text);
  if (fast !== OUTSIDE) expect(fast).toEqual(yamlOf(text));
  if (/(is|are) outside/.test(_label)) expect(fast).toBe(OUTSIDE);
  else expect(fast).not.toBe(OUTSIDE);
  // The pack's entry point gives yaml's value (or yaml's error) either way.
  let viaPack: unknown;
  try {
    viaPack = parseYamlText(text);
  } catch (e) {
    viaPack = `throws ${(e as Error).name}`;
  }
  expect(viaPack).toEqual(yamlOf(text));
});
