/* fl_gmm: Gaussian mixtures (see fl_gmm.h). */
#include "config.h"
#include "fl_gmm.h"
#include "fl_rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#define FL_PRAGMA(x) _Pragma(#x)
#else
#define FL_PRAGMA(x)
#endif

/* Batches above this many points run in parallel over points. */
#define PAR_MIN ((size_t)4096)
/* Components are processed in blocks of BLK: one exp per component plus one
 * rescaling per block for the online log-sum-exp. */
#define BLK 64

#define LOG_2PI 1.8378770664093454835606594728112

/* ------------------------------------------------------------ life cycle */

fl_gmm *fl_gmm_retain(fl_gmm *g)
{
  if (g) g->refcount++;
  return g;
}

void fl_gmm_release(fl_gmm *g)
{
  if (!g || --g->refcount > 0) return;
  fl_free(g->weights, g->nbytes);
  free(g);
}

/* In-place Cholesky of the d-by-d row-major symmetric A into its lower
 * factor (upper part zeroed). Returns 0, or -1 when A is not positive definite. */
static int cholesky(int d, double *A)
{
  for (int j = 0; j < d; j++) {
    double s = A[j * d + j];
    for (int p = 0; p < j; p++) s -= A[j * d + p] * A[j * d + p];
    if (!(s > 0) || !isfinite(s)) return -1;
    double ljj = sqrt(s);
    A[j * d + j] = ljj;
    for (int i = j + 1; i < d; i++) {
      double t = A[i * d + j];
      for (int p = 0; p < j; p++) t -= A[i * d + p] * A[j * d + p];
      A[i * d + j] = t / ljj;
    }
    for (int i = 0; i < j; i++) A[i * d + j] = 0;
  }
  return 0;
}

/* P = (L L^T)^-1 = L^-T L^-1 from the lower factor L; W: d*d scratch. */
static void precision_from_chol(int d, const double *L, double *P, double *W)
{
  /* W = L^-1 (lower triangular), column by column by forward substitution */
  memset(W, 0, sizeof *W * (size_t)d * (size_t)d);
  for (int j = 0; j < d; j++) {
    W[j * d + j] = 1.0 / L[j * d + j];
    for (int i = j + 1; i < d; i++) {
      double t = 0;
      for (int p = j; p < i; p++) t -= L[i * d + p] * W[p * d + j];
      W[i * d + j] = t / L[i * d + i];
    }
  }
  for (int i = 0; i < d; i++)
    for (int j = 0; j <= i; j++) {
      double t = 0;
      for (int p = i; p < d; p++) t += W[p * d + i] * W[p * d + j];
      P[i * d + j] = P[j * d + i] = t;
    }
}

