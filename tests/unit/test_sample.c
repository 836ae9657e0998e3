/* Unit tests of lib/fl_sample: time grids, prediction fields, V6 exactness
 * of Euler and DDIM, V1 endpoint of DPM-Solver++(2M) and RK4, exact and
 * Hutchinson log-likelihoods, the linear-Gaussian cost and FlowChef's
 * gradient skipping, and the errors. */
#include "config.h"
#include "fl_sample.h"
#include "fl_gmm.h"
#include "fl_rng.h"
#include "fl_test.h"

/* a constant field x -> c (predicting x0 = c: the point mass of V6) */
static const double point[2] = {0.7, -1.3};
static fl_status const_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)f; (void)x; (void)t;
  for (size_t i = 0; i < n; i++) { out[2 * i] = point[0]; out[2 * i + 1] = point[1]; }
  return FL_OK;
}
static const fl_field_ops const_ops = {.kind = "const", .eval = const_eval};

/* a field that turns NaN for t < 0.5 */
static fl_status nan_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)f;
  for (size_t i = 0; i < 2 * n; i++) out[i] = (t < 0.5 && i == 5) ? NAN : x[i];
  return FL_OK;
}
static const fl_field_ops nan_ops = {.kind = "nan", .eval = nan_eval};

static void test_grids(void **state)
{
  (void)state;
  fl_schedule vp, edm, lin;
  fl_schedule_default(FL_SCHED_VP, &vp);
  fl_schedule_default(FL_SCHED_EDM, &edm);
  fl_schedule_default(FL_SCHED_LINEAR, &lin);
  double g[11];
  assert_ok(fl_sample_grid(&vp, FL_TGRID_LOGSNR, 10, 1, 1e-3, 7, g));
  double l0 = fl_schedule_eval(&vp, FL_SCHED_LOGSNR, 1), l1 = fl_schedule_eval(&vp, FL_SCHED_LOGSNR, 1e-3);
  for (int k = 0; k <= 10; k++) assert_near(fl_schedule_eval(&vp, FL_SCHED_LOGSNR, g[k]), l0 + (l1 - l0) * k / 10.0, 1e-9);
  assert_ok(fl_sample_grid(&edm, FL_TGRID_EDM, 4, 80, 0.002, 7, g));
  double a = pow(80, 1 / 7.0), b = pow(0.002, 1 / 7.0);
  for (int k = 0; k <= 4; k++) assert_rel(g[k], pow(a + k / 4.0 * (b - a), 7), 1e-12);
  assert_ok(fl_sample_grid(&lin, FL_TGRID_T, 4, 1, 0, 7, g));
  assert_near(g[1], 0.75, 1e-15);
  assert_fails_with(fl_sample_grid(&lin, FL_TGRID_LOGSNR, 4, 1, 0, 7, g), FL_EINVAL, "finite log-SNR");
  assert_fails_with(fl_sample_grid(&lin, FL_TGRID_T, 4, 0.2, 0.5, 7, g), FL_EINVAL, "greater than t_min");
  assert_fails_with(fl_sample_grid(&lin, FL_TGRID_T, 0, 1, 0, 7, g), FL_EINVAL, "positive");
}

static void test_predict(void **state)
{
  (void)state;
  fl_gmm *g = fl_test_eight_gaussians();
  fl_schedule vp;
  fl_schedule_default(FL_SCHED_VP, &vp);
  fl_field *score, *vel, *v2;
  assert_ok(fl_schedule_noised_field(&vp, g, FL_NOISED_SCORE, &score));
  assert_ok(fl_schedule_noised_field(&vp, g, FL_NOISED_VELOCITY, &vel));
  assert_ok(fl_sample_predict(score, FL_PARAM_SCORE, FL_PARAM_VELOCITY, &vp, &v2));
  double x[8] = {0.3, -1, 2, 0.5, -0.1, 0.2, 1.5, 1.5}, a[8], b[8], da[4], db[4], Ja[16], Jb[16];
  int ex;
  for (double t = 0.05; t < 1; t += 0.3) {
    assert_ok(fl_field_eval(vel, 4, x, t, a));
    assert_ok(fl_field_eval(v2, 4, x, t, b));
    for (int i = 0; i < 8; i++) assert_near(a[i], b[i], 1e-10 * (1 + fabs(a[i])));
    assert_ok(fl_field_div(vel, 4, x, t, da, NULL));
    assert_ok(fl_field_div(v2, 4, x, t, db, &ex));
    assert_int_equal(ex, 1);
    for (int i = 0; i < 4; i++) assert_near(da[i], db[i], 1e-9 * (1 + fabs(da[i])));
    assert_ok(fl_field_jacobian(vel, 4, x, t, Ja, NULL));
    assert_ok(fl_field_jacobian(v2, 4, x, t, Jb, NULL));
    for (int i = 0; i < 16; i++) assert_near(Ja[i], Jb[i], 1e-9 * (1 + fabs(Ja[i])));
  }
  fl_field_release(v2);
  fl_field_release(vel);
  fl_field_release(score);
  fl_gmm_release(g);
}

