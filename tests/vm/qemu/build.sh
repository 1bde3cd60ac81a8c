#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# Build the VM tier's own QEMU (x86_64 system emulator only) from Debian's
# `qemu` source package 10.2.x, with our patches (patches/*.patch beside this
# script: VT-d changes for SVA and our PASID test device), and cache it.
# Nothing is installed on the host except Debian 12 build dependencies.
#
#   - the source: `apt-get source qemu` from the deb-src of Debian's unstable
#     suite, through a PRIVATE apt configuration under the cache (own
#     sources.list, state and cache dirs); the host's apt sources are never
#     touched. Unpacked with `dpkg-source -x --skip-patches`; of Debian's own
#     debian/patches only those the build needs are applied (DEBIAN_PATCHES).
#   - meson >= 1.5: bookworm-backports' meson (architecture `all`), fetched
#     with the same private configuration and run from its unpacked tree
#     (PYTHONPATH); never installed.
#   - configure: x86_64-softmmu, --without-default-features, plus what the
#     VM tier uses (TCG, virtio-9p with xattrs for the host root, fdt); no
#     docs, no rust, no KVM.
#   - `nice -n 19 ninja -j2` (SVMBIND_VM_QJOBS).
#   - firmware: the +ds source ships none. Option ROMs from Debian 12's
#     qemu-system-data (/usr/share/qemu); SeaBIOS 1.16.3 from bookworm-backports
#     (architecture all, fetched and unpacked like meson): with Debian 12's
#     SeaBIOS 1.16.2 this QEMU spends ~30 s in the firmware before the kernel
#     starts (measured: 36 s vs 4 s for a whole vm.sh run).
#
# Cache: $CACHE/qemu/ (CACHE=${SVMBIND_VM_CACHE:-$HOME/.cache/svmbind-vm}):
#   apt/                 the private apt configuration and its index
#   dl/                  the source package files and the meson .deb
#   meson/VERSION/       meson, unpacked
#   seabios/VERSION/     SeaBIOS, unpacked (QEMU_FW_ARGS points there)
#   VERSION-PATCHHASH/   one build: src/ (patched tree), build/, qemu.env
# A build is reused when the source version and the hash of our patches (and
# BUILD_REV, the configure line) match.
#
# On success the last line of stdout is the path of qemu.env:
#   QEMU (the qemu-system-x86_64 binary) QEMU_FW_ARGS (the -L arguments,
#   rewritten on every run: the firmware is fetched apart from the build)
#   QEMU_SRC_VERSION QEMU_PATCH_HASH
#
# Environment: SVMBIND_VM_CACHE, SVMBIND_VM_MIRROR, SVMBIND_VM_QEMU_VERSION
# (a 10.2.x version string to pin), SVMBIND_VM_QJOBS (ninja -j, default 2),
# SVMBIND_VM_QOFFLINE=1 (no apt-get update: newest cached build of these patches).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${SVMBIND_VM_CACHE:-${HOME:-/root}/.cache/svmbind-vm}
QC=$CACHE/qemu
PATCHDIR=$HERE/patches
JOBS=${SVMBIND_VM_QJOBS:-2}
# The upstream series we build; 10.2 is the newest Debian serves as source.
SERIES=10.2
# Debian's patches the +ds tarball cannot build without (it lacks the
# vendored pycotap wheel, the edk2 blobs and the prebuilt dtb files).
DEBIAN_PATCHES="disable-pycotap.patch skip-unpack-edk2-blobs.patch skip-install-dtb.patch"
# Bump when the steps below change the result (configure line, patch order).
BUILD_REV=1
export DEBIAN_FRONTEND=noninteractive

log() { printf 'qemu/build.sh: %s\n' "$*" >&2; }
die() { printf 'qemu/build.sh: error: %s\n' "$*" >&2; exit 1; }

command -v apt-get >/dev/null || die "this script needs Debian (apt-get)"
mkdir -p "$QC"
exec 9>"$QC/.lock"
flock 9

# --- build dependencies and firmware, from the host's own (Debian 12) sources
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
ensure_pkgs build-essential dpkg-dev pkg-config ninja-build python3 python3-venv \
	libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev \
	qemu-system-data debian-archive-keyring xz-utils
[ -f /usr/share/qemu/pvh.bin ] || die "no /usr/share/qemu/pvh.bin (reinstall qemu-system-data)"

