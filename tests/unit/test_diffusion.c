/* Unit tests of lib/fl_diffusion.c: schedules against their closed forms and
 * against central differences, exact log-SNR inverses, parametrisation
 * conversions, and the noised Gaussian mixture: normalisation, score by
 * differences, the t -> 0 limit, the continuity equation for the
 * probability-flow velocity, and the Gaussian closed form (reference V1). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_core.h"
#include "fl_diffusion.h"
#include "fl_gmm.h"
#include "fl_field.h"
#include "fl_rng.h"
#include "fl_test.h"

static const fl_schedule_kind kinds[5] = {FL_SCHED_VP, FL_SCHED_VE, FL_SCHED_EDM, FL_SCHED_LINEAR, FL_SCHED_COSINE};

static double ev(const fl_schedule *s, fl_schedule_fn fn, double t) { return fl_schedule_eval(s, fn, t); }

/* alpha and sigma at known points, from the formulas of reference section 0 typed out again. */
static void test_closed_forms(void **state)
{
  (void)state;
  fl_schedule s;
  fl_schedule_default(FL_SCHED_VP, &s);
  assert_ok(fl_schedule_check(&s));
  assert_string_equal(fl_schedule_name(&s), "vp");
  double a = exp(-0.25 * 0.25 * 19.9 - 0.5 * 0.5 * 0.1);
  assert_rel(ev(&s, FL_SCHED_ALPHA, 0.5), a, 1e-15);
  assert_rel(ev(&s, FL_SCHED_SIGMA, 0.5), sqrt(1 - a * a), 1e-15);
  assert_rel(ev(&s, FL_SCHED_ALPHA, 1), exp(-19.9 / 4 - 0.05), 1e-15);
  assert_rel(ev(&s, FL_SCHED_G2, 0.3), 0.1 + 0.3 * 19.9, 1e-15);
  assert_rel(ev(&s, FL_SCHED_F, 0.3), -0.5 * (0.1 + 0.3 * 19.9), 1e-15);
  assert_true(ev(&s, FL_SCHED_SIGMA, 0) == 0 && ev(&s, FL_SCHED_ALPHA, 0) == 1);
  /* tiny t: sigma^2 = 1 - alpha^2 without cancellation: ~ b0 t */
  assert_rel(ev(&s, FL_SCHED_SIGMA, 1e-9), sqrt(0.1e-9), 1e-8);

  fl_schedule_default(FL_SCHED_VE, &s);
  assert_rel(ev(&s, FL_SCHED_SIGMA, 0), 0.01, 1e-15);
  assert_rel(ev(&s, FL_SCHED_SIGMA, 1), 50, 1e-14);
  assert_rel(ev(&s, FL_SCHED_SIGMA, 0.5), sqrt(0.01 * 50), 1e-14);
  assert_true(ev(&s, FL_SCHED_ALPHA, 0.5) == 1 && ev(&s, FL_SCHED_F, 0.5) == 0);
  assert_rel(ev(&s, FL_SCHED_G2, 0.5), 2 * 0.5 * log(5000), 1e-14);

  fl_schedule_default(FL_SCHED_EDM, &s);
  assert_rel(ev(&s, FL_SCHED_SIGMA, 3.5), 3.5, 0);
  assert_true(s.t_min == 0.002 && s.t_max == 80);
  assert_rel(ev(&s, FL_SCHED_G2, 3.5), 7, 1e-15);

  fl_schedule_default(FL_SCHED_LINEAR, &s);
  assert_rel(ev(&s, FL_SCHED_ALPHA, 0.25), 0.75, 0);
  assert_rel(ev(&s, FL_SCHED_SIGMA, 0.25), 0.25, 0);
  assert_rel(ev(&s, FL_SCHED_LOGSNR, 0.25), log(3), 1e-15);
  assert_rel(ev(&s, FL_SCHED_F, 0.25), -1 / 0.75, 1e-15);

  fl_schedule_default(FL_SCHED_COSINE, &s);
  assert_rel(ev(&s, FL_SCHED_ALPHA, 0.5), sqrt(0.5), 1e-15);
  assert_rel(ev(&s, FL_SCHED_SIGMA, 0.5), sqrt(0.5), 1e-15);
  assert_rel(ev(&s, FL_SCHED_LOGSNR, 0.5), 0, 1e-15);
  assert_rel(ev(&s, FL_SCHED_ALPHA, 1.0 / 3), cos(M_PI / 6), 1e-15);
  assert_rel(ev(&s, FL_SCHED_G2, 0.5), M_PI, 1e-15);

  /* parameter checks */
  fl_schedule_default(FL_SCHED_VE, &s);
  s.p1 = 0.001;
  assert_int_equal(fl_schedule_check(&s), FL_EINVAL);
  assert_non_null(strstr(fl_last_detail(), "smin"));
  fl_schedule_default(FL_SCHED_VP, &s);
  s.p0 = -1;
  assert_int_equal(fl_schedule_check(&s), FL_EINVAL);
  fl_schedule_default(FL_SCHED_LINEAR, &s);
  s.t_max = 1.5;
  assert_int_equal(fl_schedule_check(&s), FL_EINVAL);
  s.t_max = 0.5;
  s.t_min = 0.5;
  assert_int_equal(fl_schedule_check(&s), FL_EINVAL);
}