/* V6: x_t - m = (t/s)(x_s - m) for Euler and DDIM, any step count */
static void test_v6(void **state)
{
  (void)state;
  fl_field *f;
  assert_ok(fl_field_new(&const_ops, 2, 2, 0, 1, NULL, &f));
  fl_schedule lin;
  fl_schedule_default(FL_SCHED_LINEAR, &lin);
  const size_t n = 5000; /* more than one block */
  double *x0 = malloc(n * 2 * sizeof(double)), *x = malloc(n * 2 * sizeof(double));
  fl_sample_prior(&lin, 1, n, 2, 3, 0, x0);
  fl_sampler sv[] = {FL_SAMP_EULER, FL_SAMP_DDIM, FL_SAMP_DPMPP1};
  for (int s = 0; s < 3; s++)
    for (size_t steps = 1; steps <= 9; steps += 4) {
      fl_sample_opts o;
      fl_sample_opts_default(&o, sv[s], FL_PARAM_X0, &lin);
      o.steps = steps;
      o.t_min = 0.3;
      memcpy(x, x0, n * 2 * sizeof(double));
      fl_run r = {0};
      assert_ok(fl_sample_run(f, &o, n, x, NULL, &r));
      assert_int_equal(r.steps, steps);
      for (size_t i = 0; i < n; i++)
        for (int j = 0; j < 2; j++) assert_near(x[2 * i + j], point[j] + 0.3 * (x0[2 * i + j] - point[j]), 4e-15);
      fl_run_free(&r);
    }
  free(x0);
  free(x);
  fl_field_release(f);
}

/* V1 with one Gaussian: RK4 and DPM-Solver++(2M) reach the exact flow map */
static void test_v1_endpoint(void **state)
{
  (void)state;
  const double mu[2] = {1, -0.5}, lam[2] = {0.5, 2};
  fl_gmm *g;
  assert_ok(fl_gmm_new(2, 1, NULL, mu, lam, FL_GMM_COV_DIAG, &g));
  fl_schedule vp;
  fl_schedule_default(FL_SCHED_VP, &vp);
  fl_field *vel;
  assert_ok(fl_schedule_noised_field(&vp, g, FL_NOISED_VELOCITY, &vel));
  double x0[8], x[8];
  fl_sample_prior(&vp, 1, 4, 2, 7, 0, x0);
  const double tmin = 1e-3, a1 = fl_schedule_eval(&vp, FL_SCHED_ALPHA, 1), s1 = fl_schedule_eval(&vp, FL_SCHED_SIGMA, 1);
  const double at = fl_schedule_eval(&vp, FL_SCHED_ALPHA, tmin), st = fl_schedule_eval(&vp, FL_SCHED_SIGMA, tmin);
  struct { fl_sampler s; fl_tgrid g; size_t steps; double tol; } cs[] = {
    {FL_SAMP_RK4, FL_TGRID_T, 400, 1e-7}, {FL_SAMP_DPMPP2M, FL_TGRID_LOGSNR, 400, 5e-4}, {FL_SAMP_DPM2, FL_TGRID_LOGSNR, 200, 5e-4}};
  for (int c = 0; c < 3; c++) {
    fl_sample_opts o;
    fl_sample_opts_default(&o, cs[c].s, FL_PARAM_VELOCITY, &vp);
    o.steps = cs[c].steps;
    o.grid = cs[c].g;
    o.t_min = tmin;
    memcpy(x, x0, sizeof x);
    fl_run r = {0};
    assert_ok(fl_sample_run(vel, &o, 4, x, NULL, &r));
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 2; j++) {
        double k = sqrt((at * at * lam[j] + st * st) / (a1 * a1 * lam[j] + s1 * s1));
        assert_near(x[2 * i + j], at * mu[j] + k * (x0[2 * i + j] - a1 * mu[j]), cs[c].tol);
      }
    fl_run_free(&r);
  }
  fl_field_release(vel);
  fl_gmm_release(g);
}

