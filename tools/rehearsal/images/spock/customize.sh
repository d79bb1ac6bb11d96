#!/bin/sh
# mmdebstrap customize hook of the spock image: `customize.sh ROOTFS` (packages installed, /proc /dev /sys mounted).
# Runs spock/build.sh as root inside ROOTFS (chroot) with the vendored sources as its first argument, then
# spock/smoke-test.sh when present; removes both and the sources afterwards.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$1
mkdir -p "$root/tmp/dpg-spock"
cp -a "$here/vendor" "$root/tmp/dpg-spock/vendor"
cp "$here/build.sh" "$root/tmp/dpg-spock/build.sh"
echo "spock: running build.sh in the image ($(date -u +%H:%M:%S))"
chroot "$root" /bin/sh -e /tmp/dpg-spock/build.sh /tmp/dpg-spock/vendor
if [ -f "$here/smoke-test.sh" ]; then
  cp "$here/smoke-test.sh" "$root/tmp/dpg-spock/smoke-test.sh"
  echo "spock: running smoke-test.sh in the image ($(date -u +%H:%M:%S))"
  chroot "$root" /bin/bash /tmp/dpg-spock/smoke-test.sh
fi
rm -rf "$root/tmp/dpg-spock"
