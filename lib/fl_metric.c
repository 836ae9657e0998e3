/* fl_metric: distances between samples with standard errors (see fl_metric.h). */
#include "config.h"
#include "fl_metric.h"
#include "fl_rng.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>

#ifdef _OPENMP
#define FL_PRAGMA(x) _Pragma(#x)
#else
#define FL_PRAGMA(x)
#endif

/* Work above this many kernel entries (or points) runs in parallel. */
#define PAR_MIN ((size_t)4096)
/* Up to this dimension distances are computed directly from differences
 * (exact, no cancellation); above it by |x|^2 + |y|^2 - 2 x.y with dgemm. */
#define DIRECT_DMAX 8
/* Columns per chunk in the column pass of the kernel sums. */
#define CHUNK 512

/* ------------------------------------------------------------ checks */

fl_status fl_metric_check_sample(const char *name, size_t n, int d, const double *x)
{
  if (d < 1) return fl_fail(FL_EINVAL, "%s: dimension must be at least 1, not %d", name, d);
  size_t len = n * (size_t)d;
  for (size_t k = 0; k < len; k++)
    if (!isfinite(x[k]))
      return fl_fail(FL_ENAN, "%s has a non-finite entry at row %zu, column %zu (%g)", name,
                     k / (size_t)d + 1, k % (size_t)d + 1, x[k]);
  return FL_OK;
}

static fl_status check_pair(size_t n, const double *x, size_t m, const double *y, int d, size_t nmin)
{
  if (n < nmin || m < nmin)
    return fl_fail(FL_EINVAL, "need at least %zu points in each sample, got %zu and %zu", nmin, n, m);
  fl_status st = fl_metric_check_sample("x", n, d, x);
  if (st == FL_OK) st = fl_metric_check_sample("y", m, d, y);
  return st;
}

/* The pooled sample [x; y] minus its mean (centring reduces the cancellation
 * of the |a|^2 + |b|^2 - 2 a.b expansion). */
static double *pooled(size_t n, const double *x, size_t m, const double *y, int d)
{
  size_t N = n + m, D = (size_t)d;
  double *z = malloc(sizeof *z * N * D);
  if (!z) return NULL;
  memcpy(z, x, sizeof *z * n * D);
  memcpy(z + n * D, y, sizeof *z * m * D);
  for (size_t k = 0; k < D; k++) {
    double s = 0;
    for (size_t i = 0; i < N; i++) s += z[i * D + k];
    s /= (double)N;
    for (size_t i = 0; i < N; i++) z[i * D + k] -= s;
  }
  return z;
}

/* ------------------------------------------------------------ median heuristic */

static int cmp_double(const void *a, const void *b)
{
  double u = *(const double *)a, v = *(const double *)b;
  return (u > v) - (u < v);
}

/* k-th smallest (0-based) of v[0..n), reordering v (quickselect, Hoare
 * partition around the middle element). */
/* The standard deviation (divisor nboot - 1) of nboot bootstrap replicates:
 * the bootstrap standard error; NaN for fewer than 2. */
static double bootstrap_sd(const double *vals, size_t nboot)
{
  if (nboot < 2) return NAN;
  double mu = 0, ss = 0;
  for (size_t r = 0; r < nboot; r++) mu += vals[r];
  mu /= (double)nboot;
  for (size_t r = 0; r < nboot; r++) ss += (vals[r] - mu) * (vals[r] - mu);
  return sqrt(ss / (double)(nboot - 1));
}

static double select_kth(double *v, size_t n, size_t k)
{
  ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
  while (hi > lo) {
    double pivot = v[lo + (hi - lo) / 2];
    ptrdiff_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        double t = v[i]; v[i] = v[j]; v[j] = t;
        i++;
        j--;
      }
    }
    if (kk <= j) hi = j;
    else if (kk >= i) lo = i;
    else return v[k];
  }
  return v[k];
}

