#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# Run commands in a QEMU guest (Debian's kernel or the tier's own newest
# kernel, emulated VT-d, three edu devices) with the host's own root
# filesystem, as the VM test tier.
# See tests/vm/README.md. Usage: vm.sh --help
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

usage() {
	cat <<'EOF'
usage: vm.sh [OPTIONS] [-c 'SHELL CMD']... [-- COMMAND [ARG...]]

Boots one guest and runs each command in order (bash -c for -c, argv after
--), as root, in the current directory, with the lab devices bound to the
driver selected by the last --driver before the command.

  --kernel debian|new        debian (default): Debian 12's own kernel;
                             new: the tier's own kernel built from Debian's
                             newest linux-source (tests/vm/kernel/build.sh;
                             ~10 min once, then cached), with iommufd and the
                             VFIO cdev next to the legacy container
  --noiommu                  no emulated VT-d; VFIO's unsafe no-IOMMU mode
                             (/dev/vfio/noiommu-N); needs --kernel new
  --vtd OPTS                 extra intel-iommu device options (e.g.
                             x-scalable-mode=on,x-flts=on); with --append
                             intel_iommu=on,sm_on for scalable mode
  --append ARGS              extra kernel command line arguments
  --qemu PATH                QEMU binary (default qemu-system-x86_64)
  --qemu-arg ARG             extra QEMU argument (repeatable, e.g. -L DIR)
  --driver vfio-pci|svmref   VFIO driver for the commands that follow
                             (default vfio-pci; svmref = svmref-vfio-pci)
  -c, --cmd STRING           add a command (repeatable)
  --svmref-param NAME=VALUE  insmod parameter for svmref.ko (repeatable)
  --svmref-ko PATH           use this svmref.ko (default: build
                             tests/vm/provider with make M=... and use it)
  -C, --cwd DIR              working directory in the guest (default: $PWD)
  -e, --env NAME=VALUE       extra environment for the commands (repeatable)
  --timeout SECS             wall-time limit for the whole VM (default 300)
  --cmd-timeout SECS         limit per command inside the guest (default 0: none)
  --out DIR                  results directory, kept (default: a new mktemp -d,
                             removed after a PASS unless --keep); shared
                             read-write with the guest as $SVMBIND_VM_OUT
  --log FILE                 guest console log, kept (default: OUT/console.log)
  -k, --keep                 keep the default results directory after a PASS
  --rw DIR                   share host DIR read-write at the same path (e.g. a
                             build tree for test logs; repeatable). Everything
                             else the guest writes is thrown away at power-off
  -v, --verbose              stream the guest console while it runs
  --kvm                      use KVM instead of TCG (opt-in: hangs on some hosts)
  --no-overlay               read-only root + tmpfs /tmp instead of a tmpfs overlay
  --sva                      real SVA: the tier's own QEMU (tests/vm/qemu/build.sh),
                             VT-d in scalable mode with PASID, ATS and page
                             requests, and two svm-dma devices (PASID+ATS+PRI,
                             PASID+ATS) behind PCIe root ports; needs --kernel new
  -h, --help

Commands see SVMBIND_LAB_DEVS=A,B,C (A,B share an IOMMU group; C is alone;
with --noiommu each is alone, A,B behind the bridge), SVMBIND_LAB_DRIVER,
SVMBIND_LAB_OTHER_DRIVER, SVMBIND_VM=1, SVMBIND_VM_OUT, and what the kernel
offers: SVMBIND_LAB_KERNEL (debian|new), SVMBIND_LAB_NOIOMMU (0|1),
SVMBIND_LAB_CONTAINER (/dev/vfio/vfio or empty), SVMBIND_LAB_IOMMUFD
(/dev/iommu or empty), SVMBIND_LAB_GROUP_NODES and SVMBIND_LAB_CDEVS (A,B,C's
/dev/vfio/N or noiommu-N, and /dev/vfio/devices/vfioN or noiommu-vfioN; empty
fields where absent).

Exit status: one command: its exit status; several: 0 if every command
exited 0 or 77 (skip), else the first other status. 124: the VM timed out;
125: the harness failed (boot, modules, devices); 2: usage.
Environment: SVMBIND_VM_CACHE (default ~/.cache/svmbind-vm), SVMBIND_VM_VERBOSE=1,
SVMBIND_VM_KEEP=1, SVMBIND_VM_KERNEL (debian|new: the default --kernel).
EOF
}

