#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# Build the VM tier's "new" kernel from Debian's newest kernel source package,
# with our own small config (svmvm.config beside this script), and cache it.
#
#   - the source: linux-source-7.3 (trixie-backports), fetched with a PRIVATE
#     apt configuration under the cache (own sources.list, state and cache
#     dirs); the host's apt sources are never touched. It is architecture
#     `all`, so `apt-get download` is enough: nothing is installed from it.
#     Fallback: linux-source-6.12 (bookworm-backports) when 7.3 is not in the
#     index; force one with SVMBIND_VM_KSRC=linux-source-6.12.
#   - build deps from Debian 12 itself (flex bison bc libelf-dev libssl-dev...).
#   - config: `make tinyconfig` + svmvm.config + olddefconfig; every line of
#     svmvm.config must survive, else this fails and names the symbol.
#   - `nice -n 19 make vmlinux modules`, then modules_install into a private
#     module root (the guest's /lib/modules/$KREL).
#
# Cache: $CACHE/kernel/ (CACHE=${SVMBIND_VM_CACHE:-$HOME/.cache/svmbind-vm}):
#   apt/              the private apt configuration and its index
#   debs/             the downloaded linux-source .deb
#   src/VERSION/      the unpacked source tree (kept: out-of-tree modules need it)
#   VERSION-CFGHASH/  one build: build/ (make O=), modroot/, kernel.env
# A build is reused when the source version and the config hash match: a warm
# run is a private `apt-get update` (about a second; skipped, with a warning,
# when the network is down and a build exists) and a few checks.
#
# On success the last line of stdout is the path of kernel.env:
#   KVER (uname -r of the guest) KERNEL (ELF vmlinux, PVH entry) MODROOT
#   HEADERS (the build dir: make -C $HEADERS M=... modules) KSRC_PKG KSRC_VERSION
#
# Environment: SVMBIND_VM_CACHE, SVMBIND_VM_KSRC (linux-source-X.Y),
# SVMBIND_VM_KJOBS (make -j, default nproc), SVMBIND_VM_KOFFLINE=1 (no apt-get
# update: use the newest build cached for this config).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${SVMBIND_VM_CACHE:-${HOME:-/root}/.cache/svmbind-vm}
KC=$CACHE/kernel
FRAGMENT=$HERE/svmvm.config
JOBS=${SVMBIND_VM_KJOBS:-$(nproc)}
# Bump when the build steps below change in a way that changes the result.
BUILD_REV=1
export DEBIAN_FRONTEND=noninteractive

log() { printf 'kernel/build.sh: %s\n' "$*" >&2; }
die() { printf 'kernel/build.sh: error: %s\n' "$*" >&2; exit 1; }

command -v apt-get >/dev/null || die "this script needs Debian (apt-get)"
[ -f "$FRAGMENT" ] || die "no $FRAGMENT"
mkdir -p "$KC"

# One build at a time per cache (vm.sh runs may start together).
exec 9>"$KC/.lock"
flock 9

