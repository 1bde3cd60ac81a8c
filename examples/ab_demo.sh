#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# The seed's A/B flow as deployed, run inside the VM (tests/vm/vm.sh) as root:
#
#   on the reference provider (--driver svmref):
#     A (ab_owner) runs unprivileged as a service user that owns the device
#     (its IOMMU group node chowned to that user, memlock raised), Yama's
#     ptrace_scope is 1; B (ab_client) of the same user, not A's descendant,
#     names A its tracer for the bind, and A's device copies between B's
#     buffers through B's PASID, then into a page B never touched; a second B
#     of another user is refused until A holds CAP_SYS_PTRACE (ambient), then
#     served. No bond is left at the end.
#     In the real-SVA VM (vm.sh --kernel new --sva) the device is the svm-dma
#     device with PRI: A drives its DMA itself, the IOMMU translates it through
#     B's page tables, and the untouched page comes in by the device's page
#     request. Elsewhere (edu) the provider's DMA is emulated.
#   on stock vfio-pci (--driver vfio-pci): no kernel has the seed's bind, and
#     the same programs say why they cannot bind; except in the real-SVA VM
#     on the newest kernel (iommufd, the svm-dma device with PASID and PRI),
#     where B's bond is a PASID space instead: B shares memfd buffers with A
#     (svmbind_client_share_alloc()), A's device copies between them at B's
#     own addresses with B's PASID, and the untouched page is placed by A's
#     fault handler when the device asks for it. Both B1 (A's user) and B2
#     (another user) are served without any ptrace right: B hands its memory
#     over itself. No pinned page is left at the end.
#
# A and B run as other users, who may not be able to reach the checkout (a
# clone under /root, mode 0700): the programs and libsvmbind.so.1 are staged
# first into a world-readable directory of the guest's own (tmpfs overlay).
#
# Every step is checked; exit 0 when each behaved as described.
#   AB_BIN     directory of ab_owner and ab_client (default: build/examples)
#   AB_DEVICE  the device: a PCI address, or "svm-dma" (the svm-dma device with
#              PRI); default: svm-dma in the real-SVA VM, else lab device C
#   AB_SVC_UID the service user (default 990); AB_OTHER_UID the other user (991)
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${AB_BIN:-$HERE/../build/examples}
BIN=$(cd "$BIN" && pwd) || { echo "ab_demo: no $BIN: build first" >&2; exit 1; }
SVC=${AB_SVC_UID:-990}
OTHER=${AB_OTHER_UID:-991}
DRIVER=${SVMBIND_LAB_DRIVER:-vfio-pci}
DIR=/run/svmbind-ab
SOCK=$DIR/ab.sock
STAGE=$DIR/bin				# what A and B run: world-readable, the guest's own
if [ "${SVMBIND_VM_SVA:-0}" = 1 ]; then DEV=${AB_DEVICE:-svm-dma}; else DEV=${AB_DEVICE:-${SVMBIND_LAB_DEVS##*,}}; fi
fails=0
apid=

say() { printf '\n== %s\n' "$*"; }
ok() { printf 'ab_demo: ok: %s\n' "$*"; }
bad() { printf 'ab_demo: FAILED: %s\n' "$*"; fails=$((fails + 1)); }
expect() {	# got want ok-text failed-text
	if [ "$1" = "$2" ]; then ok "$3"; else bad "$4"; fi
}
bonds() { cat /sys/module/svmref/parameters/bonds 2>/dev/null || echo 0; }

# A as the service user: no capabilities unless asked, memlock raised.
start_owner() {	# [extra setpriv args...]
	prlimit --memlock=67108864:67108864 \
		setpriv --reuid="$SVC" --regid="$SVC" --clear-groups "$@" \
		env LD_LIBRARY_PATH="$STAGE" \
		"$STAGE/ab_owner" --device "$DEV" --socket "$SOCK" --mode 0666 --allow-uid "$OTHER" &
	apid=$!
	for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
	sleep 0.2
}
stop_owner() {
	[ -n "$apid" ] || return 0
	kill -TERM "$apid" 2>/dev/null
	wait "$apid"
	apid=
}
# B as user $1, started from this shell: a sibling of A, never its descendant.
client() {	# uid [ab_client args...]
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups --inh-caps=-all \
		env LD_LIBRARY_PATH="$STAGE" "$STAGE/ab_client" --socket "$SOCK" "$@"
}

# The PCI express extended capability PRI (0x13) in the device's config space.
has_pri() {	# BDF
	local cfg=/sys/bus/pci/devices/$1/config off=256 h n=0
	while [ "$off" -ge 256 ] && [ "$n" -lt 64 ]; do
		h=$(od -An -tx4 -j "$off" -N4 "$cfg" 2>/dev/null | tr -d ' ')
		[ -n "$h" ] || return 1
		[ $((0x$h & 0xffff)) = 19 ] && return 0
		off=$(((0x$h >> 20) & 0xffc))
		n=$((n + 1))
	done
	return 1
}
# The svm-dma device (1234:5356) with PRI, handed to this command's driver.
find_svm_dma() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x5356 ] && has_pri "${d##*/}" &&
			{ echo "${d##*/}"; return 0; }
	done
	return 1
}
to_driver() {	# BDF DRIVER
	local cur=
	[ -e "/sys/bus/pci/devices/$1/driver" ] && cur=$(basename "$(readlink "/sys/bus/pci/devices/$1/driver")")
	[ "$cur" = "$2" ] && return 0
	[ -z "$cur" ] || echo "$1" > "/sys/bus/pci/devices/$1/driver/unbind"
	echo "$2" > "/sys/bus/pci/devices/$1/driver_override"
	echo "$1" > /sys/bus/pci/drivers_probe
}

