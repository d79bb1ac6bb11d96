/**
 * The anti-entropy check: how an operator learns that node groups hold different rows, whatever the cause (a window
 * in a failover, a row changed behind replication's back, a bug). The group's leader compares each replicated table
 * with every other group that replicates it: row counts and a hash per bucket of primary keys first, then, in the
 * buckets that differ, the keys whose rows differ; each such key is read again on both sides a few times before it
 * is reported, so rows still in flight between groups are not taken for divergence.
 *
 * What to compare with whom is the group's mesh (global tables with every other group, a geoshard's partitions with
 * the groups of that geoshard): `anti-entropy.sql` in its mesh document lists the pairs, so a group added or removed
 * changes the check with the document. The script runs as postgres and prints its result; mesh-keeper (on the leader,
 * a minute after taking the lead and every `replication.antiEntropyMinutes`) writes it to the status file and logs
 * each finding.
 */
import { NodeGroup, Topology } from '../topology/topology';
import { sqlLiteral } from './quote';

/** Buckets of primary keys per table: a differing bucket narrows the keys to read to about 1/64 of the table. */
export const ANTI_ENTROPY_BUCKETS = 64;
/** A key is reported when its rows differ at this many reads, this many seconds apart. */
export const ANTI_ENTROPY_CHECKS = 3;
export const ANTI_ENTROPY_PAUSE_SECONDS = 10;
/** The check after a leader change waits this long, so the mesh has resumed first. */
export const ANTI_ENTROPY_AFTER_LEADER_CHANGE_SECONDS = 60;

/**
 * `anti-entropy.sql` (mesh document): the (table, peer group, peer leader DSN) pairs this group compares, one row
 * each, tab-separated under `psql -At -F '\t'`. DSNs name hosts and the mesh user only (the password is in .pgpass).
 */
export function antiEntropyPairsSql(topology: Topology, group: NodeGroup): string {
  // A restored group (restoreFrom) is outside the mesh: it compares nothing and no one compares with it.
  const others = group.restore ? [] : topology.nodeGroups.filter((g) => g.name !== group.name && !g.restore);
  const pairs: [string, NodeGroup][] = [
    ...topology.replication.globalTables.flatMap((table) => others.map((peer): [string, NodeGroup] => [table, peer])),
    ...topology.geoshards.filter((s) => s.nodeGroups.includes(group.name)).flatMap((shard) => shard.tables.flatMap((t) =>
      others.filter((peer) => shard.nodeGroups.includes(peer.name)).map((peer): [string, NodeGroup] => [t.partition, peer]))),
  ];
  // Columns left out (replication.antiEntropyIgnoredColumns), of the table itself or, for a partition, of its parent.
  const parentOf = new Map(topology.geoshards.flatMap((s) => s.tables.map((t) => [t.partition, t.table] as const)));
  const ignored = (table: string) => topology.replication.antiEntropyIgnoredColumns
    .filter((c) => [table, parentOf.get(table)].includes(c.slice(0, c.lastIndexOf('.')))).map((c) => c.slice(c.lastIndexOf('.') + 1));
  const rows = pairs.map(([table, peer]) =>
    `(${sqlLiteral(table)}, ${sqlLiteral(peer.name)}, ${sqlLiteral(peer.leaderDsn)}, ${sqlLiteral(ignored(table).join(','))})`);
  return `-- The anti-entropy check of node group ${group.name}: which table it compares with which group's leader (and the columns left out).\n` +
    (rows.length === 0
      ? 'SELECT NULL::text, NULL::text, NULL::text, NULL::text WHERE false;\n'
      : `SELECT tbl, peer, dsn, ignored FROM (VALUES\n  ${rows.join(',\n  ')}\n) AS pairs(tbl, peer, dsn, ignored) ORDER BY tbl, peer;\n`);
}

/**
 * `anti-entropy PSQL LOCAL_DSN PAIRS_SQL`: compares this group's tables with its peers as `PAIRS_SQL` lists them and
 * prints `finding=TABLE PEER: ...` lines (at most 20 keys per pair, and their count), `note=` lines for what it could
 * not compare (a peer not answering, a table not created yet or without a primary key), `compared=N` and last
 * `state=clean|dirty|incomplete`. Exit 0 whatever it found; 1 only when it could not run at all.
 */
