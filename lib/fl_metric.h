/* fl_metric: distances between samples, each with its standard error.
 *
 * Samples are row-major: x[n*d] (n points in R^d), y[m*d]. Every function
 * checks its samples (n, m >= 2 where a statistic needs pairs; every entry
 * finite: FL_ENAN naming the sample, row and column, 0-based here).
 *
 * Kernel statistics (MMD with RBF kernels, energy distance) share one engine:
 * the pooled kernel matrix is walked once in row strips (OpenMP over rows,
 * the upper triangle only), accumulating per point its kernel sums to x and
 * to y and the sums of squares per block. From these sums follow the
 * unbiased U-statistic
 *
 *   D = U_xx + U_yy - 2 U_xy,   U_xx = sum_{i!=j} k(x_i,x_j) / (n(n-1)), ...
 *
 * and its standard error from the variance of the U-statistic split as
 * (Hoeffding) Var D = 4/n Var f(X) + 4/m Var g(Y) + V2, with
 * f(x) = E k(x,X') - E k(x,Y), g(y) = E k(y,Y') - E k(X,y) and V2 the
 * second-order part. Every moment in it is estimated without bias by sums
 * over distinct indices (so the three parts add up to an unbiased estimate
 * of the exact finite-sample variance), and each part is clipped at 0 on
 * its own. For P != Q this matches the spread over repeated samples; under
 * P = Q, where the first-order part vanishes and its estimate is noise, the
 * clipping makes the standard error err on the large side (by about 20-30%
 * for n of 40 to 400, less for larger n). It needs n, m >= 4 (else NaN).
 *
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_METRIC_H
#define FL_METRIC_H

#include <stddef.h>
#include <stdint.h>
#include "fl_core.h"

/* The kernel of a kernel statistic. */
typedef enum fl_metric_kernel {
  FL_KERNEL_RBF,     /* sum over bandwidths h of exp(-|x-y|^2 / (2 h^2)) */
  FL_KERNEL_ENERGY   /* -|x-y|: the statistic is the energy distance */
} fl_metric_kernel;

/* Checks x (n rows of d) for NaN/Inf; `name` ("x") names it in the message. */
fl_status fl_metric_check_sample(const char *name, size_t n, int d, const double *x);

/* The median of the pairwise distances |z_i - z_j| (i < j) of the pooled
 * sample z = x and y. When n + m > max_points (>= 2), the median is taken
 * over a random subset of max_points pooled points (without replacement),
 * chosen by fl_rng_uniform(seed, stream, .). FL_EINVAL when it is 0 (all
 * points equal). */
fl_status fl_metric_median_distance(size_t n, const double *x, size_t m, const double *y, int d,
                                    size_t max_points, uint64_t seed, uint64_t stream, double *out);

/* Kernel two-sample statistic (see the top): *value = the U-statistic,
 * *se = its standard error (NaN when n or m < 4). For FL_KERNEL_RBF, h[0..nh)
 * are the bandwidths (> 0, finite); for FL_KERNEL_ENERGY h and nh are unused.
 * n, m >= 2. */
fl_status fl_metric_kernel_stat(fl_metric_kernel kind, size_t n, const double *x, size_t m,
                                const double *y, int d, int nh, const double *h, double *value,
                                double *se);

/* Permutation test of the kernel statistic: the statistic of the given split,
 * and the p-value (1 + #{perm stat >= observed}) / (1 + nperm) over nperm
 * random relabellings of the pooled sample (Fisher-Yates with
 * fl_rng_uniform(seed, stream, .); the same result whatever the thread
 * count). Stores the pooled kernel matrix: n + m <= FL_METRIC_PERM_MAX. */
#define FL_METRIC_PERM_MAX 8192
fl_status fl_metric_permutation_test(fl_metric_kernel kind, size_t n, const double *x, size_t m,
                                     const double *y, int d, int nh, const double *h, size_t nperm,
                                     uint64_t seed, uint64_t stream, double *stat, double *pvalue);

/* Sliced Wasserstein-2: the mean over nproj random directions u (uniform on
 * the sphere: normalised Gaussian vectors, component j of direction k is
 * fl_rng_normal(seed, stream, k*d + j)) of the exact squared 1-D W2 between
 * the projected samples, W2^2 = int_0^1 (F^-1(t) - G^-1(t))^2 dt for the
 * empirical quantile functions (for n = m: the mean squared difference of
 * the sorted projections). *value = that mean (SW2^2), *se = the standard
 * deviation over the directions / sqrt(nproj) (the Monte Carlo error of the
 * directions, for these samples). per_proj (may be NULL) gets the nproj
 * values. n, m >= 1, nproj >= 1. */
fl_status fl_metric_sliced_w2(size_t n, const double *x, size_t m, const double *y, int d,
                              size_t nproj, uint64_t seed, uint64_t stream, double *value, double *se,
                              double *per_proj);

/* Exact squared W2 between N(m1, S1) and N(m2, S2) in R^d (reference V13):
 *   |m1 - m2|^2 + tr S1 + tr S2 - 2 tr (S2^1/2 S1 S2^1/2)^1/2
 * with the square roots from symmetric eigen-decompositions. S1, S2 must be
 * symmetric (to 1e-10 relative) positive semi-definite (eigenvalues >=
 * -1e-10 * the largest, clamped at 0): FL_ESINGULAR otherwise. */
fl_status fl_metric_w2_gaussian(int d, const double *m1, const double *S1, const double *m2,
                                const double *S2, double *out);

/* Sample mean[d] and covariance cov[d*d] (divisor n - 1; n >= 2). */
fl_status fl_metric_mean_cov(size_t n, int d, const double *x, double *mean, double *cov);

/* W2^2 between the Gaussians fitted (mean, covariance) to x and y, and a
 * bootstrap standard error over nboot resamplings (x and y resampled
 * independently with fl_rng_uniform(seed, stream, .)); nboot = 0 gives
 * se = NaN. n, m >= 2. */
fl_status fl_metric_w2_gaussian_fit(size_t n, const double *x, size_t m, const double *y, int d,
                                    size_t nboot, uint64_t seed, uint64_t stream, double *value,
                                    double *se);

/* Histogram KL(x || y) in d = 1 or 2 dimensions: bins[k] bins on axis k over
 * [lo[k], hi[k]) (the last bin includes hi; points outside are left out),
 * counts smoothed by adding `alpha` (>= 0) to every bin of both histograms:
 *   p_b = (c_b + alpha) / (n_in + B alpha),  KL = sum_b p_b log(p_b / q_b).
 * alpha = 0 with an empty bin of y where x has points gives +inf. The
 * standard error is the standard deviation of the estimate over nboot
 * bootstrap resamplings (NaN for nboot < 2). FL_EINVAL when no point of x or
 * of y falls in the range. */
fl_status fl_metric_kl_hist(size_t n, const double *x, size_t m, const double *y, int d,
                            const size_t *bins, const double *lo, const double *hi, double alpha,
                            size_t nboot, uint64_t seed, uint64_t stream, double *value, double *se);

/* Mean of v[0..n) and its standard error (sample std with divisor n - 1,
 * over sqrt(n); NaN for n = 1). NaN in v: FL_ENAN naming the index; -inf is
 * allowed (the mean is then -inf). n >= 1. */
fl_status fl_metric_mean_se(size_t n, const double *v, double *mean, double *se);

#endif
