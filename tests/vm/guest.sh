# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# Guest side of the VM tier: sourced (bash) by the job.sh that vm.sh writes
# into the results directory, after init.sh has chrooted into the host's
# root filesystem. Not meant to be run on the host.
#
# job.sh defines:
#   SVMVM_OUT          results dir (shared read-write with the host)
#   SVMVM_KVER         guest kernel version
#   SVMVM_MODROOT      host path of the guest's /lib/modules/$KVER tree
#   SVMVM_OTHER        the non-VFIO driver (SVMBIND_LAB_OTHER_DRIVER)
#   SVMVM_KERNEL       debian (Debian's kernel, VFIO as modules) or new (the
#                      tier's own kernel, VFIO built in)
#   SVMVM_NOIOMMU      1: no IOMMU; VFIO's unsafe no-IOMMU mode
#   SVMVM_SVMREF_KO    provider module to insmod, or empty
#   SVMVM_SVMREF_PARAMS  array of name=value for that insmod
#   SVMVM_CWD          working directory of the commands
#   SVMVM_ENV          array of NAME=VALUE for the commands' environment
#   SVMVM_CMD_TIMEOUT  seconds per command, 0 = none
#   SVMVM_DRIVERS      array: the VFIO driver for each command
#   SVMVM_CMDS         array: the commands (bash -c strings)
# and writes, per command N (from 0): $SVMVM_OUT/rc.N; then $SVMVM_OUT/done.
# Harness failures are reported as rc 125 in $SVMVM_OUT/setup.rc.
# shellcheck shell=bash
# shellcheck disable=SC2154  # variables come from job.sh

EDU_ID="0x1234:0x11e8"

svmvm_say() { printf 'svmvm: %s\n' "$*"; }

svmvm_fatal() {
	svmvm_say "FATAL: $*"
	echo 125 >"$SVMVM_OUT/setup.rc"
	sync
	exit 125
}

# /init loaded the VFIO stack and the other driver (busybox insmod, in order),
# or they are built in (the new kernel); check, make the guest's own modprobe
# work, and load the provider.
svmvm_have_module() {
	local f=${1//_/[-_]}
	[ -d "/sys/module/$1" ] || grep -q "/$f\.ko\$" "/lib/modules/$SVMVM_KVER/modules.builtin" 2>/dev/null
}

svmvm_modules() {
	local m p=/sys/module/vfio/parameters/enable_unsafe_noiommu_mode
	mkdir -p "/lib/modules/$SVMVM_KVER" 2>/dev/null
	mount --bind "$SVMVM_MODROOT" "/lib/modules/$SVMVM_KVER" ||
		svmvm_fatal "cannot bind $SVMVM_MODROOT on /lib/modules/$SVMVM_KVER"
	for m in irqbypass vfio vfio_iommu_type1 vfio_pci_core vfio_pci "$SVMVM_OTHER"; do
		svmvm_have_module "$m" || svmvm_fatal "module $m is neither loaded nor built in"
	done
	if [ "${SVMVM_NOIOMMU:-0}" = 1 ]; then
		# vfio.enable_unsafe_noiommu_mode=1 on the command line; the
		# parameter is also writable, before any device is bound to VFIO.
		[ -f "$p" ] || svmvm_fatal "this kernel has no VFIO no-IOMMU mode ($p missing)"
		[ "$(<"$p")" = Y ] || echo 1 >"$p" || svmvm_fatal "cannot enable $p"
		[ "$(<"$p")" = Y ] || svmvm_fatal "$p is $(<"$p"), not Y"
	fi
	if [ -n "$SVMVM_SVMREF_KO" ]; then
		insmod "$SVMVM_SVMREF_KO" "${SVMVM_SVMREF_PARAMS[@]}" ||
			svmvm_fatal "insmod $SVMVM_SVMREF_KO ${SVMVM_SVMREF_PARAMS[*]}"
	fi
}

# Sets SVMVM_DEVS=(A B C): A and B share an IOMMU group, C is alone in one.
# Bash builtins only where it matters: every exec under TCG costs.
svmvm_find_devs() {
	local d bdf grp members shared=() alone=() edus=()
	declare -A count=() group=()
	if [ "${SVMVM_NOIOMMU:-0}" = 1 ]; then
		svmvm_find_devs_noiommu
		return
	fi
	for d in /sys/bus/pci/devices/*; do
		[ "$(<"$d/vendor"):$(<"$d/device")" = "$EDU_ID" ] || continue
		bdf=${d##*/}
		[ -e "$d/iommu_group" ] || svmvm_fatal "$bdf has no IOMMU group (intel_iommu=on?)"
		grp=$(cd -P "$d/iommu_group" && echo "${PWD##*/}")
		group[$bdf]=$grp
		count[$grp]=$(( ${count[$grp]:-0} + 1 ))
		edus+=("$bdf")
	done
	for bdf in "${edus[@]}"; do
		grp=${group[$bdf]}
		members=("/sys/kernel/iommu_groups/$grp/devices/"*)
		if [ "${count[$grp]}" -ge 2 ]; then
			shared+=("$bdf")
		elif [ "${#members[@]}" = 1 ]; then
			alone+=("$bdf")
		fi
	done
	if [ "${#shared[@]}" -lt 2 ] || [ "${#alone[@]}" -lt 1 ]; then
		svmvm_fatal "need 2 edu devices in one group and 1 alone; got shared=(${shared[*]}) alone=(${alone[*]})"
	fi
	SVMVM_DEVS=("${shared[0]}" "${shared[1]}" "${alone[0]}")
	for bdf in "${SVMVM_DEVS[@]}"; do
		members=("/sys/kernel/iommu_groups/${group[$bdf]}/devices/"*)
		svmvm_say "edu $bdf group ${group[$bdf]}: ${members[*]##*/}"
	done
}

