#!/bin/bash
# Smoke test of an image built with the Spock build (PostgreSQL 15 + Spock 5 + snowflake
# in /usr/lib/postgresql/15). Runs as root INSIDE the image root (e.g. in a chroot):
#   chroot <rootfs> /bin/bash /path/smoke-test.sh
# Starts two throw-away clusters as user postgres (ports 55432 and 55433, sockets in a
# temporary directory; only the postmasters it started are stopped), makes a two-way
# Spock mesh between them and checks:
#   1. CREATE EXTENSION spock and snowflake; the server carries Spock's patches
#      (the log_old_value attribute option exists only on a patched server);
#   2. node_create on each, a table in the default replication set, sub_create each way,
#      both subscriptions 'replicating';
#   3. rows inserted on either node reach the other (snowflake ids, unique per node);
#   4. a delta-apply column (log_old_value, delta_apply_function = spock.delta_apply)
#      with concurrent decrements on both nodes converges to the right balance on both.
# Exits non-zero on the first failure.
set -euo pipefail

BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PORT1=${PORT1:-55432}
PORT2=${PORT2:-55433}
CLIENTS=${CLIENTS:-2}          # pgbench clients per node
DECREMENTS=${DECREMENTS:-250}  # transactions per client
START_BALANCE=100000
TIMEOUT=${TIMEOUT:-120}

WORK=$(mktemp -d /tmp/spock-smoke.XXXXXX)
chown postgres:postgres "$WORK"
SOCK=$WORK
DB=smoke

log() { echo "[$(date -u +%H:%M:%S)] $*"; }
fail() { echo "FAIL: $*" >&2; for n in 1 2; do [ -f "$WORK/n$n.log" ] && tail -20 "$WORK/n$n.log" >&2; done; exit 1; }
as_pg() { runuser -u postgres -- "$@"; }
psql_n() { local port=$1; shift; as_pg "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$SOCK" -p "$port" -d "$DB" "$@"; }
dsn() { echo "host=$SOCK port=$1 dbname=$DB user=postgres"; }

cleanup() {
  local rc=$?
  for n in 1 2; do
    if [ -f "$WORK/n$n/postmaster.pid" ]; then
      as_pg "$BIN/pg_ctl" -D "$WORK/n$n" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

log "server: $("$BIN/postgres" --version)"
for n in 1 2; do
  port=$([ $n = 1 ] && echo "$PORT1" || echo "$PORT2")
  as_pg "$BIN/initdb" -D "$WORK/n$n" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >> "$WORK/n$n/postgresql.conf" <<EOF
port = $port
listen_addresses = ''
unix_socket_directories = '$SOCK'
shared_preload_libraries = 'spock,snowflake'
wal_level = logical
track_commit_timestamp = on
max_worker_processes = 16
max_replication_slots = 12
max_wal_senders = 12
spock.conflict_resolution = last_update_wins
snowflake.node = $n
EOF
  as_pg "$BIN/pg_ctl" -D "$WORK/n$n" -l "$WORK/n$n.log" -w start >/dev/null || fail "n$n did not start"
  as_pg "$BIN/createdb" -h "$SOCK" -p "$port" "$DB"
done
log "two clusters up on ports $PORT1 and $PORT2"

for port in "$PORT1" "$PORT2"; do
  psql_n "$port" -c 'CREATE EXTENSION spock; CREATE EXTENSION snowflake;'
done
log "extensions: $(psql_n "$PORT1" -c "SELECT string_agg(extname || ' ' || extversion, ', ' ORDER BY extname) FROM pg_extension WHERE extname IN ('spock','snowflake')")"
log "spock.spock_version(): $(psql_n "$PORT1" -c 'SELECT spock.spock_version()')"

# Schema on both nodes (no DDL replication in this test).
for port in "$PORT1" "$PORT2"; do
  psql_n "$port" <<'SQL'
CREATE TABLE items (id bigint PRIMARY KEY DEFAULT snowflake.nextval(), origin text NOT NULL, note text);
CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL, plain bigint NOT NULL);
-- Spock's patched server only: log_old_value is an attribute option added by patches/15.
ALTER TABLE accounts ALTER COLUMN balance SET (log_old_value = true, delta_apply_function = spock.delta_apply);
SQL
done
log "patched server: accounts.balance attoptions = $(psql_n "$PORT1" -c "SELECT array_to_string(attoptions, ',') FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'balance'")"

psql_n "$PORT1" -c "SELECT spock.node_create(node_name := 'n1', dsn := '$(dsn "$PORT1")')" >/dev/null
psql_n "$PORT2" -c "SELECT spock.node_create(node_name := 'n2', dsn := '$(dsn "$PORT2")')" >/dev/null
for port in "$PORT1" "$PORT2"; do
  psql_n "$port" -c "SELECT spock.repset_add_table(set_name := 'default', relation := 'items', synchronize_data := false)" >/dev/null
  psql_n "$port" -c "SELECT spock.repset_add_table(set_name := 'default', relation := 'accounts', synchronize_data := false)" >/dev/null
done
log "nodes n1, n2; items and accounts in replication set 'default' on both"