fl_status fl_gmm_new(int d, int k, const double *weights, const double *means, const double *covs,
                     fl_gmm_cov cov_kind, fl_gmm **out)
{
  *out = NULL;
  if (d < 1) return fl_fail(FL_EINVAL, "a mixture needs dimension >= 1, not %d", d);
  if (k < 1) return fl_fail(FL_EINVAL, "a mixture needs at least 1 component, not %d", k);
  if (!means) return fl_fail(FL_EINVAL, "no means given");
  if (!covs && cov_kind != FL_GMM_COV_IDENTITY) return fl_fail(FL_EINVAL, "no covariances given");
  size_t K = (size_t)k, D = (size_t)d, DD;
  if (fl_mul_overflow(D, D, &DD)) return fl_fail(FL_ENOMEM, "dimension %d too large", d);
  size_t per = 1 + D + 3 * DD + 2, total, bytes;
  if (fl_mul_overflow(K, per, &total) || fl_mul_overflow(total, sizeof(double), &bytes))
    return fl_fail(FL_ENOMEM, "mixture of %d components in dimension %d too large", k, d);

  /* weights */
  double wsum = 0;
  if (weights) {
    for (size_t j = 0; j < K; j++) {
      if (!isfinite(weights[j])) return fl_fail(FL_ENAN, "weight %zu is %g (must be finite)", j + 1, weights[j]);
      if (weights[j] < 0) return fl_fail(FL_EINVAL, "weight %zu is negative (%g)", j + 1, weights[j]);
      wsum += weights[j];
    }
    if (!(wsum > 0) || !isfinite(wsum)) return fl_fail(FL_EINVAL, "weights must have a positive finite sum (got %g)", wsum);
  }
  for (size_t j = 0; j < K * D; j++)
    if (!isfinite(means[j]))
      return fl_fail(FL_ENAN, "mean of component %zu has a non-finite entry (%g)", j / D + 1, means[j]);

  fl_gmm *g = malloc(sizeof *g);
  if (!g) return fl_fail(FL_ENOMEM, "out of memory for a mixture");
  double *blk = fl_alloc(bytes);
  if (!blk) {
    free(g);
    return fl_fail(FL_ENOMEM, "out of memory for a mixture (%zu bytes)", bytes);
  }
  g->refcount = 1;
  g->d = d;
  g->k = k;
  g->nbytes = bytes;
  g->weights = blk;
  g->means = g->weights + K;
  g->covs = g->means + K * D;
  g->chol = g->covs + K * DD;
  g->prec = g->chol + K * DD;
  g->lognorm = g->prec + K * DD;
  g->trprec = g->lognorm + K;

  for (size_t j = 0; j < K; j++) g->weights[j] = weights ? weights[j] / wsum : 1.0 / (double)K;
  memcpy(g->means, means, sizeof(double) * K * D);

  /* covariances -> full matrices */
  memset(g->covs, 0, sizeof(double) * K * DD);
  for (size_t j = 0; j < K; j++) {
    double *S = g->covs + j * DD;
    switch (cov_kind) {
    case FL_GMM_COV_FULL: memcpy(S, covs + j * DD, sizeof(double) * DD); break;
    case FL_GMM_COV_SHARED: memcpy(S, covs, sizeof(double) * DD); break;
    case FL_GMM_COV_DIAG: for (size_t i = 0; i < D; i++) S[i * D + i] = covs[j * D + i]; break;
    case FL_GMM_COV_ISO: for (size_t i = 0; i < D; i++) S[i * D + i] = covs[j]; break;
    case FL_GMM_COV_IDENTITY:
    default: for (size_t i = 0; i < D; i++) S[i * D + i] = 1.0; break;
    }
  }

  fl_status st = FL_OK;
  double *W = malloc(sizeof(double) * DD);
  if (!W) st = fl_fail(FL_ENOMEM, "out of memory for a mixture");
  for (size_t j = 0; j < K && st == FL_OK; j++) {
    double *S = g->covs + j * DD, *L = g->chol + j * DD, *P = g->prec + j * DD;
    for (size_t i = 0; i < DD; i++)
      if (!isfinite(S[i])) {
        st = fl_fail(FL_ENAN, "covariance of component %zu has a non-finite entry (%g)", j + 1, S[i]);
        break;
      }
    for (size_t i = 0; i < D && st == FL_OK; i++)
      for (size_t l = 0; l < i; l++) {
        double a = S[i * D + l], b = S[l * D + i];
        double scale = sqrt(fabs(S[i * D + i] * S[l * D + l])) + fabs(a) + fabs(b);
        if (fabs(a - b) > 1e-12 * scale) {
          st = fl_fail(FL_ESINGULAR,
                       "covariance of component %zu is not symmetric (entry (%zu,%zu) = %g, (%zu,%zu) = %g)",
                       j + 1, i + 1, l + 1, a, l + 1, i + 1, b);
          break;
        }
        S[i * D + l] = S[l * D + i] = 0.5 * (a + b);
      }
    if (st) break;
    memcpy(L, S, sizeof(double) * DD);
    if (cholesky(d, L)) {
      st = fl_fail(FL_ESINGULAR, "covariance of component %zu is not positive definite", j + 1);
      break;
    }
    precision_from_chol(d, L, P, W);
    double logdet = 0, tr = 0;
    for (size_t i = 0; i < D; i++) {
      logdet += 2 * log(L[i * D + i]);
      tr += P[i * D + i];
    }
    g->trprec[j] = tr;
    g->lognorm[j] = g->weights[j] > 0 ? log(g->weights[j]) - 0.5 * (double)d * LOG_2PI - 0.5 * logdet : -INFINITY;
    if (!isfinite(tr) || !isfinite(logdet)) {
      st = fl_fail(FL_ESINGULAR, "covariance of component %zu is too close to singular", j + 1);
      break;
    }
  }
  free(W);
  if (st) {
    fl_gmm_release(g);
    return st;
  }
  *out = g;
  return FL_OK;
}