/* dalpha, dsigma = central differences; f = alpha'/alpha; g^2 =
 * d(sigma^2)/dt - 2 f sigma^2; logsnr = log(alpha/sigma); t(logsnr(t)) = t. */
static void test_derivatives_and_inverse(void **state)
{
  (void)state;
  for (int q = 0; q < 5; q++) {
    fl_schedule s;
    fl_schedule_default(kinds[q], &s);
    double lo = s.t_min + 1e-3 * (s.t_max - s.t_min), hi = s.t_max - 1e-3 * (s.t_max - s.t_min);
    if (kinds[q] == FL_SCHED_VP) lo = 1e-3;
    for (int i = 0; i <= 40; i++) {
      double t = lo + (hi - lo) * i / 40.0, h = 1e-5 * t;
      double a = ev(&s, FL_SCHED_ALPHA, t), sg = ev(&s, FL_SCHED_SIGMA, t);
      double da = ev(&s, FL_SCHED_DALPHA, t), ds = ev(&s, FL_SCHED_DSIGMA, t);
      double fda = (ev(&s, FL_SCHED_ALPHA, t + h) - ev(&s, FL_SCHED_ALPHA, t - h)) / (2 * h);
      double fds = (ev(&s, FL_SCHED_SIGMA, t + h) - ev(&s, FL_SCHED_SIGMA, t - h)) / (2 * h);
      double scale = fmax(1, fabs(ds));
      if (!(fabs(fda - da) < 1e-7 * scale)) fail_msg("%s dalpha(%g) = %.12g, differences %.12g", fl_schedule_name(&s), t, da, fda);
      if (!(fabs(fds - ds) < 1e-7 * scale)) fail_msg("%s dsigma(%g) = %.12g, differences %.12g", fl_schedule_name(&s), t, ds, fds);
      double f = ev(&s, FL_SCHED_F, t), g2 = ev(&s, FL_SCHED_G2, t);
      assert_rel(f, da / a, 1e-13);
      assert_rel(g2, 2 * sg * ds - 2 * (da / a) * sg * sg, 1e-12);
      double lam = ev(&s, FL_SCHED_LOGSNR, t);
      assert_rel(lam, log(a / sg), 1e-13);
      double tt = ev(&s, FL_SCHED_T_OF_LOGSNR, lam);
      if (!(fabs(tt - t) <= 1e-12 * fmax(t, 1e-300) + 1e-15))
        fail_msg("%s: t_of_logsnr(logsnr(%.17g)) = %.17g", fl_schedule_name(&s), t, tt);
    }
    /* relative accuracy of the inverse near t = 0 too (no cancellation) */
    double tl = kinds[q] == FL_SCHED_EDM ? 0.002 : kinds[q] == FL_SCHED_VE ? 0.3 : 1e-6;
    assert_rel(ev(&s, FL_SCHED_T_OF_LOGSNR, ev(&s, FL_SCHED_LOGSNR, tl)) / tl, 1, 1e-12);
    /* map = eval elementwise */
    double in[3] = {0.2, 0.4, 0.6}, out[3];
    fl_schedule_map(&s, FL_SCHED_SIGMA, 3, in, out);
    for (int i = 0; i < 3; i++) assert_true(out[i] == ev(&s, FL_SCHED_SIGMA, in[i]));
  }
}

