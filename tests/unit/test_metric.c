/* Unit tests of lib/fl_metric.c: every statistic against a brute-force
 * computation (plain loops over all index tuples), closed forms, and its
 * standard error against the spread over repeated independent samples. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_metric.h"
#include "fl_rng.h"
#include "fl_test.h"

static int cmp_double_test(const void *a, const void *b)
{
  double u = *(const double *)a, v = *(const double *)b;
  return (u > v) - (u < v);
}

/* n*d normal numbers scaled by sd, plus shift[k] on coordinate k (shift may be NULL). */
static double *gauss(size_t n, int d, double sd, const double *shift, uint64_t seed, uint64_t stream)
{
  double *x = malloc(sizeof *x * n * (size_t)d);
  fl_rng_fill_normal(seed, stream, 0, n * (size_t)d, x);
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < d; k++) x[i * (size_t)d + (size_t)k] = sd * x[i * (size_t)d + (size_t)k] + (shift ? shift[k] : 0);
  return x;
}

/* The kernel between two points, as the library defines it. */
static double kern(fl_metric_kernel kind, const double *a, const double *b, int d, int nh, const double *h)
{
  double s = 0;
  for (int k = 0; k < d; k++) s += (a[k] - b[k]) * (a[k] - b[k]);
  if (kind == FL_KERNEL_ENERGY) return -sqrt(s);
  double v = 0;
  for (int j = 0; j < nh; j++) v += exp(-s / (2 * h[j] * h[j]));
  return v;
}

/* Brute force: the U-statistic, and the unbiased variance estimate with every
 * moment from explicit sums over distinct index tuples (O(n^4)). */