fl_status fl_gmm_noised(const fl_gmm *g, double alpha, double sigma, fl_gmm **out)
{
  *out = NULL;
  if (!isfinite(alpha) || !isfinite(sigma))
    return fl_fail(FL_ENAN, "noising needs finite alpha and sigma (got %g and %g)", alpha, sigma);
  if (sigma < 0) return fl_fail(FL_EINVAL, "noising needs sigma >= 0 (got %g)", sigma);
  if (alpha == 0 && sigma == 0) return fl_fail(FL_EINVAL, "noising with alpha = sigma = 0 gives a point mass");
  size_t K = (size_t)g->k, D = (size_t)g->d, DD = D * D;
  double *m = malloc(sizeof(double) * (K * D + K * DD));
  if (!m) return fl_fail(FL_ENOMEM, "out of memory for a noised mixture");
  double *C = m + K * D, a2 = alpha * alpha, s2 = sigma * sigma;
  for (size_t i = 0; i < K * D; i++) m[i] = alpha * g->means[i];
  for (size_t i = 0; i < K * DD; i++) C[i] = a2 * g->covs[i];
  for (size_t j = 0; j < K; j++)
    for (size_t i = 0; i < D; i++) C[j * DD + i * D + i] += s2;
  fl_status st = fl_gmm_new(g->d, g->k, g->weights, m, C, FL_GMM_COV_FULL, out);
  free(m);
  return st;
}

/* ------------------------------------------------------------ evaluation */

/* Pass 1 at one point, any d: log p and the score s[d]. ws: BLK*(d+1) doubles. */
static double pass1(const fl_gmm *g, const double *x, double *ws, double *s)
{
  const int d = g->d, K = g->k;
  double *a = ws, *u = ws + BLK;
  double m = -INFINITY, sum = 0;
  for (int i = 0; i < d; i++) {
    s[i] = 0;
    if (isnan(x[i])) {
      for (int l = 0; l < d; l++) s[l] = NAN;
      return NAN;
    }
  }
  for (int k0 = 0; k0 < K; k0 += BLK) {
    int k1 = K - k0 < BLK ? K : k0 + BLK;
    double bmax = -INFINITY;
    for (int k = k0; k < k1; k++) {
      double *uk = u + (size_t)(k - k0) * (size_t)d;
      if (g->lognorm[k] == -INFINITY) {
        a[k - k0] = -INFINITY;
        continue;
      }
      const double *mk = g->means + (size_t)k * (size_t)d, *P = g->prec + (size_t)k * (size_t)d * (size_t)d;
      double q = 0;
      for (int i = 0; i < d; i++) {
        double t = 0;
        for (int l = 0; l < d; l++) t += P[i * d + l] * (x[l] - mk[l]);
        uk[i] = t;
        q += (x[i] - mk[i]) * t;
      }
      double ak = g->lognorm[k] - 0.5 * q;
      a[k - k0] = ak;
      if (ak > bmax) bmax = ak;
    }
    if (bmax == -INFINITY) continue;
    if (bmax > m) {
      double sc = exp(m - bmax);
      sum *= sc;
      for (int i = 0; i < d; i++) s[i] *= sc;
      m = bmax;
    }
    for (int k = k0; k < k1; k++) {
      double e = exp(a[k - k0] - m);
      if (e == 0) continue;
      const double *uk = u + (size_t)(k - k0) * (size_t)d;
      sum += e;
      for (int i = 0; i < d; i++) s[i] -= e * uk[i];
    }
  }
  for (int i = 0; i < d; i++) s[i] /= sum;
  return m + log(sum);
}

