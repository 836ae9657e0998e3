/* fl_diffusion: schedules and noised mixtures (see fl_diffusion.h). */
#include "config.h"
#include "fl_diffusion.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846264338327950288

void fl_schedule_default(fl_schedule_kind kind, fl_schedule *s)
{
  s->kind = kind;
  s->p0 = s->p1 = 0;
  s->t_min = 0;
  s->t_max = 1;
  switch (kind) {
  case FL_SCHED_VP: s->p0 = 0.1; s->p1 = 20; s->t_min = 1e-5; break;
  case FL_SCHED_VE: s->p0 = 0.01; s->p1 = 50; break;
  case FL_SCHED_EDM: s->t_min = 0.002; s->t_max = 80; break;
  case FL_SCHED_LINEAR:
  case FL_SCHED_COSINE: break;
  }
}

const char *fl_schedule_name(const fl_schedule *s)
{
  switch (s->kind) {
  case FL_SCHED_VP: return "vp";
  case FL_SCHED_VE: return "ve";
  case FL_SCHED_EDM: return "edm";
  case FL_SCHED_LINEAR: return "linear";
  case FL_SCHED_COSINE: return "cosine";
  }
  return "?";
}

fl_status fl_schedule_check(const fl_schedule *s)
{
  const char *nm = fl_schedule_name(s);
  if (!isfinite(s->t_min) || !isfinite(s->t_max) || !(s->t_min >= 0) || !(s->t_min < s->t_max))
    return fl_fail(FL_EINVAL, "%s schedule: need 0 <= t_min < t_max (got t_min = %g, t_max = %g)", nm, s->t_min,
                   s->t_max);
  switch (s->kind) {
  case FL_SCHED_VP:
    if (!isfinite(s->p0) || !isfinite(s->p1) || !(s->p0 >= 0) || !(s->p1 >= s->p0) || !(s->p1 > 0))
      return fl_fail(FL_EINVAL, "vp schedule: need 0 <= b0 <= b1 and b1 > 0 (got b0 = %g, b1 = %g)", s->p0, s->p1);
    break;
  case FL_SCHED_VE:
    if (!isfinite(s->p0) || !isfinite(s->p1) || !(s->p0 > 0) || !(s->p1 > s->p0))
      return fl_fail(FL_EINVAL, "ve schedule: need 0 < smin < smax (got smin = %g, smax = %g)", s->p0, s->p1);
    break;
  case FL_SCHED_LINEAR:
  case FL_SCHED_COSINE:
    if (s->t_max > 1)
      return fl_fail(FL_EINVAL, "%s schedule: t_max must be at most 1 (got %g)", nm, s->t_max);
    break;
  case FL_SCHED_EDM: break;
  }
  return FL_OK;
}

/* VP: log alpha and beta */
static double vp_logalpha(const fl_schedule *s, double t) { return -0.25 * t * t * (s->p1 - s->p0) - 0.5 * t * s->p0; }
static double vp_beta(const fl_schedule *s, double t) { return s->p0 + t * (s->p1 - s->p0); }

void fl_schedule_coefs(const fl_schedule *s, double t, double *alpha, double *sigma, double *dalpha,
                       double *dsigma, double *aad, double *ssd)
{
  double a = 1, sg = 0, da = 0, ds = 0, ss = 0;
  switch (s->kind) {
  case FL_SCHED_VP: {
    double la = vp_logalpha(s, t), b = vp_beta(s, t);
    a = exp(la);
    sg = sqrt(-expm1(2 * la));
    da = -0.5 * b * a;
    ss = 0.5 * b * a * a; /* sigma sigma' = -alpha alpha' */
    ds = ss / sg;
    break;
  }
  case FL_SCHED_VE: {
    double lr = log(s->p1 / s->p0);
    sg = s->p0 * exp(t * lr);
    ds = sg * lr;
    ss = sg * ds;
    break;
  }
  case FL_SCHED_EDM: sg = t; ds = 1; ss = t; break;
  case FL_SCHED_LINEAR: a = 1 - t; sg = t; da = -1; ds = 1; ss = t; break;
  case FL_SCHED_COSINE: {
    double c = 0.5 * PI * t;
    a = cos(c);
    sg = sin(c);
    da = -0.5 * PI * sg;
    ds = 0.5 * PI * a;
    ss = sg * ds;
    break;
  }
  }
  if (alpha) *alpha = a;
  if (sigma) *sigma = sg;
  if (dalpha) *dalpha = da;
  if (dsigma) *dsigma = ds;
  if (aad) *aad = a * da;
  if (ssd) *ssd = ss;
}