/* eps -> x0 -> score -> velocity -> eps is the identity, every pair is
 * consistent with the formulas, and for the linear path v = -(x + t s)/(1-t). */
static void test_convert(void **state)
{
  (void)state;
  const size_t n = 12;
  double x[12], e[12], a[12], b[12], c[12], d[12], v[12];
  fl_rng_fill_normal(1, 1, 0, n, x);
  fl_rng_fill_normal(1, 2, 0, n, e);
  for (int q = 0; q < 5; q++) {
    fl_schedule s;
    fl_schedule_default(kinds[q], &s);
    double t = 0.3 * s.t_max + 0.7 * s.t_min;
    assert_ok(fl_schedule_convert(&s, t, FL_PARAM_EPS, FL_PARAM_X0, n, e, x, a));
    assert_ok(fl_schedule_convert(&s, t, FL_PARAM_X0, FL_PARAM_SCORE, n, a, x, b));
    assert_ok(fl_schedule_convert(&s, t, FL_PARAM_SCORE, FL_PARAM_VELOCITY, n, b, x, c));
    assert_ok(fl_schedule_convert(&s, t, FL_PARAM_VELOCITY, FL_PARAM_EPS, n, c, x, d));
    for (size_t i = 0; i < n; i++) assert_rel(d[i], e[i], 1e-11);
    /* direct conversions agree with the chain */
    assert_ok(fl_schedule_convert(&s, t, FL_PARAM_EPS, FL_PARAM_VELOCITY, n, e, x, v));
    for (size_t i = 0; i < n; i++) assert_rel(v[i], c[i], 1e-11);
    assert_ok(fl_schedule_convert(&s, t, FL_PARAM_VELOCITY, FL_PARAM_SCORE, n, c, x, v));
    for (size_t i = 0; i < n; i++) assert_rel(v[i], b[i], 1e-11);
    assert_ok(fl_schedule_convert(&s, t, FL_PARAM_VELOCITY, FL_PARAM_X0, n, c, x, v));
    for (size_t i = 0; i < n; i++) assert_rel(v[i], a[i], 1e-11);
    /* x = alpha x0 + sigma eps, s = -eps/sigma, v = f x - g^2/2 s */
    double al = ev(&s, FL_SCHED_ALPHA, t), sg = ev(&s, FL_SCHED_SIGMA, t);
    double f = ev(&s, FL_SCHED_F, t), g2 = ev(&s, FL_SCHED_G2, t);
    for (size_t i = 0; i < n; i++) {
      assert_rel(al * a[i] + sg * e[i], x[i], 1e-12);
      assert_rel(b[i], -e[i] / sg, 1e-12);
      assert_rel(c[i], f * x[i] - 0.5 * g2 * b[i], 1e-10);
    }
    if (kinds[q] == FL_SCHED_LINEAR)
      for (size_t i = 0; i < n; i++) assert_rel(c[i], -(x[i] + t * b[i]) / (1 - t), 1e-12);
  }
  /* division by alpha = 0 (linear, t = 1) is an error, not an Inf */
  fl_schedule s;
  fl_schedule_default(FL_SCHED_LINEAR, &s);
  assert_int_equal(fl_schedule_convert(&s, 1, FL_PARAM_EPS, FL_PARAM_X0, n, e, x, a), FL_ERANGE);
  assert_non_null(strstr(fl_last_detail(), "alpha = 0"));
  assert_ok(fl_schedule_convert(&s, 1, FL_PARAM_SCORE, FL_PARAM_EPS, n, e, x, a));
  fl_param p;
  assert_int_equal(fl_param_from_name("velocity", &p), 0);
  assert_int_equal(p, FL_PARAM_VELOCITY);
  assert_int_equal(fl_param_from_name("v", &p), -1);
}