fl_status fl_metric_median_distance(size_t n, const double *x, size_t m, const double *y, int d,
                                    size_t max_points, uint64_t seed, uint64_t stream, double *out)
{
  fl_status st = check_pair(n, x, m, y, d, 1);
  if (st != FL_OK) return st;
  if (max_points < 2) return fl_fail(FL_EINVAL, "median heuristic: max_points must be at least 2");
  size_t N = n + m, D = (size_t)d, k = N < max_points ? N : max_points;
  size_t *idx = malloc(sizeof *idx * N);
  size_t npairs = k * (k - 1) / 2;
  double *dist = malloc(sizeof *dist * (npairs ? npairs : 1));
  if (!idx || !dist) {
    free(idx);
    free(dist);
    return fl_fail(FL_ENOMEM, "median heuristic: out of memory for %zu distances", npairs);
  }
  for (size_t i = 0; i < N; i++) idx[i] = i;
  if (k < N) /* partial Fisher-Yates: the first k are a uniform subset */
    for (size_t i = 0; i < k; i++) {
      size_t j = i + (size_t)(fl_rng_uniform(seed, stream, i) * (double)(N - i));
      if (j >= N) j = N - 1;
      size_t t = idx[i]; idx[i] = idx[j]; idx[j] = t;
    }
  FL_PRAGMA(omp parallel for schedule(dynamic, 16) if (npairs > PAR_MIN))
  for (size_t a = 0; a < k; a++) {
    const double *za = idx[a] < n ? x + idx[a] * D : y + (idx[a] - n) * D;
    size_t base = a * (2 * k - a - 1) / 2; /* pairs (a', b) with a' < a */
    for (size_t b = a + 1; b < k; b++) {
      const double *zb = idx[b] < n ? x + idx[b] * D : y + (idx[b] - n) * D;
      double s = 0;
      for (size_t c = 0; c < D; c++) s += (za[c] - zb[c]) * (za[c] - zb[c]);
      dist[base + b - a - 1] = sqrt(s);
    }
  }
  double med = 0;
  if (npairs > 0) {
    med = select_kth(dist, npairs, npairs / 2);
    if (npairs % 2 == 0) { /* mean of the two middle values */
      double lower = dist[0];
      for (size_t i = 1; i < npairs / 2; i++) if (dist[i] > lower) lower = dist[i];
      med = 0.5 * (med + lower);
    }
  }
  free(idx);
  free(dist);
  if (!(med > 0))
    return fl_fail(FL_EINVAL, "median heuristic: the median pairwise distance is 0 (too many equal points); give a bandwidth");
  *out = med;
  return FL_OK;
}

/* ------------------------------------------------------------ kernel sums */

typedef struct ksum {
  double *ax, *ay;            /* per pooled point: sum of k to the x points / to the y points (j != i) */
  double qxx, qyy, qxy;       /* sums of k^2 over unordered pairs (xx, yy) and over all (x, y) pairs */
} ksum;

/* out[q] = kernel of the squared distances in out[q], q in [0, len). */
static void apply_kernel(fl_metric_kernel kind, int nh, const double *g, double *v, size_t len)
{
  if (kind == FL_KERNEL_ENERGY) {
    for (size_t q = 0; q < len; q++) v[q] = -sqrt(v[q] > 0 ? v[q] : 0);
  } else if (nh == 1) {
    double g0 = g[0];
    for (size_t q = 0; q < len; q++) v[q] = exp(-(v[q] > 0 ? v[q] : 0) * g0);
  } else {
    for (size_t q = 0; q < len; q++) {
      double d2 = v[q] > 0 ? v[q] : 0, s = 0;
      for (int h = 0; h < nh; h++) s += exp(-d2 * g[h]);
      v[q] = s;
    }
  }
}

/* Walks the upper triangle of the pooled kernel matrix (z: N rows, the first
 * n are x) in strips of rows. When K (N*N) is not NULL, the full symmetric
 * matrix with zero diagonal is stored there too. */
