# shellcheck shell=bash
# make_busybox_rootfs DIR: a minimal container root filesystem (busybox-static + applet links) with
# /www/id for `busybox httpd`. Sourced by the container e2e tests.
make_busybox_rootfs() {
  local dir=$1 a
  mkdir -p "$dir"/{bin,etc,proc,sys,dev,tmp,www,run,var}
  cp "$(command -v busybox)" "$dir/bin/busybox"
  for a in sh httpd nc sleep ip cat ls ps wget hostname; do ln -sf busybox "$dir/bin/$a"; done
  printf 'root:x:0:0:root:/:/bin/sh\n' >"$dir/etc/passwd"
  printf 'root:x:0:\n' >"$dir/etc/group"
}
