/* Unit tests of lib/fl_gmm.c: Gaussian mixtures. Log-densities against the
 * closed form of a single Gaussian, derivatives against central differences
 * (independent of the analytic formulas), normalisation by quadrature,
 * sampling against the mixture moments, and fl_mem_in_use() back to its
 * starting value after every test. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_core.h"
#include "fl_gmm.h"
#include "fl_field.h"
#include "fl_rng.h"
#include "fl_test.h"

/* ------------------------------------------------------------ fixtures */

/* k components in R^d with random means, random full SPD covariances
 * (B B^T/d + 0.2 I) and unequal weights. */
static fl_gmm *random_gmm(int d, int k, uint64_t seed)
{
  double *m = malloc(sizeof(double) * (size_t)(k * d)), *S = malloc(sizeof(double) * (size_t)(k * d * d));
  double *B = malloc(sizeof(double) * (size_t)(d * d)), *w = malloc(sizeof(double) * (size_t)k);
  uint64_t idx = 0;
  for (int j = 0; j < k; j++) {
    w[j] = 0.5 + fl_rng_uniform(seed, 1, (uint64_t)j);
    for (int a = 0; a < d; a++) m[j * d + a] = 2 * fl_rng_normal(seed, 2, idx++);
    for (int a = 0; a < d * d; a++) B[a] = fl_rng_normal(seed, 3, idx++);
    for (int a = 0; a < d; a++)
      for (int b = 0; b < d; b++) {
        double s = a == b ? 0.2 : 0;
        for (int l = 0; l < d; l++) s += B[a * d + l] * B[b * d + l] / d;
        S[(j * d + a) * d + b] = s;
      }
  }
  fl_gmm *g;
  assert_ok(fl_gmm_new(d, k, w, m, S, FL_GMM_COV_FULL, &g));
  free(m);
  free(S);
  free(B);
  free(w);
  return g;
}

/* n random points near the mixture (N(0, 3^2 I)). */
static double *points(int d, size_t n, uint64_t seed)
{
  double *x = malloc(sizeof(double) * n * (size_t)d);
  fl_rng_fill_normal(seed, 9, 0, n * (size_t)d, x);
  for (size_t i = 0; i < n * (size_t)d; i++) x[i] *= 3;
  return x;
}

/* ------------------------------------------------------------ tests */