static double t_of_logsnr(const fl_schedule *s, double lam)
{
  switch (s->kind) {
  case FL_SCHED_VP: {
    /* L = log alpha = -1/2 log(1 + e^{-2 lambda}), then the stable root of
     * (b1-b0)/4 t^2 + b0/2 t + L = 0 */
    double L = lam >= 0 ? -0.5 * log1p(exp(-2 * lam)) : lam - 0.5 * log1p(exp(2 * lam));
    double db = s->p1 - s->p0;
    return -4 * L / (s->p0 + sqrt(s->p0 * s->p0 - 4 * db * L));
  }
  case FL_SCHED_VE: return (-lam - log(s->p0)) / log(s->p1 / s->p0);
  case FL_SCHED_EDM: return exp(-lam);
  case FL_SCHED_LINEAR: return lam >= 0 ? exp(-lam) / (1 + exp(-lam)) : 1 / (1 + exp(lam));
  case FL_SCHED_COSINE: return (2 / PI) * atan(exp(-lam));
  }
  return NAN;
}

static double logsnr(const fl_schedule *s, double t)
{
  switch (s->kind) {
  case FL_SCHED_VP: {
    double la = vp_logalpha(s, t);
    return la - 0.5 * log(-expm1(2 * la));
  }
  case FL_SCHED_VE: return -log(s->p0) - t * log(s->p1 / s->p0);
  case FL_SCHED_EDM: return -log(t);
  case FL_SCHED_LINEAR: return log1p(-t) - log(t);
  case FL_SCHED_COSINE: return -log(tan(0.5 * PI * t));
  }
  return NAN;
}

double fl_schedule_eval(const fl_schedule *s, fl_schedule_fn fn, double t)
{
  double a, sg, da, ds;
  switch (fn) {
  case FL_SCHED_LOGSNR: return logsnr(s, t);
  case FL_SCHED_T_OF_LOGSNR: return t_of_logsnr(s, t);
  case FL_SCHED_F:
    switch (s->kind) {
    case FL_SCHED_VP: return -0.5 * vp_beta(s, t);
    case FL_SCHED_VE:
    case FL_SCHED_EDM: return 0;
    case FL_SCHED_LINEAR: return -1 / (1 - t);
    case FL_SCHED_COSINE: return -0.5 * PI * tan(0.5 * PI * t);
    }
    return NAN;
  case FL_SCHED_G2:
    switch (s->kind) {
    case FL_SCHED_VP: return vp_beta(s, t);
    case FL_SCHED_VE: {
      double lr = log(s->p1 / s->p0), sg2 = s->p0 * exp(t * lr);
      return 2 * sg2 * sg2 * lr;
    }
    case FL_SCHED_EDM: return 2 * t;
    case FL_SCHED_LINEAR: return 2 * t / (1 - t);
    case FL_SCHED_COSINE: return PI * tan(0.5 * PI * t);
    }
    return NAN;
  default: break;
  }
  fl_schedule_coefs(s, t, &a, &sg, &da, &ds, NULL, NULL);
  switch (fn) {
  case FL_SCHED_ALPHA: return a;
  case FL_SCHED_SIGMA: return sg;
  case FL_SCHED_DALPHA: return da;
  case FL_SCHED_DSIGMA: return ds;
  default: return NAN;
  }
}

void fl_schedule_map(const fl_schedule *s, fl_schedule_fn fn, size_t n, const double *in, double *out)
{
  for (size_t i = 0; i < n; i++) out[i] = fl_schedule_eval(s, fn, in[i]);
}

int fl_param_from_name(const char *name, fl_param *out)
{
  static const char *const names[] = {"eps", "x0", "score", "velocity"};
  for (int i = 0; i < 4; i++)
    if (strcmp(name, names[i]) == 0) {
      *out = (fl_param)i;
      return 0;
    }
  return -1;
}

static const char *param_name(fl_param p)
{
  static const char *const names[] = {"eps", "x0", "score", "velocity"};
  return names[p];
}

