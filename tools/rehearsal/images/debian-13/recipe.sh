#!/bin/sh
# debian-13: Debian 13 (trixie) with its own PostgreSQL 17 + pglogical 2.4.5, Patroni 4.0.7, etcd 3.5.16,
# cloud-init 25.1: image DEBIAN_13, package source DISTRO (pglogical or native). Patroni 4's etcd3 support is its own
# HTTP client (no extra package); python3-etcd is what the renderer's `packages:` asks for (etcd v2 API). pgBackRest:
# the backups of issue 14. Prometheus' postgres_exporter and node_exporter: the metrics of issue 17.
. "$(dirname "$0")/../common.sh"
debian_rootfs trixie "$1" \
  postgresql-17 postgresql-17-pglogical patroni python3-etcd python3-psycopg2 etcd-server etcd-client pgbackrest \
  prometheus-postgres-exporter prometheus-node-exporter
