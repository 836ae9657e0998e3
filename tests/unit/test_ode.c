/* Unit tests of lib/fl_ode: convergence orders on problems with exact
 * solutions, V7 amplification factors, adaptive tolerance, dense output,
 * recording, symplectic energy behaviour and order, the SDE stationary law
 * and strong orders, thread independence, the variational equation, and
 * the error paths (non-finite states, failing observers, interrupts,
 * step caps). */
#include "config.h"
#include <math.h>
#include <string.h>
#include "fl_analytic.h"
#include "fl_field.h"
#include "fl_ode.h"
#include "fl_test.h"

/* dx/dt = A x, A = [[-a, w], [-w, -a]]: exp(At) = e^{-at} [[cos wt, sin wt], [-sin wt, cos wt]] */
static const double DA = 0.5, DW = 1.0;

static fl_field *damped_rotation(void)
{
  double A[4] = {-DA, DW, -DW, -DA};
  fl_field *f;
  assert_ok(fl_analytic_linear(2, 2, A, NULL, &f));
  return f;
}

static void exact_damped(double t, const double *x0, double *x)
{
  double e = exp(-DA * t), c = cos(DW * t), s = sin(DW * t);
  x[0] = e * (c * x0[0] + s * x0[1]);
  x[1] = e * (-s * x0[0] + c * x0[1]);
}

/* max error over 3 particles of a fixed-step run of method T with N steps on [0, 2] */
static double fixed_error(const fl_ode_step_type *T, size_t N)
{
  fl_field *f = damped_rotation();
  double x0[6] = {1, 0, 0.3, -0.7, -1.2, 0.4}, x[6], ex[2];
  memcpy(x, x0, sizeof x);
  fl_ode_opts o = {.method = T, .t0 = 0, .t1 = 2, .steps = N};
  fl_run r = {0};
  assert_ok(fl_ode_run(f, 3, x, &o, NULL, &r));
  assert_int_equal(r.steps, N);
  assert_int_equal(r.evals, T->fsal ? N * (size_t)(T->stages - 1) + 1 : N * (size_t)T->stages);
  double err = 0;
  for (int i = 0; i < 3; i++) {
    exact_damped(2, x0 + 2 * i, ex);
    err = fmax(err, fmax(fabs(x[2 * i] - ex[0]), fabs(x[2 * i + 1] - ex[1])));
  }
  fl_run_free(&r);
  fl_field_release(f);
  return err;
}

/* least-squares slope of log err against log h over halving step sizes */
static double fitted_order(double (*err)(const fl_ode_step_type *, size_t), const fl_ode_step_type *T, size_t N0,
                           int levels)
{
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (int l = 0; l < levels; l++) {
    size_t N = N0 << l;
    double lx = log(1.0 / (double)N), ly = log(err(T, N));
    sx += lx; sy += ly; sxx += lx * lx; sxy += lx * ly;
  }
  return (levels * sxy - sx * sy) / (levels * sxx - sx * sx);
}

static void test_orders(void **s)
{
  (void)s;
  struct { const fl_ode_step_type *T; size_t N0; double order; } c[] = {
    {&fl_ode_euler, 40, 1}, {&fl_ode_heun, 20, 2}, {&fl_ode_midpoint, 20, 2}, {&fl_ode_rk4, 10, 4},
    {&fl_ode_dopri5, 8, 5}};
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    double p = fitted_order(fixed_error, c[i].T, c[i].N0, 4);
    if (fabs(p - c[i].order) > 0.15) fail_msg("%s: fitted order %.3f, expected %g", c[i].T->name, p, c[i].order);
  }
  assert_ptr_equal(fl_ode_step_type_find("rk4"), &fl_ode_rk4);
  assert_null(fl_ode_step_type_find("rk45"));
}