/* One pass at one point for an affine mixture alone: v[d] = sum_k r_k (A_k x
 * + c_k), with the responsibilities r_k folded into the same online
 * log-sum-exp as pass1 (one exp per component). Returns log p. ws: BLK*(d+1). */
static double mix1(const fl_gmm *g, const double *A, const double *c, const double *x, double *ws, double *v)
{
  const int d = g->d, K = g->k;
  double *a = ws, *tv = ws + BLK;
  double m = -INFINITY, sum = 0;
  for (int i = 0; i < d; i++) {
    v[i] = 0;
    if (isnan(x[i])) {
      for (int l = 0; l < d; l++) v[l] = NAN;
      return NAN;
    }
  }
  for (int k0 = 0; k0 < K; k0 += BLK) {
    int k1 = K - k0 < BLK ? K : k0 + BLK;
    double bmax = -INFINITY;
    for (int k = k0; k < k1; k++) {
      if (g->lognorm[k] == -INFINITY) {
        a[k - k0] = -INFINITY;
        continue;
      }
      const double *mk = g->means + (size_t)k * (size_t)d, *P = g->prec + (size_t)k * (size_t)d * (size_t)d;
      const double *Ak = A + (size_t)k * (size_t)d * (size_t)d, *ck = c + (size_t)k * (size_t)d;
      double *tk = tv + (size_t)(k - k0) * (size_t)d, q = 0;
      for (int i = 0; i < d; i++) {
        double t = 0, w = ck[i];
        for (int l = 0; l < d; l++) {
          t += P[i * d + l] * (x[l] - mk[l]);
          w += Ak[i * d + l] * x[l];
        }
        q += (x[i] - mk[i]) * t;
        tk[i] = w;
      }
      double ak = g->lognorm[k] - 0.5 * q;
      a[k - k0] = ak;
      if (ak > bmax) bmax = ak;
    }
    if (bmax == -INFINITY) continue;
    if (bmax > m) {
      double sc = exp(m - bmax);
      sum *= sc;
      for (int i = 0; i < d; i++) v[i] *= sc;
      m = bmax;
    }
    for (int k = k0; k < k1; k++) {
      double e = exp(a[k - k0] - m);
      if (e == 0) continue;
      const double *tk = tv + (size_t)(k - k0) * (size_t)d;
      sum += e;
      for (int i = 0; i < d; i++) v[i] += e * tk[i];
    }
  }
  for (int i = 0; i < d; i++) v[i] /= sum;
  return m + log(sum);
}

/* Responsibility r_k at x given log p = lp; u[d] gets P_k (x - m_k). */
static double resp(const fl_gmm *g, int k, const double *x, double lp, double *u)
{
  const int d = g->d;
  if (g->lognorm[k] == -INFINITY) return 0;
  const double *mk = g->means + (size_t)k * (size_t)d, *P = g->prec + (size_t)k * (size_t)d * (size_t)d;
  double q = 0;
  for (int i = 0; i < d; i++) {
    double t = 0;
    for (int l = 0; l < d; l++) t += P[i * d + l] * (x[l] - mk[l]);
    u[i] = t;
    q += (x[i] - mk[i]) * t;
  }
  return exp(g->lognorm[k] - 0.5 * q - lp);
}

/* Pass 2: Hessian H[d*d] and Laplacian of log p given lp and s. u: d scratch. */
static void pass2(const fl_gmm *g, const double *x, double lp, const double *s, double *u, double *H,
                  double *lap)
{
  const int d = g->d, K = g->k;
  double L = 0;
  if (H) memset(H, 0, sizeof(double) * (size_t)d * (size_t)d);
  for (int k = 0; k < K; k++) {
    double r = resp(g, k, x, lp, u);
    if (r == 0) continue;
    for (int i = 0; i < d; i++) u[i] = -u[i] - s[i]; /* s_k - s */
    const double *P = g->prec + (size_t)k * (size_t)d * (size_t)d;
    if (H)
      for (int i = 0; i < d; i++)
        for (int l = 0; l < d; l++) H[i * d + l] += r * (u[i] * u[l] - P[i * d + l]);
    if (lap) {
      double q = 0;
      for (int i = 0; i < d; i++) q += u[i] * u[i];
      L += r * (q - g->trprec[k]);
    }
  }
  if (lap) *lap = L;
  if (H) /* exact symmetry */
    for (int i = 0; i < d; i++)
      for (int l = 0; l < i; l++) H[i * d + l] = H[l * d + i] = 0.5 * (H[i * d + l] + H[l * d + i]);
}