say() { printf 'vm.sh: %s\n' "$*" >&2; }
die() { printf 'vm.sh: error: %s\n' "$*" >&2; exit "${2:-125}"; }

driver=vfio-pci
cmds=()
drivers=()
svmref_params=()
svmref_ko=
cwd=$PWD
envs=()
timeout=300
cmd_timeout=0
out=
log=
verbose=${SVMBIND_VM_VERBOSE:-0}
keep=${SVMBIND_VM_KEEP:-0}
accel=tcg
overlay=1
rws=()
kernel=${SVMBIND_VM_KERNEL:-debian}
noiommu=0
vtd_opts=
append=
qemu_bin=qemu-system-x86_64
qemu_extra=()
sva=0
sva_args=()

drvname() {
	case "$1" in
	vfio-pci) echo vfio-pci ;;
	svmref | svmref-vfio-pci) echo svmref-vfio-pci ;;
	*) die "unknown driver '$1' (vfio-pci or svmref)" 2 ;;
	esac
}
need() { [ "$#" -ge 2 ] || die "$1 needs an argument" 2; }

while [ "$#" -gt 0 ]; do
	case "$1" in
	--kernel) need "$@"; kernel=$2; shift 2 ;;
	--kernel=*) kernel=${1#*=}; shift ;;
	--noiommu) noiommu=1; shift ;;
	--vtd) need "$@"; vtd_opts=$2; shift 2 ;;
	--append) need "$@"; append=$2; shift 2 ;;
	--qemu) need "$@"; qemu_bin=$2; shift 2 ;;
	--qemu-arg) need "$@"; qemu_extra+=("$2"); shift 2 ;;
	--driver) need "$@"; driver=$(drvname "$2"); shift 2 ;;
	--driver=*) driver=$(drvname "${1#*=}"); shift ;;
	-c | --cmd) need "$@"; cmds+=("$2"); drivers+=("$driver"); shift 2 ;;
	--svmref-param) need "$@"; svmref_params+=("$2"); shift 2 ;;
	--svmref-ko) need "$@"; svmref_ko=$2; shift 2 ;;
	-C | --cwd) need "$@"; cwd=$2; shift 2 ;;
	-e | --env) need "$@"; envs+=("$2"); shift 2 ;;
	--timeout) need "$@"; timeout=$2; shift 2 ;;
	--cmd-timeout) need "$@"; cmd_timeout=$2; shift 2 ;;
	--out) need "$@"; out=$2; shift 2 ;;
	--log) need "$@"; log=$2; keep=1; shift 2 ;;
	-k | --keep) keep=1; shift ;;
	--rw) need "$@"; rws+=("$2"); shift 2 ;;
	-v | --verbose) verbose=1; shift ;;
	--kvm) accel=kvm; shift ;;
	--no-overlay) overlay=0; shift ;;
	--sva) sva=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift
		[ "$#" -gt 0 ] || die "nothing after --" 2
		cmds+=("$(printf '%q ' "$@")"); drivers+=("$driver")
		break ;;
	*) die "unknown argument '$1' (see --help)" 2 ;;
	esac
done
[ "${#cmds[@]}" -gt 0 ] || { usage >&2; exit 2; }
case "$timeout$cmd_timeout" in *[!0-9]*) die "timeouts are whole seconds" 2 ;; esac
case "$kernel" in debian | new) ;; *) die "unknown kernel '$kernel' (debian or new)" 2 ;; esac
[ "$noiommu" = 0 ] || [ "$kernel" = new ] ||
	die "--noiommu needs --kernel new (Debian's kernels are built without CONFIG_VFIO_NOIOMMU)" 2