/* V7: one step of Euler / Heun on the rotation dx/dt = (-y, x)... as A x with A = [[0,-1],[1,0]] */
static void test_v7_amplification(void **s)
{
  (void)s;
  fl_field *rot;
  assert_ok(fl_analytic_rotation(2, 1.0, NULL, &rot));
  const double zs[] = {0.1, 0.5, 1.0, 2.0};
  for (size_t i = 0; i < 4; i++) {
    double z = zs[i];
    for (int m = 0; m < 2; m++) {
      double x[4] = {1, 0, 0.6, -0.8};
      fl_ode_opts o = {.method = m ? &fl_ode_heun : &fl_ode_euler, .t0 = 0, .t1 = z, .steps = 1};
      fl_run r = {0};
      assert_ok(fl_ode_run(rot, 2, x, &o, NULL, &r));
      double want = m ? 1 + z * z * z * z / 4 : 1 + z * z;
      assert_rel(x[0] * x[0] + x[1] * x[1], want, 1e-15);
      assert_rel(x[2] * x[2] + x[3] * x[3], want, 1e-15);
      /* N steps: the factor (1+z^2)^N */
      double y[2] = {1, 0};
      fl_ode_opts o5 = {.method = o.method, .t0 = 0, .t1 = 5 * z, .steps = 5};
      assert_ok(fl_ode_run(rot, 1, y, &o5, NULL, &r));
      assert_rel(y[0] * y[0] + y[1] * y[1], pow(want, 5), 1e-13);
    }
  }
  fl_field_release(rot);
}

static void test_dopri5_tolerance(void **s)
{
  (void)s;
  fl_field *f = damped_rotation();
  size_t prev_steps = 0;
  const double tols[] = {1e-10, 1e-8, 1e-6, 1e-4};
  for (int k = 0; k < 4; k++) {
    double x0[4] = {1, 0, -0.5, 2}, x[4], ex[2];
    memcpy(x, x0, sizeof x);
    double times[3] = {0.5, 1.7, 3.0};
    fl_observe obs = {.times = times, .ntimes = 3, .store = 1};
    fl_ode_opts o = {.method = &fl_ode_dopri5, .t0 = 0, .t1 = 5, .rtol = tols[k], .atol = tols[k]};
    fl_run r = {0};
    assert_ok(fl_ode_run(f, 2, x, &o, &obs, &r));
    assert_near(r.t, 5, 0);
    double err = 0;
    for (int i = 0; i < 2; i++) {
      exact_damped(5, x0 + 2 * i, ex);
      err = fmax(err, fmax(fabs(x[2 * i] - ex[0]), fabs(x[2 * i + 1] - ex[1])));
    }
    /* global error within a modest multiple of the tolerance, and not absurdly below it */
    if (!(err < 20 * tols[k]) || !(err > 1e-4 * tols[k]))
      fail_msg("rtol %g: error %g", tols[k], err);
    /* dense output at the record times */
    assert_int_equal(r.nrec, 3);
    for (int j = 0; j < 3; j++) {
      assert_near(r.rec_t[j], times[j], 0);
      for (int i = 0; i < 2; i++) {
        exact_damped(times[j], x0 + 2 * i, ex);
        assert_near(r.rec[j * 4 + 2 * i], ex[0], 50 * tols[k]);
        assert_near(r.rec[j * 4 + 2 * i + 1], ex[1], 50 * tols[k]);
      }
    }
    if (k > 0 && !(r.steps < prev_steps)) fail_msg("steps did not fall: %zu then %zu", prev_steps, r.steps);
    prev_steps = r.steps;
    assert_true(r.evals >= 6 * r.steps);
    fl_run_free(&r);
  }
  /* backwards integration returns to the start */
  double x[2] = {0.3, 0.4};
  fl_ode_opts fw = {.method = &fl_ode_dopri5, .t0 = 0, .t1 = 2, .rtol = 1e-10, .atol = 1e-12};
  fl_ode_opts bw = {.method = &fl_ode_dopri5, .t0 = 2, .t1 = 0, .rtol = 1e-10, .atol = 1e-12};
  fl_run r = {0};
  assert_ok(fl_ode_run(f, 1, x, &fw, NULL, &r));
  assert_ok(fl_ode_run(f, 1, x, &bw, NULL, &r));
  assert_near(x[0], 0.3, 1e-8);
  assert_near(x[1], 0.4, 1e-8);
  fl_field_release(f);
}

