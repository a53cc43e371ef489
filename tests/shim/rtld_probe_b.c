/* SPDX-License-Identifier: MIT */
/* Part of the RTLD_NEXT check: the next definition of xs_probe (2). */
int xs_probe(void);

int xs_probe(void)
{
	return 2;
}
