/* Unit tests of lib/fl_pslq.c: PSLQ finds known integer relations among
 * MPFR values computed independently (arctangents, square roots), returns
 * the relations mpmath's pslq returns, finds nothing where no small
 * relation exists, rejects relations that do not hold to the working
 * precision, and refuses bad input. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include <mpfr.h>
#include "fl_pslq.h"

#define BITS 400

#define assert_ok(expr)                                                                                \
  do {                                                                                                 \
    fl_status s_ = (expr);                                                                             \
    if (s_ != FL_OK) fail_msg("%s failed: %s (%s)", #expr, fl_strerror(s_), fl_last_detail());        \
  } while (0)

static void init(mpfr_t *x, int n)
{
  for (int i = 0; i < n; i++) mpfr_init2(x[i], BITS);
}

static void clear(mpfr_t *x, int n)
{
  for (int i = 0; i < n; i++) mpfr_clear(x[i]);
  mpfr_free_cache();
}

static fl_status run(int n, mpfr_t *x, long digits, long maxcoeff, long maxsteps, long *rel, fl_pslq_result *res)
{
  mpfr_srcptr p[FL_PSLQ_MAXN];
  for (int i = 0; i < n; i++) p[i] = x[i];
  return fl_pslq(n, p, digits, maxcoeff, maxsteps, rel, res, NULL);
}

/* pi = 16 atan(1/5) - 4 atan(1/239) (Machin) */
static void test_machin(void **state)
{
  (void)state;
  mpfr_t x[3];
  init(x, 3);
  mpfr_const_pi(x[0], MPFR_RNDN);
  mpfr_set_ui(x[1], 5, MPFR_RNDN);
  mpfr_ui_div(x[1], 1, x[1], MPFR_RNDN);
  mpfr_atan(x[1], x[1], MPFR_RNDN);
  mpfr_set_ui(x[2], 239, MPFR_RNDN);
  mpfr_ui_div(x[2], 1, x[2], MPFR_RNDN);
  mpfr_atan(x[2], x[2], MPFR_RNDN);
  long rel[3];
  fl_pslq_result res;
  assert_ok(run(3, x, 50, 1000, 100, rel, &res));
  assert_int_equal(res.outcome, FL_PSLQ_FOUND);
  assert_int_equal(rel[0], 1); /* mpmath: [1, -16, 4] */
  assert_int_equal(rel[1], -16);
  assert_int_equal(rel[2], 4);
  assert_true(res.holds_digits > res.need_digits);
  assert_int_equal(res.prec, 169); /* round(51 log2 10) */
  clear(x, 3);
}

/* [1, L, e, L e] for L = 1/(1 - e): mpmath's [1, -1, 0, 1]; and the
 * Moebius relation of (2 pi - 6)/(4 - pi): [6, 4, -2, -1] */
static void test_moebius(void **state)
{
  (void)state;
  mpfr_t x[4], L, c;
  init(x, 4);
  mpfr_init2(L, BITS);
  mpfr_init2(c, BITS);
  long rel[4];
  fl_pslq_result res;
  mpfr_set_ui(c, 1, MPFR_RNDN);
  mpfr_exp(c, c, MPFR_RNDN);
  mpfr_ui_sub(L, 1, c, MPFR_RNDN);
  mpfr_ui_div(L, 1, L, MPFR_RNDN);
  mpfr_set_ui(x[0], 1, MPFR_RNDN);
  mpfr_set(x[1], L, MPFR_RNDN);
  mpfr_set(x[2], c, MPFR_RNDN);
  mpfr_mul(x[3], L, c, MPFR_RNDN);
  assert_ok(run(4, x, 50, 1000, 1000, rel, &res));
  assert_int_equal(res.outcome, FL_PSLQ_FOUND);
  long want1[4] = {1, -1, 0, 1};
  for (int i = 0; i < 4; i++) assert_int_equal(rel[i], want1[i]);
  mpfr_const_pi(c, MPFR_RNDN);
  mpfr_mul_ui(L, c, 2, MPFR_RNDN);
  mpfr_sub_ui(L, L, 6, MPFR_RNDN);
  mpfr_ui_sub(x[3], 4, c, MPFR_RNDN);
  mpfr_div(L, L, x[3], MPFR_RNDN);
  mpfr_set(x[1], L, MPFR_RNDN);
  mpfr_set(x[2], c, MPFR_RNDN);
  mpfr_mul(x[3], L, c, MPFR_RNDN);
  assert_ok(run(4, x, 50, 1000, 1000, rel, &res));
  assert_int_equal(res.outcome, FL_PSLQ_FOUND);
  long want2[4] = {6, 4, -2, -1};
  for (int i = 0; i < 4; i++) assert_int_equal(rel[i], want2[i]);
  mpfr_clear(L);
  mpfr_clear(c);
  clear(x, 4);
}

/* no small relation: pi, e, zeta(3) with maxcoeff 100 (mpmath: the norm
 * bound reaches 104 after 23 steps); square roots of primes */