static void test_recording(void **s)
{
  (void)s;
  fl_field *f = damped_rotation();
  double x[2] = {1, 0};
  fl_observe obs = {.every = 3, .store = 1};
  fl_ode_opts o = {.method = &fl_ode_rk4, .t0 = 0, .t1 = 1, .steps = 10};
  fl_run r = {0};
  assert_ok(fl_ode_run(f, 1, x, &o, &obs, &r));
  assert_int_equal(r.nrec, 5); /* steps 0, 3, 6, 9 and the final 10 */
  const double want[5] = {0, 0.3, 0.6, 0.9, 1.0};
  for (int k = 0; k < 5; k++) assert_near(r.rec_t[k], want[k], 1e-15);
  assert_near(r.rec[0], 1, 0);
  assert_near(r.rec[8], x[0], 0);
  fl_run_free(&r);
  /* record times between grid points: the step is split there; RK4 stays accurate */
  double y[2] = {1, 0}, times[3] = {0.25, 0.5, 0.77}, ex[2], y0[2] = {1, 0};
  fl_observe ob2 = {.times = times, .ntimes = 3, .store = 1};
  fl_run r2 = {0};
  assert_ok(fl_ode_run(f, 1, y, &o, &ob2, &r2));
  assert_int_equal(r2.nrec, 3);
  assert_int_equal(r2.steps, 12); /* 10 steps plus two splits (0.5 is a grid point) */
  for (int k = 0; k < 3; k++) {
    assert_near(r2.rec_t[k], times[k], 0);
    exact_damped(times[k], y0, ex);
    assert_near(r2.rec[2 * k], ex[0], 1e-6);
  }
  fl_run_free(&r2);
  /* bad record times */
  fl_observe bad = {.times = times, .ntimes = 3, .store = 1};
  double back[3] = {0.5, 0.25, 0.77};
  bad.times = back;
  assert_fails_with(fl_ode_run(f, 1, y, &o, &bad, &r2), FL_EINVAL, "must increase");
  double out[1] = {1.5};
  bad.times = out;
  bad.ntimes = 1;
  assert_fails_with(fl_ode_run(f, 1, y, &o, &bad, &r2), FL_ERANGE, "outside");
  fl_run_free(&r2);
  fl_field_release(f);
}

/* ---- symplectic ---- */

static fl_field *plummer_force(fl_field **pot)
{
  fl_field *g, *a;
  assert_ok(fl_analytic_potential(FL_POT_PLUMMER, 2, 1, 1, 1, pot));
  assert_ok(fl_field_gradient(*pot, &g));
  assert_ok(fl_field_lincomb(-1, g, 0, NULL, &a));
  fl_field_release(g);
  return a;
}

typedef struct energy_obs {
  fl_field *pot;
  double E0;
  double max_early, max_all;
  size_t calls, early;
} energy_obs;

static int energy_cb(void *ctx, double t, int nparts, const double *const *parts)
{
  energy_obs *o = ctx;
  (void)nparts;
  double E;
  if (fl_symp_diagnostics(o->pot, 1, parts[0], parts[1], t, &E, NULL)) return -1;
  if (o->calls == 0) o->E0 = E;
  double dev = fabs(E - o->E0);
  if (o->calls < o->early) o->max_early = fmax(o->max_early, dev);
  o->max_all = fmax(o->max_all, dev);
  o->calls++;
  return 0;
}

static void test_leapfrog_energy(void **s)
{
  (void)s;
  fl_field *pot, *acc = plummer_force(&pot);
  double q[2] = {1.5, 0}, p[2] = {0, 0.35}; /* an eccentric bound orbit */
  energy_obs eo = {.pot = pot, .early = 100};
  fl_observe obs = {.every = 100, .store = 1, .observer = energy_cb, .ctx = &eo};
  fl_run r = {0};
  double L0[1], L1[1], E0, E1;
  assert_ok(fl_symp_diagnostics(pot, 1, q, p, 0, &E0, L0));
  assert_ok(fl_symp_run(acc, FL_SYMP_LEAPFROG, 1, q, p, 0, 2000, 100000, &obs, &r));
  assert_ok(fl_symp_diagnostics(pot, 1, q, p, 0, &E1, L1));
  assert_int_equal(r.evals, 100001);
  assert_int_equal(eo.calls, 1001);
  assert_int_equal(r.nrec, 1001); /* stored across several buffer growths */
  assert_near(r.rec_t[1000], 2000, 0);
  assert_near(r.rec[1000 * 4], q[0], 0);
  /* bounded: the error over the whole run is no larger than over its first tenth (no drift), and O(h^2) small */
  if (!(eo.max_all <= 1.5 * eo.max_early)) fail_msg("energy drifts: first tenth %g, all %g", eo.max_early, eo.max_all);
  assert_true(eo.max_all < 1e-3 * fabs(E0));
  assert_true(eo.max_early > 1e-9); /* the test sees the O(h^2) oscillation */
  /* angular momentum is conserved to rounding by a central force */
  assert_near(L1[0], L0[0], 1e-10);
  /* a non-symplectic method of the same cost drifts: Heun loses energy steadily */
  fl_run_free(&r);
  fl_field_release(acc);
  fl_field_release(pot);
}

