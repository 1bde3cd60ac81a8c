// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The bond book (lib/bondbook.c): bonds found by PASID, kept in the order
 * made, through drops, compaction and growth. No kernel: entries carry no
 * witness (WITNESS_NONE), so dropping one closes nothing.
 */
#include "internal.h"
#include "pure_tests.h"

static struct bond *add(struct svmbind__book *k, uint32_t pasid)
{
	ck_assert_int_eq(svmbind__book_reserve(k), 0);
	return svmbind__book_add(k, (struct bond){ pasid, 1, (pid_t)pasid, WITNESS_NONE });
}

/* Bonds of PASIDs 1 * @stride .. @n * @stride, in that order; live[1..n] set. */
static void add_n(struct svmbind__book *k, bool *live, uint32_t n, uint32_t stride)
{
	for (uint32_t p = 1; p <= n; p++) {
		add(k, p * stride);
		live[p] = true;
	}
}

static void drop(struct svmbind__book *k, bool *live, uint32_t p, uint32_t stride)
{
	svmbind__book_drop(k, svmbind__book_find(k, p * stride));
	live[p] = false;
}

/* Every live PASID found at its own entry, every dropped one not found, and
 * the order made kept by svmbind__book_at(). */
static void ck_book(struct svmbind__book *k, const bool *live, uint32_t n, uint32_t stride)
{
	size_t i = 0;

	for (uint32_t p = 1; p <= n; p++) {
		struct bond *b = svmbind__book_find(k, p * stride);

		if (!live[p]) {
			ck_assert_msg(!b, "PASID %u was dropped but is found", p * stride);
			continue;
		}
		ck_assert_msg(b && b->pasid == p * stride, "PASID %u is lost", p * stride);
		ck_assert_ptr_eq(svmbind__book_at(k, i++), b);
	}
	ck_assert_uint_eq(k->live, i);
	ck_assert_ptr_null(svmbind__book_at(k, i));
}

START_TEST(each_pasid_is_found_at_its_own_bond)
{
	struct svmbind__book k = { 0 };
	bool live[1001] = { false };

	ck_assert_ptr_null(svmbind__book_find(&k, 1));
	add_n(&k, live, 1000, 1);
	ck_book(&k, live, 1000, 1);
	svmbind__book_free(&k);
}
END_TEST

START_TEST(a_dropped_bond_is_not_found_and_the_others_keep_their_order)
{
	struct svmbind__book k = { 0 };
	bool live[513] = { false };

	add_n(&k, live, 512, 1);
	for (uint32_t p = 3; p <= 512; p += 3)	/* every third, scattered over the probe chains */
		drop(&k, live, p, 1);
	ck_book(&k, live, 512, 1);
	svmbind__book_free(&k);
}
END_TEST

START_TEST(a_pasid_bound_again_after_its_drop_is_found_once)
{
	struct svmbind__book k = { 0 };

	for (uint32_t p = 1; p <= 8; p++)
		add(&k, p);
	svmbind__book_drop(&k, svmbind__book_find(&k, 4));
	add(&k, 4);	/* the same PASID handed out anew: now the last made */
	ck_assert_ptr_eq(svmbind__book_find(&k, 4), svmbind__book_at(&k, 7));
	ck_assert_uint_eq(k.live, 8);
	for (size_t i = 0; i < 7; i++)	/* 1, 2, 3, 5, 6, 7, 8, then 4 */
		ck_assert_uint_eq(svmbind__book_at(&k, i)->pasid, i < 3 ? i + 1 : i + 2);
	svmbind__book_free(&k);
}
END_TEST

START_TEST(dropping_most_bonds_then_binding_compacts_in_place)
{
	struct svmbind__book k = { 0 };
	size_t cap;

	for (uint32_t p = 1; p <= 64; p++)
		add(&k, p);
	cap = k.cap;
	for (uint32_t p = 1; p <= 63; p++)	/* all but the last made */
		svmbind__book_drop(&k, svmbind__book_find(&k, p));
	ck_assert_uint_eq(k.used, 64);	/* only marked: a walk may go on */
	for (uint32_t p = 1; p <= 63; p++)
		add(&k, p);
	ck_assert_uint_eq(k.cap, cap);	/* the dropped room was reused, not grown */
	ck_assert_uint_eq(k.live, 64);
	ck_assert_uint_eq(svmbind__book_at(&k, 0)->pasid, 64);	/* the oldest first */
	for (uint32_t p = 1; p <= 63; p++)
		ck_assert_ptr_eq(svmbind__book_find(&k, p), svmbind__book_at(&k, p));
	svmbind__book_free(&k);
}
END_TEST

START_TEST(dropping_the_last_bonds_leaves_no_dropped_entry_at_the_end)
{
	struct svmbind__book k = { 0 };

	for (uint32_t p = 1; p <= 5; p++)
		add(&k, p);
	svmbind__book_drop(&k, svmbind__book_find(&k, 3));
	svmbind__book_drop(&k, svmbind__book_find(&k, 5));
	svmbind__book_drop(&k, svmbind__book_find(&k, 4));
	ck_assert_uint_eq(svmbind__book_last(&k)->pasid, 2);
	for (struct bond *b; (b = svmbind__book_last(&k));)
		svmbind__book_drop(&k, b);
	ck_assert_uint_eq(k.live, 0);
	ck_assert_uint_eq(k.used, 0);
	ck_assert_ptr_null(svmbind__book_find(&k, 1));
	svmbind__book_free(&k);
}
END_TEST

START_TEST(pasids_that_collide_in_the_index_are_all_found_through_drops)
{
	enum { N = 4096 };
	struct svmbind__book k = { 0 };
	static bool live[N + 1];
	size_t chained = 0;

	/* At half load some thousands of keys share home slots and probe on: drop
	 * every 7th and 11th, wherever they sit in the chains, and find the rest.
	 * The PASIDs are p * 97, so the keys are not consecutive. */
	add_n(&k, live, N, 97);
	for (size_t h = 0; h < k.ix_cap; h++)	/* the fixture does collide */
		chained += k.ix[h] && k.ix[(h + k.ix_cap - 1) & (k.ix_cap - 1)];
	ck_assert_uint_gt(chained, N / 8);
	for (uint32_t p = 1; p <= N; p++)
		if (p % 7 == 0 || p % 11 == 0)
			drop(&k, live, p, 97);
	ck_book(&k, live, N, 97);
	svmbind__book_free(&k);
}
END_TEST

TCase *tcase_bondbook(void)
{
	TCase *tc = tcase_create("bondbook");

	tcase_add_test(tc, each_pasid_is_found_at_its_own_bond);
	tcase_add_test(tc, a_dropped_bond_is_not_found_and_the_others_keep_their_order);
	tcase_add_test(tc, a_pasid_bound_again_after_its_drop_is_found_once);
	tcase_add_test(tc, dropping_most_bonds_then_binding_compacts_in_place);
	tcase_add_test(tc, dropping_the_last_bonds_leaves_no_dropped_entry_at_the_end);
	tcase_add_test(tc, pasids_that_collide_in_the_index_are_all_found_through_drops);
	return tc;
}