fl_status fl_schedule_convert(const fl_schedule *s, double t, fl_param from, fl_param to, size_t n,
                              const double *value, const double *x, double *out)
{
  double a, sg, da, ds;
  fl_schedule_coefs(s, t, &a, &sg, &da, &ds, NULL, NULL);
  if (!isfinite(a) || !isfinite(sg) || !isfinite(da) || !isfinite(ds))
    return fl_fail(FL_ERANGE, "%s schedule at t = %g has no finite alpha, sigma and derivatives", fl_schedule_name(s), t);
  double det = a * ds - sg * da;
  if (from == to) {
    memmove(out, value, sizeof(double) * n);
    return FL_OK;
  }
  /* what each conversion divides by */
  int need_a = 0, need_s = 0, need_det = 0;
  switch (from) {
  case FL_PARAM_EPS: need_a = to != FL_PARAM_SCORE; need_s = to == FL_PARAM_SCORE; break;
  case FL_PARAM_X0: need_s = 1; break;
  case FL_PARAM_SCORE: need_a = to == FL_PARAM_X0 || (to == FL_PARAM_VELOCITY && da != 0); break;
  case FL_PARAM_VELOCITY: need_det = 1; need_s = to == FL_PARAM_SCORE; break;
  }
  if ((need_a && a == 0) || (need_s && sg == 0) || (need_det && det == 0))
    return fl_fail(FL_ERANGE, "%s schedule at t = %g: converting %s to %s divides by %s = 0", fl_schedule_name(s), t,
                   param_name(from), param_name(to), need_a && a == 0 ? "alpha" : need_s && sg == 0 ? "sigma" : "alpha sigma' - sigma alpha'");
  for (size_t i = 0; i < n; i++) {
    double v = value[i], xi = x[i], eps = 0, x0 = 0;
    switch (from) {
    case FL_PARAM_EPS: eps = v; x0 = need_a ? (xi - sg * v) / a : 0; break;
    case FL_PARAM_X0: x0 = v; eps = (xi - a * v) / sg; break;
    case FL_PARAM_SCORE: eps = -sg * v; x0 = need_a ? (xi + sg * sg * v) / a : 0; break;
    case FL_PARAM_VELOCITY: x0 = (ds * xi - sg * v) / det; eps = (a * v - da * xi) / det; break;
    }
    double r = 0;
    switch (to) {
    case FL_PARAM_EPS: r = eps; break;
    case FL_PARAM_X0: r = x0; break;
    case FL_PARAM_SCORE: r = from == FL_PARAM_X0 ? (a * x0 - xi) / (sg * sg) : -eps / sg; break;
    case FL_PARAM_VELOCITY: r = (da != 0 ? da * x0 : 0) + ds * eps; break;
    }
    out[i] = r;
  }
  return FL_OK;
}

/* ------------------------------------------------------------ noised mixtures */

static fl_status noise_at(const fl_schedule *s, const fl_gmm *g, double t, fl_gmm **out)
{
  double a, sg;
  fl_schedule_coefs(s, t, &a, &sg, NULL, NULL, NULL, NULL);
  if (!isfinite(a) || !isfinite(sg) || !(sg >= 0) || (a == 0 && sg == 0)) {
    *out = NULL;
    return fl_fail(FL_ERANGE, "%s schedule at t = %g gives alpha = %g, sigma = %g: not a noise level", fl_schedule_name(s),
                   t, a, sg);
  }
  return fl_gmm_noised(g, a, sg, out);
}

fl_status fl_schedule_noised_gmm(const fl_schedule *s, const fl_gmm *g, double t, fl_gmm **out)
{
  return noise_at(s, g, t, out);
}

typedef struct noised {
  fl_schedule s;
  fl_gmm *g;
} noised;

static void noised_destroy(void *data)
{
  noised *nd = data;
  fl_gmm_release(nd->g);
  free(nd);
}

/* out: 0 logp, 1 score, 2 hess, 3 lap */
static fl_status noised_eval(fl_field *f, size_t n, const double *x, double t, int what, double *out)
{
  noised *nd = f->data;
  fl_gmm *gt;
  fl_status st = noise_at(&nd->s, nd->g, t, &gt);
  if (st) return st;
  st = fl_gmm_eval(gt, n, x, what == 0 ? out : NULL, what == 1 ? out : NULL, what == 2 ? out : NULL,
                   what == 3 ? out : NULL);
  fl_gmm_release(gt);
  return st;
}