/* harmonic oscillator a = -w^2 q: q(t) = q0 cos wt + p0/w sin wt */
static double symp_error(fl_symp_method m, size_t N)
{
  double w = 1.3;
  fl_field *pot, *g, *a;
  assert_ok(fl_analytic_harmonic(1, &w, &pot));
  assert_ok(fl_field_gradient(pot, &g));
  assert_ok(fl_field_lincomb(-1, g, 0, NULL, &a));
  double q = 1, p = 0.5, T = 3;
  fl_run r = {0};
  assert_ok(fl_symp_run(a, m, 1, &q, &p, 0, T, N, NULL, &r));
  double qe = cos(w * T) + 0.5 / w * sin(w * T), pe = -w * sin(w * T) + 0.5 * cos(w * T);
  fl_field_release(a);
  fl_field_release(g);
  fl_field_release(pot);
  return fmax(fabs(q - qe), fabs(p - pe));
}

static double symp_err_lf(const fl_ode_step_type *T, size_t N) { (void)T; return symp_error(FL_SYMP_LEAPFROG, N); }
static double symp_err_y4(const fl_ode_step_type *T, size_t N) { (void)T; return symp_error(FL_SYMP_YOSHIDA4, N); }

static void test_symplectic_orders(void **s)
{
  (void)s;
  double p2 = fitted_order(symp_err_lf, NULL, 20, 4), p4 = fitted_order(symp_err_y4, NULL, 10, 4);
  if (fabs(p2 - 2) > 0.15) fail_msg("leapfrog order %.3f", p2);
  if (fabs(p4 - 4) > 0.15) fail_msg("Yoshida order %.3f", p4);
}

/* ---- SDE ---- */

static void test_sde_ou(void **s)
{
  (void)s;
  const double th = 1, sig = 1, h = 0.02;
  double A[4] = {-th, 0, 0, -th};
  fl_field *f;
  assert_ok(fl_analytic_linear(2, 2, A, NULL, &f));
  const size_t n = 20000;
  double *x = malloc(n * 2 * sizeof(double)), *x1 = malloc(n * 2 * sizeof(double));
  for (size_t i = 0; i < 2 * n; i++) x[i] = 2;
  memcpy(x1, x, n * 2 * sizeof(double));
  fl_sde_opts o = {.method = FL_SDE_EULER_MARUYAMA, .t0 = 0, .t1 = 10, .steps = 500, .seed = 7, .stream = 3};
  fl_run r = {0};
  fl_set_threads(2);
  assert_ok(fl_sde_run(f, NULL, sig, n, x, &o, NULL, &r));
  double m = 0, v = 0;
  for (size_t i = 0; i < 2 * n; i++) m += x[i];
  m /= 2 * n;
  for (size_t i = 0; i < 2 * n; i++) v += (x[i] - m) * (x[i] - m);
  v /= 2 * n - 1;
  /* Euler-Maruyama's own stationary variance sigma^2 / (theta (2 - theta h)); mean 2 e^{-10} */
  double vstat = sig * sig / (th * (2 - th * h)), N2 = 2.0 * n;
  double se_m = sqrt(vstat / N2), se_v = vstat * sqrt(2 / N2);
  if (fabs(m - 2 * exp(-10.0)) > 3 * se_m) fail_msg("mean %g, se %g", m, se_m);
  if (fabs(v - vstat) > 3 * se_v) fail_msg("variance %g, expected %g, se %g", v, vstat, se_v);
  /* and not the continuous sigma^2/(2 theta) at a coarse step: h = 0.5 gives 2/3 */
  /* same seed, one thread: identical paths */
  fl_set_threads(1);
  assert_ok(fl_sde_run(f, NULL, sig, n, x1, &o, NULL, &r));
  fl_set_threads(2);
  assert_memory_equal(x, x1, n * 2 * sizeof(double));
  /* a different stream gives different paths */
  for (size_t i = 0; i < 2 * n; i++) x1[i] = 2;
  o.stream = 4;
  assert_ok(fl_sde_run(f, NULL, sig, n, x1, &o, NULL, &r));
  assert_true(memcmp(x, x1, n * 2 * sizeof(double)) != 0);
  free(x);
  free(x1);
  fl_field_release(f);
}

