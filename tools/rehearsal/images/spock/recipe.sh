#!/bin/sh
# spock: Debian 12 with Patroni, etcd and cloud-init from Debian, and PostgreSQL 15 built from Debian's source with
# Spock's patches plus Spock and snowflake (package source IMAGE: the user-data installs no database package).
# The build itself is spock/build.sh, run as root inside the new root filesystem (chroot) with the vendored
# sources (spock/vendor/, checked against its SHA256SUMS) copied to a directory passed as its first argument; then
# spock/smoke-test.sh, when present, runs the same way (a two-node Spock mesh inside the new root): the image is kept
# only if both succeed.
. "$(dirname "$0")/../common.sh"
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$here/build.sh" ]; then
  echo "image spock: $here/build.sh is missing (the Spock build script: PostgreSQL 15 with Spock's patches, Spock 5.0.11, snowflake)" >&2
  exit 3
fi
if [ ! -f "$here/vendor/SHA256SUMS" ]; then
  echo "image spock: $here/vendor/SHA256SUMS is missing (the vendored source tarballs and their checksums)" >&2
  exit 3
fi
(cd "$here/vendor" && sha256sum --check --strict --quiet SHA256SUMS)
export DPG_CUSTOMIZE_HOOK="sh '$here/customize.sh' \"\$1\""
debian_rootfs bookworm "$1" \
  postgresql-common patroni python3-etcd python3-psycopg2 etcd-server etcd-client
