/**
 * secretsInText skips a text without any SECRET_HINT (lib/policy/secrets.ts): each kind of secret it knows, alone in a
 * text with nothing else that hints at a secret, is still found.
 */
import { SECRET_HINT, secretsInText } from '../../lib/policy/secrets';

const ALONE: [string, string, string | undefined][] = [
  ['a PEM private key', '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----', undefined],
  ['an AWS access key id', 'x AKIAIOSFODNN7EXAMPLE y', undefined],
  ['an AWS access key id', 'ASIAIOSFODNN7EXAMPLE', undefined],
  ['an AWS access key id', 'A3TXIOSFODNN7EXAMPLE', undefined],
  ['a Google API key', `AIza${'b'.repeat(35)}`, undefined],
  ['a GitHub token', `ghp_${'c'.repeat(36)}`, undefined],
  ['a GitHub token', `ghs_${'C'.repeat(36)}`, undefined],
  ['a pgBackRest repository key', '[global]\nrepo2-cipher-pass=zWaf6XtpjIVZC5444yXB', undefined],
  ['a URL with a password', 'pg_dump postgresql://app:Pa55w0rd@db.internal/app', undefined],
  ["'PGPASSWORD' set to a literal value (line 1)", 'PGPASSWORD=Pa55w0rd', undefined],
  ["'client_secret' set to a literal value (line 1)", 'client_secret: abc123', undefined],
  ["'apikey' set to a literal value (line 1)", 'apikey = "abc"', undefined],
  ['a literal SQL PASSWORD (line 2)', "SELECT 1;\nALTER ROLE x PASSWORD 'hunter2'", undefined],
  ['a password in a pgpass line (line 1)', 'db:5432:app:app:hunter2', '/root/.pgpass'],
];

test.each(ALONE)('found alone: %s', (what, text, path) => {
  expect(SECRET_HINT.test(text) || path !== undefined).toBe(true);
  expect(secretsInText(text, path)).toContain(what);
});

test('texts without a hint are said clean without the patterns', () => {
  for (const text of ['', 'aws_instance.x.id', 'arn:aws:iam::123:role/fleet-db', 'ssl = on', 'PGHOST=db']) {
    expect(SECRET_HINT.test(text)).toBe(false);
    expect(secretsInText(text)).toEqual([]);
  }
});