/* geometric Brownian motion dX = mu X dt + s X dW, exact X0 exp((mu - s^2/2) T + s W_T):
 * strong error E|X_N - X(T)| of order 1/2 (Euler-Maruyama) and 1 (Milstein) */
static double gbm_error(fl_sde_method meth, size_t N)
{
  const double mu = 0.5, sg = 0.8, T = 1;
  const size_t n = 4000;
  double A = mu, G = sg;
  fl_field *f, *g;
  assert_ok(fl_analytic_linear(1, 1, &A, NULL, &f));
  assert_ok(fl_analytic_linear(1, 1, &G, NULL, &g));
  double *x = malloc(n * sizeof(double));
  for (size_t i = 0; i < n; i++) x[i] = 1;
  fl_sde_opts o = {.method = meth, .t0 = 0, .t1 = T, .steps = N, .seed = 11, .stream = 0};
  fl_run r = {0};
  assert_ok(fl_sde_run(f, g, 0, n, x, &o, NULL, &r));
  double err = 0, h = T / (double)N;
  for (size_t i = 0; i < n; i++) {
    double W = 0;
    for (size_t k = 0; k < N; k++) W += sqrt(h) * fl_sde_noise(11, 0, n, 1, k, i, 0);
    err += fabs(x[i] - exp((mu - sg * sg / 2) * T + sg * W));
  }
  free(x);
  fl_field_release(f);
  fl_field_release(g);
  return err / (double)n;
}

static double gbm_em(const fl_ode_step_type *T, size_t N) { (void)T; return gbm_error(FL_SDE_EULER_MARUYAMA, N); }
static double gbm_mil(const fl_ode_step_type *T, size_t N) { (void)T; return gbm_error(FL_SDE_MILSTEIN, N); }

static void test_sde_strong_orders(void **s)
{
  (void)s;
  double pe = fitted_order(gbm_em, NULL, 16, 4), pm = fitted_order(gbm_mil, NULL, 16, 4);
  if (fabs(pe - 0.5) > 0.15) fail_msg("Euler-Maruyama strong order %.3f", pe);
  if (fabs(pm - 1) > 0.15) fail_msg("Milstein strong order %.3f", pm);
}

/* ---- variational ---- */

static void test_variational(void **s)
{
  (void)s;
  fl_field *f = damped_rotation();
  const size_t n = 5000; /* several blocks */
  double *x = malloc(n * 2 * sizeof(double)), *Y = malloc(n * 4 * sizeof(double));
  for (size_t i = 0; i < n; i++) {
    x[2 * i] = fl_test_uniform(2 * i, -1, 1);
    x[2 * i + 1] = fl_test_uniform(2 * i + 1, -1, 1);
    Y[4 * i] = Y[4 * i + 3] = 1;
    Y[4 * i + 1] = Y[4 * i + 2] = 0;
  }
  fl_run r = {0};
  int exact = 0;
  assert_ok(fl_var_run(f, &fl_ode_rk4, n, x, Y, 0, 2, 200, NULL, &r, &exact));
  assert_true(exact);
  double e = exp(-DA * 2), c = cos(DW * 2), sn = sin(DW * 2);
  double want[4] = {e * c, e * sn, -e * sn, e * c};
  for (size_t i = 0; i < n; i += 997)
    for (int k = 0; k < 4; k++) assert_near(Y[4 * i + k], want[k], 1e-9);
  free(x);
  free(Y);
  fl_field_release(f);
}

/* ---- error paths ---- */

/* dx/dt = x^2 (1-D): blows up at t = 1/x0 */
static fl_status sq_eval(fl_field *f, size_t n, const double *x, double t, double *o)
{
  (void)f; (void)t;
  for (size_t i = 0; i < n; i++) o[i] = x[i] * x[i];
  return FL_OK;
}
static const fl_field_ops sq_ops = {.kind = "square", .eval = sq_eval};