static void brute(fl_metric_kernel kind, size_t n, const double *x, size_t m, const double *y, int d, int nh,
                  const double *h, double *value, double *var, double *unb)
{
  size_t D = (size_t)d;
#define KX(i, j) kern(kind, x + (i) * D, x + (j) * D, d, nh, h)
#define KY(i, j) kern(kind, y + (i) * D, y + (j) * D, d, nh, h)
#define KB(i, j) kern(kind, x + (i) * D, y + (j) * D, d, nh, h)
  double nn = (double)n, mm = (double)m;
  double sxx = 0, syy = 0, sxy = 0;
  for (size_t i = 0; i < n; i++) for (size_t j = 0; j < n; j++) if (i != j) sxx += KX(i, j);
  for (size_t i = 0; i < m; i++) for (size_t j = 0; j < m; j++) if (i != j) syy += KY(i, j);
  for (size_t i = 0; i < n; i++) for (size_t j = 0; j < m; j++) sxy += KB(i, j);
  *value = sxx / (nn * (nn - 1)) + syy / (mm * (mm - 1)) - 2 * sxy / (nn * mm);
  /* one-sample moments */
  double e3x = 0, e2x = 0, e4x = 0, e3y = 0, e2y = 0, e4y = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      if (j == i) continue;
      e2x += KX(i, j) * KX(i, j);
      for (size_t k = 0; k < n; k++) {
        if (k == i || k == j) continue;
        e3x += KX(i, j) * KX(i, k);
        for (size_t l = 0; l < n; l++)
          if (l != i && l != j && l != k) e4x += KX(i, j) * KX(k, l);
      }
    }
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < m; j++) {
      if (j == i) continue;
      e2y += KY(i, j) * KY(i, j);
      for (size_t k = 0; k < m; k++) {
        if (k == i || k == j) continue;
        e3y += KY(i, j) * KY(i, k);
        for (size_t l = 0; l < m; l++)
          if (l != i && l != j && l != k) e4y += KY(i, j) * KY(k, l);
      }
    }
  e2x /= nn * (nn - 1); e3x /= nn * (nn - 1) * (nn - 2); e4x /= nn * (nn - 1) * (nn - 2) * (nn - 3);
  e2y /= mm * (mm - 1); e3y /= mm * (mm - 1) * (mm - 2); e4y /= mm * (mm - 1) * (mm - 2) * (mm - 3);
  double vxx = 2 / (nn * (nn - 1)) * (2 * (nn - 2) * (e3x - e4x) + (e2x - e4x));
  double vyy = 2 / (mm * (mm - 1)) * (2 * (mm - 2) * (e3y - e4y) + (e2y - e4y));
  /* two-sample moments */
  double b2 = 0, brr = 0, bcc = 0, b4 = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t l = 0; l < m; l++) {
      b2 += KB(i, l) * KB(i, l);
      for (size_t i2 = 0; i2 < n; i2++)
        for (size_t l2 = 0; l2 < m; l2++) {
          if (i2 == i && l2 != l) brr += KB(i, l) * KB(i2, l2);
          if (i2 != i && l2 == l) bcc += KB(i, l) * KB(i2, l2);
          if (i2 != i && l2 != l) b4 += KB(i, l) * KB(i2, l2);
        }
    }
  b2 /= nn * mm; brr /= nn * mm * (mm - 1); bcc /= nn * (nn - 1) * mm; b4 /= nn * (nn - 1) * mm * (mm - 1);
  double vxy = ((mm - 1) * (brr - b4) + (nn - 1) * (bcc - b4) + (b2 - b4)) / (nn * mm);
  /* covariances: E[K_ij B_il] and E[K_ij B_kl], k not in {i, j} */
  double kb1 = 0, kb2 = 0, yb1 = 0, yb2 = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      if (j == i) continue;
      for (size_t l = 0; l < m; l++) {
        kb1 += KX(i, j) * KB(i, l);
        for (size_t k = 0; k < n; k++)
          if (k != i && k != j) kb2 += KX(i, j) * KB(k, l);
      }
    }
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < m; j++) {
      if (j == i) continue;
      for (size_t l = 0; l < n; l++) {
        yb1 += KY(i, j) * KB(l, i);
        for (size_t k = 0; k < m; k++)
          if (k != i && k != j) yb2 += KY(i, j) * KB(l, k);
      }
    }
  kb1 /= nn * (nn - 1) * mm; kb2 /= nn * (nn - 1) * (nn - 2) * mm;
  yb1 /= mm * (mm - 1) * nn; yb2 /= mm * (mm - 1) * (mm - 2) * nn;
  double cx = 2 / nn * (kb1 - kb2), cy = 2 / mm * (yb1 - yb2);
  *unb = vxx + vyy + 4 * vxy - 4 * cx - 4 * cy;
  /* the same split into first-order (per sample) and second-order parts, each clipped at 0 */
  double fx = (e3x - e4x) + (brr - b4) - 2 * (kb1 - kb2), fy = (e3y - e4y) + (bcc - b4) - 2 * (yb1 - yb2);
  double v2 = 2 / (nn * (nn - 1)) * (e2x - e4x - 2 * (e3x - e4x)) + 2 / (mm * (mm - 1)) * (e2y - e4y - 2 * (e3y - e4y)) +
              4 * ((b2 - b4) - (brr - b4) - (bcc - b4)) / (nn * mm);
  /* without clipping the split adds up to the unbiased variance */
  if (n >= 4 && m >= 4 && !(fabs(4 / nn * fx + 4 / mm * fy + v2 - *unb) <= 1e-9 * fabs(*unb))) fail_msg("variance split does not add up");
  *var = 4 / nn * fmax(fx, 0) + 4 / mm * fmax(fy, 0) + fmax(v2, 0);
#undef KX
#undef KY
#undef KB
}

/* ------------------------------------------------------------ kernel statistics */

