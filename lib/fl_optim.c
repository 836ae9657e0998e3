#include "config.h"
#include "fl_optim.h"
#include "fl_rng.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Element counts above which loops run in parallel: these are memory bound
 * (about 1 ns an element), and waking a sleeping thread costs more below. */
#define PAR_MIN ((size_t)1 << 16)

/* PAR_SIMD(cond, loop): the for statement `loop` vectorised, and in parallel
 * when cond holds; below, no parallel region at all (even a one-thread
 * region costs a futex system call in libgomp). */
#ifdef _OPENMP
#define PAR_PRAGMA(x) _Pragma(#x)
#define PAR_SIMD(cond, ...)                                                                                        \
  do {                                                                                                             \
    if (cond) {                                                                                                    \
      PAR_PRAGMA(omp parallel for simd schedule(static))                                                           \
      __VA_ARGS__                                                                                                  \
    } else {                                                                                                       \
      PAR_PRAGMA(omp simd)                                                                                         \
      __VA_ARGS__                                                                                                  \
    }                                                                                                              \
  } while (0)
#else
#define PAR_SIMD(cond, ...) do { __VA_ARGS__ } while (0)
#endif

fl_optim_config fl_optim_defaults(void)
{
  fl_optim_config c = {1e-3, 0.9, 0.999, 1e-8, 0.0, 0.0};
  return c;
}

static fl_status check_config(fl_optim_kind kind, const fl_optim_config *c)
{
  if (!(c->lr > 0) || !isfinite(c->lr)) return fl_fail(FL_EINVAL, "learning rate must be positive and finite, not %g", c->lr);
  if (!(c->weight_decay >= 0) || !isfinite(c->weight_decay))
    return fl_fail(FL_EINVAL, "weight_decay must be >= 0, not %g", c->weight_decay);
  if (kind == FL_OPTIM_SGD) {
    if (!(c->momentum >= 0 && c->momentum < 1)) return fl_fail(FL_EINVAL, "momentum must be in [0, 1), not %g", c->momentum);
  } else {
    if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
      return fl_fail(FL_EINVAL, "betas must be in [0, 1), not (%g, %g)", c->beta1, c->beta2);
    if (!(c->eps > 0)) return fl_fail(FL_EINVAL, "eps must be positive, not %g", c->eps);
  }
  return FL_OK;
}

fl_status fl_optim_new(fl_optim **out, fl_optim_kind kind, size_t n, const fl_optim_config *cfg)
{
  *out = NULL;
  if (kind != FL_OPTIM_SGD && kind != FL_OPTIM_ADAM && kind != FL_OPTIM_ADAMW)
    return fl_fail(FL_EINVAL, "unknown optimizer kind %d", (int)kind);
  fl_optim_config c = cfg ? *cfg : fl_optim_defaults();
  fl_status st = check_config(kind, &c);
  if (st) return st;
  fl_optim *o = calloc(1, sizeof *o);
  if (!o) return fl_fail(FL_ENOMEM, "optimizer");
  o->kind = kind;
  o->cfg = c;
  o->n = n;
  o->m = fl_calloc(n ? n : 1, sizeof(double));
  if (kind != FL_OPTIM_SGD) o->v = fl_calloc(n ? n : 1, sizeof(double));
  if (!o->m || (kind != FL_OPTIM_SGD && !o->v)) {
    fl_optim_free(o);
    return fl_fail(FL_ENOMEM, "optimizer state of %zu parameters", n);
  }
  *out = o;
  return FL_OK;
}

void fl_optim_free(fl_optim *o)
{
  if (!o) return;
  size_t bytes = (o->n ? o->n : 1) * sizeof(double);
  if (o->m) fl_free(o->m, bytes);
  if (o->v) fl_free(o->v, bytes);
  free(o);
}

/* The Adam update over n elements (no threads). With AVX2 at hand the same
 * loop runs 4 lanes wide instead of SSE2's 2: the same operations on each
 * element (no FMA: contraction is off and the target has none), so the
 * same numbers bit for bit. */
#define ADAM_LOOP                                                                                                  \
  for (size_t i = 0; i < n; i++) {                                                                                 \
    double gi = g[i] + l2 * x[i];                                                                                  \
    double mi = b1 * m[i] + (1 - b1) * gi;                                                                         \
    double vi = b2 * v[i] + (1 - b2) * gi * gi;                                                                    \
    m[i] = mi;                                                                                                     \
    v[i] = vi;                                                                                                     \
    x[i] = x[i] * decay - a * mi / (sqrt(vi) * rb2 + eps);                                                         \
  }
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ADAM_AVX2 1
__attribute__((target("avx2"))) static void adam_avx2(size_t n, double *restrict x, const double *restrict g,
                                                      double *restrict m, double *restrict v, double l2, double b1,
                                                      double b2, double decay, double a, double rb2, double eps)
{
#ifdef _OPENMP
#pragma omp simd
#endif
  ADAM_LOOP
}
#endif