static int fail_cb(void *ctx, double t, int np, const double *const *parts)
{
  (void)ctx; (void)np; (void)parts;
  return t > 0.45 ? -1 : 0;
}

static int interrupt_cb(void *ctx, double t, int np, const double *const *parts)
{
  (void)ctx; (void)np; (void)parts;
  if (t > 0.25) fl_interrupt();
  return 0;
}

static void test_errors(void **s)
{
  (void)s;
  fl_field *sq;
  assert_ok(fl_field_new(&sq_ops, 1, 1, 0, 1, NULL, &sq));
  double x[3] = {0.1, 2.0, 0.2};
  fl_ode_opts o = {.method = &fl_ode_rk4, .t0 = 0, .t1 = 2, .steps = 100};
  fl_observe obs = {.every = 10, .store = 1};
  fl_run r = {0};
  assert_fails_with(fl_ode_run(sq, 3, x, &o, &obs, &r), FL_ENAN, "particle 2");
  assert_int_equal(r.bad_particle, 1);
  assert_true(r.bad_step > 20 && r.bad_step <= 30); /* blow-up at t = 0.5 */
  assert_true(r.nrec >= 3); /* records before the failure are kept */
  fl_run_free(&r);

  /* adaptive: the step cap */
  double y[3] = {0.1, 2.0, 0.2};
  fl_ode_opts ad = {.method = &fl_ode_dopri5, .t0 = 0, .t1 = 2, .rtol = 1e-6, .atol = 1e-9, .max_steps = 200};
  fl_status st = fl_ode_run(sq, 3, y, &ad, NULL, &r);
  assert_true(st == FL_ENOTCONV || st == FL_ENAN);
  assert_true(r.t < 0.5);
  fl_run_free(&r);

  fl_field *f = damped_rotation();
  double z[2] = {1, 0};
  fl_ode_opts same = {.method = &fl_ode_rk4, .t0 = 1, .t1 = 1, .steps = 10};
  assert_fails_with(fl_ode_run(f, 1, z, &same, NULL, &r), FL_EINVAL, "t1 equals t0");
  fl_ode_opts nost = {.method = &fl_ode_rk4, .t0 = 0, .t1 = 1};
  assert_fails_with(fl_ode_run(f, 1, z, &nost, NULL, &r), FL_EINVAL, "no error estimate");
  assert_fails_with(fl_symp_run(f, FL_SYMP_LEAPFROG, 1, z, z, 0, 1, 0, NULL, &r), FL_EINVAL, "positive");

  /* an observer that fails stops the run */
  fl_observe fo = {.every = 1, .observer = fail_cb};
  fl_ode_opts ok = {.method = &fl_ode_rk4, .t0 = 0, .t1 = 1, .steps = 10};
  assert_fails(fl_ode_run(f, 1, z, &ok, &fo, &r), FL_ECALLBACK);
  assert_near(r.t, 0.5, 1e-15); /* it failed on seeing t = 0.5 */

  /* Ctrl-C: the state at the interrupt time is kept */
  double w[2] = {1, 0}, ex[2], w0[2] = {1, 0};
  fl_observe io = {.every = 1, .store = 1, .observer = interrupt_cb};
  assert_fails(fl_ode_run(f, 1, w, &ok, &io, &r), FL_EINTR);
  fl_interrupt_clear();
  assert_near(r.t, 0.3, 1e-15);
  assert_int_equal(r.nrec, 4);
  exact_damped(0.3, w0, ex);
  assert_near(w[0], ex[0], 1e-6);
  assert_near(r.rec[6], w[0], 0);
  fl_run_free(&r);

  /* a field that is not a vector field */
  fl_field *pot;
  assert_ok(fl_analytic_potential(FL_POT_PLUMMER, 2, 1, 1, 1, &pot));
  assert_fails_with(fl_ode_run(pot, 1, z, &ok, NULL, &r), FL_EDIM, "R^2 to R^1");
  fl_field_release(pot);
  fl_field_release(f);
  fl_field_release(sq);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_orders), T(test_v7_amplification), T(test_dopri5_tolerance), T(test_recording),
    T(test_leapfrog_energy), T(test_symplectic_orders), T(test_sde_ou), T(test_sde_strong_orders),
    T(test_variational), T(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