static void test_kernel_stat_brute(void **state)
{
  (void)state;
  double h[2] = {0.7, 2.0};
  double sx[3] = {0.3, 0, -0.2};
  /* d = 3: direct distances; d = 12: the dgemm expansion */
  int dims[2] = {3, 12};
  for (int t = 0; t < 2; t++) {
    int d = dims[t];
    double shift[12] = {0};
    memcpy(shift, sx, sizeof sx);
    size_t n = 13, m = 11;
    double *x = gauss(n, d, 1.0, NULL, 1, (uint64_t)t);
    double *y = gauss(m, d, 1.3, shift, 2, (uint64_t)t);
    for (int kind = 0; kind < 2; kind++) {
      for (int nh = 1; nh <= 2; nh++) {
        double v, se, bv, bvar, bunb;
        assert_ok(fl_metric_kernel_stat((fl_metric_kernel)kind, n, x, m, y, d, nh, h, &v, &se));
        brute((fl_metric_kernel)kind, n, x, m, y, d, nh, h, &bv, &bvar, &bunb);
        assert_rel(v, bv, 1e-12);
        assert_true(bvar > 0);
        assert_rel(se, sqrt(bvar), 1e-9);
        if (kind == FL_KERNEL_ENERGY) break;
      }
    }
    free(x);
    free(y);
  }
}

/* The standard error is the real spread of the estimate over independent
 * samples: within 15% for P != Q, and on the safe side by at most 35% under
 * P = Q (where the statistic is degenerate and the first-order part of the
 * variance estimate is noise, clipped at 0); the estimator is unbiased: its
 * mean over repetitions is the population value. */
static void test_mmd_se_and_unbiased(void **state)
{
  (void)state;
  const int reps = 400, d = 2;
  const size_t n = 40, m = 30;
  double h = 1.0, sigma = 1.0, mu[2] = {0.6, 0.0};
  for (int shifted = 0; shifted < 2; shifted++) {
    double sum = 0, sum2 = 0, sesum = 0;
    for (int r = 0; r < reps; r++) {
      double *x = gauss(n, d, sigma, NULL, 10, (uint64_t)r);
      double *y = gauss(m, d, sigma, shifted ? mu : NULL, 11, (uint64_t)r);
      double v, se;
      assert_ok(fl_metric_kernel_stat(FL_KERNEL_RBF, n, x, m, y, d, 1, &h, &v, &se));
      sum += v;
      sum2 += v * v;
      sesum += se;
      free(x);
      free(y);
    }
    double mean = sum / reps, sd = sqrt((sum2 - reps * mean * mean) / (reps - 1));
    double c = h * h / (h * h + 2 * sigma * sigma);
    double pop = shifted ? 2 * pow(c, d / 2.0) * (1 - exp(-(mu[0] * mu[0]) / (2 * (h * h + 2 * sigma * sigma)))) : 0;
    /* unbiased: within 3 standard errors of the mean over repetitions */
    assert_near(mean, pop, 3 * sd / sqrt(reps));
    /* the mean reported SE matches the empirical std within 15% */
    double ratio = (sesum / reps) / sd;
    if (!(ratio > 0.85 && ratio < (shifted ? 1.15 : 1.35))) fail_msg("shifted=%d: mean SE / empirical std = %g", shifted, ratio);
  }
}

/* Closed form of the Gaussian-kernel MMD between N(0, s^2 I) and N(mu, s^2 I). */
static void test_mmd_closed_form(void **state)
{
  (void)state;
  const int d = 3;
  const size_t n = 1500, m = 1200;
  double s = 0.8, h = 1.3, mu[3] = {0.5, -0.3, 0.4};
  double *x = gauss(n, d, s, NULL, 21, 0), *y = gauss(m, d, s, mu, 22, 0);
  double v, se, mu2 = 0.5 * 0.5 + 0.3 * 0.3 + 0.4 * 0.4;
  assert_ok(fl_metric_kernel_stat(FL_KERNEL_RBF, n, x, m, y, d, 1, &h, &v, &se));
  double pop = 2 * pow(h * h / (h * h + 2 * s * s), d / 2.0) * (1 - exp(-mu2 / (2 * (h * h + 2 * s * s))));
  assert_true(se > 0 && se < 0.1 * pop);
  assert_near(v, pop, 3 * se);
  free(x);
  free(y);
}