# --- build dependencies, from the host's own (Debian 12) sources
ensure_pkgs() {
	local missing=() p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$st" = "install ok installed" ] || missing+=("$p")
	done
	[ "${#missing[@]}" = 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root or install them"
	log "apt-get install ${missing[*]}"
	if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
		apt-get update -q >&2 || die "apt-get update failed"
		apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
			die "apt-get install ${missing[*]} failed"
	fi
}
ensure_pkgs build-essential flex bison bc libelf-dev libssl-dev kmod cpio xz-utils

# --- the private apt configuration: only for finding and downloading the source
APTD=$KC/apt
mkdir -p "$APTD/state/lists/partial" "$APTD/cache/archives/partial"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$KEYRING" ] || ensure_pkgs debian-archive-keyring
MIRROR=${SVMBIND_VM_MIRROR:-http://deb.debian.org/debian}
cat >"$APTD/sources.list.tmp" <<EOF
deb [signed-by=$KEYRING] $MIRROR trixie-backports main
deb [signed-by=$KEYRING] $MIRROR bookworm-backports main
EOF
mv "$APTD/sources.list.tmp" "$APTD/sources.list"
: >>"$APTD/state/status"
APT_OPTS=(
	-o "Dir::Etc::sourcelist=$APTD/sources.list"
	-o "Dir::Etc::sourceparts=-"
	-o "Dir::State=$APTD/state"
	-o "Dir::State::status=$APTD/state/status"
	-o "Dir::Cache=$APTD/cache"
	-o "APT::Sandbox::User=root"
	-o "Debug::NoLocking=1"
)

cfg_hash=$( { cat "$FRAGMENT"; echo "rev $BUILD_REV"; } | sha256sum | cut -c1-12)

# Newest complete build for this config, whatever the source version.
newest_cached() {
	local d best=
	for d in "$KC"/*-"$cfg_hash"; do
		[ -f "$d/kernel.env" ] || continue
		[ -z "$best" ] || [ "$d/kernel.env" -nt "$best/kernel.env" ] && best=$d
	done
	[ -n "$best" ] && printf '%s\n' "$best"
}

offline=${SVMBIND_VM_KOFFLINE:-0}
if [ "$offline" != 1 ] && ! apt-get "${APT_OPTS[@]}" -q update >"$APTD/update.log" 2>&1; then
	if d=$(newest_cached); then
		log "warning: private apt-get update failed (see $APTD/update.log); using the cached $d"
		offline=1
	else
		tail -n 5 "$APTD/update.log" >&2
		die "private apt-get update failed (see $APTD/update.log): no network to $MIRROR? (SVMBIND_VM_MIRROR=URL for another mirror)"
	fi
fi
if [ "$offline" = 1 ]; then
	d=$(newest_cached) || die "SVMBIND_VM_KOFFLINE=1 but no cached build for config $cfg_hash in $KC"
	printf '%s\n' "$d/kernel.env"
	exit 0
fi

candidate() {
	apt-cache "${APT_OPTS[@]}" policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)' || true
}
pkg=
ver=
for p in ${SVMBIND_VM_KSRC:-linux-source-7.3 linux-source-6.12}; do
	v=$(candidate "$p")
	if [ -n "$v" ]; then
		pkg=$p ver=$v
		break
	fi
	log "$p is not in the private index ($APTD/sources.list)"
done
[ -n "$pkg" ] || die "no linux-source package found (wanted ${SVMBIND_VM_KSRC:-linux-source-7.3 or linux-source-6.12})"

ID=$ver-$cfg_hash
ID=${ID//[~:+]/_}
OUT=$KC/$ID
if [ -f "$OUT/kernel.env" ]; then
	printf '%s\n' "$OUT/kernel.env"
	exit 0
fi

# --- cold path: download, unpack, configure, build
t_start=$(date +%s)
mkdir -p "$KC/debs"
sver=${ver//[~:+]/_}
# The .deb of exactly this version (apt names it with the epoch left out).
deb=$KC/debs/${pkg}_${ver#*:}_all.deb
if [ ! -f "$deb" ]; then
	log "apt-get download $pkg=$ver (private apt configuration)"
	tmp=$(mktemp -d "$KC/debs/.dl.XXXXXX")
	(cd "$tmp" && apt-get "${APT_OPTS[@]}" -q download "$pkg=$ver" >&2) ||
		{ rm -rf "$tmp"; die "apt-get download $pkg=$ver failed"; }
	mv "$tmp"/*.deb "$KC/debs/"
	rmdir "$tmp"
	[ -f "$deb" ] || die "apt-get download did not leave $deb"
fi

SRC=$KC/src/$sver
if [ ! -f "$SRC/.unpacked" ]; then
	log "unpacking $(basename "$deb")"
	rm -rf "$SRC"
	mkdir -p "$SRC"
	tarball=./usr/src/${pkg}.tar.xz
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "$tarball" | xz -dc -T0 | tar -x -C "$SRC" ||
		die "cannot unpack $tarball from $deb"
	touch "$SRC/.unpacked"
fi
KSRC=$SRC/$pkg
[ -f "$KSRC/Makefile" ] || die "no kernel tree at $KSRC"

rm -rf "$OUT"
B=$OUT/build
mkdir -p "$B"
mk() { nice -n 19 make -C "$KSRC" O="$B" ARCH=x86_64 "$@"; }

log "configuring $pkg $ver: tinyconfig + $(basename "$FRAGMENT")"
mk -s tinyconfig >/dev/null
cat "$FRAGMENT" >>"$B/.config"
mk -s olddefconfig >/dev/null 2>"$OUT/config.log" || { cat "$OUT/config.log" >&2; die "olddefconfig failed"; }
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF "$line" "$B/.config" || {
			log "config: wanted $line, got '$(grep "^${line%%=*}=" "$B/.config" || echo "not set")'"
			bad=1
		} ;;
	'# CONFIG_'*' is not set')
		s=${line#\# }; s=${s%% *}
		grep -q "^$s=" "$B/.config" && { log "config: wanted $s unset, got '$(grep "^$s=" "$B/.config")'"; bad=1; } ;;
	esac
done <"$FRAGMENT"
[ "$bad" = 0 ] || die "$(basename "$FRAGMENT") does not apply to $pkg $ver (unmet dependencies or renamed symbols above)"

log "building $pkg $ver in $B (nice -n 19, -j$JOBS; ~10 min cold on 2 cores)"
if ! mk -j"$JOBS" vmlinux modules >"$OUT/build.log" 2>&1; then
	tail -n 30 "$OUT/build.log" >&2
	die "kernel build failed (full log: $OUT/build.log); SVMBIND_VM_KSRC=linux-source-6.12 selects the older source"
fi
KREL=$(mk -s kernelrelease)
MODROOT_BASE=$OUT/modroot
mk -s INSTALL_MOD_PATH="$MODROOT_BASE" modules_install >>"$OUT/build.log" 2>&1 ||
	die "modules_install failed (see $OUT/build.log)"
MODROOT=$MODROOT_BASE/lib/modules/$KREL
# The guest bind-mounts MODROOT on /lib/modules/$KREL: no links to the tree.
rm -f "$MODROOT/build" "$MODROOT/source"
[ -f "$B/vmlinux" ] || die "no $B/vmlinux"
[ -f "$B/Module.symvers" ] || die "no $B/Module.symvers (make modules did not finish?)"

cat >"$OUT/kernel.env.tmp" <<EOF
KVER=$KREL
KERNEL=$B/vmlinux
VMLINUZ=$B/vmlinux
MODROOT=$MODROOT
HEADERS=$B
KSRC_PKG=$pkg
KSRC_VERSION=$ver
KCONFIG_HASH=$cfg_hash
EOF
mv "$OUT/kernel.env.tmp" "$OUT/kernel.env"
log "built $KREL from $pkg $ver in $(( $(date +%s) - t_start ))s"
printf '%s\n' "$OUT/kernel.env"