cwd=$(cd "$cwd" && pwd) || die "no directory $cwd" 2

# --sva: our QEMU build (tests/vm/qemu/), scalable-mode VT-d with PASID,
# device IOTLB (ATS) and page requests, and two svm-dma test devices, each
# behind its own PCIe root port: 1234:5356 with PRI, and one without PRI.
sva_setup() {
	local qenv
	[ "$kernel" = new ] || die "--sva needs --kernel new (Debian 12's 6.1 cannot do SVA here)" 2
	[ "$noiommu" = 0 ] || die "--sva and --noiommu exclude each other" 2
	[ "$accel" = tcg ] || die "--sva runs under TCG only" 2
	qenv=$("$HERE/qemu/build.sh" | tail -n1) || die "tests/vm/qemu/build.sh failed"
	# shellcheck source=/dev/null
	. "$qenv"
	qemu_bin=$QEMU
	# shellcheck disable=SC2206  # QEMU_FW_ARGS is "-L DIR -L DIR"
	qemu_extra=($QEMU_FW_ARGS "${qemu_extra[@]}")
	vtd_opts="x-scalable-mode=on,x-flts=on,x-pasid-mode=on,x-prs=on,device-iotlb=on,aw-bits=48${vtd_opts:+,$vtd_opts}"
	append="intel_iommu=on,sm_on${append:+ $append}"
	sva_args=(
		-device pcie-root-port,id=svmrp0,chassis=10,slot=10,addr=0a.0
		-device svm-dma,bus=svmrp0,addr=00.0
		-device pcie-root-port,id=svmrp1,chassis=11,slot=11,addr=0b.0
		-device svm-dma,bus=svmrp1,addr=00.0,pri=off
	)
	envs=(SVMBIND_VM_SVA=1 "${envs[@]}")
}
[ "$sva" = 0 ] || sva_setup
for p in "${envs[@]}"; do
	case "$p" in [A-Za-z_]*=*) ;; *) die "--env wants NAME=VALUE, not '$p'" 2 ;; esac
done

# Host side: packages, kernel, initramfs.
envfile=$("$HERE/setup.sh" --kernel "$kernel" | tail -n1) || die "setup.sh failed"
# shellcheck source=/dev/null
. "$envfile"

# The provider, when a command wants it.
want_svmref=0
for d in "${drivers[@]}"; do [ "$d" = svmref-vfio-pci ] && want_svmref=1; done
if [ "$want_svmref" = 1 ] && [ -z "$svmref_ko" ]; then
	pdir=$REPO/tests/vm/provider
	[ -f "$pdir/Makefile" ] || [ -f "$pdir/Kbuild" ] || die "no provider in $pdir"
	if [ "${KERNEL_KIND:-debian}" = new ]; then
		# A copy per kernel build, so this never races a 6.1 build in
		# tests/vm/provider; W=1 and -Werror: the source must stay clean.
		bdir=$(dirname "$envfile")/provider
		mkdir -p "$bdir"
		for f in "$pdir"/Kbuild "$pdir"/*.c "$pdir"/*.h; do
			[ -f "$f" ] || continue
			cmp -s "$f" "$bdir/${f##*/}" || cp "$f" "$bdir/"
		done
		kmake=(make -C "$HEADERS" M="$bdir" SVMREF_ROOT="$REPO" W=1 KCFLAGS=-Werror modules)
		svmref_ko=$bdir/svmref.ko
	else
		kmake=(make -C "$HEADERS" M="$pdir" modules)
		svmref_ko=$pdir/svmref.ko
	fi
	say "building the provider: ${kmake[*]}"
	if ! blog=$("${kmake[@]}" 2>&1); then
		printf '%s\n' "$blog" | tail -n 30 >&2
		die "the provider does not build"
	fi