/* Energy distance of 1-D Gaussians: 2E|X-Y| - E|X-X'| - E|Y-Y'| in closed form. */
static void test_energy_closed_form(void **state)
{
  (void)state;
  const size_t n = 3000, m = 2500;
  double s1 = 1.0, s2 = 1.5, dl = 0.7;
  double *x = gauss(n, 1, s1, NULL, 31, 0), *y = gauss(m, 1, s2, &dl, 32, 0);
  double v, se;
  assert_ok(fl_metric_kernel_stat(FL_KERNEL_ENERGY, n, x, m, y, 1, 0, NULL, &v, &se));
  double s = sqrt(s1 * s1 + s2 * s2);
  double exy = s * sqrt(2 / M_PI) * exp(-dl * dl / (2 * s * s)) + dl * erf(dl / (s * sqrt(2)));
  double pop = 2 * exy - 2 * s1 / sqrt(M_PI) - 2 * s2 / sqrt(M_PI);
  assert_true(se > 0 && se < 0.2 * pop);
  assert_near(v, pop, 3 * se);
  free(x);
  free(y);
}

static void test_median_distance(void **state)
{
  (void)state;
  const int d = 2;
  size_t n = 21, m = 16, N = n + m; /* 666 pairs: an even count */
  double *x = gauss(n, d, 1, NULL, 41, 0), *y = gauss(m, d, 2, NULL, 42, 0);
  double *all = malloc(sizeof *all * N * (N - 1) / 2);
  size_t k = 0;
  for (size_t i = 0; i < N; i++)
    for (size_t j = i + 1; j < N; j++) {
      const double *a = i < n ? x + i * d : y + (i - n) * d, *b = j < n ? x + j * d : y + (j - n) * d;
      all[k++] = hypot(a[0] - b[0], a[1] - b[1]);
    }
  qsort(all, k, sizeof *all, cmp_double_test);
  double med;
  assert_ok(fl_metric_median_distance(n, x, m, y, d, 1000, 0, 0, &med));
  assert_rel(med, 0.5 * (all[k / 2 - 1] + all[k / 2]), 1e-14);
  /* odd count: 3 + 3 points -> 15 pairs */
  k = 0;
  for (size_t i = 0; i < 6; i++)
    for (size_t j = i + 1; j < 6; j++) {
      const double *a = i < 3 ? x + i * d : y + (i - 3) * d, *b = j < 3 ? x + j * d : y + (j - 3) * d;
      all[k++] = hypot(a[0] - b[0], a[1] - b[1]);
    }
  qsort(all, k, sizeof *all, cmp_double_test);
  assert_ok(fl_metric_median_distance(3, x, 3, y, d, 1000, 0, 0, &med));
  assert_rel(med, all[7], 1e-14);
  /* a subsample: a different but close value, the same for the same seed */
  double med2, med3;
  assert_ok(fl_metric_median_distance(n, x, m, y, d, 20, 5, 0, &med2));
  assert_ok(fl_metric_median_distance(n, x, m, y, d, 20, 5, 0, &med3));
  assert_true(med2 == med3);
  assert_near(med2, med, 0.5 * med);
  double z[4] = {1, 1, 1, 1};
  assert_fails_with(fl_metric_median_distance(2, z, 2, z, 1, 1000, 0, 0, &med), FL_EINVAL, "give a bandwidth");
  free(all);
  free(x);
  free(y);
}