static fl_status kernel_sums(fl_metric_kernel kind, size_t N, size_t n, const double *z, int d,
                             int nh, const double *g, ksum *s, double *K)
{
  size_t D = (size_t)d;
  size_t b = (size_t)1 << 22;
  b = N > 0 ? b / N : 64;
  if (b > 64) b = 64;
  if (b < 4) b = 4;
  double *buf = malloc(sizeof *buf * b * N);
  double *zt = NULL, *nz = NULL;
  int direct = d <= DIRECT_DMAX;
  if (direct) zt = malloc(sizeof *zt * D * N);
  else nz = malloc(sizeof *nz * N);
  if (!buf || (direct && !zt) || (!direct && !nz)) {
    free(buf); free(zt); free(nz);
    return fl_fail(FL_ENOMEM, "out of memory for the kernel sums of %zu points", N);
  }
  if (direct) {
    for (size_t i = 0; i < N; i++)
      for (size_t k = 0; k < D; k++) zt[k * N + i] = z[i * D + k];
  } else {
    for (size_t i = 0; i < N; i++) {
      double t = 0;
      for (size_t k = 0; k < D; k++) t += z[i * D + k] * z[i * D + k];
      nz[i] = t;
    }
  }
  memset(s->ax, 0, sizeof *s->ax * N);
  memset(s->ay, 0, sizeof *s->ay * N);
  double qxx = 0, qyy = 0, qxy = 0;
  fl_status st = FL_OK;
  for (size_t i0 = 0; i0 < N; i0 += b) {
    if (fl_interrupted()) { st = fl_fail(FL_EINTR, "interrupted"); break; }
    size_t i1 = i0 + b < N ? i0 + b : N, w = N - i0;
    if (!direct) /* buf = -2 z_strip z[i0:N]^T, then the norms are added per row */
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(i1 - i0), (int)w, d, -2.0,
                  z + i0 * D, d, z + i0 * D, d, 0.0, buf, (int)w);
    int par = (i1 - i0) * w > PAR_MIN;
    FL_PRAGMA(omp parallel for schedule(dynamic, 1) reduction(+:qxx, qyy, qxy) if (par))
    for (size_t p = i0; p < i1; p++) {
      double *row = buf + (p - i0) * w - i0; /* row[q], q in [i0, N) */
      for (size_t q = i0; q <= p; q++) row[q] = 0;
      size_t q0 = p + 1, len = N - q0;
      double *v = row + q0;
      if (K) K[p * N + p] = 0;
      if (len == 0) continue;
      if (direct) {
        double c = z[p * D];
        const double *t = zt + q0;
        for (size_t q = 0; q < len; q++) v[q] = (c - t[q]) * (c - t[q]);
        for (size_t k = 1; k < D; k++) {
          c = z[p * D + k];
          t = zt + k * N + q0;
          for (size_t q = 0; q < len; q++) v[q] += (c - t[q]) * (c - t[q]);
        }
      } else {
        double c = nz[p];
        const double *t = nz + q0;
        for (size_t q = 0; q < len; q++) v[q] += c + t[q];
      }
      apply_kernel(kind, nh, g, v, len);
      size_t split = n > q0 ? n - q0 : 0; /* v[0..split) are x columns */
      double sx = 0, sx2 = 0, sy = 0, sy2 = 0;
      for (size_t q = 0; q < split; q++) { sx += v[q]; sx2 += v[q] * v[q]; }
      for (size_t q = split; q < len; q++) { sy += v[q]; sy2 += v[q] * v[q]; }
      s->ax[p] += sx;
      s->ay[p] += sy;
      if (p < n) { qxx += sx2; qxy += sy2; }
      else qyy += sy2;
      if (K) {
        for (size_t q = 0; q < len; q++) K[p * N + q0 + q] = K[(q0 + q) * N + p] = v[q];
      }
    }
    /* column pass: the strip's entries added to the column points */
    FL_PRAGMA(omp parallel for schedule(static) if (par))
    for (size_t c0 = i0; c0 < N; c0 += CHUNK) {
      size_t c1 = c0 + CHUNK < N ? c0 + CHUNK : N;
      double cx[CHUNK], cy[CHUNK];
      for (size_t q = 0; q < c1 - c0; q++) cx[q] = cy[q] = 0;
      for (size_t p = i0; p < i1; p++) {
        const double *row = buf + (p - i0) * w - i0 + c0;
        double *t = p < n ? cx : cy;
        for (size_t q = 0; q < c1 - c0; q++) t[q] += row[q];
      }
      for (size_t q = c0; q < c1; q++) {
        s->ax[q] += cx[q - c0];
        s->ay[q] += cy[q - c0];
      }
    }
  }
  s->qxx = qxx;
  s->qyy = qyy;
  s->qxy = qxy;
  free(buf); free(zt); free(nz);
  return st;
}

/* The U-statistic and its variance estimate from the kernel sums. */
static void u_stat(size_t n, size_t m, const ksum *s, double *value, double *se)
{
  long double T = 0, R = 0, Ty = 0, Ry = 0, U = 0, Rr = 0, Rc = 0, Pxy = 0, Pyx = 0;
  for (size_t i = 0; i < n; i++) {
    long double Si = s->ax[i], ri = s->ay[i];
    T += Si; R += Si * Si; U += ri; Rr += ri * ri; Pxy += Si * ri;
  }
  for (size_t l = 0; l < m; l++) {
    long double Sl = s->ay[n + l], cl = s->ax[n + l];
    Ty += Sl; Ry += Sl * Sl; Rc += cl * cl; Pyx += Sl * cl;
  }
  long double N_ = n, M_ = m;
  long double Qx = 2.0L * s->qxx, Qy = 2.0L * s->qyy, Qb = s->qxy;
  long double uxx = T / (N_ * (N_ - 1)), uyy = Ty / (M_ * (M_ - 1)), uxy = U / (N_ * M_);
  *value = (double)(uxx + uyy - 2 * uxy);
  if (n < 4 || m < 4) { *se = NAN; return; }
  /* one-sample moments: z1 = Cov(k(X1,X2), k(X1,X3)), z2 = Var k(X1,X2) */
  long double E4x = (T * T - 4 * R + 2 * Qx) / (N_ * (N_ - 1) * (N_ - 2) * (N_ - 3));
  long double z1x = (R - Qx) / (N_ * (N_ - 1) * (N_ - 2)) - E4x;
  long double z2x = Qx / (N_ * (N_ - 1)) - E4x;
  long double E4y = (Ty * Ty - 4 * Ry + 2 * Qy) / (M_ * (M_ - 1) * (M_ - 2) * (M_ - 3));
  long double z1y = (Ry - Qy) / (M_ * (M_ - 1) * (M_ - 2)) - E4y;
  long double z2y = Qy / (M_ * (M_ - 1)) - E4y;
  /* two-sample moments: z10 = Cov(k(X,Y1), k(X,Y2)), z01, z11 = Var k(X,Y) */
  long double Eb4 = (U * U - Rr - Rc + Qb) / (N_ * (N_ - 1) * M_ * (M_ - 1));
  long double z10 = (Rr - Qb) / (N_ * M_ * (M_ - 1)) - Eb4;
  long double z01 = (Rc - Qb) / (N_ * (N_ - 1) * M_) - Eb4;
  long double z11 = Qb / (N_ * M_) - Eb4;
  /* covariance moments: Cov(k(X1,X2), k(X1,Y)) and Cov(k(Y1,Y2), k(X,Y1)) */
  long double kx = Pxy / (N_ * (N_ - 1) * M_) - (T * U - 2 * Pxy) / (N_ * (N_ - 1) * (N_ - 2) * M_);
  long double ky = Pyx / (M_ * (M_ - 1) * N_) - (Ty * U - 2 * Pyx) / (M_ * (M_ - 1) * (M_ - 2) * N_);
  /* Var D = V1 + V2 (Hoeffding): V1 = 4/n Var f(X) + 4/m Var g(Y), the
   * first-order part (f(x) = E k(x,X') - E k(x,Y), g likewise), and V2 the
   * second-order part. Each of the three is a variance, clipped at 0
   * separately: under P = Q the first-order part vanishes and its estimate
   * is pure noise that would otherwise cancel the second-order part. */
  long double fx = z1x + z10 - 2 * kx, fy = z1y + z01 - 2 * ky;
  long double v2 = 2 / (N_ * (N_ - 1)) * (z2x - 2 * z1x) + 2 / (M_ * (M_ - 1)) * (z2y - 2 * z1y) +
                   4 * (z11 - z10 - z01) / (N_ * M_);
  long double var = 4 / N_ * (fx > 0 ? fx : 0) + 4 / M_ * (fy > 0 ? fy : 0) + (v2 > 0 ? v2 : 0);
  *se = var > 0 ? (double)sqrtl(var) : 0.0;
}