static fl_status nl_eval(fl_field *f, size_t n, const double *x, double t, double *o) { return noised_eval(f, n, x, t, 0, o); }
static fl_status nl_score(fl_field *f, size_t n, const double *x, double t, double *o) { return noised_eval(f, n, x, t, 1, o); }
static fl_status nl_hess(fl_field *f, size_t n, const double *x, double t, double *o) { return noised_eval(f, n, x, t, 2, o); }
static fl_status nl_lap(fl_field *f, size_t n, const double *x, double t, double *o) { return noised_eval(f, n, x, t, 3, o); }

/* Velocity: v, J or div (which = 0, 1, 2). */
static fl_status velocity(fl_field *f, size_t n, const double *x, double t, int which, double *out)
{
  noised *nd = f->data;
  const fl_gmm *g = nd->g;
  fl_gmm *gt;
  fl_status st = noise_at(&nd->s, g, t, &gt);
  if (st) return st;
  double a, da, aad, ssd;
  fl_schedule_coefs(&nd->s, t, &a, NULL, &da, NULL, &aad, &ssd);
  const size_t K = (size_t)g->k, D = (size_t)g->d, DD = D * D;
  double *A = malloc(sizeof(double) * K * (DD + D + DD));
  if (!A) {
    fl_gmm_release(gt);
    return fl_fail(FL_ENOMEM, "out of memory for a noised velocity");
  }
  double *c = A + K * DD, *B = c + K * D;
  for (size_t k = 0; k < K; k++) {
    double *Bk = B + k * DD, *Ak = A + k * DD, *ck = c + k * D;
    const double *S = g->covs + k * DD, *Ci = gt->prec + k * DD, *m = g->means + k * D;
    for (size_t i = 0; i < DD; i++) Bk[i] = aad * S[i];
    for (size_t i = 0; i < D; i++) Bk[i * D + i] += ssd;
    for (size_t i = 0; i < D; i++)
      for (size_t j = 0; j < D; j++) {
        double r = 0;
        for (size_t l = 0; l < D; l++) r += Bk[i * D + l] * Ci[l * D + j];
        Ak[i * D + j] = r;
      }
    /* symmetric in exact arithmetic (B and C^-1 commute) */
    for (size_t i = 0; i < D; i++)
      for (size_t j = 0; j < i; j++) Ak[i * D + j] = Ak[j * D + i] = 0.5 * (Ak[i * D + j] + Ak[j * D + i]);
    for (size_t i = 0; i < D; i++) {
      double r = 0;
      for (size_t l = 0; l < D; l++) r += Ak[i * D + l] * m[l];
      ck[i] = da * m[i] - a * r;
    }
  }
  st = fl_gmm_mix_affine(gt, A, c, n, x, which == 0 ? out : NULL, which == 1 ? out : NULL, which == 2 ? out : NULL);
  free(A);
  fl_gmm_release(gt);
  return st;
}

static fl_status nv_eval(fl_field *f, size_t n, const double *x, double t, double *o) { return velocity(f, n, x, t, 0, o); }
static fl_status nv_jac(fl_field *f, size_t n, const double *x, double t, double *o) { return velocity(f, n, x, t, 1, o); }
static fl_status nv_div(fl_field *f, size_t n, const double *x, double t, double *o) { return velocity(f, n, x, t, 2, o); }

static const fl_field_ops logp_ops = {
  .kind = "noised_logp", .eval = nl_eval, .jac = nl_score, .hess = nl_hess, .lap = nl_lap, .destroy = noised_destroy,
};
static const fl_field_ops score_ops = {
  .kind = "noised_score", .eval = nl_score, .jac = nl_hess, .div = nl_lap, .destroy = noised_destroy,
};
static const fl_field_ops velocity_ops = {
  .kind = "noised_velocity", .eval = nv_eval, .jac = nv_jac, .div = nv_div, .destroy = noised_destroy,
};

fl_status fl_schedule_noised_field(const fl_schedule *s, fl_gmm *g, fl_noised_what what, fl_field **out)
{
  *out = NULL;
  fl_status st = fl_schedule_check(s);
  if (st) return st;
  noised *nd = malloc(sizeof *nd);
  if (!nd) return fl_fail(FL_ENOMEM, "out of memory for a noised field");
  nd->s = *s;
  nd->g = fl_gmm_retain(g);
  const fl_field_ops *ops = what == FL_NOISED_LOGP ? &logp_ops : what == FL_NOISED_SCORE ? &score_ops : &velocity_ops;
  return fl_field_new(ops, g->d, what == FL_NOISED_LOGP ? 1 : g->d, 1, 1, nd, out);
}