static void test_permutation(void **state)
{
  (void)state;
  const int d = 2;
  size_t n = 60, m = 50;
  double h = 1.0, mu[2] = {2.0, 0};
  double *x = gauss(n, d, 1, NULL, 51, 0), *y0 = gauss(m, d, 1, NULL, 52, 0), *y1 = gauss(m, d, 1, mu, 52, 0);
  double stat, p, v, se;
  assert_ok(fl_metric_permutation_test(FL_KERNEL_RBF, n, x, m, y1, d, 1, &h, 199, 7, 0, &stat, &p));
  assert_ok(fl_metric_kernel_stat(FL_KERNEL_RBF, n, x, m, y1, d, 1, &h, &v, &se));
  assert_rel(stat, v, 1e-12);
  assert_near(p, 1.0 / 200, 1e-15); /* a shift of two standard deviations is never matched */
  /* same distribution: p-values over 40 independent pairs are roughly uniform */
  int small = 0;
  double psum = 0;
  for (int r = 0; r < 40; r++) {
    double *a = gauss(n, d, 1, NULL, 60, (uint64_t)r), *b = gauss(m, d, 1, NULL, 61, (uint64_t)r);
    assert_ok(fl_metric_permutation_test(FL_KERNEL_ENERGY, n, a, m, b, d, 0, NULL, 99, 8, (uint64_t)r, &stat, &p));
    assert_true(p > 0 && p <= 1);
    if (p < 0.05) small++;
    psum += p;
    free(a);
    free(b);
  }
  assert_true(small <= 7);              /* expected 2, P(>= 8) < 1e-3 */
  assert_near(psum / 40, 0.5, 0.15);    /* sd of the mean ~0.046 */
  /* the same seed gives the same p-value */
  double p2;
  assert_ok(fl_metric_permutation_test(FL_KERNEL_RBF, n, x, m, y0, d, 1, &h, 99, 3, 0, &stat, &p));
  assert_ok(fl_metric_permutation_test(FL_KERNEL_RBF, n, x, m, y0, d, 1, &h, 99, 3, 0, &stat, &p2));
  assert_true(p == p2);
  free(x);
  free(y0);
  free(y1);
}

/* ------------------------------------------------------------ sliced W2 */

static void test_sliced_w2(void **state)
{
  (void)state;
  /* 1-D, unequal sizes: quantile functions {0,1} vs {0,1,2}: 1/6 + 1/3 */
  double a[2] = {1, 0}, b[3] = {2, 0, 1}, v, se, per[4];
  assert_ok(fl_metric_sliced_w2(2, a, 3, b, 1, 4, 0, 0, &v, &se, per));
  assert_near(v, 0.5, 1e-15);
  assert_near(se, 0, 1e-15);
  /* equal sizes in 2-D against a brute-force projection of one direction */
  const int d = 2;
  size_t n = 50;
  double *x = gauss(n, d, 1, NULL, 71, 0), *y = gauss(n, d, 2, NULL, 72, 0);
  double pp[3];
  assert_ok(fl_metric_sliced_w2(n, x, n, y, d, 3, 9, 4, &v, &se, pp));
  for (int k = 0; k < 3; k++) {
    double u0 = fl_rng_normal(9, 4, (uint64_t)k * 2), u1 = fl_rng_normal(9, 4, (uint64_t)k * 2 + 1);
    double r = hypot(u0, u1);
    double *px = malloc(sizeof *px * n), *py = malloc(sizeof *py * n);
    for (size_t i = 0; i < n; i++) {
      px[i] = (x[2 * i] * u0 + x[2 * i + 1] * u1) / r;
      py[i] = (y[2 * i] * u0 + y[2 * i + 1] * u1) / r;
    }
    qsort(px, n, sizeof *px, cmp_double_test);
    qsort(py, n, sizeof *py, cmp_double_test);
    double w = 0;
    for (size_t i = 0; i < n; i++) w += (px[i] - py[i]) * (px[i] - py[i]) / (double)n;
    assert_rel(pp[k], w, 1e-12);
    free(px);
    free(py);
  }
  assert_rel(v, (pp[0] + pp[1] + pp[2]) / 3, 1e-14);
  free(x);
  free(y);
  /* N(0, I) vs N(mu, I) in 4-D: for a uniform direction u, E (u.mu)^2 = |mu|^2/d */
  const int d4 = 4;
  size_t n4 = 4000;
  double mu[4] = {1.0, -1.0, 0.5, 0.5}, mu2 = 2.5;
  double *x4 = gauss(n4, d4, 1, NULL, 73, 0), *y4 = gauss(n4, d4, 1, mu, 74, 0);
  assert_ok(fl_metric_sliced_w2(n4, x4, n4, y4, d4, 2000, 1, 0, &v, &se, NULL));
  /* the sampling bias of the empirical 1-D W2 (and its noise) is < 0.01 at n = 4000 */
  assert_near(v, mu2 / d4, 3 * se + 0.01);
  assert_true(se < 0.02);
  /* SE over directions: the spread over 40 seeds of the directions */
  double sum = 0, sum2 = 0, sesum = 0;
  for (int r = 0; r < 40; r++) {
    assert_ok(fl_metric_sliced_w2(500, x4, 500, y4, d4, 64, 100 + (uint64_t)r, 0, &v, &se, NULL));
    sum += v; sum2 += v * v; sesum += se;
  }
  double mean = sum / 40, sd = sqrt((sum2 - 40 * mean * mean) / 39);
  assert_true(sesum / 40 / sd > 1 / 1.4 && sesum / 40 / sd < 1.4);
  free(x4);
  free(y4);
}

