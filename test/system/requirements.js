/**
 * What the system tests need (`npm run test:system`): Debian packages, root and Linux namespaces. `.ci/run` installs
 * them; on any other machine the run stops at once with one line per missing part and the command that installs it.
 * Plain JavaScript: jest's global setup and `npm test`'s summary read it without a transform.
 */
const { existsSync } = require('fs');
const { spawnSync } = require('child_process');

const ok = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const APT = 'apt-get install -y';

/** Each requirement: what it is, whether this machine has it, how to get it. */
function requirements() {
  return [
    { what: 'root', ok: process.getuid?.() === 0, how: 'run as root (the tests start servers as postgres and make namespaces)' },
    { what: 'cloud-init', ok: ok('cloud-init', ['--version']), how: `${APT} cloud-init` },
    { what: 'PostgreSQL 15', ok: existsSync('/usr/lib/postgresql/15/bin/initdb'), how: `${APT} postgresql-15` },
    { what: 'pglogical for PostgreSQL 15', ok: existsSync('/usr/lib/postgresql/15/lib/pglogical.so'), how: `${APT} postgresql-15-pglogical` },
    { what: 'the postgres user', ok: ok('id', ['-u', 'postgres']), how: `${APT} postgresql-15` },
    { what: 'Patroni', ok: existsSync('/usr/bin/patroni'), how: `${APT} patroni python3-etcd` },
    { what: 'etcd', ok: existsSync('/usr/bin/etcd') && existsSync('/usr/bin/etcdctl'), how: `${APT} etcd-server etcd-client` },
    { what: 'python3 with psycopg2 and yaml', ok: ok('/usr/bin/python3', ['-c', 'import psycopg2, yaml']), how: `${APT} python3-psycopg2 python3-yaml` },
    { what: 'pgBackRest', ok: ok('pgbackrest', ['version']), how: `${APT} pgbackrest` },
    { what: 'openssl', ok: ok('openssl', ['version']), how: `${APT} openssl` },
    { what: 'Prometheus postgres_exporter', ok: existsSync('/usr/bin/prometheus-postgres-exporter'), how: `${APT} prometheus-postgres-exporter` },
    { what: 'Prometheus node_exporter', ok: existsSync('/usr/bin/prometheus-node-exporter'), how: `${APT} prometheus-node-exporter` },
    { what: 'systemd-analyze (the backup timers\' calendars)', ok: ok('systemd-analyze', ['--version']), how: `${APT} systemd` },
    { what: 'iproute2', ok: existsSync('/usr/sbin/ip') || existsSync('/sbin/ip'), how: `${APT} iproute2` },
    { what: 'unshare and nsenter', ok: existsSync('/usr/bin/unshare') && existsSync('/usr/bin/nsenter'), how: `${APT} util-linux` },
    { what: 'ping', ok: ok('ping', ['-V']), how: `${APT} iputils-ping` },
    { what: 'promtool (the alert rules)', ok: ok('promtool', ['--version']), how: `${APT} --no-install-recommends prometheus` },
  ];
}

/** One line per missing requirement: `<what>: <how>`. */
function missingRequirements() {
  return requirements().filter((r) => !r.ok).map((r) => `${r.what}: ${r.how}`);
}

module.exports = { requirements, missingRequirements };