# Stage the programs and the library they load where every user can read them.
stage() {
	local lib
	lib=$(ldd "$BIN/ab_owner" | awk '$1 ~ /^libsvmbind\.so/ {print $3}')
	[ -f "$lib" ] || { echo "ab_demo: ab_owner does not load libsvmbind.so.1" >&2; return 1; }
	install -d -m 0755 "$STAGE"
	install -m 0755 "$BIN/ab_owner" "$BIN/ab_client" "$STAGE/"
	install -m 0644 "$lib" "$STAGE/libsvmbind.so.1"
	if setpriv --reuid="$SVC" --regid="$SVC" --clear-groups test -x "$BIN/ab_owner"; then
		echo "ab_demo: staged ab_owner, ab_client, libsvmbind.so.1 in $STAGE (uid $SVC could reach $BIN too)"
	else
		echo "ab_demo: staged ab_owner, ab_client, libsvmbind.so.1 in $STAGE: uid $SVC cannot reach $BIN" \
		     "(a directory on its way is closed to others), so A and B run these copies"
	fi
}

[ -n "$DEV" ] || { echo "ab_demo: no SVMBIND_LAB_DEVS: run me through tests/vm/vm.sh" >&2; exit 1; }
kind="the lab device"
if [ "$DEV" = svm-dma ]; then
	DEV=$(find_svm_dma) || { echo "ab_demo: no svm-dma device with PRI: run me in vm.sh --kernel new --sva" >&2; exit 1; }
	kind="the svm-dma device (PASID, ATS, PRI)"
	echo "ab_demo: before each page request the kernel logs 'DMAR: [DMA Write PASID ...] ... Present bit in" \
	     "first-level paging entry is clear' (and QEMU a translation failure): the emulated VT-d records the" \
	     "translation that fails first as a fault. Expected: the page request follows."
