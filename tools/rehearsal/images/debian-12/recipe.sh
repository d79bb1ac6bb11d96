#!/bin/sh
# debian-12: Debian 12 (bookworm) with its own PostgreSQL 15 + pglogical 2, Patroni 3.0.2, etcd 3.4, cloud-init 22.4:
# what the renderer's `packages:` lists for image DEBIAN_12, package source DISTRO (pglogical or native), and
# pgBackRest (the backups of issue 14: every member archives WAL and the leader takes backups), and Prometheus'
# postgres_exporter and node_exporter (the metrics of issue 17).
. "$(dirname "$0")/../common.sh"
debian_rootfs bookworm "$1" \
  postgresql-15 postgresql-15-pglogical patroni python3-etcd python3-psycopg2 etcd-server etcd-client pgbackrest \
  prometheus-postgres-exporter prometheus-node-exporter