/* One Gaussian in R^3 against the closed form with a cofactor inverse and determinant. */
static void test_single_gaussian(void **state)
{
  (void)state;
  const double S[9] = {2.0, 0.3, -0.4, 0.3, 1.5, 0.2, -0.4, 0.2, 0.8}, mu[3] = {0.5, -1, 2};
  fl_gmm *g;
  assert_ok(fl_gmm_new(3, 1, NULL, mu, S, FL_GMM_COV_FULL, &g));
  double det = S[0] * (S[4] * S[8] - S[5] * S[7]) - S[1] * (S[3] * S[8] - S[5] * S[6]) + S[2] * (S[3] * S[7] - S[4] * S[6]);
  double Pi[9];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      int i1 = (j + 1) % 3, i2 = (j + 2) % 3, j1 = (i + 1) % 3, j2 = (i + 2) % 3;
      Pi[i * 3 + j] = (S[i1 * 3 + j1] * S[i2 * 3 + j2] - S[i1 * 3 + j2] * S[i2 * 3 + j1]) / det;
    }
  double *x = points(3, 20, 1), lp[20], sc[60], H[180], lap[20];
  assert_ok(fl_gmm_eval(g, 20, x, lp, sc, H, lap));
  for (int i = 0; i < 20; i++) {
    double dx[3], q = 0;
    for (int a = 0; a < 3; a++) dx[a] = x[3 * i + a] - mu[a];
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++) q += dx[a] * Pi[a * 3 + b] * dx[b];
    assert_rel(lp[i], -0.5 * q - 1.5 * log(2 * M_PI) - 0.5 * log(det), 1e-13);
    for (int a = 0; a < 3; a++) {
      double s = 0;
      for (int b = 0; b < 3; b++) s -= Pi[a * 3 + b] * dx[b];
      assert_rel(sc[3 * i + a], s, 1e-12);
      for (int b = 0; b < 3; b++) assert_rel(H[9 * i + 3 * a + b], -Pi[a * 3 + b], 1e-12);
    }
    assert_rel(lap[i], -(Pi[0] + Pi[4] + Pi[8]), 1e-12);
  }
  double p[20];
  assert_ok(fl_gmm_density(g, 20, x, p));
  for (int i = 0; i < 20; i++) assert_rel(p[i], exp(lp[i]), 1e-14);
  /* d = 2 fast path against the closed form too */
  const double S2[4] = {0.7, -0.2, -0.2, 0.4}, m2[2] = {1, -1};
  fl_gmm *g2;
  assert_ok(fl_gmm_new(2, 1, NULL, m2, S2, FL_GMM_COV_FULL, &g2));
  double det2 = S2[0] * S2[3] - S2[1] * S2[2];
  assert_ok(fl_gmm_score(g2, 20, x, sc, lp));
  for (int i = 0; i < 20; i++) {
    double d0 = x[2 * i] - m2[0], d1 = x[2 * i + 1] - m2[1];
    double u0 = (S2[3] * d0 - S2[1] * d1) / det2, u1 = (-S2[2] * d0 + S2[0] * d1) / det2;
    assert_rel(lp[i], -0.5 * (d0 * u0 + d1 * u1) - log(2 * M_PI) - 0.5 * log(det2), 1e-13);
    assert_rel(sc[2 * i], -u0, 1e-12);
    assert_rel(sc[2 * i + 1], -u1, 1e-12);
  }
  fl_gmm_release(g2);
  fl_gmm_release(g);
  free(x);
}

/* Score = central differences of log p; Hessian = differences of the score,
 * symmetric; Laplacian = trace = second differences of log p. d = 2 (the
 * fast path for score) and d = 3 (the general path), 6 components. */
static void check_derivatives(fl_gmm *g, uint64_t seed)
{
  const int d = g->d;
  const size_t n = 30, D = (size_t)d;
  double *x = points(d, n, seed);
  for (size_t i = 0; i < n * D; i++) x[i] /= 1.5; /* near the modes: large derivatives */
  double *lp = malloc(sizeof(double) * n), *sc = malloc(sizeof(double) * n * D);
  double *H = malloc(sizeof(double) * n * D * D), *lap = malloc(sizeof(double) * n);
  double *sc2 = malloc(sizeof(double) * n * D), *lp2 = malloc(sizeof(double) * n);
  assert_ok(fl_gmm_eval(g, n, x, lp, sc, H, lap));
  assert_ok(fl_gmm_score(g, n, x, sc2, lp2)); /* the other code path agrees */
  for (size_t i = 0; i < n; i++) {
    assert_rel(lp2[i], lp[i], 1e-14);
    for (size_t a = 0; a < D; a++) assert_rel(sc2[i * D + a], sc[i * D + a], 1e-13);
  }
  double xp[8], xm[8], fp, fm, f0, sp[8], sm[8];
  for (size_t i = 0; i < n; i++) {
    const double *xi = x + i * D;
    double tr = 0, lap_fd = 0;
    assert_ok(fl_gmm_log_density(g, 1, xi, &f0));
    for (size_t a = 0; a < D; a++) {
      /* first differences */
      double h = 1e-5;
      memcpy(xp, xi, sizeof(double) * D);
      memcpy(xm, xi, sizeof(double) * D);
      xp[a] += h;
      xm[a] -= h;
      assert_ok(fl_gmm_log_density(g, 1, xp, &fp));
      assert_ok(fl_gmm_log_density(g, 1, xm, &fm));
      double fd = (fp - fm) / (xp[a] - xm[a]);
      double s = sc[i * D + a];
      if (!(fabs(fd - s) <= 1e-6 * fmax(1, fabs(s))))
        fail_msg("score %zu,%zu: %.12g, differences %.12g", i, a, s, fd);
      /* Hessian column a by differences of the score */
      assert_ok(fl_gmm_score(g, 1, xp, sp, NULL));
      assert_ok(fl_gmm_score(g, 1, xm, sm, NULL));
      for (size_t b = 0; b < D; b++) {
        double hd = (sp[b] - sm[b]) / (xp[a] - xm[a]), hx = H[i * D * D + b * D + a];
        if (!(fabs(hd - hx) <= 1e-6 * fmax(1, fabs(hx)))) fail_msg("Hessian %zu (%zu,%zu): %.12g, differences %.12g", i, b, a, hx, hd);
        assert_true(H[i * D * D + b * D + a] == H[i * D * D + a * D + b]);
      }
      tr += H[i * D * D + a * D + a];
      /* second differences */
      double h2 = 1e-4;
      xp[a] = xi[a] + h2;
      xm[a] = xi[a] - h2;
      assert_ok(fl_gmm_log_density(g, 1, xp, &fp));
      assert_ok(fl_gmm_log_density(g, 1, xm, &fm));
      lap_fd += (fp - 2 * f0 + fm) / (h2 * h2);
    }
    assert_rel(lap[i], tr, 1e-12);
    if (!(fabs(lap_fd - lap[i]) <= 1e-5 * fmax(1, fabs(lap[i])))) fail_msg("Laplacian %zu: %.12g, differences %.12g", i, lap[i], lap_fd);
  }
  free(x);
  free(lp);
  free(sc);
  free(H);
  free(lap);
  free(sc2);
  free(lp2);
}