static void test_not_found(void **state)
{
  (void)state;
  mpfr_t x[4];
  init(x, 4);
  long rel[4];
  fl_pslq_result res;
  mpfr_const_pi(x[0], MPFR_RNDN);
  mpfr_set_ui(x[1], 1, MPFR_RNDN);
  mpfr_exp(x[1], x[1], MPFR_RNDN);
  mpfr_zeta_ui(x[2], 3, MPFR_RNDN);
  assert_ok(run(3, x, 50, 100, 100, rel, &res));
  assert_int_equal(res.outcome, FL_PSLQ_NORM);
  assert_int_equal(res.steps, 23);
  assert_true(res.norm_bound >= 100);
  unsigned p[4] = {2, 3, 5, 7};
  for (int i = 0; i < 4; i++) mpfr_sqrt_ui(x[i], p[i], MPFR_RNDN);
  assert_ok(run(4, x, 60, 1000, 1000, rel, &res));
  assert_true(res.outcome == FL_PSLQ_NORM || res.outcome == FL_PSLQ_MAXSTEPS);
  /* maxsteps bounds the work */
  assert_ok(run(4, x, 60, 1000000, 3, rel, &res));
  assert_int_equal(res.outcome, FL_PSLQ_MAXSTEPS);
  assert_int_equal(res.steps, 3);
  clear(x, 4);
}

/* the check: x = [10^6 pi, 1, -(1/2 + 10^-19)] at 30 digits; PSLQ's own
 * test (relative to |x|) accepts [0, 1, 2], which holds to 19 digits only */
static void test_check(void **state)
{
  (void)state;
  mpfr_t x[3], r;
  init(x, 3);
  mpfr_init2(r, 64);
  mpfr_const_pi(x[0], MPFR_RNDN);
  mpfr_mul_ui(x[0], x[0], 1000000, MPFR_RNDN);
  mpfr_set_ui(x[1], 1, MPFR_RNDN);
  mpfr_set_ui(x[2], 10, MPFR_RNDN);
  mpfr_pow_si(x[2], x[2], -19, MPFR_RNDN);
  mpfr_add_d(x[2], x[2], 0.5, MPFR_RNDN);
  mpfr_neg(x[2], x[2], MPFR_RNDN);
  long rel[3];
  fl_pslq_result res;
  mpfr_srcptr p[3] = {x[0], x[1], x[2]};
  assert_ok(fl_pslq(3, p, 30, 1000, 100, rel, &res, r));
  assert_int_equal(res.outcome, FL_PSLQ_UNCHECKED);
  assert_int_equal(rel[0], 0);
  assert_int_equal(rel[1], 1);
  assert_int_equal(rel[2], 2);
  assert_true(fabs(res.holds_digits - 19.0) < 0.5);
  /* the residual |1 - 2 (1/2 + 10^-19)| = 2e-19 */
  assert_true(fabs(mpfr_get_d(r, MPFR_RNDN) / 2e-19 - 1) < 1e-9);
  /* at 16 digits the same relation holds to the digits available */
  assert_ok(fl_pslq(3, p, 16, 1000, 100, rel, &res, r));
  assert_int_equal(res.outcome, FL_PSLQ_FOUND);
  mpfr_clear(r);
  clear(x, 3);
}

static void test_bad_input(void **state)
{
  (void)state;
  mpfr_t x[3];
  init(x, 3);
  long rel[3];
  fl_pslq_result res;
  mpfr_const_pi(x[0], MPFR_RNDN);
  mpfr_set_ui(x[1], 2, MPFR_RNDN);
  mpfr_set_ui(x[2], 0, MPFR_RNDN);
  assert_int_equal(run(1, x, 30, 1000, 100, rel, &res), FL_EINVAL);
  assert_int_equal(run(3, x, 30, 1000, 100, rel, &res), FL_EINVAL); /* a zero */
  assert_non_null(strstr(fl_last_detail(), "value 3 is zero"));
  assert_int_equal(run(2, x, 14, 1000, 100, rel, &res), FL_EINVAL);
  assert_int_equal(run(2, x, 30, 0, 100, rel, &res), FL_EINVAL);
  assert_int_equal(run(2, x, 30, 1000, 0, rel, &res), FL_EINVAL);
  mpfr_set_inf(x[2], 1);
  assert_int_equal(run(3, x, 30, 1000, 100, rel, &res), FL_ENAN);
  /* an entry far below the tolerance: nothing to find */
  mpfr_set_ui(x[2], 1, MPFR_RNDN);
  mpfr_mul_2si(x[2], x[2], -300, MPFR_RNDN);
  assert_ok(run(3, x, 30, 1000, 100, rel, &res));
  assert_int_equal(res.outcome, FL_PSLQ_TINY);
  assert_int_equal(res.tiny, 2);
  clear(x, 3);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_machin),
    cmocka_unit_test(test_moebius),
    cmocka_unit_test(test_not_found),
    cmocka_unit_test(test_check),
    cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