# No IOMMU, no groups: A and B are the edus behind the bridge (not on bus
# 00), C the one on the root bus. Each gets its own no-IOMMU group once bound.
svmvm_find_devs_noiommu() {
	local d bdf shared=() alone=()
	for d in /sys/bus/pci/devices/*; do
		[ "$(<"$d/vendor"):$(<"$d/device")" = "$EDU_ID" ] || continue
		bdf=${d##*/}
		case "$bdf" in
		0000:00:*) alone+=("$bdf") ;;
		*) shared+=("$bdf") ;;
		esac
	done
	if [ "${#shared[@]}" -lt 2 ] || [ "${#alone[@]}" -lt 1 ]; then
		svmvm_fatal "need 2 edu devices behind the bridge and 1 on bus 00; got (${shared[*]}) (${alone[*]})"
	fi
	SVMVM_DEVS=("${shared[0]}" "${shared[1]}" "${alone[0]}")
	svmvm_say "no IOMMU: edu ${SVMVM_DEVS[*]}"
}

# What the kernel offers for the lab devices, now that they are bound:
# sets SVMVM_PATHS=(NAME=VALUE...) for the commands.
svmvm_paths() {
	local d g grp node nodes=() cdevs=() v
	for d in "${SVMVM_DEVS[@]}"; do
		node=
		if [ -e "/sys/bus/pci/devices/$d/iommu_group" ]; then
			grp=$(cd -P "/sys/bus/pci/devices/$d/iommu_group" && echo "${PWD##*/}")
			for g in "/dev/vfio/$grp" "/dev/vfio/noiommu-$grp"; do
				[ -c "$g" ] && node=$g
			done
		fi
		nodes+=("$node")
		node=
		# vfioN, or noiommu-vfioN in no-IOMMU mode (sysfs and /dev alike)
		for v in "/sys/bus/pci/devices/$d/vfio-dev/"*; do
			[ -e "$v" ] && [ -c "/dev/vfio/devices/${v##*/}" ] && node=/dev/vfio/devices/${v##*/}
		done
		cdevs+=("$node")
	done
	SVMVM_PATHS=(
		"SVMBIND_LAB_KERNEL=${SVMVM_KERNEL:-debian}"
		"SVMBIND_LAB_NOIOMMU=${SVMVM_NOIOMMU:-0}"
		"SVMBIND_LAB_CONTAINER=$([ -c /dev/vfio/vfio ] && echo /dev/vfio/vfio)"
		"SVMBIND_LAB_IOMMUFD=$([ -c /dev/iommu ] && echo /dev/iommu)"
		"SVMBIND_LAB_GROUP_NODES=${nodes[0]},${nodes[1]},${nodes[2]}"
		"SVMBIND_LAB_CDEVS=${cdevs[0]},${cdevs[1]},${cdevs[2]}"
	)
}

svmvm_cur_driver() {
	if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
		(cd -P "/sys/bus/pci/devices/$1/driver" && echo "${PWD##*/}")
	else
		echo none
	fi
}

# svmvm_bind BDF DRIVER: driver_override + unbind + drivers_probe, verified.
svmvm_bind() {
	local bdf=$1 drv=$2 dev=/sys/bus/pci/devices/$1 cur
	cur=$(svmvm_cur_driver "$bdf")
	echo "$drv" >"$dev/driver_override" || return 1
	[ "$cur" = "$drv" ] && return 0
	if [ "$cur" != none ]; then
		echo "$bdf" >"$dev/driver/unbind" || return 1
	fi
	echo "$bdf" >/sys/bus/pci/drivers_probe || return 1
	cur=$(svmvm_cur_driver "$bdf")
	[ "$cur" = "$drv" ] || { svmvm_say "$bdf: bound to $cur, not $drv"; return 1; }
}

svmvm_main() {
	local i rc t0 t1 envv=()
	read -r t0 _ </proc/uptime
	svmvm_say "guest up at ${t0}s (kernel $(uname -r)${SVMVM_NOIOMMU:+, noiommu=$SVMVM_NOIOMMU})"
	rm -f "$SVMVM_OUT"/rc.* "$SVMVM_OUT/done" "$SVMVM_OUT/setup.rc"
	svmvm_modules
	svmvm_find_devs
	echo "${SVMVM_DEVS[*]}" >"$SVMVM_OUT/devs"
	read -r t1 _ </proc/uptime
	svmvm_say "lab ready at ${t1}s: SVMBIND_LAB_DEVS=${SVMVM_DEVS[0]},${SVMVM_DEVS[1]},${SVMVM_DEVS[2]}"

	for i in "${!SVMVM_CMDS[@]}"; do
		local drv=${SVMVM_DRIVERS[$i]} d ok=1
		for d in "${SVMVM_DEVS[@]}"; do
			svmvm_bind "$d" "$drv" || ok=0
		done
		if [ -w /proc/sys/kernel/yama/ptrace_scope ] &&
			! echo 0 >/proc/sys/kernel/yama/ptrace_scope 2>/dev/null; then
			svmvm_say "[$i] warning: Yama ptrace_scope is stuck at $(</proc/sys/kernel/yama/ptrace_scope) (an earlier command set 3)"
		fi
		if [ "$ok" = 0 ]; then
			svmvm_say "[$i] cannot bind the lab devices to $drv"
			echo 125 >"$SVMVM_OUT/rc.$i"
			continue
		fi
		svmvm_paths
		envv=(
			"SVMBIND_LAB_DEVS=${SVMVM_DEVS[0]},${SVMVM_DEVS[1]},${SVMVM_DEVS[2]}"
			"SVMBIND_LAB_DRIVER=$drv"
			"SVMBIND_LAB_OTHER_DRIVER=$SVMVM_OTHER"
			"SVMBIND_VM=1"
			"SVMBIND_VM_OUT=$SVMVM_OUT"
			"${SVMVM_PATHS[@]}"
			"${SVMVM_ENV[@]}"
		)
		svmvm_say "[$i] driver=$drv cwd=$SVMVM_CWD: ${SVMVM_CMDS[$i]}"
		svmvm_say "[$i] ${SVMVM_PATHS[*]:2}"
		read -r t0 _ </proc/uptime
		if [ "${SVMVM_CMD_TIMEOUT:-0}" -gt 0 ]; then
			(cd "$SVMVM_CWD" && exec env "${envv[@]}" timeout -k 5 "$SVMVM_CMD_TIMEOUT" bash -c "${SVMVM_CMDS[$i]}") </dev/null
		else
			(cd "$SVMVM_CWD" && exec env "${envv[@]}" bash -c "${SVMVM_CMDS[$i]}") </dev/null
		fi
		rc=$?
		read -r t1 _ </proc/uptime
		echo "$rc" >"$SVMVM_OUT/rc.$i"
		svmvm_say "[$i] exit $rc (${t0}s..${t1}s)"
	done
	read -r t1 _ </proc/uptime
	svmvm_say "all done at ${t1}s"
	echo "$t1" >"$SVMVM_OUT/done"
	sync
}

export PATH=${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
export HOME=${HOME:-/root} LANG=C.UTF-8 TERM=dumb
svmvm_main