static void test_derivatives(void **state)
{
  (void)state;
  fl_gmm *g2 = random_gmm(2, 6, 11), *g3 = random_gmm(3, 6, 12), *g8 = fl_test_eight_gaussians();
  check_derivatives(g2, 21);
  check_derivatives(g3, 22);
  check_derivatives(g8, 23);
  /* many components (several blocks of the online log-sum-exp) */
  fl_gmm *gk = random_gmm(2, 150, 13), *gk3 = random_gmm(3, 150, 14);
  check_derivatives(gk, 24);
  check_derivatives(gk3, 25);
  fl_gmm_release(g2);
  fl_gmm_release(g3);
  fl_gmm_release(g8);
  fl_gmm_release(gk);
  fl_gmm_release(gk3);
}

/* Trapezoid rule on [-8,8]^2 with h = 0.02: 1 to 1e-6 (exponentially
 * accurate for a smooth integrand that vanishes at the boundary). */
static void test_normalisation(void **state)
{
  (void)state;
  fl_gmm *gs[2] = {fl_test_eight_gaussians(), random_gmm(2, 4, 31)};
  const size_t m = 801;
  const double lo = -8, h = 16.0 / (double)(m - 1);
  double *x = fl_test_square_grid(m, lo, h), *p = malloc(sizeof(double) * m * m);
  for (int q = 0; q < 2; q++) {
    assert_ok(fl_gmm_density(gs[q], m * m, x, p));
    double s = 0;
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < m; j++) {
        double w = (i == 0 || i == m - 1 ? 0.5 : 1) * (j == 0 || j == m - 1 ? 0.5 : 1);
        s += w * p[i * m + j];
      }
    s *= h * h;
    if (!(fabs(s - 1) < 1e-6)) fail_msg("mixture %d integrates to %.12g", q, s);
    fl_gmm_release(gs[q]);
  }
  free(x);
  free(p);
}

/* 1e5 samples: mean and covariance within 5 standard errors of the mixture
 * moments (computed here from the parameters, independently of fl_gmm_moments,
 * which is checked against the same numbers); reproducible by (seed, stream);
 * the same whatever the thread count. */