static fl_status check_kernel(fl_metric_kernel kind, int nh, const double *h, double *g)
{
  if (kind == FL_KERNEL_ENERGY) return FL_OK;
  if (kind != FL_KERNEL_RBF) return fl_fail(FL_EINVAL, "unknown kernel %d", (int)kind);
  if (nh < 1) return fl_fail(FL_EINVAL, "need at least one bandwidth");
  for (int k = 0; k < nh; k++) {
    if (!(h[k] > 0) || !isfinite(h[k]))
      return fl_fail(FL_EINVAL, "bandwidth %d must be a positive finite number, not %g", k + 1, h[k]);
    g[k] = 1.0 / (2.0 * h[k] * h[k]);
    if (!isfinite(g[k]) || g[k] == 0)
      return fl_fail(FL_EINVAL, "bandwidth %d (%g) is out of range", k + 1, h[k]);
  }
  return FL_OK;
}

fl_status fl_metric_kernel_stat(fl_metric_kernel kind, size_t n, const double *x, size_t m,
                                const double *y, int d, int nh, const double *h, double *value,
                                double *se)
{
  fl_status st = check_pair(n, x, m, y, d, 2);
  if (st != FL_OK) return st;
  double *g = malloc(sizeof *g * (size_t)(nh > 0 ? nh : 1));
  if (!g) return fl_fail(FL_ENOMEM, "out of memory");
  st = check_kernel(kind, nh, h, g);
  if (st != FL_OK) { free(g); return st; }
  size_t N = n + m;
  double *z = pooled(n, x, m, y, d);
  ksum s = {malloc(sizeof(double) * N), malloc(sizeof(double) * N), 0, 0, 0};
  if (!z || !s.ax || !s.ay) {
    st = fl_fail(FL_ENOMEM, "out of memory for %zu points", N);
  } else {
    st = kernel_sums(kind, N, n, z, d, nh, g, &s, NULL);
    if (st == FL_OK) u_stat(n, m, &s, value, se);
  }
  free(z); free(s.ax); free(s.ay); free(g);
  return st;
}

/* ------------------------------------------------------------ permutation test */

