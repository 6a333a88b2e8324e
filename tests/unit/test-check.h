#ifndef TEST_CHECK_H
#define TEST_CHECK_H

/* For unit tests that decide once per policy: a checker made for the one
   call and freed after it. Tests of the cache itself keep a checker for
   the whole test instead. */

#include <check.h>

#include "ipallow-decide.h"

/* ipallow_check() on a fresh checker for policy (NULL: no policy, no
   checker). The list the decision used dies with the checker, so
   dec_r->list is NULL afterwards (the first error and the counts stay
   in the decision). */
static inline bool test_check_once(const struct ipallow_policy *policy,
				   const struct ipallow_login *login,
				   struct ipallow_decision *dec_r)
{
	struct ipallow_checker *checker = NULL;
	bool goes_on;

	if (policy != NULL)
		ck_assert_int_eq(ipallow_checker_create(policy, &checker), 0);
	goes_on = ipallow_check(checker, login, dec_r);
	ipallow_checker_free(&checker);
	dec_r->list = NULL;
	return goes_on;
}

#endif