static void test_sampling(void **state)
{
  (void)state;
  fl_gmm *g = random_gmm(3, 4, 41);
  const size_t n = 100000, D = 3;
  double *x = malloc(sizeof(double) * n * D), *y = malloc(sizeof(double) * n * D);
  assert_ok(fl_gmm_sample(g, n, 5, 7, x));
  double mu[3] = {0}, C[9] = {0};
  for (int k = 0; k < g->k; k++)
    for (size_t a = 0; a < D; a++) mu[a] += g->weights[k] * g->means[k * 3 + a];
  for (int k = 0; k < g->k; k++)
    for (size_t a = 0; a < D; a++)
      for (size_t b = 0; b < D; b++)
        C[a * 3 + b] += g->weights[k] * (g->covs[k * 9 + a * 3 + b] + (g->means[k * 3 + a] - mu[a]) * (g->means[k * 3 + b] - mu[b]));
  double mm[3], mc[9];
  fl_gmm_moments(g, mm, mc);
  for (size_t a = 0; a < 9; a++) assert_rel(mc[a], C[a], 1e-13);
  for (size_t a = 0; a < 3; a++) assert_rel(mm[a], mu[a], 1e-13);
  double sm[3] = {0};
  for (size_t i = 0; i < n; i++)
    for (size_t a = 0; a < D; a++) sm[a] += x[i * D + a];
  for (size_t a = 0; a < D; a++) {
    sm[a] /= (double)n;
    double se = sqrt(C[a * 3 + a] / (double)n);
    if (!(fabs(sm[a] - mu[a]) < 5 * se)) fail_msg("sample mean %zu: %g, expected %g (se %g)", a, sm[a], mu[a], se);
  }
  for (size_t a = 0; a < D; a++)
    for (size_t b = 0; b <= a; b++) {
      double s = 0, s2 = 0;
      for (size_t i = 0; i < n; i++) {
        double v = (x[i * D + a] - mu[a]) * (x[i * D + b] - mu[b]);
        s += v;
        s2 += v * v;
      }
      s /= (double)n;
      double se = sqrt((s2 / (double)n - s * s) / (double)n);
      if (!(fabs(s - C[a * 3 + b]) < 5 * se)) fail_msg("sample cov (%zu,%zu): %g, expected %g (se %g)", a, b, s, C[a * 3 + b], se);
    }
  /* component frequencies: within 5 se of the weights (nearest-mean labelling is
   * unreliable, so compare the first-draw uniform directly) */
  int threads = fl_get_threads();
  fl_set_threads(1);
  assert_ok(fl_gmm_sample(g, n, 5, 7, y));
  fl_set_threads(threads);
  assert_memory_equal(x, y, sizeof(double) * n * D);
  assert_ok(fl_gmm_sample(g, n, 5, 8, y));
  assert_true(memcmp(x, y, sizeof(double) * n * D) != 0);
  /* row i is m_k + L_k z_i with z the normals of (seed, stream) */
  double z[3];
  for (size_t i = 0; i < 5; i++) {
    for (size_t a = 0; a < D; a++) z[a] = fl_rng_normal(5, 7, i * D + a);
    int found = 0;
    for (int k = 0; k < g->k && !found; k++) {
      double err = 0;
      for (size_t a = 0; a < D; a++) {
        double t = g->means[k * 3 + a];
        for (size_t b = 0; b <= a; b++) t += g->chol[k * 9 + a * 3 + b] * z[b];
        err = fmax(err, fabs(t - x[i * D + a]));
      }
      found = err < 1e-13;
    }
    assert_true(found);
  }
  free(x);
  free(y);
  fl_gmm_release(g);
}

/* Far from every mode (x = 1e3) log p, score and Hessian stay finite and the
 * score is that of the nearest (dominant) component. */