fl_status fl_metric_permutation_test(fl_metric_kernel kind, size_t n, const double *x, size_t m,
                                     const double *y, int d, int nh, const double *h, size_t nperm,
                                     uint64_t seed, uint64_t stream, double *stat, double *pvalue)
{
  fl_status st = check_pair(n, x, m, y, d, 2);
  if (st != FL_OK) return st;
  size_t N = n + m;
  if (N > FL_METRIC_PERM_MAX)
    return fl_fail(FL_EINVAL, "permutation test: %zu pooled points, at most %d (subsample first)", N,
                   FL_METRIC_PERM_MAX);
  if (nperm < 1) return fl_fail(FL_EINVAL, "permutation test: need at least 1 permutation");
  double *g = malloc(sizeof *g * (size_t)(nh > 0 ? nh : 1));
  if (!g) return fl_fail(FL_ENOMEM, "out of memory");
  st = check_kernel(kind, nh, h, g);
  if (st != FL_OK) { free(g); return st; }
  size_t P = nperm + 1; /* column 0: the given split */
  double *z = pooled(n, x, m, y, d);
  double *K = malloc(sizeof *K * N * N);
  double *mask = malloc(sizeof *mask * N * P);
  double *KM = malloc(sizeof *KM * N * P);
  double *rowtot = malloc(sizeof *rowtot * N);
  double *stats = calloc(P, sizeof *stats);
  ksum s = {malloc(sizeof(double) * N), malloc(sizeof(double) * N), 0, 0, 0};
  if (!z || !K || !mask || !KM || !rowtot || !stats || !s.ax || !s.ay) {
    st = fl_fail(FL_ENOMEM, "permutation test: out of memory for %zu points", N);
    goto done;
  }
  st = kernel_sums(kind, N, n, z, d, nh, g, &s, K);
  if (st != FL_OK) goto done;
  double total = 0;
  for (size_t i = 0; i < N; i++) {
    rowtot[i] = s.ax[i] + s.ay[i];
    total += rowtot[i];
  }
  /* mask[i*P + p] = 1 when pooled point i is an x point under permutation p */
  for (size_t i = 0; i < N; i++) mask[i * P] = i < n ? 1.0 : 0.0;
  FL_PRAGMA(omp parallel for schedule(static))
  for (size_t p = 1; p < P; p++) {
    size_t *idx = malloc(sizeof *idx * N);
    if (!idx) { for (size_t i = 0; i < N; i++) mask[i * P + p] = NAN; continue; }
    for (size_t i = 0; i < N; i++) idx[i] = i;
    uint64_t base = (uint64_t)(p - 1) * N;
    for (size_t i = 0; i < n; i++) { /* the first n of a partial Fisher-Yates shuffle */
      size_t j = i + (size_t)(fl_rng_uniform(seed, stream, base + i) * (double)(N - i));
      if (j >= N) j = N - 1;
      size_t t = idx[i]; idx[i] = idx[j]; idx[j] = t;
    }
    for (size_t i = 0; i < N; i++) mask[i * P + p] = 0.0;
    for (size_t i = 0; i < n; i++) mask[idx[i] * P + p] = 1.0;
    free(idx);
  }
  for (size_t i = 0; i < N * P; i++)
    if (isnan(mask[i])) { st = fl_fail(FL_ENOMEM, "permutation test: out of memory"); goto done; }
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)P, (int)N, 1.0, K, (int)N, mask,
              (int)P, 0.0, KM, (int)P);
  {
    double nn = (double)n, mm = (double)m;
    for (size_t p = 0; p < P; p++) {
      double Tx = 0, U = 0;
      for (size_t i = 0; i < N; i++)
        if (mask[i * P + p] != 0) { Tx += KM[i * P + p]; U += rowtot[i] - KM[i * P + p]; }
      double Ty = total - Tx - 2 * U;
      stats[p] = Tx / (nn * (nn - 1)) + Ty / (mm * (mm - 1)) - 2 * U / (nn * mm);
    }
    size_t ge = 0;
    double tol = 1e-12 * fabs(stats[0]);
    for (size_t p = 1; p < P; p++)
      if (stats[p] >= stats[0] - tol) ge++;
    *stat = stats[0];
    *pvalue = (1.0 + (double)ge) / (double)P;
  }
done:
  free(z); free(K); free(mask); free(KM); free(rowtot); free(stats);
  free(s.ax); free(s.ay); free(g);
  return st;
}

/* ------------------------------------------------------------ sliced W2 */

/* Exact squared W2 between the empirical measures of sorted a[n] and b[m]. */
static double w2_sorted(const double *a, size_t n, const double *b, size_t m)
{
  size_t i = 0, j = 0;
  double t = 0, acc = 0;
  while (i < n && j < m) {
    /* next breakpoint: min((i+1)/n, (j+1)/m), compared exactly in integers */
    int adv_a = (i + 1) * m <= (j + 1) * n, adv_b = (j + 1) * n <= (i + 1) * m;
    double t1 = adv_a ? (double)(i + 1) / (double)n : (double)(j + 1) / (double)m;
    double diff = a[i] - b[j];
    acc += (t1 - t) * diff * diff;
    t = t1;
    if (adv_a) i++;
    if (adv_b) j++;
  }
  return acc;
}

