#!/bin/sh
# Installer entrypoint (DaemonSet pattern): copy tether's binaries (and the shared libraries they
# carry in tether.libs/) into the host's CNI bin dir, write a conflist (subnet from TETHER_SUBNET)
# into the host's CNI config dir, then sleep until told to stop.
# Environment (all optional; CI runs this against a scratch directory):
#   TETHER_SRC        image payload dir with bin/ and conf/           (default /tether)
#   TETHER_HOST_ROOT  where the host's / is mounted                   (default /host)
#   TETHER_SUBNET     IPv4 CIDR replacing 10.66.0.0/16 in the conflist (default 10.66.0.0/16)
#   TETHER_CONFLIST   conflist under conf/ to install                  (default 10-tether.conflist)
#   TETHER_NO_SLEEP=1 exit after installing
set -eu
src=${TETHER_SRC:-/tether}
host=${TETHER_HOST_ROOT:-/host}
bin_dir="$host/opt/cni/bin"
conf_dir="$host/etc/cni/net.d"
subnet=${TETHER_SUBNET:-10.66.0.0/16}
conflist=${TETHER_CONFLIST:-10-tether.conflist}

die() { echo "install-cni: $*" >&2; exit 1; }

# A strict IPv4 CIDR check: the value is pasted into JSON.
valid_cidr() {
  echo "$1" | grep -Eq '^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}/([0-9]|[12][0-9]|3[0-2])$'
}
valid_cidr "$subnet" || die "TETHER_SUBNET '$subnet' is not an IPv4 CIDR"
case "$conflist" in */*|.*|"") die "TETHER_CONFLIST '$conflist' must be a file name under $src/conf" ;; esac
[ -f "$src/conf/$conflist" ] || die "no conflist $src/conf/$conflist"
for b in tether tether-ipam; do [ -x "$src/bin/$b" ] || die "missing $src/bin/$b"; done

# Copy then rename: a runtime exec'ing the old file never sees a half-written one. Unchanged files
# are left alone so a restarted pod does not churn the host.
install_file() {  # install_file SRC DEST MODE
  if [ -f "$2" ] && cmp -s "$1" "$2"; then return 0; fi
  cp "$1" "$2.tmp.$$"
  chmod "$3" "$2.tmp.$$"
  mv -f "$2.tmp.$$" "$2"
}

mkdir -p "$bin_dir" "$conf_dir"
# Libraries before binaries: a new binary must never start next to old libraries.
if [ -d "$src/bin/tether.libs" ]; then
  mkdir -p "$bin_dir/tether.libs"
  for lib in "$src/bin/tether.libs"/*; do
    install_file "$lib" "$bin_dir/tether.libs/${lib##*/}" 0644
  done
fi
for b in tether-ipam tether; do
  install_file "$src/bin/$b" "$bin_dir/$b" 0755
done
sed "s#10\.66\.0\.0/16#$subnet#g" "$src/conf/$conflist" > "$conf_dir/.$conflist.tmp.$$"
install_file "$conf_dir/.$conflist.tmp.$$" "$conf_dir/$conflist" 0644
rm -f "$conf_dir/.$conflist.tmp.$$"
echo "install-cni: installed tether into $bin_dir and $conf_dir/$conflist (subnet $subnet)"

[ "${TETHER_NO_SLEEP:-}" = 1 ] && exit 0
# PID 1 in the pod: exit promptly on TERM instead of waiting out the grace period.
sleeper=
trap '[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null; exit 0' TERM INT
while :; do sleep 3600 & sleeper=$!; wait "$sleeper" || true; done
