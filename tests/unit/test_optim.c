/* fl_optim: updates against hand-computed values, clipping, EMA, schedules,
 * batch draws. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>
#include "fl_optim.h"
#include "fl_rng.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* Adam on f = 1/2 sum c x^2 against the formulas written out here. */
static void test_adam(void **s)
{
  (void)s;
  const double c[3] = {1, 10, 0.1};
  double x[3] = {1, -2, 3}, g[3], rx[3] = {1, -2, 3}, m[3] = {0}, v[3] = {0};
  fl_optim_config cfg = fl_optim_defaults();
  cfg.lr = 0.05;
  cfg.beta1 = 0.8;
  cfg.beta2 = 0.99;
  fl_optim *o;
  assert_int_equal(fl_optim_new(&o, FL_OPTIM_ADAM, 3, &cfg), FL_OK);
  for (int t = 1; t <= 6; t++) {
    for (int i = 0; i < 3; i++) g[i] = c[i] * x[i];
    assert_int_equal(fl_optim_step(o, x, g, 0), FL_OK);
    for (int i = 0; i < 3; i++) {
      double gi = c[i] * rx[i];
      m[i] = 0.8 * m[i] + 0.2 * gi;
      v[i] = 0.99 * v[i] + 0.01 * gi * gi;
      rx[i] -= 0.05 * (m[i] / (1 - pow(0.8, t))) / (sqrt(v[i] / (1 - pow(0.99, t))) + 1e-8);
    }
    if (t == 1)
      for (int i = 0; i < 3; i++) NEAR(x[i], (i == 1 ? -2 : i == 0 ? 1 : 3) - 0.05 * (g[i] > 0 ? 1 : -1), 1e-8);
  }
  for (int i = 0; i < 3; i++) NEAR(x[i], rx[i], 1e-14);
  assert_int_equal((int)o->step, 6);
  fl_optim_free(o);
}

static void test_adamw_sgd(void **s)
{
  (void)s;
  fl_optim_config cfg = fl_optim_defaults();
  cfg.lr = 0.1;
  cfg.weight_decay = 0.5;
  fl_optim *o;
  double x[1] = {2}, g[1] = {0};
  /* zero gradient: Adam's step is 0/(0+eps) = 0, only the decay acts */
  assert_int_equal(fl_optim_new(&o, FL_OPTIM_ADAMW, 1, &cfg), FL_OK);
  assert_int_equal(fl_optim_step(o, x, g, 0), FL_OK);
  NEAR(x[0], 2 * (1 - 0.1 * 0.5), 1e-15);
  fl_optim_free(o);
  cfg.weight_decay = 0;
  cfg.momentum = 0.9;
  assert_int_equal(fl_optim_new(&o, FL_OPTIM_SGD, 1, &cfg), FL_OK);
  x[0] = 1;
  double b = 0, rx = 1;
  for (int k = 0; k < 5; k++) {
    g[0] = 3 * x[0];
    assert_int_equal(fl_optim_step(o, x, g, 0), FL_OK);
    b = 0.9 * b + 3 * rx;
    rx -= 0.1 * b;
  }
  NEAR(x[0], rx, 1e-15);
  /* non-finite gradient: error, nothing changes */
  double keep = x[0];
  g[0] = NAN;
  assert_int_equal(fl_optim_step(o, x, g, 0), FL_ENAN);
  assert_true(x[0] == keep);
  assert_int_equal((int)o->step, 5);
  fl_optim_free(o);
}

static void test_bad_config(void **s)
{
  (void)s;
  fl_optim_config cfg = fl_optim_defaults();
  fl_optim *o;
  cfg.lr = -1;
  assert_int_equal(fl_optim_new(&o, FL_OPTIM_ADAM, 3, &cfg), FL_EINVAL);
  assert_null(o);
  cfg = fl_optim_defaults();
  cfg.beta2 = 1;
  assert_int_equal(fl_optim_new(&o, FL_OPTIM_ADAM, 3, &cfg), FL_EINVAL);
  cfg = fl_optim_defaults();
  cfg.momentum = 1.5;
  assert_int_equal(fl_optim_new(&o, FL_OPTIM_SGD, 3, &cfg), FL_EINVAL);
}