static void test_far_away(void **state)
{
  (void)state;
  fl_gmm *g = fl_test_eight_gaussians(), *g3 = random_gmm(3, 5, 51);
  double x[4] = {1e3, 1e3, -1e3, 2e3}, lp[2], sc[4], H[8], lap[2];
  assert_ok(fl_gmm_eval(g, 2, x, lp, sc, H, lap));
  for (int i = 0; i < 2; i++) {
    assert_true(isfinite(lp[i]) && isfinite(lap[i]));
    for (int a = 0; a < 2; a++) assert_true(isfinite(sc[2 * i + a]));
    for (int a = 0; a < 4; a++) assert_true(isfinite(H[4 * i + a]));
  }
  /* (1e3, 1e3): the component at (r, r) * 4/1.414 dominates */
  double v = (0.5 / 1.414) * (0.5 / 1.414), c = 4 / sqrt(2.0) / 1.414;
  assert_rel(sc[0], -(1e3 - c) / v, 1e-9);
  assert_rel(sc[1], -(1e3 - c) / v, 1e-9);
  assert_rel(lap[0], -2 / v, 1e-6);
  assert_ok(fl_gmm_score(g, 2, x, sc, lp));
  for (int a = 0; a < 4; a++) assert_true(isfinite(sc[a]));
  double x3[3] = {1e3, -1e3, 1e3}, s3[3], H3[9], l3;
  assert_ok(fl_gmm_eval(g3, 1, x3, &l3, s3, H3, NULL));
  assert_true(isfinite(l3));
  for (int a = 0; a < 3; a++) assert_true(isfinite(s3[a]));
  for (int a = 0; a < 9; a++) assert_true(isfinite(H3[a]));
  /* NaN in, NaN out (never a crash) */
  double xn[2] = {NAN, 0}, ln, sn[2];
  assert_ok(fl_gmm_score(g, 1, xn, sn, &ln));
  assert_true(isnan(ln) && isnan(sn[0]));
  fl_gmm_release(g);
  fl_gmm_release(g3);
}

static void test_errors(void **state)
{
  (void)state;
  fl_gmm *g = NULL;
  const double m[4] = {0, 0, 1, 1}, w[2] = {1, -0.5}, S[8] = {1, 0, 0, 1, 1, 2, 2, 1};
  assert_fails_with(fl_gmm_new(2, 2, NULL, m, S, FL_GMM_COV_FULL, &g), FL_ESINGULAR, "component 2");
  assert_null(g);
  assert_fails_with(fl_gmm_new(2, 2, w, m, NULL, FL_GMM_COV_IDENTITY, &g), FL_EINVAL, "weight 2 is negative");
  const double w0[2] = {0, 0};
  assert_fails_with(fl_gmm_new(2, 2, w0, m, NULL, FL_GMM_COV_IDENTITY, &g), FL_EINVAL, "positive");
  const double mn[4] = {0, NAN, 1, 1};
  assert_fails_with(fl_gmm_new(2, 2, NULL, mn, NULL, FL_GMM_COV_IDENTITY, &g), FL_ENAN, "component 1");
  const double Sa[4] = {1, 0.5, 0.4, 1};
  assert_fails_with(fl_gmm_new(2, 1, NULL, m, Sa, FL_GMM_COV_FULL, &g), FL_ESINGULAR, "not symmetric");
  const double iso[2] = {1, -1};
  assert_fails_with(fl_gmm_new(2, 2, NULL, m, iso, FL_GMM_COV_ISO, &g), FL_ESINGULAR, "component 2");
  const double dn[4] = {1, 1, 1, INFINITY};
  assert_fails_with(fl_gmm_new(2, 2, NULL, m, dn, FL_GMM_COV_DIAG, &g), FL_ENAN, "component 2");
  assert_fails_with(fl_gmm_new(0, 2, NULL, m, NULL, FL_GMM_COV_IDENTITY, &g), FL_EINVAL, "dimension");
  assert_null(g);
  /* zero weights are allowed: that component never contributes or is drawn */
  const double wz[2] = {0, 3};
  assert_ok(fl_gmm_new(2, 2, wz, m, NULL, FL_GMM_COV_IDENTITY, &g));
  assert_rel(g->weights[1], 1, 0);
  double x[2] = {0, 0}, lp, y[200];
  assert_ok(fl_gmm_log_density(g, 1, x, &lp));
  assert_rel(lp, -log(2 * M_PI) - 1, 1e-14);
  assert_ok(fl_gmm_sample(g, 100, 1, 1, y));
  double my = 0;
  for (int i = 0; i < 100; i++) my += y[2 * i] / 100;
  assert_true(fabs(my - 1) < 0.5);
  fl_gmm *gn = NULL;
  assert_fails_with(fl_gmm_noised(g, 0, 0, &gn), FL_EINVAL, "alpha = sigma = 0");
  assert_fails_with(fl_gmm_noised(g, 1, -1, &gn), FL_EINVAL, "sigma");
  assert_null(gn);
  fl_gmm_release(g);
}