/* A 3-component mixture with full covariances and unequal weights. */
static fl_gmm *skew_mixture(void)
{
  const double m[6] = {1, 0.5, -1.5, 1, 0, -2}, w[3] = {0.5, 0.3, 0.2};
  const double S[12] = {0.4, 0.15, 0.15, 0.2, 0.3, -0.1, -0.1, 0.6, 0.1, 0, 0, 0.5};
  fl_gmm *g;
  assert_ok(fl_gmm_new(2, 3, w, m, S, FL_GMM_COV_FULL, &g));
  return g;
}

/* Noised p_t under VP and linear: integrates to 1 on a grid, its score
 * matches differences of log p_t, and the fields agree with the noised
 * mixture at each t. */
static void test_noised_density(void **state)
{
  (void)state;
  fl_gmm *gs[2] = {fl_test_eight_gaussians(), skew_mixture()};
  const fl_schedule_kind ks[2] = {FL_SCHED_VP, FL_SCHED_LINEAR};
  const size_t m = 601;
  const double lo = -9, h = 18.0 / (double)(m - 1);
  double *x = fl_test_square_grid(m, lo, h), *lp = malloc(sizeof(double) * m * m);
  for (int q = 0; q < 2; q++)
    for (int kk = 0; kk < 2; kk++) {
      fl_schedule s;
      fl_schedule_default(ks[kk], &s);
      fl_field *lf;
      assert_ok(fl_schedule_noised_field(&s, gs[q], FL_NOISED_LOGP, &lf));
      assert_true(lf->time_dependent);
      const double ts[3] = {0.05, 0.4, 0.9};
      for (int it = 0; it < 3; it++) {
        double t = ts[it];
        assert_ok(fl_field_eval(lf, m * m, x, t, lp));
        double sum = 0;
        for (size_t i = 0; i < m; i++)
          for (size_t j = 0; j < m; j++)
            sum += (i == 0 || i == m - 1 ? 0.5 : 1) * (j == 0 || j == m - 1 ? 0.5 : 1) * exp(lp[i * m + j]);
        sum *= h * h;
        if (!(fabs(sum - 1) < 1e-6)) fail_msg("%s, mixture %d, t = %g: p_t integrates to %.12g", fl_schedule_name(&s), q, t, sum);
        /* score = differences of log p_t; Laplacian = second differences */
        double pts[6] = {0.3, -0.7, 2.0, 1.0, -1.2, -2.2}, sc[6], lap[3];
        int exact;
        assert_ok(fl_field_jacobian(lf, 3, pts, t, sc, &exact));
        assert_true(exact);
        assert_ok(fl_field_laplacian(lf, 3, pts, t, lap, &exact));
        for (int i = 0; i < 3; i++) {
          double l2 = 0, f0;
          assert_ok(fl_field_eval(lf, 1, pts + 2 * i, t, &f0));
          for (int a = 0; a < 2; a++) {
            double xp[2] = {pts[2 * i], pts[2 * i + 1]}, xm[2] = {pts[2 * i], pts[2 * i + 1]}, fp, fm, hh = 1e-5;
            xp[a] += hh;
            xm[a] -= hh;
            assert_ok(fl_field_eval(lf, 1, xp, t, &fp));
            assert_ok(fl_field_eval(lf, 1, xm, t, &fm));
            assert_rel((fp - fm) / (xp[a] - xm[a]), sc[2 * i + a], 1e-6);
            hh = 1e-4;
            xp[a] = pts[2 * i + a] + hh;
            xm[a] = pts[2 * i + a] - hh;
            assert_ok(fl_field_eval(lf, 1, xp, t, &fp));
            assert_ok(fl_field_eval(lf, 1, xm, t, &fm));
            l2 += (fp - 2 * f0 + fm) / (hh * hh);
          }
          assert_rel(l2, lap[i], 1e-5);
        }
      }
      fl_field_release(lf);
    }
  free(x);
  free(lp);
  fl_gmm_release(gs[0]);
  fl_gmm_release(gs[1]);
}