fl_status fl_optim_step(fl_optim *o, double *x, const double *g, double lr)
{
  const size_t n = o->n;
  const fl_optim_config c = o->cfg;
  if (!(lr > 0)) lr = c.lr;
  if (!isfinite(lr)) return fl_fail(FL_EINVAL, "learning rate must be finite, not %g", lr);
  double s = 0; /* 0, or NaN when some g[i] is not finite */
  if (n > PAR_MIN) {
#pragma omp parallel for simd reduction(+ : s)
    for (size_t i = 0; i < n; i++) s += g[i] * 0.0;
  } else {
#pragma omp simd reduction(+ : s)
    for (size_t i = 0; i < n; i++) s += g[i] * 0.0;
  }
  if (!isfinite(s)) return fl_fail(FL_ENAN, "non-finite gradient at step %llu", (unsigned long long)o->step + 1);
  double *m = o->m, *v = o->v;
  const double wd = c.weight_decay;
  if (o->kind == FL_OPTIM_SGD) {
    const double mu = c.momentum;
    PAR_SIMD(n > PAR_MIN, for (size_t i = 0; i < n; i++) {
      double gi = g[i] + wd * x[i];
      double b = mu * m[i] + gi;
      m[i] = b;
      x[i] -= lr * b;
    });
  } else {
    const uint64_t t = o->step + 1;
    const double b1 = c.beta1, b2 = c.beta2, eps = c.eps;
    const double bc1 = 1 - pow(b1, (double)t), bc2 = 1 - pow(b2, (double)t);
    const double a = lr / bc1, rb2 = 1 / sqrt(bc2);
    const double l2 = o->kind == FL_OPTIM_ADAM ? wd : 0, decay = o->kind == FL_OPTIM_ADAMW ? 1 - lr * wd : 1;
#ifdef ADAM_AVX2
    if (n <= PAR_MIN && __builtin_cpu_supports("avx2")) {
      adam_avx2(n, x, g, m, v, l2, b1, b2, decay, a, rb2, eps);
      o->step++;
      return FL_OK;
    }
#endif
    PAR_SIMD(n > PAR_MIN, for (size_t i = 0; i < n; i++) {
      double gi = g[i] + l2 * x[i];
      double mi = b1 * m[i] + (1 - b1) * gi;
      double vi = b2 * v[i] + (1 - b2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      x[i] = x[i] * decay - a * mi / (sqrt(vi) * rb2 + eps);
    });
  }
  o->step++;
  return FL_OK;
}

double fl_optim_norm(const double *g, size_t n)
{
  double mx = 0;
  for (size_t i = 0; i < n; i++) {
    double a = fabs(g[i]);
    if (a > mx || a != a) mx = a;
  }
  if (mx == 0 || !isfinite(mx)) return mx;
  double s = 0, r = 1 / mx;
  if (n > PAR_MIN) {
#pragma omp parallel for reduction(+ : s)
    for (size_t i = 0; i < n; i++) s += (g[i] * r) * (g[i] * r);
  } else {
    for (size_t i = 0; i < n; i++) s += (g[i] * r) * (g[i] * r);
  }
  return mx * sqrt(s);
}

double fl_optim_clip(double *g, size_t n, double maxnorm)
{
  double nrm = fl_optim_norm(g, n);
  if (isfinite(nrm) && nrm > maxnorm && maxnorm > 0) {
    double f = maxnorm / nrm;
    PAR_SIMD(n > PAR_MIN, for (size_t i = 0; i < n; i++) g[i] *= f;);
  }
  return nrm;
}

void fl_optim_ema(double *ema, const double *x, size_t n, double decay)
{
  const double w = 1 - decay;
  PAR_SIMD(n > PAR_MIN, for (size_t i = 0; i < n; i++) ema[i] = decay * ema[i] + w * x[i];);
}

double fl_optim_lr(double lr, uint64_t step, uint64_t warmup, uint64_t total, int cosine, double min_lr)
{
  if (warmup > 0 && step < warmup) return lr * (double)(step + 1) / (double)warmup;
  if (!cosine || total <= warmup) return lr;
  double p = (double)(step - warmup) / (double)(total - warmup);
  if (p > 1) p = 1;
  return min_lr + 0.5 * (lr - min_lr) * (1 + cos(3.14159265358979323846 * p));
}

fl_status fl_optim_sample_rows(const double *data, size_t nrows, size_t d, size_t b, uint64_t seed,
                               uint64_t stream, double *out)
{
  if (nrows == 0) return fl_fail(FL_EINVAL, "no data rows to draw a batch from");
  for (size_t k = 0; k < b; k++) { /* memory bound: one thread */
    size_t r = (size_t)(fl_rng_uniform(seed, stream, k) * (double)nrows);
    if (r >= nrows) r = nrows - 1;
    memcpy(out + k * d, data + r * d, d * sizeof(double));
  }
  return FL_OK;
}