/* Noising: a single Gaussian N(m, S) -> N(alpha m, alpha^2 S + sigma^2 I);
 * covariance forms (diag, iso, shared) agree with the full form. */
static void test_noised_and_forms(void **state)
{
  (void)state;
  const double m[4] = {1, 2, -1, 0.5}, S[4] = {0.5, 0.1, 0.1, 0.3}, diag[4] = {0.5, 0.3, 2, 1}, iso[2] = {0.5, 2};
  fl_gmm *g, *gn, *gf, *gd;
  assert_ok(fl_gmm_new(2, 2, NULL, m, S, FL_GMM_COV_SHARED, &g));
  assert_ok(fl_gmm_noised(g, 0.6, 0.8, &gn));
  for (int k = 0; k < 2; k++) {
    for (int a = 0; a < 2; a++) assert_rel(gn->means[2 * k + a], 0.6 * m[2 * k + a], 1e-15);
    for (int a = 0; a < 4; a++) assert_rel(gn->covs[4 * k + a], 0.36 * S[a] + (a % 3 == 0 ? 0.64 : 0), 1e-15);
  }
  const double full[8] = {0.5, 0, 0, 0.3, 2, 0, 0, 1}, fulli[8] = {0.5, 0, 0, 0.5, 2, 0, 0, 2};
  assert_ok(fl_gmm_new(2, 2, NULL, m, full, FL_GMM_COV_FULL, &gf));
  assert_ok(fl_gmm_new(2, 2, NULL, m, diag, FL_GMM_COV_DIAG, &gd));
  double *x = points(2, 10, 61), l1[10], l2[10];
  assert_ok(fl_gmm_log_density(gf, 10, x, l1));
  assert_ok(fl_gmm_log_density(gd, 10, x, l2));
  for (int i = 0; i < 10; i++) assert_rel(l2[i], l1[i], 1e-14);
  fl_gmm_release(gf);
  fl_gmm_release(gd);
  assert_ok(fl_gmm_new(2, 2, NULL, m, fulli, FL_GMM_COV_FULL, &gf));
  assert_ok(fl_gmm_new(2, 2, NULL, m, iso, FL_GMM_COV_ISO, &gd));
  assert_ok(fl_gmm_log_density(gf, 10, x, l1));
  assert_ok(fl_gmm_log_density(gd, 10, x, l2));
  for (int i = 0; i < 10; i++) assert_rel(l2[i], l1[i], 1e-14);
  free(x);
  fl_gmm_release(gf);
  fl_gmm_release(gd);
  fl_gmm_release(gn);
  fl_gmm_release(g);
}

/* fl_gmm_mix_affine with A_k = -P_k, c_k = P_k m_k is the score, with the
 * Hessian as Jacobian and the Laplacian as divergence; in parallel (n large)
 * the same numbers as point by point. */