/* d = 2, log p and score only: the hot path. */
static void point2(const fl_gmm *g, const double *x, double *logp, double *score)
{
  const int K = g->k;
  const double x0 = x[0], x1 = x[1];
  double a[BLK], u0[BLK], u1[BLK];
  double m = -INFINITY, sum = 0, s0 = 0, s1 = 0;
  if (isnan(x0) || isnan(x1)) {
    if (logp) *logp = NAN;
    if (score) score[0] = score[1] = NAN;
    return;
  }
  for (int k0 = 0; k0 < K; k0 += BLK) {
    int nb = K - k0 < BLK ? K - k0 : BLK;
    const double *mk = g->means + 2 * k0, *P = g->prec + 4 * k0, *ln = g->lognorm + k0;
    double bmax = -INFINITY;
    for (int j = 0; j < nb; j++) {
      double d0 = x0 - mk[2 * j], d1 = x1 - mk[2 * j + 1];
      double p00 = P[4 * j], p01 = P[4 * j + 1], p11 = P[4 * j + 3];
      double v0 = p00 * d0 + p01 * d1, v1 = p01 * d0 + p11 * d1;
      u0[j] = v0;
      u1[j] = v1;
      double ak = ln[j] - 0.5 * (d0 * v0 + d1 * v1);
      a[j] = ak;
      bmax = ak > bmax ? ak : bmax;
    }
    if (bmax == -INFINITY) continue;
    if (bmax > m) {
      double sc = exp(m - bmax);
      sum *= sc;
      s0 *= sc;
      s1 *= sc;
      m = bmax;
    }
    for (int j = 0; j < nb; j++) {
      double e = exp(a[j] - m);
      sum += e;
      s0 -= e * u0[j];
      s1 -= e * u1[j];
    }
  }
  if (logp) *logp = m + log(sum);
  if (score) {
    score[0] = s0 / sum;
    score[1] = s1 / sum;
  }
}

fl_status fl_gmm_eval(const fl_gmm *g, size_t n, const double *x, double *logp, double *score,
                      double *hess, double *lap)
{
  const int d = g->d;
  const size_t D = (size_t)d;
  long long nn = (long long)n;
  (void)nn;
  if (!logp && !score && !hess && !lap) return FL_OK;
  if (d == 2 && !hess && !lap) {
    FL_PRAGMA(omp parallel for schedule(static) if (n > PAR_MIN))
    for (long long i = 0; i < nn; i++)
      point2(g, x + 2 * i, logp ? logp + i : NULL, score ? score + 2 * i : NULL);
    return FL_OK;
  }
  int fail = 0;
  size_t wsn = BLK * (D + 1) + 2 * D;
  FL_PRAGMA(omp parallel if (n > PAR_MIN))
  {
    double *ws = malloc(sizeof(double) * wsn);
    if (!ws) {
      FL_PRAGMA(omp atomic write)
      fail = 1;
    }
    FL_PRAGMA(omp for schedule(static))
    for (long long i = 0; i < nn; i++) {
      if (!ws) continue;
      const double *xi = x + (size_t)i * D;
      double *s = score ? score + (size_t)i * D : ws + BLK * (D + 1);
      double lp = pass1(g, xi, ws, s);
      if (logp) logp[i] = lp;
      if (hess || lap)
        pass2(g, xi, lp, s, ws + BLK * (D + 1) + D, hess ? hess + (size_t)i * D * D : NULL, lap ? lap + i : NULL);
    }
    free(ws);
  }
  if (fail) return fl_fail(FL_ENOMEM, "out of memory for mixture workspace");
  return FL_OK;
}

fl_status fl_gmm_log_density(const fl_gmm *g, size_t n, const double *x, double *logp)
{
  return fl_gmm_eval(g, n, x, logp, NULL, NULL, NULL);
}