/* At t = t_min (VP) or 0 (linear) p_t is the data mixture. */
static void test_small_t_limit(void **state)
{
  (void)state;
  fl_gmm *g = skew_mixture();
  double x[8] = {0.3, 0.2, -1, 1.5, 0.5, -1.5, 2, 2}, l0[4], lt[4];
  assert_ok(fl_gmm_log_density(g, 4, x, l0));
  fl_schedule s;
  fl_schedule_default(FL_SCHED_VP, &s);
  fl_field *lf;
  assert_ok(fl_schedule_noised_field(&s, g, FL_NOISED_LOGP, &lf));
  assert_ok(fl_field_eval(lf, 4, x, s.t_min, lt));
  /* sigma^2 ~ b0 t_min = 1e-6: log p moves by O(1e-6) */
  for (int i = 0; i < 4; i++) assert_true(fabs(lt[i] - l0[i]) < 2e-5 && lt[i] != l0[i]);
  assert_ok(fl_field_eval(lf, 4, x, 1e-9, lt));
  for (int i = 0; i < 4; i++) assert_true(fabs(lt[i] - l0[i]) < 1e-8);
  fl_field_release(lf);
  fl_schedule_default(FL_SCHED_LINEAR, &s);
  assert_ok(fl_schedule_noised_field(&s, g, FL_NOISED_LOGP, &lf));
  assert_ok(fl_field_eval(lf, 4, x, 0, lt));
  for (int i = 0; i < 4; i++) assert_rel(lt[i], l0[i], 1e-14);
  fl_field_release(lf);
  /* the GMM at t: means alpha m, covariances alpha^2 S + sigma^2 I */
  fl_gmm *gt;
  assert_ok(fl_schedule_noised_gmm(&s, g, 0.25, &gt));
  assert_rel(gt->means[2], 0.75 * g->means[2], 1e-15);
  assert_rel(gt->covs[4 * 2 + 3], 0.5625 * g->covs[4 * 2 + 3] + 0.0625, 1e-15);
  fl_gmm_release(gt);
  fl_gmm_release(g);
}

/* The continuity equation d/dt p_t + div(p_t v) = 0, divided by p_t:
 * d/dt log p_t + div v + v . grad log p_t = 0, with d/dt by central
 * differences of the exact log p_t and div v, v, s exact; and div v and the
 * Jacobian of v against differences of v. */
