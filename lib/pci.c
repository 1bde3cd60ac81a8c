// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* PCI addresses, driver policy and config space: pure logic on strings and bytes. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pure.h"

/* PCIe extended capabilities (PCIe spec 7.6) and the PASID capability register. */
#define PCI_EXT_CAP_ATS		0x0f
#define PCI_EXT_CAP_PRI		0x13
#define PCI_EXT_CAP_PASID	0x1b
#define PCI_CFG_SPACE_SIZE	256
#define PCI_CFG_SPACE_EXP_SIZE	4096
#define PCI_CFG_UNPRIVILEGED	64	/* what sysfs gives a reader without CAP_SYS_ADMIN */

static bool hex_run(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool svmbind__parse_bdf(const char *name, char out[16])
{
	const char *base;
	size_t len;

	if (!name || !*name)
		return false;
	len = strlen(name);
	while (len > 1 && name[len - 1] == '/')	/* "/sys/.../0000:00:02.0/" */
		len--;
	base = name + len;
	while (base > name && base[-1] != '/')
		base--;
	len -= (size_t)(base - name);

	/* BB:DD.F, or DDDD:BB:DD.F where the domain has 4 to 6 hex digits: Linux
	 * names domains "%04x", and VMD's start at 0x10000 (five digits). */
	size_t dom = len > 8 ? len - 8 : 0;	/* the domain's digits */
	const char *bus = base + (dom ? dom + 1 : 0);

	if (dom ? (dom < 4 || dom > 6 || !hex_run(base, (int)dom) || base[dom] != ':') : len != 7)
		return false;
	if (!(hex_run(bus, 2) && bus[2] == ':' && hex_run(bus + 3, 2) && bus[5] == '.' &&
	      bus[6] >= '0' && bus[6] <= '7'))
		return false;
	snprintf(out, 16, "%04lx:%.7s", dom ? strtoul(base, NULL, 16) : 0ul, bus);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return true;
}

int svmbind__parse_group(const char *text)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	n = strtol(text, &end, 10);
	if (errno || *end || n > 0x7fffffff)
		return -EINVAL;
	return (int)n;
}

bool svmbind__driver_is_vfio(const char *driver)
{
	return strstr(driver, "vfio") != NULL;
}

bool svmbind__driver_keeps_viable(const char *driver)
{
	return !*driver || svmbind__driver_is_vfio(driver) || !strcmp(driver, "pci-stub") ||
	       !strcmp(driver, "pcieport");
}

void svmbind__offender_add(char *buf, size_t len, size_t *used, const char *bdf, const char *driver)
{
	int n;

	if (!len)
		return;
	if (!*used)
		buf[0] = '\0';
	if (*used < len) {
		n = snprintf(buf + *used, len - *used, "%s%s (%s)", *used ? ", " : "", bdf, driver);
		*used += n > 0 ? (size_t)n : 0;
	} else {
		*used += strlen(", ") + strlen(bdf) + strlen(" (") + strlen(driver) + strlen(")");
	}
	if (*used >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
}

int svmbind__pci_ext_caps(const uint8_t *cfg, size_t len, struct svmbind__pci_caps *out)
{
	*out = (struct svmbind__pci_caps){ 0 };
	if (len <= PCI_CFG_UNPRIVILEGED)
		return -EPERM;
	if (len < PCI_CFG_SPACE_EXP_SIZE)
		return 0;	/* conventional PCI (256 bytes): no extended capabilities */
	/* As the kernel's pci_find_next_ext_capability(): at most 480 hops, and a
	 * next pointer below 0x100 ends the list. */
	for (unsigned int pos = PCI_CFG_SPACE_SIZE, hops = 0; hops < 480; hops++) {
		uint32_t hdr;

		if (pos > PCI_CFG_SPACE_EXP_SIZE - 8)
			break;	/* a header and a PASID register must fit */
		hdr = (uint32_t)cfg[pos] | (uint32_t)cfg[pos + 1] << 8 |
			       (uint32_t)cfg[pos + 2] << 16 | (uint32_t)cfg[pos + 3] << 24;

		if (hdr == 0 || hdr == 0xffffffff)
			break;
		switch (hdr & 0xffff) {
		case PCI_EXT_CAP_ATS:
			out->ats = 1;
			break;
		case PCI_EXT_CAP_PRI:
			out->pri = 1;
			break;
		case PCI_EXT_CAP_PASID:
			out->pasid = 1;
			out->pasid_width = (cfg[pos + 5]) & 0x1f;	/* cap register bits 8-12 */
			break;
		}
		pos = (hdr >> 20) & 0xffc;
		if (pos < PCI_CFG_SPACE_SIZE)
			break;
	}
	return 0;
}