fl_status fl_gmm_density(const fl_gmm *g, size_t n, const double *x, double *p)
{
  fl_status st = fl_gmm_eval(g, n, x, p, NULL, NULL, NULL);
  if (st) return st;
  for (size_t i = 0; i < n; i++) p[i] = exp(p[i]);
  return FL_OK;
}

fl_status fl_gmm_score(const fl_gmm *g, size_t n, const double *x, double *score, double *logp)
{
  return fl_gmm_eval(g, n, x, logp, score, NULL, NULL);
}

fl_status fl_gmm_mix_affine(const fl_gmm *g, const double *A, const double *c, size_t n,
                            const double *x, double *v, double *J, double *div)
{
  const int d = g->d, K = g->k;
  const size_t D = (size_t)d, DD = D * D;
  long long nn = (long long)n;
  if (!v && !J && !div) return FL_OK;
  int fail = 0;
  size_t wsn = BLK * (D + 1) + 4 * D;
  FL_PRAGMA(omp parallel if (n > PAR_MIN))
  {
    double *ws = malloc(sizeof(double) * wsn);
    if (!ws) {
      FL_PRAGMA(omp atomic write)
      fail = 1;
    }
    FL_PRAGMA(omp for schedule(static))
    for (long long i = 0; i < nn; i++) {
      if (!ws) continue;
      const double *xi = x + (size_t)i * D;
      double *s = ws + BLK * (D + 1), *u = s + D, *vk = u + D, *vv = v ? v + (size_t)i * D : vk + D;
      if (!J && !div) { /* the values alone: one pass, one exp per component */
        mix1(g, A, c, xi, ws, vv);
        continue;
      }
      double lp = pass1(g, xi, ws, s);
      for (size_t a = 0; a < D; a++) vv[a] = 0;
      for (int k = 0; k < K; k++) {
        double r = resp(g, k, xi, lp, u);
        if (r == 0) continue;
        const double *Ak = A + (size_t)k * DD, *ck = c + (size_t)k * D;
        for (size_t a = 0; a < D; a++) {
          double t = ck[a];
          for (size_t b = 0; b < D; b++) t += Ak[a * D + b] * xi[b];
          vv[a] += r * t;
        }
      }
      if (isnan(lp))
        for (size_t a = 0; a < D; a++) vv[a] = NAN;
      if (!J && !div) continue;
      double *Ji = J ? J + (size_t)i * DD : NULL, dv = 0;
      if (Ji) memset(Ji, 0, sizeof(double) * DD);
      for (int k = 0; k < K; k++) {
        double r = resp(g, k, xi, lp, u);
        if (r == 0) continue;
        const double *Ak = A + (size_t)k * DD, *ck = c + (size_t)k * D;
        for (size_t a = 0; a < D; a++) {
          double t = ck[a];
          for (size_t b = 0; b < D; b++) t += Ak[a * D + b] * xi[b];
          vk[a] = t - vv[a];   /* v_k - v */
          u[a] = -u[a] - s[a]; /* s_k - s */
        }
        if (Ji)
          for (size_t a = 0; a < D; a++)
            for (size_t b = 0; b < D; b++) Ji[a * D + b] += r * (Ak[a * D + b] + vk[a] * u[b]);
        for (size_t a = 0; a < D; a++) dv += r * (Ak[a * D + a] + vk[a] * u[a]);
      }
      if (div) div[i] = isnan(lp) ? NAN : dv;
    }
    free(ws);
  }
  if (fail) return fl_fail(FL_ENOMEM, "out of memory for mixture workspace");
  return FL_OK;
}

void fl_gmm_moments(const fl_gmm *g, double *mean, double *cov)
{
  const size_t D = (size_t)g->d, DD = D * D;
  for (size_t a = 0; a < D; a++) mean[a] = 0;
  for (size_t a = 0; a < DD; a++) cov[a] = 0;
  for (int k = 0; k < g->k; k++) {
    double w = g->weights[k];
    const double *m = g->means + (size_t)k * D;
    for (size_t a = 0; a < D; a++) mean[a] += w * m[a];
  }
  for (int k = 0; k < g->k; k++) {
    double w = g->weights[k];
    const double *m = g->means + (size_t)k * D, *S = g->covs + (size_t)k * DD;
    for (size_t a = 0; a < D; a++)
      for (size_t b = 0; b < D; b++) cov[a * D + b] += w * (S[a * D + b] + (m[a] - mean[a]) * (m[b] - mean[b]));
  }
}