static void test_continuity(void **state)
{
  (void)state;
  fl_gmm *gs[2] = {fl_test_eight_gaussians(), skew_mixture()};
  const fl_schedule_kind ks[3] = {FL_SCHED_VP, FL_SCHED_LINEAR, FL_SCHED_COSINE};
  double pts[8] = {0.3, -0.7, 2.0, 1.0, -1.2, -2.2, 0.05, 0.02};
  for (int q = 0; q < 2; q++)
    for (int kk = 0; kk < 3; kk++) {
      fl_schedule s;
      fl_schedule_default(ks[kk], &s);
      fl_field *lf, *sf, *vf;
      assert_ok(fl_schedule_noised_field(&s, gs[q], FL_NOISED_LOGP, &lf));
      assert_ok(fl_schedule_noised_field(&s, gs[q], FL_NOISED_SCORE, &sf));
      assert_ok(fl_schedule_noised_field(&s, gs[q], FL_NOISED_VELOCITY, &vf));
      const double ts[4] = {0.02, 0.3, 0.6, 0.95};
      for (int it = 0; it < 4; it++) {
        double t = ts[it], ht = 1e-5, lpp[4], lpm[4], v[8], sc[8], dv[4], J[16];
        int exact;
        assert_ok(fl_field_eval(lf, 4, pts, t + ht, lpp));
        assert_ok(fl_field_eval(lf, 4, pts, t - ht, lpm));
        assert_ok(fl_field_eval(vf, 4, pts, t, v));
        assert_ok(fl_field_eval(sf, 4, pts, t, sc));
        assert_ok(fl_field_div(vf, 4, pts, t, dv, &exact));
        assert_true(exact);
        assert_ok(fl_field_jacobian(vf, 4, pts, t, J, &exact));
        assert_true(exact);
        double f = ev(&s, FL_SCHED_F, t), g2 = ev(&s, FL_SCHED_G2, t);
        for (int i = 0; i < 4; i++) {
          double dlogp = (lpp[i] - lpm[i]) / (2 * ht);
          double res = dlogp + dv[i] + v[2 * i] * sc[2 * i] + v[2 * i + 1] * sc[2 * i + 1];
          double scale = fabs(dlogp) + fabs(dv[i]) + 1;
          if (!(fabs(res) < 1e-6 * scale))
            fail_msg("%s, mixture %d, t = %g, point %d: continuity residual %.3g (d/dt log p %.6g)", fl_schedule_name(&s), q, t, i, res, dlogp);
          /* v = f x - g^2/2 s */
          for (int a = 0; a < 2; a++) assert_rel(v[2 * i + a], f * pts[2 * i + a] - 0.5 * g2 * sc[2 * i + a], 1e-9);
          assert_rel(dv[i], J[4 * i] + J[4 * i + 3], 1e-12);
          /* Jacobian by differences of v */
          for (int b = 0; b < 2; b++) {
            double xp[2] = {pts[2 * i], pts[2 * i + 1]}, xm[2] = {pts[2 * i], pts[2 * i + 1]}, vp[2], vm[2];
            xp[b] += 1e-6;
            xm[b] -= 1e-6;
            assert_ok(fl_field_eval(vf, 1, xp, t, vp));
            assert_ok(fl_field_eval(vf, 1, xm, t, vm));
            for (int a = 0; a < 2; a++) {
              double fd = (vp[a] - vm[a]) / (xp[b] - xm[b]), je = J[4 * i + 2 * a + b];
              if (!(fabs(fd - je) < 1e-6 * fmax(1, fabs(je))))
                fail_msg("%s t = %g: J(%d,%d) = %.12g, differences %.12g", fl_schedule_name(&s), t, a, b, je, fd);
            }
          }
        }
      }
      fl_field_release(lf);
      fl_field_release(sf);
      fl_field_release(vf);
    }
  fl_gmm_release(gs[0]);
  fl_gmm_release(gs[1]);
}

/* Reference V1: Gaussian data N(mu, S): s = -C_t^-1 (x - alpha mu) with
 * C_t = alpha^2 S + sigma^2 I, Jacobian -C_t^-1, and the velocity
 * (alpha'/alpha) x + (alpha' sigma^2/alpha - sigma' sigma) s; at alpha = 0
 * (linear, t = 1) the velocity is finite: v = alpha' mu + (sigma'/sigma) x. */
