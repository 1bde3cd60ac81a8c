#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# The example unit (examples/systemd/svmbind-ab.service) as an operator gets
# it once every commented hint is enabled:
#   - every ambient capability is inside the bounding set (systemd drops an
#     ambient capability the bounding set lacks), with repeated lines added up
#     as systemd does (a line starting with ~ would subtract: none may);
#   - the device allow-list covers both paths the library may take: the
#     container and group nodes, /dev/iommu and the VFIO device cdevs.
# Exit 0 when both hold, 1 with the reason.
set -uo pipefail
UNIT=${1:-$(dirname "${BASH_SOURCE[0]}")/../../examples/systemd/svmbind-ab.service}
fails=0
bad() { echo "systemd_unit: $*"; fails=$((fails + 1)); }

enabled=$(sed -E 's/^#((AmbientCapabilities|CapabilityBoundingSet)=)/\1/' "$UNIT")
values() { grep -E "^$1=" <<<"$enabled" | sed "s/^$1=//" | tr ' ' '\n' | grep -v '^$' | sort -u; }
if grep -qE '^CapabilityBoundingSet=~' <<<"$enabled"; then bad "a subtracting CapabilityBoundingSet=~ line"; fi
ambient=$(values AmbientCapabilities)
bounding=$(values CapabilityBoundingSet)
[ -n "$ambient" ] || bad "no capability hint found in $UNIT"
for cap in $ambient; do
	if [ -n "$bounding" ] && ! grep -qx "$cap" <<<"$bounding"; then
		bad "with every hint enabled, ambient $cap is outside CapabilityBoundingSet ($(echo $bounding)): systemd drops it"
	fi
done
for dev in /dev/vfio/vfio char-vfio /dev/iommu char-vfio-dev; do
	grep -qE "^DeviceAllow=$dev( |$)" "$UNIT" || bad "DeviceAllow lacks $dev"
done
[ $fails = 0 ] && echo "systemd_unit: pass (ambient: $(echo $ambient); bounding: $(echo $bounding))"
exit $((fails > 0))
