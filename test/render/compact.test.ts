/** What a file loses on its way into user-data: full-line comments of scripts and SQL, nothing else. */
import { compactFile, compactShell, compactSql } from '../../lib/render/compact';

test('shell: full-line comments go; the shebang, code, end-of-line comments and heredoc bodies stay', () => {
  const script = [
    '#!/bin/bash',
    '# why this script exists',
    'set -euo pipefail',
    '  # an indented comment',
    'echo "a # not a comment"  # kept: end of line',
    "cat > /etc/x.conf <<'EOF'",
    '# a config file comment: data, kept',
    'key = value',
    'EOF',
    '# gone again',
    'psql <<-SQL',
    '\t# kept in the heredoc',
    '\tSQL',
    'echo done',
  ].join('\n');
  expect(compactShell(script)).toBe([
    '#!/bin/bash',
    'set -euo pipefail',
    'echo "a # not a comment"  # kept: end of line',
    "cat > /etc/x.conf <<'EOF'",
    '# a config file comment: data, kept',
    'key = value',
    'EOF',
    'psql <<-SQL',
    '\t# kept in the heredoc',
    '\tSQL',
    'echo done',
  ].join('\n'));
});

test('SQL: full-line -- comments go, everything else stays', () => {
  expect(compactSql("-- header\nSELECT 1; -- trailing\n  -- indented\nSELECT '--x';\n")).toBe("SELECT 1; -- trailing\nSELECT '--x';\n");
});

test('files: scripts by their shebang and .sql files are compacted; configs are not', () => {
  const f = (path: string, content: string) => ({ path, permissions: '0644', content });
  expect(compactFile(f('/x/a.sql', '-- c\nSELECT 1;')).content).toBe('SELECT 1;');
  expect(compactFile(f('/x/run', '#!/bin/sh\n# c\ntrue')).content).toBe('#!/bin/sh\ntrue');
  expect(compactFile(f('/x/patroni.yml', '# header\nscope: a')).content).toBe('# header\nscope: a');
  expect(compactFile(f('/x/tool', '#!/usr/bin/python3\n# c\npass')).content).toBe('#!/usr/bin/python3\n# c\npass');
});