/* ------------------------------------------------------------ Gaussian W2 */

static void test_w2_gaussian(void **state)
{
  (void)state;
  /* commuting covariances: |m1-m2|^2 + sum (sqrt l1 - sqrt l2)^2 in a rotated basis */
  double c = cos(0.3), s = sin(0.3);
  double Q[9] = {c, -s, 0, s, c, 0, 0, 0, 1};
  double l1[3] = {2.0, 0.5, 3.0}, l2[3] = {1.0, 4.0, 3.0};
  double S1[9], S2[9];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      S1[i * 3 + j] = S2[i * 3 + j] = 0;
      for (int k = 0; k < 3; k++) {
        S1[i * 3 + j] += Q[i * 3 + k] * l1[k] * Q[j * 3 + k];
        S2[i * 3 + j] += Q[i * 3 + k] * l2[k] * Q[j * 3 + k];
      }
    }
  double m1[3] = {1, 2, 3}, m2[3] = {0, 2, 5}, w;
  assert_ok(fl_metric_w2_gaussian(3, m1, S1, m2, S2, &w));
  double ref = 1 + 4;
  for (int k = 0; k < 3; k++) ref += (sqrt(l1[k]) - sqrt(l2[k])) * (sqrt(l1[k]) - sqrt(l2[k]));
  assert_near(w, ref, 1e-12);
  /* non-commuting 2x2: tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)), M = S2^1/2 S1 S2^1/2 */
  double A[4] = {2.0, 0.7, 0.7, 1.0}, B[4] = {1.0, -0.4, -0.4, 0.5}, z[2] = {0, 0}, mb[2] = {0.5, -1};
  double trAB = A[0] * B[0] + A[1] * B[2] + A[2] * B[1] + A[3] * B[3];
  double detA = A[0] * A[3] - A[1] * A[2], detB = B[0] * B[3] - B[1] * B[2];
  double ref2 = 0.25 + 1 + A[0] + A[3] + B[0] + B[3] - 2 * sqrt(trAB + 2 * sqrt(detA * detB));
  assert_ok(fl_metric_w2_gaussian(2, z, A, mb, B, &w));
  assert_near(w, ref2, 1e-12);
  assert_ok(fl_metric_w2_gaussian(2, mb, B, z, A, &w)); /* symmetric */
  assert_near(w, ref2, 1e-12);
  /* a point mass (zero covariance) is allowed: W2^2 = |dm|^2 + tr S */
  double Z[4] = {0, 0, 0, 0};
  assert_ok(fl_metric_w2_gaussian(2, z, Z, z, A, &w));
  assert_near(w, 3.0, 1e-12);
  /* misuse */
  double N[4] = {1, 2, 2, 1}, U[4] = {1, 0.5, 0.1, 1}, Nn[4] = {1, NAN, 0, 1};
  assert_fails_with(fl_metric_w2_gaussian(2, z, N, z, A, &w), FL_ESINGULAR, "covariance 1 is not positive semi-definite");
  assert_fails_with(fl_metric_w2_gaussian(2, z, A, z, U, &w), FL_ESINGULAR, "covariance 2 is not symmetric");
  assert_fails_with(fl_metric_w2_gaussian(2, z, A, z, Nn, &w), FL_ENAN, "non-finite");
}

