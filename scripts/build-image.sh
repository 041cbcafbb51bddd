#!/usr/bin/env bash
# Builds the installer image (Dockerfile) with Debian's podman where no registry is reachable:
# the debian:12 base is made locally with debootstrap and imported. Everything podman stores goes
# under a private work dir (vfs, runc, cgroupfs, explicit ulimits: what podman needs on small VMs).
# Usage: scripts/build-image.sh [TAG] [OUT.tar]   (default localhost/tether-install:dev,
#        /var/tmp/tether-image/tether-install.tar); TETHER_IMAGE_WORK moves the work dir.
# Measured on 2 cores: debootstrap ~60 s, build ~10 min (niced), image 6.2 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-localhost/tether-install:dev}
out=${2:-}
work=${TETHER_IMAGE_WORK:-/var/tmp/tether-image}
out=${out:-$work/tether-install.tar}
for t in debootstrap podman; do command -v "$t" >/dev/null || { echo "build-image: needs $t" >&2; exit 1; }; done
mkdir -p "$work"
cat >"$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_CONF="$work/containers.conf"
pm() { podman --root "$work/storage" --runroot "$work/run" --storage-driver vfs "$@"; }
if ! pm image exists docker.io/library/debian:12; then
  rm -rf "$work/rootfs"
  debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian
  rm -f "$work"/rootfs/var/cache/apt/archives/*.deb
  tar -C "$work/rootfs" -c . | pm import - docker.io/library/debian:12
  rm -rf "$work/rootfs"
fi
# Host network for the build's apt-get: no bridge or NAT rule is created on this machine.
pm build --network host --pull=never --isolation chroot -t "$tag" .
rm -f "$out" && pm save -o "$out" "$tag"
echo "build-image: $tag saved to $out (load it with: kind load image-archive $out)"
