/**
 * What a file loses on its way into user-data: full-line comments of shell scripts and SQL. AWS takes at most
 * 16 KB of (gzipped) user-data, and the comments, which explain the scripts to the reader of this library's
 * source, were an eighth of it. Everything else is kept byte for byte: heredoc bodies (they are data), shebangs,
 * comments at the end of a line, and every file that is neither a script nor SQL (configs keep their headers).
 */
import { MachineFile } from './cloud-config';

const HEREDOC = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/;

/** A shell script without its full-line comments (outside heredocs; the shebang stays). */
export function compactShell(text: string): string {
  const out: string[] = [];
  let terminator: string | undefined;
  let stripTabs = false;
  text.split('\n').forEach((line, i) => {
    if (terminator !== undefined) {
      out.push(line);
      if ((stripTabs ? line.replace(/^\t+/, '') : line) === terminator) terminator = undefined;
      return;
    }
    if (i > 0 && /^\s*#/.test(line)) return;
    const heredoc = HEREDOC.exec(line);
    if (heredoc && !/^\s*#/.test(line)) {
      terminator = heredoc[2];
      stripTabs = line.slice(heredoc.index).startsWith('<<-');
    }
    out.push(line);
  });
  return out.join('\n');
}

/** SQL without its full-line `--` comments. */
export function compactSql(text: string): string {
  return text.split('\n').filter((line) => !/^\s*--/.test(line)).join('\n');
}

/** The file as shipped: scripts (by their shebang) and SQL files compacted, everything else as it is. */
export function compactFile<F extends MachineFile>(f: F): F {
  if (f.path.endsWith('.sql')) return { ...f, content: compactSql(f.content) };
  if (/^#!\/bin\/(ba)?sh\b/.test(f.content)) return { ...f, content: compactShell(f.content) };
  return f;
}
