/* Helpers shared by the cmocka unit tests in tests/unit: the per-test leak
 * check, numeric and status assertions, deterministic pseudo-random numbers,
 * and fixtures. Include it after "config.h" and the library headers (the
 * fixtures of a module are defined only where its header came first); it
 * brings in cmocka and the headers its macros need. Everything here is
 * static (inline), so each test program gets its own copy and unused helpers
 * cost nothing. */
#ifndef FL_TEST_H
#define FL_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fl_core.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ------------------------------------------------------------ leak check */

/* fl_mem_in_use() when the running test started (set by fl_test_setup). */
static size_t fl_test_mem_start;

/* Per-test setup: clear any error detail left by an earlier test and record
 * fl_mem_in_use(). */
static inline int fl_test_setup(void **state)
{
  (void)state;
  fl_clear_detail();
  fl_test_mem_start = fl_mem_in_use();
  return 0;
}

/* Per-test teardown: the test fails unless it gave back every byte of library
 * memory it allocated (fl_mem_in_use() back to its value at setup). */
static inline int fl_test_teardown(void **state)
{
  (void)state;
  if (fl_mem_in_use() != fl_test_mem_start) {
    print_error("leak: fl_mem_in_use() %zu bytes at start, %zu at end\n", fl_test_mem_start, fl_mem_in_use());
    return -1;
  }
  return 0;
}

/* A test entry for the CMUnitTest table, wrapped in the leak check. */
#define T(f) cmocka_unit_test_setup_teardown(f, fl_test_setup, fl_test_teardown)

/* ------------------------------------------------------------ numeric assertions */

/* Absolute tolerance: |x - y| <= tol (NaN fails). */
#define assert_near(x, y, tol)                                                                         \
  do {                                                                                                 \
    double x_ = (x), y_ = (y), t_ = (tol);                                                             \
    if (!(fabs(x_ - y_) <= t_)) fail_msg("%s = %.17g, expected %.17g (tol %g)", #x, x_, y_, t_);       \
  } while (0)

/* Relative tolerance with an absolute floor: |x - y| <= tol * max(1, |y|)
 * (NaN fails); y is the expected value. */
#define assert_rel(x, y, tol)                                                                          \
  do {                                                                                                 \
    double x_ = (x), y_ = (y), t_ = (tol);                                                             \
    if (!(fabs(x_ - y_) <= t_ * fmax(1.0, fabs(y_))))                                                  \
      fail_msg("%s = %.17g, expected %.17g (rel tol %g)", #x, x_, y_, t_);                             \
  } while (0)

/* ------------------------------------------------------------ status assertions */

/* The call returns FL_OK; otherwise fail with its status text and detail. */
#define assert_ok(expr)                                                                                \
  do {                                                                                                 \
    fl_status s_ = (expr);                                                                             \
    if (s_ != FL_OK) fail_msg("%s failed: %s (%s)", #expr, fl_strerror(s_), fl_last_detail());        \
  } while (0)

/* The call, made with the detail cleared, returns st and leaves a detail
 * message that contains frag ("" asks only that there is a message). */
#define assert_fails_with(expr, st, frag)                                                              \
  do {                                                                                                 \
    fl_clear_detail();                                                                                 \
    fl_status s_ = (expr);                                                                             \
    if (s_ != (st)) fail_msg("%s returned %d (%s), expected %d", #expr, (int)s_, fl_strerror(s_), (int)(st)); \
    if (fl_last_detail()[0] == '\0' || !strstr(fl_last_detail(), (frag)))                             \
      fail_msg("detail \"%s\" lacks \"%s\"", fl_last_detail(), (frag));                                \
  } while (0)

/* The call returns st and leaves a (non-empty) detail message. */
#define assert_fails(expr, st) assert_fails_with(expr, st, "")

/* assert_fails, and the call left its out pointer outp NULL. */
#define assert_fails_null(expr, st, outp)                                                              \
  do {                                                                                                 \
    assert_fails(expr, st);                                                                            \
    assert_null(outp);                                                                                 \
  } while (0)

/* assert_fails_with, and the call left its out pointer outp NULL. */
#define assert_fails_with_null(expr, st, outp, frag)                                                   \
  do {                                                                                                 \
    assert_fails_with(expr, st, frag);                                                                 \
    assert_null(outp);                                                                                 \
  } while (0)

/* ------------------------------------------------------------ pseudo-random numbers */

/* A deterministic uniform number in [0, 1) indexed by i: the splitmix64
 * finaliser of (i + 1) * 0x9E3779B97F4A7C15, top 53 bits. */
static inline double fl_test_u01(uint64_t i)
{
  uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (double)(z >> 11) / 9007199254740992.0;
}

/* fl_test_u01(i) mapped to [a, b): a + (b - a) u. */
static inline double fl_test_uniform(uint64_t i, double a, double b) { return a + (b - a) * fl_test_u01(i); }

/* The m x m square grid of points (lo + h i, lo + h j), i, j = 0 .. m-1, j
 * fastest, as an (m*m) x 2 row-major array from malloc (the caller frees it). */
static inline double *fl_test_square_grid(size_t m, double lo, double h)
{
  double *x = malloc(sizeof(double) * m * m * 2);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < m; j++) {
      x[2 * (i * m + j)] = lo + h * (double)i;
      x[2 * (i * m + j) + 1] = lo + h * (double)j;
    }
  return x;
}

/* ------------------------------------------------------------ fixtures */

#ifdef FL_GMM_H /* only where fl_gmm.h is included before this header */
/* The FFJORD 8 Gaussians: centres 4 u_k / 1.414, std 0.5 / 1.414, weights 1/8. */
static inline fl_gmm *fl_test_eight_gaussians(void)
{
  double m[16], v[8];
  const double r = 1 / sqrt(2.0);
  const double c[8][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {r, r}, {r, -r}, {-r, r}, {-r, -r}};
  for (int k = 0; k < 8; k++) {
    m[2 * k] = 4 * c[k][0] / 1.414;
    m[2 * k + 1] = 4 * c[k][1] / 1.414;
    v[k] = (0.5 / 1.414) * (0.5 / 1.414);
  }
  fl_gmm *g;
  assert_ok(fl_gmm_new(2, 8, NULL, m, v, FL_GMM_COV_ISO, &g));
  return g;
}
#endif

#endif /* FL_TEST_H */