# --- the private apt configuration: deb-src unstable (qemu), bookworm-backports (meson)
APTD=$QC/apt
mkdir -p "$APTD/state/lists/partial" "$APTD/cache/archives/partial"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIRROR=${SVMBIND_VM_MIRROR:-http://deb.debian.org/debian}
cat >"$APTD/sources.list.tmp" <<EOF
deb-src [signed-by=$KEYRING] $MIRROR unstable main
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

# Downloads package $1 (architecture all) with the private configuration and
# unpacks it into $QC/$2/<version>/ once; prints that directory.
fetch_all_deb() {
	local pkg=$1 v dir deb
	v=$(apt-cache "${APT_OPTS[@]}" policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)' || true)
	[ -n "$v" ] || die "no $pkg in the private index ($APTD/sources.list)"
	dir=$QC/$2/${v//[~:+]/_}
	if [ ! -f "$dir/.ok" ]; then
		log "apt-get download $pkg=$v (private apt configuration)"
		rm -rf "$dir" && mkdir -p "$dir" "$QC/dl"
		(cd "$QC/dl" && apt-get "${APT_OPTS[@]}" -q download "$pkg=$v" >&2) || die "apt-get download $pkg=$v failed"
		deb=$QC/dl/${pkg}_${v#*:}_all.deb
		[ -f "$deb" ] || die "no $deb after apt-get download"
		dpkg-deb -x "$deb" "$dir" || die "cannot unpack $deb"
		touch "$dir/.ok"
	fi
	printf '%s\n' "$dir"
}

# The firmware arguments; with SVMBIND_VM_QOFFLINE=1 the newest unpacked SeaBIOS.
firmware() {
	local d
	if [ "$offline" = 1 ]; then
		d=$(ls -1d "$QC"/seabios/*/ 2>/dev/null | sort -V | tail -n1)
		d=${d%/}
		[ -n "$d" ] && [ -f "$d/.ok" ] || die "SVMBIND_VM_QOFFLINE=1 but no SeaBIOS unpacked under $QC/seabios"
	else
		d=$(fetch_all_deb seabios seabios)
	fi
	[ -f "$d/usr/share/seabios/bios-256k.bin" ] || die "no bios-256k.bin in $d"
	FW_ARGS="-L /usr/share/qemu -L $d/usr/share/seabios"
}

# Rewrites qemu.env's firmware line (the build does not depend on it).
set_firmware() {
	grep -v '^QEMU_FW_ARGS=' "$1" >"$1.tmp"
	printf 'QEMU_FW_ARGS="%s"\n' "$FW_ARGS" >>"$1.tmp"
	mv "$1.tmp" "$1"
}

[ -d "$PATCHDIR" ] || die "no $PATCHDIR"
patches=$(cd "$PATCHDIR" && ls -1 ./*.patch 2>/dev/null | sed 's|^\./||' | LC_ALL=C sort || true)
patch_hash=$( {
	for p in $patches; do echo "== $p"; cat "$PATCHDIR/$p"; done
	echo "debian $DEBIAN_PATCHES rev $BUILD_REV"
} | sha256sum | cut -c1-12)

newest_cached() {
	local d
	for d in $(ls -1dt "$QC"/*-"$patch_hash" 2>/dev/null); do
		[ -f "$d/qemu.env" ] && { printf '%s\n' "$d"; return 0; }
	done
	return 1
}

offline=${SVMBIND_VM_QOFFLINE:-0}
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
	d=$(newest_cached) || die "SVMBIND_VM_QOFFLINE=1 but no cached build for patches $patch_hash in $QC"
	firmware
	set_firmware "$d/qemu.env"
	printf '%s\n' "$d/qemu.env"
	exit 0
fi
firmware

# The newest qemu source of our series in the index (or the pinned one).
ver=${SVMBIND_VM_QEMU_VERSION:-}
if [ -z "$ver" ]; then
	for v in $(apt-cache "${APT_OPTS[@]}" showsrc qemu 2>/dev/null | sed -n 's/^Version: //p'); do
		case "${v#*:}" in "$SERIES".*) ;; *) continue ;; esac
		if [ -z "$ver" ] || dpkg --compare-versions "$v" gt "$ver"; then ver=$v; fi
	done
fi
[ -n "$ver" ] || die "no qemu $SERIES.x source in the private index ($APTD/sources.list); Debian's unstable may have moved on: pin one with SVMBIND_VM_QEMU_VERSION"
uver=${ver#*:}
ID=${uver//[~:+]/_}-$patch_hash
OUT=$QC/$ID
if [ -f "$OUT/qemu.env" ]; then
	set_firmware "$OUT/qemu.env"
	printf '%s\n' "$OUT/qemu.env"
	exit 0
fi

# --- cold path
t_start=$(date +%s)
DL=$QC/dl
mkdir -p "$DL"
dsc=$DL/qemu_${uver}.dsc
if [ ! -f "$DL/.ok-$uver" ]; then
	log "apt-get source --download-only qemu=$ver (private apt configuration)"
	(cd "$DL" && apt-get "${APT_OPTS[@]}" -q source --download-only "qemu=$ver" >&2) ||
		die "apt-get source qemu=$ver failed"
	touch "$DL/.ok-$uver"
fi
[ -f "$dsc" ] || die "no $dsc after download"

# meson >= 1.5 from bookworm-backports, unpacked (architecture all, pure python).
MESON_DIR=$(fetch_all_deb meson meson)
MESON_PY=$MESON_DIR/usr/lib/python3/dist-packages
[ -d "$MESON_PY/mesonbuild" ] || die "no mesonbuild in $MESON_PY"
export PYTHONPATH=$MESON_PY${PYTHONPATH:+:$PYTHONPATH}
got=$(python3 -c 'import mesonbuild.coredata as c; print(c.version)') || die "meson from $MESON_DIR does not run"
dpkg --compare-versions "$got" ge 1.5 || die "meson $got in bookworm-backports is older than 1.5 (QEMU $SERIES needs 1.5)"
log "meson $got (unpacked, PYTHONPATH)"

rm -rf "$OUT"
mkdir -p "$OUT"
SRC=$OUT/src
log "unpacking qemu $ver"
dpkg-source --skip-patches -x "$dsc" "$SRC" >"$OUT/unpack.log" 2>&1 ||
	{ tail -n 5 "$OUT/unpack.log" >&2; die "dpkg-source -x $dsc failed"; }
rm -f "$OUT"/qemu_*.orig.tar.* # dpkg-source's link to the tarball
for p in $DEBIAN_PATCHES; do
	f=$SRC/debian/patches/$p
	[ -f "$f" ] || die "Debian's qemu $ver has no debian/patches/$p (the +ds tarball changed?)"
	patch -d "$SRC" -p1 -s -N --no-backup-if-mismatch <"$f" >>"$OUT/patch.log" 2>&1 ||
		die "Debian's $p does not apply to qemu $ver (see $OUT/patch.log)"
done
for p in $patches; do
	patch -d "$SRC" -p1 -s -N --no-backup-if-mismatch <"$PATCHDIR/$p" >>"$OUT/patch.log" 2>&1 ||
		{ tail -n 10 "$OUT/patch.log" >&2; die "our $p does not apply to qemu $ver (see $OUT/patch.log)"; }
	log "applied $p"
done

B=$OUT/build
mkdir -p "$B"
log "configuring (x86_64-softmmu, minimal features)"
(cd "$B" && nice -n 19 "$SRC/configure" \
	--prefix=/nonexistent/svmbind-qemu \
	--target-list=x86_64-softmmu \
	--without-default-features \
	--enable-tcg --enable-attr --enable-virtfs --enable-fdt=system \
	--disable-kvm --disable-xen --disable-rust --disable-docs --disable-install-blobs \
	--disable-werror) >"$OUT/configure.log" 2>&1 ||
	{ tail -n 20 "$OUT/configure.log" >&2; die "configure failed (full log: $OUT/configure.log)"; }
t_cfg=$(date +%s)
log "building (nice -n 19 ninja -j$JOBS; ~6 min on 2 idle cores)"
if ! (cd "$B" && nice -n 19 ninja -j"$JOBS" qemu-system-x86_64) >"$OUT/build.log" 2>&1; then
	grep -m5 -B2 -A8 'error' "$OUT/build.log" >&2 || tail -n 30 "$OUT/build.log" >&2
	die "QEMU build failed (full log: $OUT/build.log)"
fi
Q=$B/qemu-system-x86_64
[ -x "$Q" ] || die "no $Q after the build"
# shellcheck disable=SC2086
"$Q" $FW_ARGS -device help 2>/dev/null | grep -q '"intel-iommu"' || die "$Q has no intel-iommu device"
cat >"$OUT/qemu.env.tmp" <<EOF
QEMU=$Q
QEMU_SRC_VERSION=$ver
QEMU_PATCH_HASH=$patch_hash
QEMU_PATCHES="$(echo $patches)"
EOF
mv "$OUT/qemu.env.tmp" "$OUT/qemu.env"
set_firmware "$OUT/qemu.env"
log "built qemu $ver + $(echo "$patches" | wc -w) patch(es) in $(( $(date +%s) - t_start ))s (configure $(( t_cfg - t_start ))s)"
printf '%s\n' "$OUT/qemu.env"
