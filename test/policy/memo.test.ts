/**
 * The pack caches its text analyses by content (fleets repeat files on every machine): a text seen again gives the
 * same findings, located where it is found this time, and what a caller does with a result changes no later one.
 */
import { secretsInText } from '../../lib/policy/secrets';
import { tlsProblemsInBootText, tlsProblemsInDocument } from '../../lib/policy/tls';
import { documentsOf } from '../../lib/policy/user-data';
import { TextMemo } from '../../lib/memo';

const CLOUD_CONFIG = [
  '#cloud-config',
  'write_files:',
  '  - path: /etc/default/etcd',
  '    content: |',
  '      ETCD_LISTEN_CLIENT_URLS=http://10.0.0.1:2379',
  '  - path: /usr/local/bin/dump.sh',
  '    content: |',
  '      #!/bin/sh',
  '      pg_dump postgresql://app:Pa55w0rd@db.internal/app',
  "      cat > /etc/x.conf <<'EOF'",
  '      PGPASSWORD=hunter2',
  '      EOF',
  '',
].join('\n');

test('the same boot text under two names: the same documents, each under its own name', () => {
  const a = documentsOf({ where: 'user_data', text: CLOUD_CONFIG });
  const b = documentsOf({ where: 'metadata.user-data', text: CLOUD_CONFIG });
  expect(a.map((d) => d.where)).toEqual([
    'user_data > write_files[0] /etc/default/etcd',
    'user_data > write_files[1] /usr/local/bin/dump.sh',
    'user_data > write_files[1] /usr/local/bin/dump.sh heredoc /etc/x.conf',
  ]);
  expect(b.map((d) => d.where)).toEqual(a.map((d) => d.where.replace(/^user_data/, 'metadata.user-data')));
  expect(b.map(({ where: _w, ...rest }) => rest)).toEqual(a.map(({ where: _w, ...rest }) => rest));
  a.pop();
  expect(documentsOf({ where: 'user_data', text: CLOUD_CONFIG })).toHaveLength(3);
  expect(tlsProblemsInBootText({ where: 'x', text: CLOUD_CONFIG })).toEqual(tlsProblemsInBootText({ where: 'x', text: CLOUD_CONFIG }));
});

test('scanning a text again gives the same findings; a changed result list changes no later one', () => {
  const text = 'a\nurl: postgresql://app:Pa55w0rd@db.internal/app\nPGPASSWORD=hunter2\n';
  const first = secretsInText(text);
  expect(first).toEqual(['a URL with a password', "'PGPASSWORD' set to a literal value (line 3)"]);
  first.push('changed');
  expect(secretsInText(text)).toEqual(['a URL with a password', "'PGPASSWORD' set to a literal value (line 3)"]);
  // The path is part of what is scanned (a pgpass file).
  expect(secretsInText('db:5432:app:app:secret\n', '/root/.pgpass')).toHaveLength(1);
  expect(secretsInText('db:5432:app:app:secret\n')).toHaveLength(0);
  const doc = { text: 'ETCD_LISTEN_CLIENT_URLS=http://10.0.0.1:2379\n', script: false };
  const problems = tlsProblemsInDocument(doc);
  problems.length = 0;
  expect(tlsProblemsInDocument(doc)).not.toHaveLength(0);
});

test('the cache holds at most its size in characters, least recently used out first', () => {
  const memo = new TextMemo<number>(40);
  let computed = 0;
  const get = (key: string) => memo.get(key, () => ++computed);
  get('a'.repeat(10));
  get('b'.repeat(10));
  get('a'.repeat(10));
  get('c'.repeat(10));
  get('d'.repeat(10));
  get('e'.repeat(10));
  expect(computed).toBe(5);
  expect(get('a'.repeat(10))).toBe(1);
  expect(get('b'.repeat(10))).toBe(6);
  // A key above a quarter of the size is computed every time, never held.
  get('f'.repeat(11));
  get('f'.repeat(11));
  expect(computed).toBe(8);
});

test('a memo bounded by its values\' weight keeps the most recently used within it, and computes again what it let go', () => {
  const memo = new TextMemo<string>(10, 8, (_key, value) => value.length);
  let computed = 0;
  const get = (key: string, value: string) => memo.get(key, () => { computed++; return value; });
  get('a', 'xxxx');
  get('b', 'yyyy');
  expect(get('a', 'changed')).toBe('xxxx');
  get('c', 'zzzz'); // 12 > 10: b, the least recently used, goes
  expect(computed).toBe(3);
  expect(get('a', 'again')).toBe('xxxx');
  expect(get('c', 'again')).toBe('zzzz');
  expect(get('b', 'new')).toBe('new');
  expect(get('a-key-too-long', 'v')).toBe('v');
  expect(get('a-key-too-long', 'w')).toBe('w');
});
