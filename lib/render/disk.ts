/**
 * The member's data disk: a separate volume (so a replaced machine keeps its data) mounted at
 * /var/lib/postgresql. Formatted only when it carries no filesystem; mounted by UUID (nofail).
 * When /var/lib/postgresql is already a mount point nothing is done (the rehearsal's stand-in for the volume).
 */
import { FILES, GCP_DATA_DISK_DEVICE_NAME } from './paths';

export function mountDataDiskScript(): string {
  return `#!/bin/bash
# mount-data-disk: finds this member's data disk, creates ext4 on it only if it has no filesystem, and mounts
# it at ${FILES.postgresHome} (fstab by UUID, nofail). GCP: /dev/disk/by-id/google-${GCP_DATA_DISK_DEVICE_NAME}.
# AWS: the one whole disk that has no partitions, holds nothing mounted and is not instance storage.
set -euo pipefail
. ${FILES.memberEnv}
target=${FILES.postgresHome}
if mountpoint -q "$target"; then
  echo "$target is already a mount point"
  exit 0
fi

find_disk() {
  if [ "$DPG_CLOUD" = gcp ]; then
    if [ -e /dev/disk/by-id/google-${GCP_DATA_DISK_DEVICE_NAME} ]; then readlink -f /dev/disk/by-id/google-${GCP_DATA_DISK_DEVICE_NAME}; fi
    return 0
  fi
  local found='' count=0 name type model
  while read -r name type; do
    [ "$type" = disk ] && [ -e "/sys/block/$name/device" ] || continue
    # A disk with partitions (the root disk) or anything mounted or in use is not ours.
    [ "$(lsblk -nlo NAME "/dev/$name" | wc -l)" -eq 1 ] || continue
    [ -z "$(lsblk -nlo MOUNTPOINT "/dev/$name" | tr -d '[:space:]')" ] || continue
    model=$(cat "/sys/block/$name/device/model" 2>/dev/null || true)
    case "$model" in *'Instance Storage'*) continue ;; esac
    found="/dev/$name"
    count=$((count + 1))
  done < <(lsblk -dnlo NAME,TYPE)
  if [ "$count" -gt 1 ]; then
    echo "mount-data-disk: $count candidate data disks; attach exactly one unformatted or ext4 volume" >&2
    return 1
  fi
  echo "$found"
}

# The volume may be attached a little after the machine boots.
disk=''
for attempt in $(seq 1 120); do
  disk=$(find_disk)
  [ -n "$disk" ] && break
  echo "waiting for the data disk to be attached ($attempt/120)"
  sleep 5
done
if [ -z "$disk" ]; then
  echo "mount-data-disk: no data disk found after 10 minutes" >&2
  exit 1
fi

if [ -z "$(blkid -p -o value -s TYPE "$disk" || true)" ] && [ -z "$(blkid -p -o value -s PTTYPE "$disk" || true)" ]; then
  echo "formatting $disk (ext4)"
  mkfs.ext4 -q -L pgdata "$disk"
fi
uuid=$(blkid -o value -s UUID "$disk")
# Carry over what the package install already put into the postgres user's home, onto a fresh disk.
staging=$(mktemp -d /run/dpg-disk.XXXXXX)
mount "$disk" "$staging"
if [ -d "$target" ] && [ -z "$(ls -A "$staging" | grep -v '^lost+found$' || true)" ]; then
  cp -a "$target/." "$staging/"
fi
umount "$staging"
rmdir "$staging"
if ! grep -q "^UUID=$uuid " /etc/fstab; then
  echo "UUID=$uuid $target ext4 defaults,noatime,nofail 0 2" >> /etc/fstab
  systemctl daemon-reload 2>/dev/null || true
fi
mkdir -p "$target"
mount "$target"
if id -u postgres >/dev/null 2>&1; then chown postgres:postgres "$target"; fi
chmod 0755 "$target"
echo "mounted $disk (UUID $uuid) at $target"
`;
}