static void test_w2_gaussian_fit(void **state)
{
  (void)state;
  /* 2-D N(0, diag(1, 4)) vs N((1, 0), diag(4, 1)): W2^2 = 1 + 1 + 1 = 3 */
  size_t n = 4000;
  double *x = gauss(n, 2, 1, NULL, 81, 0), *y = gauss(n, 2, 1, NULL, 82, 0);
  for (size_t i = 0; i < n; i++) { x[2 * i + 1] *= 2; y[2 * i] = 2 * y[2 * i] + 1; }
  double mean[2], cov[4], v, se;
  assert_ok(fl_metric_mean_cov(n, 2, x, mean, cov));
  assert_near(cov[3], 4, 0.3);
  assert_true(cov[1] == cov[2]);
  assert_ok(fl_metric_w2_gaussian_fit(n, x, n, y, 2, 200, 1, 0, &v, &se));
  assert_true(se > 0.005 && se < 0.2);
  assert_near(v, 3, 3 * se + 0.01);
  /* the bootstrap SE against the spread over 40 independent sample pairs */
  double sum = 0, sum2 = 0, sesum = 0;
  for (int r = 0; r < 40; r++) {
    double *a = gauss(300, 2, 1, NULL, 83, (uint64_t)r), *b = gauss(300, 2, 1, NULL, 84, (uint64_t)r);
    for (size_t i = 0; i < 300; i++) { a[2 * i + 1] *= 2; b[2 * i] = 2 * b[2 * i] + 1; }
    assert_ok(fl_metric_w2_gaussian_fit(300, a, 300, b, 2, 100, 2, (uint64_t)r, &v, &se));
    sum += v; sum2 += v * v; sesum += se;
    free(a);
    free(b);
  }
  double mean_v = sum / 40, sd = sqrt((sum2 - 40 * mean_v * mean_v) / 39);
  assert_true(sesum / 40 / sd > 1 / 1.5 && sesum / 40 / sd < 1.5);
  free(x);
  free(y);
}

/* ------------------------------------------------------------ histogram KL */

static void test_kl_hist(void **state)
{
  (void)state;
  /* by hand: 2 bins on [0, 2], x = {0.5, 0.5, 1.5}, y = {0.5, 1.5, 1.5, 2.0}, alpha = 0.5 */
  double x[3] = {0.5, 0.5, 1.5}, y[4] = {0.5, 1.5, 1.5, 2.0}, lo = 0, hi = 2, v, se;
  size_t bins = 2;
  assert_ok(fl_metric_kl_hist(3, x, 4, y, 1, &bins, &lo, &hi, 0.5, 0, 0, 0, &v, &se));
  double p0 = 2.5 / 4, p1 = 1.5 / 4, q0 = 1.5 / 5, q1 = 3.5 / 5;
  assert_near(v, p0 * log(p0 / q0) + p1 * log(p1 / q1), 1e-15);
  assert_true(isnan(se));
  /* identical samples: exactly 0 */
  size_t n = 20000;
  double *a = gauss(n, 2, 1, NULL, 91, 0);
  size_t b2[2] = {20, 20};
  double lo2[2] = {-4, -4}, hi2[2] = {4, 4};
  assert_ok(fl_metric_kl_hist(n, a, n, a, 2, b2, lo2, hi2, 0.5, 50, 1, 0, &v, &se));
  assert_near(v, 0, 1e-15);
  free(a);
  /* two 1-D Gaussians: KL(N(0,1) || N(0.5, 1.2^2)) */
  n = 200000;
  double sh = 0.5;
  double *g1 = gauss(n, 1, 1, NULL, 92, 0), *g2 = gauss(n, 1, 1.2, &sh, 93, 0);
  double s1 = 1, s2 = 1.2;
  double kl = log(s2 / s1) + (s1 * s1 + sh * sh) / (2 * s2 * s2) - 0.5;
  double l1 = -6, h1 = 6.5;
  size_t nb = 60;
  assert_ok(fl_metric_kl_hist(n, g1, n, g2, 1, &nb, &l1, &h1, 0.5, 100, 1, 0, &v, &se));
  assert_true(se > 0 && se < 0.005);
  /* discretisation bias at 60 bins is ~1e-3 (bin width^2/24 times the Fisher information) */
  assert_near(v, kl, 3 * se + 0.003);
  /* bootstrap SE vs the spread over 40 independent sample pairs */
  double sum = 0, sum2 = 0, sesum = 0;
  for (int r = 0; r < 40; r++) {
    double *c = gauss(5000, 1, 1, NULL, 94, (uint64_t)r), *e = gauss(5000, 1, 1.2, &sh, 95, (uint64_t)r);
    size_t nb2 = 20;
    assert_ok(fl_metric_kl_hist(5000, c, 5000, e, 1, &nb2, &l1, &h1, 0.5, 100, 3, (uint64_t)r, &v, &se));
    sum += v; sum2 += v * v; sesum += se;
    free(c);
    free(e);
  }
  double mean = sum / 40, sd = sqrt((sum2 - 40 * mean * mean) / 39);
  assert_true(sesum / 40 / sd > 1 / 1.5 && sesum / 40 / sd < 1.5);
  /* misuse */
  double far = 100;
  assert_fails_with(fl_metric_kl_hist(1, &far, 3, x, 1, &bins, &lo, &hi, 0.5, 0, 0, 0, &v, &se), FL_EINVAL, "no point of x");
  assert_fails_with(fl_metric_kl_hist(3, x, 4, y, 1, &bins, &hi, &lo, 0.5, 0, 0, 0, &v, &se), FL_EINVAL, "lo < hi");
  assert_fails_with(fl_metric_kl_hist(3, x, 4, y, 3, &bins, &lo, &hi, 0.5, 0, 0, 0, &v, &se), FL_EINVAL, "1 or 2");
  free(g1);
  free(g2);
}