static void test_clip_ema_lr(void **s)
{
  (void)s;
  double g[2] = {3e200, 4e200};
  NEAR(fl_optim_norm(g, 2) / 5e200, 1, 1e-15); /* no overflow */
  double h[2] = {3, 4};
  NEAR(fl_optim_clip(h, 2, 1), 5, 1e-15);
  NEAR(h[0], 0.6, 1e-15);
  NEAR(h[1], 0.8, 1e-15);
  double e[2] = {1, 1}, x[2] = {0, 10};
  fl_optim_ema(e, x, 2, 0.75);
  NEAR(e[0], 0.75, 1e-15);
  NEAR(e[1], 0.75 + 2.5, 1e-15);
  NEAR(fl_optim_lr(1, 0, 4, 0, 0, 0), 0.25, 1e-15);
  NEAR(fl_optim_lr(1, 3, 4, 0, 0, 0), 1, 1e-15);
  NEAR(fl_optim_lr(1, 4, 4, 104, 1, 0), 1, 1e-15);
  NEAR(fl_optim_lr(1, 54, 4, 104, 1, 0), 0.5, 1e-15);
  NEAR(fl_optim_lr(1, 104, 4, 104, 1, 0.1), 0.1, 1e-15);
}

/* Large blocks take the parallel path: same numbers as element-wise. */
static void test_large(void **s)
{
  (void)s;
  size_t n = 100000;
  double *x = fl_alloc(n * sizeof(double)), *g = fl_alloc(n * sizeof(double));
  for (size_t i = 0; i < n; i++) {
    x[i] = fl_rng_normal(1, 0, i);
    g[i] = fl_rng_normal(1, 1, i);
  }
  fl_optim *o;
  fl_optim_config cfg = fl_optim_defaults();
  assert_int_equal(fl_optim_new(&o, FL_OPTIM_ADAM, n, &cfg), FL_OK);
  assert_int_equal(fl_optim_step(o, x, g, 0), FL_OK);
  for (size_t i = 0; i < n; i += 997) NEAR(x[i], fl_rng_normal(1, 0, i) - 1e-3 * (g[i] > 0 ? 1 : -1), 1e-9);
  fl_optim_free(o);
  fl_free(x, n * sizeof(double));
  fl_free(g, n * sizeof(double));
}

static void test_sample_rows(void **s)
{
  (void)s;
  double data[10], out[2 * 50];
  for (int i = 0; i < 10; i++) data[i] = i;
  assert_int_equal(fl_optim_sample_rows(data, 5, 2, 50, 7, 3, out), FL_OK);
  int seen[5] = {0};
  for (int k = 0; k < 50; k++) {
    int r = (int)out[2 * k] / 2;
    assert_true(out[2 * k + 1] == out[2 * k] + 1);
    assert_int_equal(r, (int)(fl_rng_uniform(7, 3, (uint64_t)k) * 5));
    seen[r]++;
  }
  for (int r = 0; r < 5; r++) assert_true(seen[r] > 0);
  assert_int_equal(fl_optim_sample_rows(data, 0, 2, 1, 7, 3, out), FL_EINVAL);
}

int main(void)
{
  const struct CMUnitTest ts[] = {
    cmocka_unit_test(test_adam), cmocka_unit_test(test_adamw_sgd), cmocka_unit_test(test_bad_config),
    cmocka_unit_test(test_clip_ema_lr), cmocka_unit_test(test_large), cmocka_unit_test(test_sample_rows),
  };
  return cmocka_run_group_tests(ts, NULL, NULL);
}