fi
to_driver "$DEV" "$DRIVER" || { echo "ab_demo: cannot bind $DEV to $DRIVER" >&2; exit 1; }
group=$(basename "$(readlink "/sys/bus/pci/devices/$DEV/iommu_group")")
install -d -o "$SVC" -g "$SVC" -m 0755 "$DIR"
stage || exit 1
say "$kind $DEV (IOMMU group $group) on $DRIVER; its VFIO nodes handed to the service user uid $SVC"
nodes=("/dev/vfio/$group")
# A newer kernel's iommufd path: the device's VFIO cdev and /dev/iommu too.
for n in /sys/bus/pci/devices/"$DEV"/vfio-dev/vfio*; do [ -e "$n" ] && nodes+=("/dev/vfio/devices/${n##*/}"); done
[ ${#nodes[@]} -gt 1 ] && [ -c /dev/iommu ] && nodes+=(/dev/iommu)
chown "$SVC:$SVC" "${nodes[@]}"
ls -l "${nodes[@]}"

pinned_kb() {	# VmPin of the running A
	awk '/^VmPin:/ {print $2}' "/proc/$apid/status" 2>/dev/null || echo "?"
}
if [ "$DRIVER" = vfio-pci ] && [ "${SVMBIND_VM_SVA:-0}" = 1 ] && [ -c /dev/iommu ]; then
	say "stock vfio-pci, no seed bind: B's bond is a PASID space of the memory it shares (iommufd)"
	start_owner --inh-caps=-all
	grep -E '^(Uid|CapEff)' "/proc/$apid/status" | tr '\t' ' '
	client "$SVC" --text "hello from B1, through a PASID space of my shared memory"
	rc=$?
	expect "$rc" 0 "B1 served: A's device copied between B1's shared buffers at B1's addresses, and into a page A placed on request" "B1 exited $rc"
	client "$OTHER" --text "hello from B2, another user, no ptrace right needed"
	rc=$?
	expect "$rc" 0 "B2 (another user) served the same way: it handed its memory over itself" "B2 exited $rc"
	sleep 0.5
	n=$(pinned_kb)
	expect "$n" 0 "A holds no pinned page once the clients are gone (VmPin $n kB)" "A still pins $n kB"
	stop_owner
	[ "$fails" = 0 ] && echo "ab_demo: PASS: the seed's flow through PASID spaces on stock vfio-pci, $kind $DEV" ||
		echo "ab_demo: FAIL ($fails)"
	exit $((fails > 0))
fi

if [ "$DRIVER" = vfio-pci ]; then
	say "stock vfio-pci: the same programs, no SVM bind in this kernel (a refusal, on purpose)"
	start_owner --inh-caps=-all
	client "$SVC" --text "hello"
	rc=$?
	expect "$rc" 2 "B was told clearly why it cannot be bound (exit 2)" "B exited $rc, want 2 (no SVM bind)"
	stop_owner
	[ "$fails" = 0 ] && echo "ab_demo: PASS: the stock kernel refuses clearly" || echo "ab_demo: FAIL ($fails)"
	exit $((fails > 0))
fi

echo 1 > /proc/sys/kernel/yama/ptrace_scope
say "Yama ptrace_scope=$(cat /proc/sys/kernel/yama/ptrace_scope); A starts unprivileged as uid $SVC (no capabilities)"
start_owner --inh-caps=-all
grep -E '^(Uid|CapEff)' "/proc/$(pgrep -n -f "$STAGE/ab_owner")/status" | tr '\t' ' '

say "B1 (uid $SVC, not A's descendant) without naming A its tracer: Yama refuses (a refusal, on purpose)"
client "$SVC" --no-ptracer --text "should not happen"
rc=$?
expect "$rc" 3 "refused by the ptrace check, as Yama 1 says (exit 3)" "B1 without tracer exited $rc, want 3"

say "B1 (uid $SVC) again, naming A its tracer for the bind only"
client "$SVC" --text "hello from B1, same user as A"
rc=$?
expect "$rc" 0 "B1 bound; A's device copied into B1's buffers, and into a page B1 never touched" "B1 exited $rc"

say "B2 (uid $OTHER, another user): A lacks CAP_SYS_PTRACE (a refusal, on purpose)"
client "$OTHER" --text "hello from B2"
rc=$?
expect "$rc" 3 "B2 refused by the ptrace check (exit 3): another user needs CAP_SYS_PTRACE" "B2 exited $rc, want 3"
stop_owner

say "A restarts as uid $SVC holding only CAP_SYS_PTRACE (ambient); B2 asks again"
start_owner --inh-caps=-all,+sys_ptrace --ambient-caps=+sys_ptrace
grep -E '^(Uid|CapEff)' "/proc/$(pgrep -n -f "$STAGE/ab_owner")/status" | tr '\t' ' '
client "$OTHER" --text "hello from B2, another user"
rc=$?
expect "$rc" 0 "B2 bound and served once A holds CAP_SYS_PTRACE" "B2 exited $rc"
stop_owner

n=$(bonds)
expect "$n" 0 "no bond left in the provider (bonds=$n)" "$n bond(s) left"
echo 0 > /proc/sys/kernel/yama/ptrace_scope
if [ "$fails" = 0 ]; then echo "ab_demo: PASS: the seed's A/B flow through the broker on $kind $DEV"
else echo "ab_demo: FAIL ($fails)"; fi
exit $((fails > 0))