/* ------------------------------------------------------------ means, checks */

static void test_mean_se(void **state)
{
  (void)state;
  double v[4] = {1, 2, 3, 6}, mean, se;
  assert_ok(fl_metric_mean_se(4, v, &mean, &se));
  assert_near(mean, 3, 1e-15);
  assert_near(se, sqrt((4 + 1 + 0 + 9) / 3.0 / 4), 1e-15);
  v[2] = -INFINITY;
  assert_ok(fl_metric_mean_se(4, v, &mean, &se));
  assert_true(mean == -INFINITY);
  v[2] = NAN;
  assert_fails_with(fl_metric_mean_se(4, v, &mean, &se), FL_ENAN, "value 3");
}

static void test_bad_samples(void **state)
{
  (void)state;
  double x[6] = {0, 1, 2, 3, 4, 5}, y[6] = {0, 1, NAN, 3, 4, 5}, h = 1, v, se;
  assert_fails_with(fl_metric_kernel_stat(FL_KERNEL_RBF, 3, x, 3, y, 2, 1, &h, &v, &se), FL_ENAN,
                    "y has a non-finite entry at row 2, column 1");
  assert_fails_with(fl_metric_kernel_stat(FL_KERNEL_RBF, 1, x, 3, x, 2, 1, &h, &v, &se), FL_EINVAL, "at least 2");
  h = 0;
  assert_fails_with(fl_metric_kernel_stat(FL_KERNEL_RBF, 3, x, 3, x, 2, 1, &h, &v, &se), FL_EINVAL, "bandwidth 1");
  h = 1;
  assert_fails_with(fl_metric_sliced_w2(3, x, 3, y, 2, 10, 0, 0, &v, &se, NULL), FL_ENAN, "y has");
  /* n = m = 2 or 3: a value, no standard error */
  assert_ok(fl_metric_kernel_stat(FL_KERNEL_RBF, 3, x, 3, x, 2, 1, &h, &v, &se));
  assert_true(isnan(se));
  double bv, bvar, bunb;
  brute(FL_KERNEL_RBF, 3, x, 3, x, 2, 1, &h, &bv, &bvar, &bunb);
  assert_near(v, bv, 1e-14);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_kernel_stat_brute),  T(test_mmd_se_and_unbiased), T(test_mmd_closed_form),
    T(test_energy_closed_form), T(test_median_distance),     T(test_permutation),
    T(test_sliced_w2),          T(test_w2_gaussian),         T(test_w2_gaussian_fit),
    T(test_kl_hist),            T(test_mean_se),             T(test_bad_samples),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