static void test_gaussian_closed_form(void **state)
{
  (void)state;
  const double mu[2] = {1.5, -0.5}, S[4] = {0.8, 0.3, 0.3, 0.5};
  fl_gmm *g;
  assert_ok(fl_gmm_new(2, 1, NULL, mu, S, FL_GMM_COV_FULL, &g));
  for (int kk = 0; kk < 5; kk++) {
    fl_schedule s;
    fl_schedule_default(kinds[kk], &s);
    fl_field *sf, *vf;
    assert_ok(fl_schedule_noised_field(&s, g, FL_NOISED_SCORE, &sf));
    assert_ok(fl_schedule_noised_field(&s, g, FL_NOISED_VELOCITY, &vf));
    double t = 0.35 * (s.t_max - s.t_min) + s.t_min;
    double al = ev(&s, FL_SCHED_ALPHA, t), sg = ev(&s, FL_SCHED_SIGMA, t), da = ev(&s, FL_SCHED_DALPHA, t),
           ds = ev(&s, FL_SCHED_DSIGMA, t);
    double C[4] = {al * al * S[0] + sg * sg, al * al * S[1], al * al * S[2], al * al * S[3] + sg * sg};
    double det = C[0] * C[3] - C[1] * C[2], Ci[4] = {C[3] / det, -C[1] / det, -C[2] / det, C[0] / det};
    double x[4] = {0.2, 0.9, -2, 1}, sc[4], v[4], J[8], Jv[8];
    int exact;
    assert_ok(fl_field_eval(sf, 2, x, t, sc));
    assert_ok(fl_field_eval(vf, 2, x, t, v));
    assert_ok(fl_field_jacobian(sf, 2, x, t, J, &exact));
    assert_ok(fl_field_jacobian(vf, 2, x, t, Jv, &exact));
    double cv = da * sg * sg / al - ds * sg;
    for (int i = 0; i < 2; i++) {
      double d0 = x[2 * i] - al * mu[0], d1 = x[2 * i + 1] - al * mu[1];
      double s0 = -(Ci[0] * d0 + Ci[1] * d1), s1 = -(Ci[2] * d0 + Ci[3] * d1);
      assert_rel(sc[2 * i], s0, 1e-12);
      assert_rel(sc[2 * i + 1], s1, 1e-12);
      assert_rel(v[2 * i], da / al * x[2 * i] + cv * s0, 1e-10);
      assert_rel(v[2 * i + 1], da / al * x[2 * i + 1] + cv * s1, 1e-10);
      for (int a = 0; a < 4; a++) {
        assert_rel(J[4 * i + a], -Ci[a], 1e-12);
        assert_rel(Jv[4 * i + a], (a % 3 == 0 ? da / al : 0) - cv * Ci[a], 1e-10);
      }
    }
    if (kinds[kk] == FL_SCHED_LINEAR) { /* t = 1: alpha = 0 */
      assert_ok(fl_field_eval(vf, 2, x, 1.0, v));
      for (int i = 0; i < 4; i++) assert_rel(v[i], -mu[i % 2] + x[i], 1e-14);
      assert_ok(fl_field_jacobian(vf, 2, x, 1.0, J, &exact));
      for (int a = 0; a < 4; a++) assert_rel(J[a], a % 3 == 0 ? 1 : 0, 1e-14);
    }
    fl_field_release(sf);
    fl_field_release(vf);
  }
  /* a time outside the schedule where sigma^2 < 0 is an error, not a NaN */
  fl_schedule s;
  fl_schedule_default(FL_SCHED_VP, &s);
  fl_field *lf;
  assert_ok(fl_schedule_noised_field(&s, g, FL_NOISED_LOGP, &lf));
  double x[2] = {0, 0}, o;
  assert_int_equal(fl_field_eval(lf, 1, x, -0.001, &o), FL_ERANGE);
  assert_non_null(strstr(fl_last_detail(), "t = -0.001"));
  fl_field_release(lf);
  fl_gmm_release(g);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      T(test_closed_forms),   T(test_derivatives_and_inverse), T(test_convert),
      T(test_noised_density), T(test_small_t_limit),           T(test_continuity),
      T(test_gaussian_closed_form),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