static void test_loglik(void **state)
{
  (void)state;
  const double mu[2] = {0.5, -1}, S[4] = {1.5, 0.4, 0.4, 0.6};
  fl_gmm *g;
  assert_ok(fl_gmm_new(2, 1, NULL, mu, S, FL_GMM_COV_FULL, &g));
  fl_schedule lin;
  fl_schedule_default(FL_SCHED_LINEAR, &lin);
  fl_field *vel;
  assert_ok(fl_schedule_noised_field(&lin, g, FL_NOISED_VELOCITY, &vel));
  double x[20], lp[10], want[10], lh[10], se[10];
  assert_ok(fl_gmm_sample(g, 10, 4, 0, x));
  assert_ok(fl_gmm_log_density(g, 10, x, want));
  fl_loglik_opts o = {0};
  o.kind = FL_PARAM_VELOCITY;
  o.sched = lin;
  o.t_min = 0;
  o.t_max = 1;
  o.rtol = 1e-11;
  o.atol = 1e-12;
  int exact;
  size_t evals;
  assert_ok(fl_sample_loglik(vel, &o, 10, x, lp, NULL, NULL, &exact, &evals));
  assert_int_equal(exact, 1);
  assert_true(evals > 10);
  for (int i = 0; i < 10; i++) assert_near(lp[i], want[i], 1e-7);
  o.hutchinson = 1;
  o.nprobes = 64;
  o.gaussian = 1;
  o.seed = 3;
  assert_ok(fl_sample_loglik(vel, &o, 10, x, lh, se, NULL, NULL, NULL));
  double z2 = 0;
  for (int i = 0; i < 10; i++) {
    assert_true(se[i] > 0);
    z2 += (lh[i] - want[i]) * (lh[i] - want[i]) / (se[i] * se[i]);
  }
  assert_true(z2 / 10 < 4); /* mean squared z-score about 1 */
  o.nprobes = 0;
  assert_fails_with(fl_sample_loglik(vel, &o, 10, x, lh, se, NULL, NULL, NULL), FL_EINVAL, "probes");
  o.nprobes = 4;
  o.t_min = 1;
  assert_fails_with(fl_sample_loglik(vel, &o, 10, x, lh, se, NULL, NULL, NULL), FL_EINVAL, "t_min");
  fl_field_release(vel);
  fl_gmm_release(g);
}

static void test_cost_linear(void **state)
{
  (void)state;
  const double A[6] = {1, 2, -1, 0.5, 0, 3}, y[2] = {0.3, -2};
  fl_cost_linear c = {2, 3, A, y, 0.7};
  double x[6] = {0.1, -0.4, 1.2, 2, 0.3, -1}, gr[6], L[2];
  assert_int_equal(fl_cost_linear_fn(&c, 2, 3, x, gr, L), 0);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++) {
      double h = 1e-6, xp[6], xm[6], Lp[2], Lm[2], gg[6];
      memcpy(xp, x, sizeof x);
      memcpy(xm, x, sizeof x);
      xp[3 * i + j] += h;
      xm[3 * i + j] -= h;
      fl_cost_linear_fn(&c, 2, 3, xp, gg, Lp);
      fl_cost_linear_fn(&c, 2, 3, xm, gg, Lm);
      assert_near(gr[3 * i + j], (Lp[i] - Lm[i]) / (2 * h), 1e-6);
    }
}