fi
if [ -n "$svmref_ko" ]; then
	svmref_ko=$(cd "$(dirname "$svmref_ko")" && pwd)/$(basename "$svmref_ko")
	[ -f "$svmref_ko" ] || die "no $svmref_ko"
	[ "$(modinfo -F vermagic "$svmref_ko" | head -n1 | cut -d' ' -f1)" = "$KVER" ] ||
		die "$svmref_ko is not built for $KVER"
fi

# Results directory, shared with the guest at the same path.
if [ -z "$out" ]; then
	out=$(mktemp -d "${TMPDIR:-/tmp}/svmbind-vm.XXXXXX")
else
	keep=1
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
fi
case "$out" in *[[:space:],]*) die "the results path must not contain spaces or commas: $out" 2 ;; esac
rm -f "$out"/rc.* "$out/done" "$out/setup.rc" "$out/devs"
log=${log:-$out/console.log}
rw_args=()
rw_list=
for i in "${!rws[@]}"; do
	d=$(cd "${rws[$i]}" && pwd) || die "no directory ${rws[$i]}" 2
	case "$d" in *[[:space:],]*) die "--rw paths must not contain spaces or commas: $d" 2 ;; esac
	rw_args+=(-fsdev "local,id=fsrw$i,path=$d,security_model=none"
		-device "virtio-9p-pci,fsdev=fsrw$i,mount_tag=svmrw$i")
	rw_list=${rw_list:+$rw_list,}$d
done

# The guest's job: variables for guest.sh, then guest.sh itself.
SVMVM_OUT=$out
SVMVM_KVER=$KVER
SVMVM_MODROOT=$MODROOT
SVMVM_OTHER=uio_pci_generic
SVMVM_KERNEL=${KERNEL_KIND:-debian}
SVMVM_NOIOMMU=$noiommu
SVMVM_SVMREF_KO=$svmref_ko
SVMVM_SVMREF_PARAMS=("${svmref_params[@]}")
SVMVM_CWD=$cwd
SVMVM_ENV=("${envs[@]}")
# Pass through the host's SVMBIND_* (but not the lab's own) and CK_* variables.
while IFS= read -r -d '' kv; do
	case "$kv" in
	SVMBIND_LAB_* | SVMBIND_VM=* | SVMBIND_VM_OUT=*) ;;
	SVMBIND_* | CK_*) SVMVM_ENV=("$kv" "${SVMVM_ENV[@]}") ;;
	esac
done < <(env -0)
SVMVM_CMD_TIMEOUT=$cmd_timeout
SVMVM_DRIVERS=("${drivers[@]}")
SVMVM_CMDS=("${cmds[@]}")
{
	echo '#!/bin/bash'
	echo '# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT'
	echo '# generated by tests/vm/vm.sh; run by the guest'"'"'s /init'
	printf 'export PATH=%q\n' "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
	declare -p SVMVM_OUT SVMVM_KVER SVMVM_MODROOT SVMVM_OTHER SVMVM_KERNEL SVMVM_NOIOMMU SVMVM_SVMREF_KO \
		SVMVM_SVMREF_PARAMS SVMVM_CWD SVMVM_ENV SVMVM_CMD_TIMEOUT SVMVM_DRIVERS SVMVM_CMDS
	printf '. %q\n' "$HERE/guest.sh"
} >"$out/job.sh"

# Topology: C alone on the root complex; A and B behind a conventional
# PCI-PCI bridge, so they alias to the bridge's requester ID and share its group.
if [ "$accel" = kvm ]; then
	accel_args=(-accel kvm -cpu host)
else
	accel_args=(-accel tcg -cpu max)
	# --sva: no 5-level paging (the VT-d model lacks FL5LP, Linux then refuses SVA)
	[ "$sva" = 0 ] || accel_args=(-accel tcg -cpu max,la57=off)
fi
# --noiommu: no VT-d at all, and VFIO's unsafe no-IOMMU mode (vfio is built
# into the new kernel, so its parameter goes on the kernel command line).
if [ "$noiommu" = 1 ]; then
	iommu_args=()
	kargs="vfio.enable_unsafe_noiommu_mode=1"