fl_status fl_metric_sliced_w2(size_t n, const double *x, size_t m, const double *y, int d,
                              size_t nproj, uint64_t seed, uint64_t stream, double *value, double *se,
                              double *per_proj)
{
  fl_status st = check_pair(n, x, m, y, d, 1);
  if (st != FL_OK) return st;
  if (nproj < 1) return fl_fail(FL_EINVAL, "need at least 1 projection");
  double *vals = malloc(sizeof *vals * nproj);
  if (!vals) return fl_fail(FL_ENOMEM, "out of memory for %zu projections", nproj);
  size_t D = (size_t)d;
  int fail = 0;
  FL_PRAGMA(omp parallel if ((n + m) * nproj > PAR_MIN))
  {
    double *u = malloc(sizeof *u * D);
    double *pa = malloc(sizeof *pa * (n + m));
    if (!u || !pa) {
      FL_PRAGMA(omp atomic write)
      fail = 1;
    }
    FL_PRAGMA(omp for schedule(dynamic, 1))
    for (size_t k = 0; k < nproj; k++) {
      if (!u || !pa) continue;
      double nrm = 0;
      for (size_t j = 0; j < D; j++) {
        u[j] = fl_rng_normal(seed, stream, (uint64_t)k * D + j);
        nrm += u[j] * u[j];
      }
      nrm = sqrt(nrm);
      if (!(nrm > 0)) { u[0] = 1; nrm = 1; }
      for (size_t j = 0; j < D; j++) u[j] /= nrm;
      double *pb = pa + n;
      for (size_t i = 0; i < n; i++) {
        double t = 0;
        for (size_t j = 0; j < D; j++) t += x[i * D + j] * u[j];
        pa[i] = t;
      }
      for (size_t i = 0; i < m; i++) {
        double t = 0;
        for (size_t j = 0; j < D; j++) t += y[i * D + j] * u[j];
        pb[i] = t;
      }
      qsort(pa, n, sizeof *pa, cmp_double);
      qsort(pb, m, sizeof *pb, cmp_double);
      vals[k] = w2_sorted(pa, n, pb, m);
    }
    free(u);
    free(pa);
  }
  if (fail) {
    free(vals);
    return fl_fail(FL_ENOMEM, "out of memory for projections of %zu points", n + m);
  }
  double mean = 0, ss = 0;
  for (size_t k = 0; k < nproj; k++) mean += vals[k];
  mean /= (double)nproj;
  for (size_t k = 0; k < nproj; k++) ss += (vals[k] - mean) * (vals[k] - mean);
  *value = mean;
  *se = nproj > 1 ? sqrt(ss / (double)(nproj - 1) / (double)nproj) : NAN;
  if (per_proj) memcpy(per_proj, vals, sizeof *vals * nproj);
  free(vals);
  return FL_OK;
}

/* ------------------------------------------------------------ Gaussian W2 */

/* Eigen-decomposition of the symmetric d-by-d A (row-major): w ascending, V
 * columns. A is not modified. Returns nonzero on LAPACK failure. */
static int sym_eig(int d, const double *A, double *w, double *V)
{
  memcpy(V, A, sizeof *V * (size_t)d * (size_t)d);
  return LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', d, V, d, w) != 0;
}

/* Checks S symmetric PSD; fills its square root R when R is not NULL. */
static fl_status check_cov(int d, const double *S, int which, double *w, double *V, double *R)
{
  size_t D = (size_t)d;
  double scale = 0;
  for (size_t k = 0; k < D * D; k++) {
    if (!isfinite(S[k]))
      return fl_fail(FL_ENAN, "covariance %d has a non-finite entry (%g)", which, S[k]);
    if (fabs(S[k]) > scale) scale = fabs(S[k]);
  }
  for (size_t i = 0; i < D; i++)
    for (size_t j = i + 1; j < D; j++)
      if (fabs(S[i * D + j] - S[j * D + i]) > 1e-10 * scale)
        return fl_fail(FL_ESINGULAR, "covariance %d is not symmetric (entry (%zu,%zu) = %g, (%zu,%zu) = %g)",
                       which, i + 1, j + 1, S[i * D + j], j + 1, i + 1, S[j * D + i]);
  if (sym_eig(d, S, w, V)) return fl_fail(FL_ENOTCONV, "eigen-decomposition of covariance %d failed", which);
  double top = fabs(w[D - 1]) > fabs(w[0]) ? fabs(w[D - 1]) : fabs(w[0]);
  if (w[0] < -1e-10 * top)
    return fl_fail(FL_ESINGULAR, "covariance %d is not positive semi-definite (eigenvalue %g)", which, w[0]);
  if (R) {
    for (size_t i = 0; i < D; i++)
      for (size_t j = 0; j < D; j++) {
        double t = 0;
        for (size_t k = 0; k < D; k++) t += V[i * D + k] * sqrt(w[k] > 0 ? w[k] : 0) * V[j * D + k];
        R[i * D + j] = t;
      }
  }
  return FL_OK;
}

fl_status fl_metric_w2_gaussian(int d, const double *m1, const double *S1, const double *m2,
                                const double *S2, double *out)
{
  if (d < 1) return fl_fail(FL_EINVAL, "dimension must be at least 1, not %d", d);
  size_t D = (size_t)d;
  for (size_t k = 0; k < D; k++)
    if (!isfinite(m1[k]) || !isfinite(m2[k]))
      return fl_fail(FL_ENAN, "mean %d has a non-finite entry", isfinite(m1[k]) ? 2 : 1);
  double *w = malloc(sizeof *w * D), *V = malloc(sizeof *V * D * D), *R = malloc(sizeof *R * D * D);
  double *T = malloc(sizeof *T * D * D), *M = malloc(sizeof *M * D * D);
  fl_status st = FL_OK;
  if (!w || !V || !R || !T || !M) { st = fl_fail(FL_ENOMEM, "out of memory"); goto done; }
  if ((st = check_cov(d, S1, 1, w, V, NULL)) != FL_OK) goto done;
  if ((st = check_cov(d, S2, 2, w, V, R)) != FL_OK) goto done;
  /* M = R S1 R, symmetrised */
  cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, d, d, 1.0, S1, d, R, d, 0.0, T, d);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, R, d, T, d, 0.0, M, d);
  for (size_t i = 0; i < D; i++)
    for (size_t j = i + 1; j < D; j++) M[i * D + j] = M[j * D + i] = 0.5 * (M[i * D + j] + M[j * D + i]);
  if (sym_eig(d, M, w, V)) { st = fl_fail(FL_ENOTCONV, "eigen-decomposition failed"); goto done; }
  double tr = 0, dm = 0;
  for (size_t k = 0; k < D; k++) {
    tr += S1[k * D + k] + S2[k * D + k] - 2 * sqrt(w[k] > 0 ? w[k] : 0);
    dm += (m1[k] - m2[k]) * (m1[k] - m2[k]);
  }
  *out = dm + (tr > 0 ? tr : 0);