/* FlowChef with lr = 0 is the Euler sampler; one step with v fixed moves z by -lr grad L(z - t v) */
static void test_flowchef(void **state)
{
  (void)state;
  fl_gmm *g = fl_test_eight_gaussians();
  fl_schedule lin;
  fl_schedule_default(FL_SCHED_LINEAR, &lin);
  fl_field *vel;
  assert_ok(fl_schedule_noised_field(&lin, g, FL_NOISED_VELOCITY, &vel));
  const size_t n = 64;
  double z[128], z2[128];
  fl_sample_prior(&lin, 1, n, 2, 1, 0, z);
  memcpy(z2, z, sizeof z);
  const double A[2] = {1, 0}, y[1] = {2};
  fl_cost_linear c = {1, 2, A, y, 0.5};
  fl_flowchef_opts o = {20, 1, 0, 1, 19, 0};
  fl_run r = {0};
  assert_ok(fl_sample_flowchef(vel, &o, fl_cost_linear_fn, &c, n, z, NULL, NULL, &r));
  assert_int_equal(r.evals, 20);
  fl_sample_opts so;
  fl_sample_opts_default(&so, FL_SAMP_EULER, FL_PARAM_VELOCITY, &lin);
  so.steps = 20;
  fl_run r2 = {0};
  assert_ok(fl_sample_run(vel, &so, n, z2, NULL, &r2));
  for (size_t q = 0; q < 2 * n; q++) assert_near(z[q], z2[q], 1e-12);
  /* steering moves the first coordinate toward y = 2 */
  fl_sample_prior(&lin, 1, n, 2, 1, 0, z);
  o.lr = 0.05;
  assert_ok(fl_sample_flowchef(vel, &o, fl_cost_linear_fn, &c, n, z, NULL, NULL, &r));
  double m0 = 0, m1 = 0;
  for (size_t i = 0; i < n; i++) { m0 += fabs(z2[2 * i] - 2); m1 += fabs(z[2 * i] - 2); }
  assert_true(m1 < 0.5 * m0);
  o.steps = 0;
  assert_fails_with(fl_sample_flowchef(vel, &o, fl_cost_linear_fn, &c, n, z, NULL, NULL, &r), FL_EINVAL, "steps");
  fl_run_free(&r);
  fl_run_free(&r2);
  fl_field_release(vel);
  fl_gmm_release(g);
}

static void test_errors(void **state)
{
  (void)state;
  fl_field *f, *nanf;
  assert_ok(fl_field_new(&const_ops, 2, 2, 0, 1, NULL, &f));
  assert_ok(fl_field_new(&nan_ops, 2, 2, 1, 1, NULL, &nanf));
  fl_schedule vp, lin;
  fl_schedule_default(FL_SCHED_VP, &vp);
  fl_schedule_default(FL_SCHED_LINEAR, &lin);
  double x[8] = {0};
  fl_sample_opts o;
  fl_run r = {0};
  fl_sample_opts_default(&o, FL_SAMP_EULER, FL_PARAM_VELOCITY, &vp);
  o.steps = 0;
  assert_fails_with(fl_sample_run(f, &o, 4, x, NULL, &r), FL_EINVAL, "steps");
  o.steps = 10;
  o.t_max = 0.1;
  o.t_min = 0.5;
  assert_fails_with(fl_sample_run(f, &o, 4, x, NULL, &r), FL_EINVAL, "t_max");
  fl_sample_opts_default(&o, FL_SAMP_EDM, FL_PARAM_SCORE, &vp);
  o.steps = 10;
  assert_fails_with(fl_sample_run(f, &o, 4, x, NULL, &r), FL_EINVAL, "alpha = 1");
  for (int s = 0; s < 2; s++) {
    fl_sample_opts_default(&o, s ? FL_SAMP_DDIM : FL_SAMP_EULER, FL_PARAM_VELOCITY, &lin);
    o.steps = 10;
    for (int i = 0; i < 8; i++) x[i] = 1;
    assert_fails_with(fl_sample_run(nanf, &o, 4, x, NULL, &r), FL_ENAN, "particle 3");
    assert_int_equal(r.bad_particle, 2);
    fl_run_free(&r);
    memset(&r, 0, sizeof r);
  }
  int k;
  fl_sampler sm;
  assert_int_equal(fl_sampler_from_name("dpm++2m", &sm), 0);
  assert_int_equal(sm, FL_SAMP_DPMPP2M);
  assert_int_equal(fl_sampler_from_name("dpm3", &sm), -1);
  (void)k;
  fl_field_release(f);
  fl_field_release(nanf);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_grids), T(test_predict), T(test_v6), T(test_v1_endpoint), T(test_loglik),
    T(test_cost_linear), T(test_flowchef), T(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