static void test_mix_affine(void **state)
{
  (void)state;
  fl_gmm *g = random_gmm(3, 7, 71);
  const size_t n = 5000, D = 3, K = 7;
  double *A = malloc(sizeof(double) * K * 9), *c = malloc(sizeof(double) * K * 3);
  for (size_t k = 0; k < K; k++)
    for (size_t a = 0; a < D; a++) {
      c[k * 3 + a] = 0;
      for (size_t b = 0; b < D; b++) {
        A[k * 9 + a * 3 + b] = -g->prec[k * 9 + a * 3 + b];
        c[k * 3 + a] += g->prec[k * 9 + a * 3 + b] * g->means[k * 3 + b];
      }
    }
  double *x = points(3, n, 72), *v = malloc(sizeof(double) * n * 3), *J = malloc(sizeof(double) * n * 9);
  double *dv = malloc(sizeof(double) * n), *s = malloc(sizeof(double) * n * 3), *H = malloc(sizeof(double) * n * 9),
         *lap = malloc(sizeof(double) * n);
  assert_ok(fl_gmm_mix_affine(g, A, c, n, x, v, J, dv));
  assert_ok(fl_gmm_eval(g, n, x, NULL, s, H, lap));
  for (size_t i = 0; i < n; i++) {
    for (size_t a = 0; a < 3; a++) assert_rel(v[i * 3 + a], s[i * 3 + a], 1e-10);
    for (size_t a = 0; a < 9; a++) assert_rel(J[i * 9 + a], H[i * 9 + a], 1e-9);
    assert_rel(dv[i], lap[i], 1e-9);
  }
  double v1[3];
  assert_ok(fl_gmm_mix_affine(g, A, c, 1, x + 3 * 4321, v1, NULL, NULL));
  /* the values alone take the one-pass path: the same numbers up to rounding,
   * and in parallel exactly the same numbers as point by point */
  for (size_t a = 0; a < 3; a++) assert_rel(v1[a], v[4321 * 3 + a], 1e-13);
  assert_ok(fl_gmm_mix_affine(g, A, c, n, x, v, NULL, NULL));
  for (size_t a = 0; a < 3; a++) assert_true(v1[a] == v[4321 * 3 + a]);
  free(A);
  free(c);
  free(x);
  free(v);
  free(J);
  free(dv);
  free(s);
  free(H);
  free(lap);
  fl_gmm_release(g);
}

/* The field wrappers: exact derivatives through the generic field API. */
static void test_fields(void **state)
{
  (void)state;
  fl_gmm *g = random_gmm(2, 3, 81);
  fl_field *lf, *sf;
  assert_ok(fl_gmm_logp_field(g, &lf));
  assert_ok(fl_gmm_score_field(g, &sf));
  fl_gmm_release(g); /* the fields keep it alive */
  assert_int_equal(lf->dim, 2);
  assert_int_equal(lf->codim, 1);
  assert_int_equal(sf->codim, 2);
  assert_false(lf->time_dependent);
  assert_true(sf->thread_safe);
  double *x = points(2, 8, 82), lp[8], J[16], s[16], Js[32], H[32], dv[8], lap[8];
  int exact = 0;
  assert_ok(fl_field_eval(lf, 8, x, 0, lp));
  assert_ok(fl_field_jacobian(lf, 8, x, 0, J, &exact));
  assert_true(exact);
  assert_ok(fl_field_eval(sf, 8, x, 0, s));
  for (int i = 0; i < 16; i++) assert_true(J[i] == s[i]);
  exact = 0;
  assert_ok(fl_field_hessian(lf, 8, x, 0, H, &exact));
  assert_true(exact);
  assert_ok(fl_field_jacobian(sf, 8, x, 0, Js, &exact));
  assert_true(exact);
  for (int i = 0; i < 32; i++) assert_true(H[i] == Js[i]);
  assert_ok(fl_field_div(sf, 8, x, 0, dv, &exact));
  assert_true(exact);
  assert_ok(fl_field_laplacian(lf, 8, x, 0, lap, &exact));
  assert_true(exact);
  for (int i = 0; i < 8; i++) {
    assert_rel(dv[i], H[4 * i] + H[4 * i + 3], 1e-12);
    assert_true(dv[i] == lap[i]);
  }
  free(x);
  fl_field_release(lf);
  fl_field_release(sf);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      T(test_single_gaussian), T(test_derivatives), T(test_normalisation), T(test_sampling),
      T(test_far_away),        T(test_errors),      T(test_noised_and_forms), T(test_mix_affine),
      T(test_fields),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