psql_n "$PORT1" -c "SELECT spock.sub_create(subscription_name := 'sub_n1_n2', provider_dsn := '$(dsn "$PORT2")',
  replication_sets := ARRAY['default'], synchronize_structure := false, synchronize_data := false, forward_origins := '{}')" >/dev/null
psql_n "$PORT2" -c "SELECT spock.sub_create(subscription_name := 'sub_n2_n1', provider_dsn := '$(dsn "$PORT1")',
  replication_sets := ARRAY['default'], synchronize_structure := false, synchronize_data := false, forward_origins := '{}')" >/dev/null

wait_for() { # wait_for <description> <port> <sql returning t when done>
  local what=$1 port=$2 sql=$3 deadline=$((SECONDS + TIMEOUT))
  until [ "$(psql_n "$port" -c "$sql")" = t ]; do
    [ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
    sleep 0.5
  done
}
wait_for "sub_n1_n2 replicating" "$PORT1" "SELECT status = 'replicating' FROM spock.sub_show_status('sub_n1_n2')"
wait_for "sub_n2_n1 replicating" "$PORT2" "SELECT status = 'replicating' FROM spock.sub_show_status('sub_n2_n1')"
log "subscriptions: n1 <- $(psql_n "$PORT1" -c "SELECT status FROM spock.sub_show_status('sub_n1_n2')"), n2 <- $(psql_n "$PORT2" -c "SELECT status FROM spock.sub_show_status('sub_n2_n1')")"

# Rows both ways.
psql_n "$PORT1" -c "INSERT INTO items (origin, note) SELECT 'n1', 'row ' || g FROM generate_series(1, 100) g"
psql_n "$PORT2" -c "INSERT INTO items (origin, note) SELECT 'n2', 'row ' || g FROM generate_series(1, 100) g"
wait_for "200 items on n1" "$PORT1" "SELECT count(*) = 200 FROM items"
wait_for "200 items on n2" "$PORT2" "SELECT count(*) = 200 FROM items"
h1=$(psql_n "$PORT1" -c "SELECT md5(string_agg(id || origin || note, ',' ORDER BY id)) FROM items")
h2=$(psql_n "$PORT2" -c "SELECT md5(string_agg(id || origin || note, ',' ORDER BY id)) FROM items")
[ "$h1" = "$h2" ] || fail "items differ between nodes ($h1 vs $h2)"
log "items: 100 inserted on each node, 200 on both, same content (md5 $h1)"
log "snowflake ids: $(psql_n "$PORT1" -c "SELECT string_agg(origin || ' node ' || snowflake.get_node(id), ', ') FROM (SELECT DISTINCT ON (origin) id, origin FROM items ORDER BY origin, id) s")"

# Delta apply: concurrent decrements on both nodes.
psql_n "$PORT1" -c "INSERT INTO accounts VALUES (1, $START_BALANCE, $START_BALANCE)"
wait_for "account on n2" "$PORT2" "SELECT count(*) = 1 FROM accounts"
echo 'UPDATE accounts SET balance = balance - 1, plain = plain - 1 WHERE id = 1;' > "$WORK/decrement.sql"
chown postgres "$WORK/decrement.sql"
log "decrementing accounts.balance concurrently: $CLIENTS clients x $DECREMENTS on each node"
as_pg "$BIN/pgbench" -n -h "$SOCK" -p "$PORT1" -c "$CLIENTS" -t "$DECREMENTS" -f "$WORK/decrement.sql" "$DB" > "$WORK/bench1.log" 2>&1 &
b1=$!
as_pg "$BIN/pgbench" -n -h "$SOCK" -p "$PORT2" -c "$CLIENTS" -t "$DECREMENTS" -f "$WORK/decrement.sql" "$DB" > "$WORK/bench2.log" 2>&1 &
b2=$!
wait $b1 || { cat "$WORK/bench1.log"; fail "pgbench on n1"; }
wait $b2 || { cat "$WORK/bench2.log"; fail "pgbench on n2"; }
expected=$((START_BALANCE - 2 * CLIENTS * DECREMENTS))
wait_for "balance $expected on n1" "$PORT1" "SELECT balance = $expected FROM accounts WHERE id = 1"
wait_for "balance $expected on n2" "$PORT2" "SELECT balance = $expected FROM accounts WHERE id = 1"
sleep 2
r1=$(psql_n "$PORT1" -c "SELECT balance || ' ' || plain FROM accounts WHERE id = 1")
r2=$(psql_n "$PORT2" -c "SELECT balance || ' ' || plain FROM accounts WHERE id = 1")
[ "${r1%% *}" = "$expected" ] && [ "${r2%% *}" = "$expected" ] || fail "balance diverged after settling: n1 $r1, n2 $r2"
log "delta-apply balance: expected $expected, n1 ${r1%% *}, n2 ${r2%% *} (OK)"
log "plain column (no delta apply, last update wins) for comparison: n1 ${r1##* }, n2 ${r2##* }"
log "spock.resolutions rows (logged only with spock.save_resolutions = on): n1 $(psql_n "$PORT1" -c 'SELECT count(*) FROM spock.resolutions'), n2 $(psql_n "$PORT2" -c 'SELECT count(*) FROM spock.resolutions')"
log "PASS"