else
	iommu_args=(-device "intel-iommu,intremap=on,caching-mode=on${vtd_opts:+,$vtd_opts}")
	kargs="intel_iommu=on iommu=pt"
fi
kargs="$kargs${append:+ $append}"
# shellcheck disable=SC2054  # the commas are QEMU's
qemu=(
	"$qemu_bin" -machine q35 "${accel_args[@]}" -m 1024 -smp 1
	-nographic -no-reboot -nic none -vga none
	"${iommu_args[@]}"
	"${sva_args[@]}"
	-device edu,addr=04.0
	-device pci-bridge,id=br1,chassis_nr=1,shpc=off,addr=05.0
	-device edu,bus=br1,addr=01.0
	-device edu,bus=br1,addr=02.0
	-fsdev local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap
	-device virtio-9p-pci,fsdev=fsroot,mount_tag=hostroot,addr=06.0
	-fsdev "local,id=fsout,path=$out,security_model=none"
	-device virtio-9p-pci,fsdev=fsout,mount_tag=svmout,addr=07.0
	"${rw_args[@]}"
	"${qemu_extra[@]}"
	-kernel "${KERNEL:-$VMLINUZ}" -initrd "$INITRD"
	-append "console=ttyS0 $kargs panic=-1 quiet svmvm_out=$out svmvm_overlay=$overlay${rw_list:+ svmvm_rw=$rw_list}"
)

# Console to text: no CRs, no terminal control sequences from the firmware.
clean() { sed -u -e 's/\r$//' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g'; }

say "booting $KVER (${accel}$([ "$noiommu" = 1 ] && echo ", no IOMMU")), ${#cmds[@]} command(s), log $log"
t0=$(date +%s.%N)
set +e
if [ "$verbose" = 1 ]; then
	timeout -k 5 "$timeout" "${qemu[@]}" </dev/null 2>&1 | clean | tee "$log"
else
	timeout -k 5 "$timeout" "${qemu[@]}" </dev/null 2>&1 | clean >"$log"
fi
qrc=${PIPESTATUS[0]}
set -e
t1=$(date +%s.%N)
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')

# Verdict.
final=
fails=0
for i in "${!cmds[@]}"; do
	if [ -f "$out/rc.$i" ]; then
		rc=$(cat "$out/rc.$i")
	elif [ "$qrc" = 124 ]; then
		rc=124
	else
		rc=125
	fi
	case "$rc" in
	0) v=PASS ;;
	77) v=SKIP ;;
	*) v=FAIL; fails=$((fails + 1)) ;;
	esac
	printf 'vm.sh: %s [%d] (%s, exit %s) %s\n' "$v" "$i" "${drivers[$i]}" "$rc" "${cmds[$i]}"
	if [ "${#cmds[@]}" = 1 ]; then
		final=$rc
	elif [ -z "$final" ] && [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		final=$rc
	fi
done
final=${final:-0}
if [ "$qrc" = 124 ]; then
	say "the VM did not finish within ${timeout}s"
elif [ ! -f "$out/done" ]; then
	say "the guest did not finish its job (qemu exit $qrc)"
	[ "$final" = 0 ] && final=125
fi
if [ "$final" = 77 ] && [ "$fails" = 0 ]; then
	printf 'vm.sh: SKIP: the command could not run here (exit 77), VM wall %ss, log %s\n' "$wall" "$log"
elif [ "$final" = 0 ]; then
	if [ "$keep" = 1 ]; then
		printf 'vm.sh: PASS: %d command(s), VM wall %ss, log %s\n' "${#cmds[@]}" "$wall" "$log"
	else
		printf 'vm.sh: PASS: %d command(s), VM wall %ss\n' "${#cmds[@]}" "$wall"
		rm -rf "$out"
	fi
else
	printf 'vm.sh: FAIL: %d of %d command(s) failed, VM wall %ss; console tail:\n' \
		"$fails" "${#cmds[@]}" "$wall"
	tail -n 40 "$log" | sed 's/^/  | /'
	printf 'vm.sh: FAIL: full console log: %s\n' "$log"
fi
exit "$final"