export function antiEntropyScript(): string {
  return `#!/usr/bin/python3
"""anti-entropy PSQL LOCAL_DSN PAIRS_SQL: this node group's replicated tables against its peers' (see lib/render/anti-entropy.ts)."""
import os, subprocess, sys, time

PSQL, LOCAL, PAIRS = sys.argv[1:4]
BUCKETS, CHECKS, PAUSE, SHOWN = ${ANTI_ENTROPY_BUCKETS}, ${ANTI_ENTROPY_CHECKS}, ${ANTI_ENTROPY_PAUSE_SECONDS}, 20
# Rows are compared as text: the same settings on both sides, whatever each server's defaults (time zone, styles).
ENV = dict(os.environ, PGTZ="UTC", PGDATESTYLE="ISO, YMD",
           PGOPTIONS="-c extra_float_digits=3 -c bytea_output=hex -c intervalstyle=postgres")


class Unreachable(Exception):
    pass


def rows(dsn, sql=None, path=None):
    # The SQL goes in on stdin: a recheck names up to thousands of keys, more than a command line holds.
    args = [PSQL, "-X", "-q", "-At", "-F", "\\t", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", path or "-"]
    try:
        out = subprocess.run(args, input=sql or "", capture_output=True, text=True, timeout=600, env=ENV)
    except (subprocess.SubprocessError, OSError) as e:
        raise Unreachable("%s: %s" % (e.__class__.__name__, e))
    if out.returncode != 0:
        raise Unreachable((out.stderr.strip().splitlines() or ["psql exit %d" % out.returncode])[-1])
    return [line.split("\\t") for line in out.stdout.splitlines() if line]


def literal(text):
    return "'" + text.replace("'", "''") + "'"


def primary_key(table):
    found = rows(LOCAL, "SELECT quote_ident(a.attname) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                 "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = to_regclass(%s) AND i.indisprimary "
                 "ORDER BY array_position(i.indkey::int2[], a.attnum)" % literal(table))
    return ", ".join("x." + r[0] for r in found)


def row_text(table, ignored):
    """The row as text from its columns by name (same names on both sides), leaving out the ignored ones."""
    found = rows(LOCAL, "SELECT quote_ident(attname), attname FROM pg_attribute WHERE attrelid = to_regclass(%s) "
                 "AND attnum > 0 AND NOT attisdropped ORDER BY attnum" % literal(table))
    return "ROW(%s)::text" % ", ".join("x." + quoted for quoted, name in found if name not in ignored)


def relation(table):
    found = rows(LOCAL, "SELECT to_regclass(%s)::text" % literal(table))
    return found[0][0] if found and found[0][0] else None


def buckets(dsn, rel, key, text):
    return {r[0]: (r[1], r[2]) for r in rows(dsn,
        "SELECT b, count(*), md5(string_agg(h, '' ORDER BY h)) FROM (SELECT abs(hashtext(ROW(%s)::text)) %% %d AS b, "
        "md5(%s) AS h FROM %s x) s GROUP BY b" % (key, BUCKETS, text, rel))}


def keyed(dsn, rel, key, text, where):
    return {r[0]: r[1] for r in rows(dsn, "SELECT ROW(%s)::text, md5(%s) FROM %s x WHERE %s" % (key, text, rel, where))}


def differing(here, there):
    return sorted(k for k in set(here) | set(there) if here.get(k) != there.get(k))


def compare(rel, key, text, peer_dsn):
    """Keys whose rows differ between here and the peer at every one of CHECKS reads, with how they differ."""
    here, there = buckets(LOCAL, rel, key, text), buckets(peer_dsn, rel, key, text)
    suspects = [b for b in set(here) | set(there) if here.get(b) != there.get(b)]
    if not suspects:
        return []
    where = "abs(hashtext(ROW(%s)::text)) %% %d IN (%s)" % (key, BUCKETS, ", ".join(sorted(suspects)))
    here_rows, there_rows = keyed(LOCAL, rel, key, text, where), keyed(peer_dsn, rel, key, text, where)
    keys = differing(here_rows, there_rows)
    for _ in range(CHECKS - 1):
        if not keys:
            return []
        time.sleep(PAUSE)
        where = "ROW(%s)::text = ANY (ARRAY[%s]::text[])" % (key, ", ".join(literal(k) for k in keys))
        here_rows, there_rows = keyed(LOCAL, rel, key, text, where), keyed(peer_dsn, rel, key, text, where)
        keys = differing(here_rows, there_rows)
    return [(k, "missing here" if k not in here_rows else "missing at the peer" if k not in there_rows else "differs") for k in keys]


def main():
    try:
        pairs = rows(LOCAL, path=PAIRS)
    except Unreachable as e:
        sys.exit("anti-entropy: this group's database does not answer: %s" % e)
    findings, notes, compared = [], [], 0
    for table, peer, dsn, ignored in (p + [""] * (4 - len(p)) for p in pairs):
        try:
            rel = relation(table)
            if rel is None:
                notes.append("%s %s: not created here yet" % (table, peer))
                continue
            key = primary_key(table)
            if not key:
                notes.append("%s %s: no primary key, not compared" % (table, peer))
                continue
            found = compare(rel, key, row_text(table, set(filter(None, ignored.split(",")))), dsn)
        except Unreachable as e:
            notes.append("%s %s: not compared: %s" % (table, peer, e))
            continue
        compared += 1
        if found:
            shown = ", ".join("%s %s" % (k, how) for k, how in found[:SHOWN])
            findings.append("%s %s: %d key(s) differ: %s%s" % (table, peer, len(found), shown, " ..." if len(found) > SHOWN else ""))
    for line in findings:
        print("finding=" + line)
    for line in notes:
        print("note=" + line)
    print("compared=%d" % compared)
    print("state=" + ("dirty" if findings else "incomplete" if notes else "clean"))


main()
`;
}