done:
  free(w); free(V); free(R); free(T); free(M);
  return st;
}

/* mean and covariance of the rows idx[0..n) of x (all rows when idx is NULL). */
static void mean_cov_idx(size_t n, int d, const double *x, const size_t *idx, double *mean, double *cov)
{
  size_t D = (size_t)d;
  for (size_t k = 0; k < D; k++) mean[k] = 0;
  for (size_t i = 0; i < n; i++) {
    const double *r = x + (idx ? idx[i] : i) * D;
    for (size_t k = 0; k < D; k++) mean[k] += r[k];
  }
  for (size_t k = 0; k < D; k++) mean[k] /= (double)n;
  for (size_t k = 0; k < D * D; k++) cov[k] = 0;
  for (size_t i = 0; i < n; i++) {
    const double *r = x + (idx ? idx[i] : i) * D;
    for (size_t a = 0; a < D; a++)
      for (size_t b = a; b < D; b++) cov[a * D + b] += (r[a] - mean[a]) * (r[b] - mean[b]);
  }
  for (size_t a = 0; a < D; a++)
    for (size_t b = a; b < D; b++) cov[b * D + a] = cov[a * D + b] /= (double)(n - 1);
}

fl_status fl_metric_mean_cov(size_t n, int d, const double *x, double *mean, double *cov)
{
  if (n < 2) return fl_fail(FL_EINVAL, "need at least 2 points for a covariance, got %zu", n);
  fl_status st = fl_metric_check_sample("x", n, d, x);
  if (st != FL_OK) return st;
  mean_cov_idx(n, d, x, NULL, mean, cov);
  return FL_OK;
}

fl_status fl_metric_w2_gaussian_fit(size_t n, const double *x, size_t m, const double *y, int d,
                                    size_t nboot, uint64_t seed, uint64_t stream, double *value,
                                    double *se)
{
  fl_status st = check_pair(n, x, m, y, d, 2);
  if (st != FL_OK) return st;
  size_t D = (size_t)d;
  double *buf = malloc(sizeof *buf * 2 * (D + D * D));
  size_t *idx = malloc(sizeof *idx * (n + m));
  double *vals = malloc(sizeof *vals * (nboot ? nboot : 1));
  if (!buf || !idx || !vals) { st = fl_fail(FL_ENOMEM, "out of memory"); goto done; }
  double *m1 = buf, *S1 = m1 + D, *m2 = S1 + D * D, *S2 = m2 + D;
  mean_cov_idx(n, d, x, NULL, m1, S1);
  mean_cov_idx(m, d, y, NULL, m2, S2);
  if ((st = fl_metric_w2_gaussian(d, m1, S1, m2, S2, value)) != FL_OK) goto done;
  for (size_t r = 0; r < nboot; r++) {
    uint64_t base = (uint64_t)r * (n + m);
    for (size_t i = 0; i < n + m; i++) {
      size_t len = i < n ? n : m;
      size_t j = (size_t)(fl_rng_uniform(seed, stream, base + i) * (double)len);
      idx[i] = j < len ? j : len - 1;
    }
    mean_cov_idx(n, d, x, idx, m1, S1);
    mean_cov_idx(m, d, y, idx + n, m2, S2);
    if ((st = fl_metric_w2_gaussian(d, m1, S1, m2, S2, &vals[r])) != FL_OK) goto done;
  }
  *se = bootstrap_sd(vals, nboot);
done:
  free(buf); free(idx); free(vals);
  return st;
}

/* ------------------------------------------------------------ histogram KL */

/* Bin of point p (d = 1 or 2), or -1 outside the range. */
static long bin_of(const double *p, int d, const size_t *bins, const double *lo, const double *hi)
{
  long b = 0;
  for (int k = 0; k < d; k++) {
    double v = p[k];
    if (!(v >= lo[k] && v <= hi[k])) return -1;
    size_t i = (size_t)((v - lo[k]) / (hi[k] - lo[k]) * (double)bins[k]);
    if (i >= bins[k]) i = bins[k] - 1;
    b = b * (long)bins[k] + (long)i;
  }
  return b;
}