fl_status fl_gmm_sample(const fl_gmm *g, size_t n, uint64_t seed, uint64_t stream, double *out)
{
  const int K = g->k;
  const size_t D = (size_t)g->d, DD = D * D;
  size_t total;
  if (fl_mul_overflow(n, D, &total) || total >= ((uint64_t)1 << 62))
    return fl_fail(FL_EINVAL, "too many samples (%zu)", n);
  double *cw = malloc(sizeof(double) * (size_t)K);
  if (!cw) return fl_fail(FL_ENOMEM, "out of memory for sampling");
  double acc = 0;
  int last = 0;
  for (int k = 0; k < K; k++) {
    acc += g->weights[k];
    cw[k] = acc;
    if (g->weights[k] > 0) last = k;
  }
  for (int k = last; k < K; k++) cw[k] = 2.0; /* u < 1 always stops at the last positive weight */
  fl_rng_fill_normal(seed, stream, 0, total, out);
  long long nn = (long long)n;
  FL_PRAGMA(omp parallel for schedule(static) if (n > PAR_MIN))
  for (long long i = 0; i < nn; i++) {
    double u = fl_rng_uniform(seed, stream, ((uint64_t)1 << 62) + (uint64_t)i);
    int lo = 0, hi = K - 1; /* smallest k with u < cw[k] */
    while (lo < hi) {
      int mid = lo + (hi - lo) / 2;
      if (u < cw[mid]) hi = mid;
      else lo = mid + 1;
    }
    double *xi = out + (size_t)i * D, z[16];
    const double *L = g->chol + (size_t)lo * DD, *m = g->means + (size_t)lo * D;
    /* x = m + L z, in place from the last row (L lower triangular) */
    if (D <= 16) {
      memcpy(z, xi, sizeof(double) * D);
      for (size_t a = 0; a < D; a++) {
        double t = m[a];
        for (size_t b = 0; b <= a; b++) t += L[a * D + b] * z[b];
        xi[a] = t;
      }
    } else {
      for (size_t a = D; a-- > 0;) {
        double t = m[a];
        for (size_t b = 0; b <= a; b++) t += L[a * D + b] * xi[b];
        xi[a] = t;
      }
    }
  }
  free(cw);
  return FL_OK;
}

/* ------------------------------------------------------------ fields */

static fl_status lf_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)t;
  return fl_gmm_eval(f->data, n, x, out, NULL, NULL, NULL);
}
static fl_status lf_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  (void)t;
  return fl_gmm_eval(f->data, n, x, NULL, J, NULL, NULL);
}
static fl_status lf_hess(fl_field *f, size_t n, const double *x, double t, double *H)
{
  (void)t;
  return fl_gmm_eval(f->data, n, x, NULL, NULL, H, NULL);
}
static fl_status lf_lap(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)t;
  return fl_gmm_eval(f->data, n, x, NULL, NULL, NULL, out);
}
static void gmm_destroy(void *data) { fl_gmm_release(data); }

static const fl_field_ops logp_ops = {
  .kind = "gmm_logp", .eval = lf_eval, .jac = lf_jac, .hess = lf_hess, .lap = lf_lap, .destroy = gmm_destroy,
};
static const fl_field_ops score_ops = {
  .kind = "gmm_score", .eval = lf_jac, .jac = lf_hess, .div = lf_lap, .destroy = gmm_destroy,
};

fl_status fl_gmm_logp_field(fl_gmm *g, fl_field **out)
{
  return fl_field_new(&logp_ops, g->d, 1, 0, 1, fl_gmm_retain(g), out);
}

fl_status fl_gmm_score_field(fl_gmm *g, fl_field **out)
{
  return fl_field_new(&score_ops, g->d, g->d, 0, 1, fl_gmm_retain(g), out);
}
