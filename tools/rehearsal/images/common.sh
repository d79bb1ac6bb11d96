# Shared by every image recipe (sourced; part of every image's hash).
#
# A recipe is `images/<name>/recipe.sh ROOTFS`: it must leave a complete root filesystem in ROOTFS (an empty
# directory the builder made), using only Debian's archive ($DPG_MIRROR, default http://deb.debian.org/debian) and the
# files of its own directory (hashed). The builder then reads the versions with dpkg-query and writes manifest.json.
set -eu

MIRROR=${DPG_MIRROR:-http://deb.debian.org/debian}

# What every image has besides its database packages: what the rehearsal runs inside a host (the stand-in needs
# python3; exec needs env/setpriv from coreutils/util-linux) and what cloud-init's modules call.
# iputils-ping: as on a cloud image (and the test hosts' own tests ping between hosts).
BASE_PACKAGES='cloud-init python3 iproute2 iputils-ping procps util-linux ca-certificates curl openssl python3-yaml python3-boto3'

# debian_rootfs SUITE ROOTFS PACKAGE... : mmdebstrap a minbase root of SUITE with PACKAGE... installed.
# mmdebstrap denies service starts while it installs (policy-rc.d exiting 101 and a start-stop-daemon diversion,
# removed again at the end, see mmdebstrap(1) --skip=chroot/policy-rc.d); postgresql-common is told not to create a
# default cluster (as the renderer's user-data does before its package install) by createcluster.conf written
# before any package is unpacked.
debian_rootfs() {
  suite=$1
  rootfs=$2
  shift 2
  include=$(echo "$BASE_PACKAGES" "$@" | tr ' ' '\n' | sed '/^$/d' | sort -u | paste -sd, -)
  mmdebstrap --variant=minbase --mode=root --format=directory --aptopt='Acquire::Retries "3"' \
    --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    --setup-hook='mkdir -p "$1/etc/postgresql-common" && echo "create_main_cluster = false" > "$1/etc/postgresql-common/createcluster.conf"' \
    --include="$include" \
    ${DPG_CUSTOMIZE_HOOK:+--customize-hook="$DPG_CUSTOMIZE_HOOK"} \
    --customize-hook='rm -rf "$1/var/cache/apt/archives/"*.deb "$1/var/lib/apt/lists/"*_Packages' \
    "$suite" "$rootfs" "deb $MIRROR $suite main"
}