static double kl_counts(const double *cp, double np, const double *cq, double nq, size_t B, double alpha)
{
  double zp = np + (double)B * alpha, zq = nq + (double)B * alpha, kl = 0;
  for (size_t b = 0; b < B; b++) {
    double p = (cp[b] + alpha) / zp;
    if (p <= 0) continue;
    double q = (cq[b] + alpha) / zq;
    kl += q > 0 ? p * log(p / q) : INFINITY;
  }
  return kl;
}

fl_status fl_metric_kl_hist(size_t n, const double *x, size_t m, const double *y, int d,
                            const size_t *bins, const double *lo, const double *hi, double alpha,
                            size_t nboot, uint64_t seed, uint64_t stream, double *value, double *se)
{
  if (d != 1 && d != 2) return fl_fail(FL_EINVAL, "histogram KL works in 1 or 2 dimensions, not %d", d);
  fl_status st = check_pair(n, x, m, y, d, 1);
  if (st != FL_OK) return st;
  if (!(alpha >= 0) || !isfinite(alpha))
    return fl_fail(FL_EINVAL, "smoothing must be a finite number >= 0, not %g", alpha);
  size_t B = 1;
  for (int k = 0; k < d; k++) {
    if (bins[k] < 1 || bins[k] > 10000000)
      return fl_fail(FL_EINVAL, "bins on axis %d must be 1 to 10^7, not %zu", k + 1, bins[k]);
    if (!(lo[k] < hi[k]) || !isfinite(lo[k]) || !isfinite(hi[k]))
      return fl_fail(FL_EINVAL, "range on axis %d must have finite lo < hi, not [%g, %g]", k + 1, lo[k], hi[k]);
    B *= bins[k];
  }
  if (B > 10000000) return fl_fail(FL_EINVAL, "too many bins (%zu)", B);
  long *bi = malloc(sizeof *bi * (n + m));
  double *cp = calloc(2 * B, sizeof *cp);
  double *vals = malloc(sizeof *vals * (nboot ? nboot : 1));
  if (!bi || !cp || !vals) { st = fl_fail(FL_ENOMEM, "out of memory for %zu bins", B); goto done; }
  double *cq = cp + B, np = 0, nq = 0;
  for (size_t i = 0; i < n + m; i++) {
    bi[i] = i < n ? bin_of(x + i * (size_t)d, d, bins, lo, hi) : bin_of(y + (i - n) * (size_t)d, d, bins, lo, hi);
    if (bi[i] >= 0) {
      if (i < n) { cp[bi[i]] += 1; np += 1; }
      else { cq[bi[i]] += 1; nq += 1; }
    }
  }
  if (np == 0 || nq == 0) {
    st = fl_fail(FL_EINVAL, "no point of %s falls in the histogram range", np == 0 ? "x" : "y");
    goto done;
  }
  *value = kl_counts(cp, np, cq, nq, B, alpha);
  int fail = 0;
  FL_PRAGMA(omp parallel if (nboot * (n + m) > PAR_MIN))
  {
    double *c = malloc(sizeof *c * 2 * B);
    if (!c) {
      FL_PRAGMA(omp atomic write)
      fail = 1;
    }
    FL_PRAGMA(omp for schedule(dynamic, 1))
    for (size_t r = 0; r < nboot; r++) {
      if (!c) continue;
      memset(c, 0, sizeof *c * 2 * B);
      double bnp = 0, bnq = 0;
      uint64_t base = (uint64_t)r * (n + m);
      for (size_t i = 0; i < n + m; i++) {
        size_t len = i < n ? n : m, off = i < n ? 0 : n;
        size_t j = (size_t)(fl_rng_uniform(seed, stream, base + i) * (double)len);
        if (j >= len) j = len - 1;
        long b = bi[off + j];
        if (b < 0) continue;
        if (i < n) { c[b] += 1; bnp += 1; }
        else { c[B + (size_t)b] += 1; bnq += 1; }
      }
      vals[r] = bnp > 0 && bnq > 0 ? kl_counts(c, bnp, c + B, bnq, B, alpha) : NAN;
    }
    free(c);
  }
  if (fail) { st = fl_fail(FL_ENOMEM, "out of memory for the bootstrap"); goto done; }
  *se = bootstrap_sd(vals, nboot);
done:
  free(bi); free(cp); free(vals);
  return st;
}

/* ------------------------------------------------------------ means */

fl_status fl_metric_mean_se(size_t n, const double *v, double *mean, double *se)
{
  if (n < 1) return fl_fail(FL_EINVAL, "need at least 1 value");
  double s = 0;
  int neginf = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(v[i]) || v[i] == INFINITY)
      return fl_fail(FL_ENAN, "value %zu is %g", i + 1, v[i]);
    if (v[i] == -INFINITY) neginf = 1;
    else s += v[i];
  }
  if (neginf) { *mean = -INFINITY; *se = NAN; return FL_OK; }
  double mu = s / (double)n, ss = 0;
  for (size_t i = 0; i < n; i++) ss += (v[i] - mu) * (v[i] - mu);
  *mean = mu;
  *se = n > 1 ? sqrt(ss / (double)(n - 1) / (double)n) : NAN;
  return FL_OK;
}
