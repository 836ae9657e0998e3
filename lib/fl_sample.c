#include "config.h"
#include "fl_sample.h"
#include "fl_rng.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

/* blocks of particles for the exponential-integrator loops */
#define BLOCK ((size_t)2048)

/* ================================================================ names */

static const char *const sampler_names[] = {"euler", "heun", "rk4", "rk45", "ddim", "dpm2", "dpm++1", "dpm++2m",
                                            "euler_maruyama", "ddpm", "pc", "edm"};

int fl_sampler_from_name(const char *name, fl_sampler *out)
{
  for (int i = 0; i < (int)(sizeof sampler_names / sizeof *sampler_names); i++)
    if (!strcmp(name, sampler_names[i])) {
      *out = (fl_sampler)i;
      return 0;
    }
  return -1;
}

const char *fl_sampler_name(fl_sampler s) { return sampler_names[s]; }

int fl_sampler_is_sde(fl_sampler s) { return s >= FL_SAMP_EM; }

int fl_tgrid_from_name(const char *name, fl_tgrid *out)
{
  if (!strcmp(name, "t")) *out = FL_TGRID_T;
  else if (!strcmp(name, "logsnr")) *out = FL_TGRID_LOGSNR;
  else if (!strcmp(name, "edm")) *out = FL_TGRID_EDM;
  else return -1;
  return 0;
}

/* ================================================================ time grids */

fl_status fl_sample_grid(const fl_schedule *s, fl_tgrid kind, size_t steps, double t_max, double t_min, double rho,
                         double *grid)
{
  if (steps == 0) return fl_fail(FL_EINVAL, "the number of steps must be positive");
  if (!isfinite(t_max) || !isfinite(t_min) || !(t_max > t_min))
    return fl_fail(FL_EINVAL, "sampling runs from t_max down to t_min: t_max (%g) must be greater than t_min (%g)",
                   t_max, t_min);
  if (t_min < 0) return fl_fail(FL_EINVAL, "t_min must be >= 0, not %g", t_min);
  const double N = (double)steps;
  if (kind == FL_TGRID_T) {
    for (size_t k = 0; k <= steps; k++) grid[k] = t_max + (t_min - t_max) * ((double)k / N);
  } else if (kind == FL_TGRID_LOGSNR) {
    double l0 = fl_schedule_eval(s, FL_SCHED_LOGSNR, t_max), l1 = fl_schedule_eval(s, FL_SCHED_LOGSNR, t_min);
    if (!isfinite(l0) || !isfinite(l1))
      return fl_fail(FL_EINVAL,
                     "a log-SNR grid needs a finite log-SNR at both ends (lambda(t_max = %g) = %g, lambda(t_min = %g) "
                     "= %g): move t_max below or t_min above the end of the path",
                     t_max, l0, t_min, l1);
    for (size_t k = 0; k <= steps; k++)
      grid[k] = fl_schedule_eval(s, FL_SCHED_T_OF_LOGSNR, l0 + (l1 - l0) * ((double)k / N));
  } else {
    if (!(rho > 0)) return fl_fail(FL_EINVAL, "the EDM grid exponent rho must be positive, not %g", rho);
    double smax = exp(-fl_schedule_eval(s, FL_SCHED_LOGSNR, t_max));
    double smin = exp(-fl_schedule_eval(s, FL_SCHED_LOGSNR, t_min));
    if (!isfinite(smax))
      return fl_fail(FL_EINVAL, "an EDM grid needs sigma/alpha finite at t_max = %g: lower t_max", t_max);
    double a = pow(smax, 1 / rho), b = pow(smin, 1 / rho);
    for (size_t k = 0; k <= steps; k++) {
      double sg = pow(a + ((double)k / N) * (b - a), rho);
      grid[k] = fl_schedule_eval(s, FL_SCHED_T_OF_LOGSNR, -log(sg));
    }
  }
  grid[0] = t_max;
  grid[steps] = t_min;
  for (size_t k = 1; k <= steps; k++)
    if (!(grid[k] < grid[k - 1]))
      return fl_fail(FL_EINVAL, "the time grid is not strictly decreasing at step %zu (%.17g then %.17g): fewer steps",
                     k, grid[k - 1], grid[k]);
  return FL_OK;
}

/* ================================================================ prediction fields */

/* At fixed t, target `to` = cx x + cp pred (pred the `from` target). */
static fl_status coefs(const fl_schedule *s, double t, fl_param from, fl_param to, double *cx, double *cp)
{
  const double one = 1, zero = 0;
  fl_status st = fl_schedule_convert(s, t, from, to, 1, &one, &zero, cp);
  if (!st) st = fl_schedule_convert(s, t, from, to, 1, &zero, &one, cx);
  if (!st && (!isfinite(*cx) || !isfinite(*cp)))
    return fl_fail(FL_ERANGE, "converting the field's prediction at t = %g divides by zero", t);
  return st;
}

typedef struct pred_data {
  fl_field *f;
  fl_param from, to;
  fl_schedule s;
} pred_data;

static void pred_destroy(void *p)
{
  pred_data *q = p;
  if (!q) return;
  fl_field_release(q->f);
  free(q);
}

static fl_status pred_eval(fl_field *self, size_t n, const double *x, double t, double *out)
{
  pred_data *q = self->data;
  double cx, cp;
  fl_status st = coefs(&q->s, t, q->from, q->to, &cx, &cp);
  if (st || (st = fl_field_eval(q->f, n, x, t, out))) return st;
  const size_t len = n * (size_t)self->dim;
  for (size_t i = 0; i < len; i++) out[i] = cx * x[i] + cp * out[i];
  return FL_OK;
}

static fl_status pred_jac(fl_field *self, size_t n, const double *x, double t, double *J)
{
  pred_data *q = self->data;
  double cx, cp;
  fl_status st = coefs(&q->s, t, q->from, q->to, &cx, &cp);
  if (st || (st = fl_field_jacobian(q->f, n, x, t, J, NULL))) return st;
  const size_t d = (size_t)self->dim;
  for (size_t i = 0; i < n; i++)
    for (size_t a = 0; a < d; a++)
      for (size_t b = 0; b < d; b++) {
        double *p = J + (i * d + a) * d + b;
        *p = cp * *p + (a == b ? cx : 0);
      }
  return FL_OK;
}

static fl_status pred_div(fl_field *self, size_t n, const double *x, double t, double *out)
{
  pred_data *q = self->data;
  double cx, cp;
  fl_status st = coefs(&q->s, t, q->from, q->to, &cx, &cp);
  if (st || (st = fl_field_div(q->f, n, x, t, out, NULL))) return st;
  for (size_t i = 0; i < n; i++) out[i] = cp * out[i] + (double)self->dim * cx;
  return FL_OK;
}

static const fl_field_ops pred_ops_all = {"predict", pred_eval, pred_jac, pred_div, NULL, NULL, pred_destroy};
static const fl_field_ops pred_ops_jac = {"predict", pred_eval, pred_jac, NULL, NULL, NULL, pred_destroy};
static const fl_field_ops pred_ops_div = {"predict", pred_eval, NULL, pred_div, NULL, NULL, pred_destroy};
static const fl_field_ops pred_ops_eval = {"predict", pred_eval, NULL, NULL, NULL, NULL, pred_destroy};

fl_status fl_sample_predict(fl_field *f, fl_param from, fl_param to, const fl_schedule *s, fl_field **out)
{
  *out = NULL;
  if (f->dim != f->codim)
    return fl_fail(FL_EDIM, "the field must map R^d to R^d (a prediction of eps, x0, the score or the velocity), "
                            "not R^%d to R^%d", f->dim, f->codim);
  if (from == to) {
    *out = fl_field_retain(f);
    return FL_OK;
  }
  pred_data *q = malloc(sizeof *q);
  if (!q) return fl_fail(FL_ENOMEM, "cannot allocate a field");
  q->f = fl_field_retain(f);
  q->from = from;
  q->to = to;
  q->s = *s;
  /* each derivative f offers (a field without div: the trace of the Jacobian, exact when f's is) */
  const fl_field_ops *ops = f->ops->jac ? (f->ops->div ? &pred_ops_all : &pred_ops_jac)
                                        : (f->ops->div ? &pred_ops_div : &pred_ops_eval);
  fl_status st = fl_field_new(ops, f->dim, f->dim, 1, f->thread_safe, q, out);
  if (!st) (*out)->inexact = f->inexact;
  return st;
}

/* The reverse-SDE drift f x - g^2 s from a score field (wrapper kind "reverse_drift"). */
typedef struct rd_data {
  fl_field *score;
  fl_schedule s;
} rd_data;

static void rd_destroy(void *p)
{
  rd_data *q = p;
  if (!q) return;
  fl_field_release(q->score);
  free(q);
}

static fl_status rd_eval(fl_field *self, size_t n, const double *x, double t, double *out)
{
  rd_data *q = self->data;
  fl_status st = fl_field_eval(q->score, n, x, t, out);
  if (st) return st;
  double f = fl_schedule_eval(&q->s, FL_SCHED_F, t), g2 = fl_schedule_eval(&q->s, FL_SCHED_G2, t);
  const size_t len = n * (size_t)self->dim;
  for (size_t i = 0; i < len; i++) out[i] = f * x[i] - g2 * out[i];
  return FL_OK;
}

static const fl_field_ops rd_ops = {"reverse_drift", rd_eval, NULL, NULL, NULL, NULL, rd_destroy};

/* g(t) = sqrt(g^2(t)), codim 1 */
typedef struct gd_data {
  fl_schedule s;
} gd_data;

static fl_status gd_eval(fl_field *self, size_t n, const double *x, double t, double *out)
{
  gd_data *q = self->data;
  (void)x;
  double g = sqrt(fl_schedule_eval(&q->s, FL_SCHED_G2, t));
  for (size_t i = 0; i < n; i++) out[i] = g;
  return FL_OK;
}

static const fl_field_ops gd_ops = {"diffusion_coefficient", gd_eval, NULL, NULL, NULL, NULL, free};

/* ================================================================ options, prior */

void fl_sample_opts_default(fl_sample_opts *o, fl_sampler solver, fl_param kind, const fl_schedule *s)
{
  memset(o, 0, sizeof *o);
  o->solver = solver;
  o->kind = kind;
  o->sched = *s;
  o->grid = FL_TGRID_T;
  o->t_max = s->t_max;
  o->t_min = s->t_min;
  o->rho = 7;
  o->eta = solver == FL_SAMP_DDPM ? 1 : 0;
  o->rtol = 1e-5;
  o->atol = 1e-7;
  o->snr = 0.16;
  o->corrector_steps = 1;
  o->s_noise = 1;
  o->s_tmax = INFINITY;
}

void fl_sample_prior(const fl_schedule *s, double t_max, size_t n, size_t d, uint64_t seed, uint64_t stream,
                     double *x)
{
  double sg = fl_schedule_eval(s, FL_SCHED_SIGMA, t_max);
  fl_rng_fill_normal(seed, stream, 0, n * d, x);
  for (size_t i = 0; i < n * d; i++) x[i] *= sg;
}

/* ================================================================ records */

/* One record of len numbers (x) through fl_ode's record keeping. */
static fl_status store(const fl_observe *obs, fl_run *res, double t, const double *x, size_t len)
{
  if (!obs) return FL_OK;
  if (obs->store) res->reclen = len;
  const double *parts[1] = {x};
  return fl_run_record(obs, res, t, 1, parts, &len);
}

static int want_record(const fl_observe *obs, size_t k, size_t N)
{
  return obs && obs->every && (k % obs->every == 0 || k == N);
}

static fl_status bad_state(fl_run *res, const char *who, size_t k, double t, size_t i, size_t j)
{
  res->bad_step = k;
  res->bad_particle = i;
  res->bad_comp = j;
  res->bad_t = t;
  return fl_fail(FL_ENAN, "%s: non-finite state at step %zu (t = %g), particle %zu, component %zu", who, k, t, i + 1,
                 j + 1);
}

/* ================================================================ the exponential-integrator loop */

typedef struct exp_ctx {
  const fl_sample_opts *o;
  fl_field *x0f, *epsf, *scoref;
  size_t n, d;
  const double *grid;
  double *x, *Dprev; /* Dprev: dpm++2m */
  double hprev;
  fl_status err;
  char errmsg[256];
} exp_ctx;

static double alpha_at(const fl_schedule *s, double t) { return fl_schedule_eval(s, FL_SCHED_ALPHA, t); }
static double sigma_at(const fl_schedule *s, double t) { return fl_schedule_eval(s, FL_SCHED_SIGMA, t); }

/* DDIM with eta on particles [i0, i0+m): x_t = alpha_t D + sqrt(sigma_t^2 - c^2) e + c z. */
static fl_status step_ddim(exp_ctx *c, size_t k, size_t i0, size_t m, double *y, double *D, double *E, double eta,
                           uint64_t stream)
{
  const fl_schedule *S = &c->o->sched;
  const double s = c->grid[k], t = c->grid[k + 1];
  fl_status st;
  if ((st = fl_field_eval(c->x0f, m, y, s, D)) || (st = fl_field_eval(c->epsf, m, y, s, E))) return st;
  const double as = alpha_at(S, s), ss = sigma_at(S, s), at = alpha_at(S, t), sgt = sigma_at(S, t);
  double cn = 0;
  if (eta > 0 && sgt > 0) {
    double r = (at > 0 && ss > 0) ? as * sgt / (at * ss) : 0; /* e^{-h} */
    if (r > 1) r = 1;
    cn = eta * sgt * sqrt(1 - r * r);
  }
  const double ce = sqrt(fmax(sgt * sgt - cn * cn, 0));
  const size_t d = c->d;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < d; j++) {
      size_t q = i * d + j;
      double v = at * D[q] + ce * E[q];
      if (cn > 0) v += cn * fl_sde_noise(c->o->seed, stream, c->n, d, k, i0 + i, j);
      y[q] = v;
    }
  return FL_OK;
}

/* One step k of the exponential integrators on particles [i0, i0+m). scr: 3*m*d. */
static fl_status exp_step(exp_ctx *c, size_t k, size_t i0, size_t m, double *scr)
{
  const fl_sample_opts *o = c->o;
  const fl_schedule *S = &o->sched;
  const size_t d = c->d, len = m * d;
  double *y = c->x + i0 * d, *A = scr, *B = scr + len, *U = scr + 2 * len;
  const double s = c->grid[k], t = c->grid[k + 1];
  const double as = alpha_at(S, s), ss = sigma_at(S, s), at = alpha_at(S, t), sgt = sigma_at(S, t);
  fl_status st;
  switch (o->solver) {
  case FL_SAMP_DDIM:
  case FL_SAMP_DDPM:
    return step_ddim(c, k, i0, m, y, A, B, o->eta, o->stream + 1);
  case FL_SAMP_DPM2: {
    if (sgt == 0 || !(as > 0)) return step_ddim(c, k, i0, m, y, A, B, 0, 0); /* ends: first order */
    double ls = fl_schedule_eval(S, FL_SCHED_LOGSNR, s), lt = fl_schedule_eval(S, FL_SCHED_LOGSNR, t);
    double s1 = fl_schedule_eval(S, FL_SCHED_T_OF_LOGSNR, 0.5 * (ls + lt));
    double a1 = alpha_at(S, s1), g1 = sigma_at(S, s1);
    if ((st = fl_field_eval(c->x0f, m, y, s, A)) || (st = fl_field_eval(c->epsf, m, y, s, B))) return st;
    for (size_t q = 0; q < len; q++) U[q] = a1 * A[q] + g1 * B[q];
    if ((st = fl_field_eval(c->epsf, m, U, s1, B))) return st;
    const double cxx = at / as, ce = at * ss / as - sgt;
    for (size_t q = 0; q < len; q++) y[q] = cxx * y[q] - ce * B[q];
    return FL_OK;
  }
  case FL_SAMP_DPMPP1:
  case FL_SAMP_DPMPP2M: {
    if ((st = fl_field_eval(c->x0f, m, y, s, A))) return st;
    const double cxx = sgt / ss, cd = at - sgt * as / ss;
    double *Dp = c->Dprev ? c->Dprev + i0 * d : NULL;
    if (o->solver == FL_SAMP_DPMPP2M && k > 0 && sgt > 0) {
      double ls = fl_schedule_eval(S, FL_SCHED_LOGSNR, s), lt = fl_schedule_eval(S, FL_SCHED_LOGSNR, t);
      double h = lt - ls, r = c->hprev / h, w = isfinite(r) ? 0.5 / r : 0;
      for (size_t q = 0; q < len; q++) {
        double Dm = (1 + w) * A[q] - w * Dp[q];
        Dp[q] = A[q];
        y[q] = cxx * y[q] + cd * Dm;
      }
    } else {
      for (size_t q = 0; q < len; q++) {
        if (Dp) Dp[q] = A[q];
        y[q] = cxx * y[q] + cd * A[q];
      }
    }
    return FL_OK;
  }
  case FL_SAMP_PC: {
    /* corrector: Langevin at s, x += eps s + sqrt(2 eps) z, eps = 2 a (snr |z|/|s|)^2 (means over particles of the
     * block); predictor: reverse-diffusion Euler-Maruyama step s -> t */
    double a = 1;
    if (o->sched.kind != FL_SCHED_VE && o->sched.kind != FL_SCHED_EDM && as > 0) {
      a = at / as;
      a = a * a;
      if (a > 1) a = 1;
    }
    for (size_t it = 0; it < o->corrector_steps; it++) {
      if ((st = fl_field_eval(c->scoref, m, y, s, A))) return st;
      double gn = 0, zn = 0;
      for (size_t i = 0; i < m; i++) {
        double g2 = 0, z2 = 0;
        for (size_t j = 0; j < d; j++) {
          double z = fl_sde_noise(o->seed, o->stream + 2 + it, c->n, d, k, i0 + i, j);
          B[i * d + j] = z;
          g2 += A[i * d + j] * A[i * d + j];
          z2 += z * z;
        }
        gn += sqrt(g2);
        zn += sqrt(z2);
      }
      double e = gn > 0 ? 2 * a * (o->snr * zn / gn) * (o->snr * zn / gn) : 0;
      double se = sqrt(2 * e);
      for (size_t q = 0; q < len; q++) y[q] += e * A[q] + se * B[q];
    }
    if ((st = fl_field_eval(c->scoref, m, y, s, A))) return st;
    const double dt = s - t, f = fl_schedule_eval(S, FL_SCHED_F, s), g2 = fl_schedule_eval(S, FL_SCHED_G2, s);
    const double g = sqrt(g2 * dt);
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < d; j++) {
        size_t q = i * d + j;
        y[q] += -(f * y[q] - g2 * A[q]) * dt + g * fl_sde_noise(o->seed, o->stream + 1, c->n, d, k, i0 + i, j);
      }
    return FL_OK;
  }
  case FL_SAMP_EDM: {
    /* alpha = 1: sigma is the noise level; churn to sigma_hat = sigma (1 + gamma), then Heun in t */
    const double N = (double)o->steps;
    double gamma = (ss >= o->s_tmin && ss <= o->s_tmax) ? fmin(o->s_churn / N, sqrt(2.0) - 1) : 0;
    double sh = ss * (1 + gamma), th = s;
    if (gamma > 0) {
      th = fl_schedule_eval(S, FL_SCHED_T_OF_LOGSNR, -log(sh));
      double amp = sqrt(fmax(sh * sh - ss * ss, 0)) * o->s_noise;
      for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < d; j++)
          y[i * d + j] += amp * fl_sde_noise(o->seed, o->stream + 1, c->n, d, k, i0 + i, j);
    }
    /* velocity dx/dt = sigma' (x - D)/sigma */
    if ((st = fl_field_eval(c->x0f, m, y, th, A))) return st;
    double dsh;
    fl_schedule_coefs(S, th, NULL, NULL, NULL, &dsh, NULL, NULL);
    const double h = t - th;
    for (size_t q = 0; q < len; q++) {
      A[q] = dsh * (y[q] - A[q]) / sh;
      U[q] = y[q] + h * A[q];
    }
    if (t > 0 && sgt > 0) {
      if ((st = fl_field_eval(c->x0f, m, U, t, B))) return st;
      double dst;
      fl_schedule_coefs(S, t, NULL, NULL, NULL, &dst, NULL, NULL);
      for (size_t q = 0; q < len; q++) y[q] += 0.5 * h * (A[q] + dst * (U[q] - B[q]) / sgt);
    } else {
      memcpy(y, U, len * sizeof(double));
    }
    return FL_OK;
  }
  default:
    return fl_fail(FL_EINVAL, "not an exponential-integrator sampler");
  }
}

static int evals_per_step(const fl_sample_opts *o, size_t k, size_t N, double tnext)
{
  switch (o->solver) {
  case FL_SAMP_DPM2: return tnext > 0 ? 2 : 1;
  case FL_SAMP_PC: return (int)o->corrector_steps + 1;
  case FL_SAMP_EDM: return tnext > 0 ? 2 : 1;
  default: (void)k; (void)N; return 1;
  }
}

static fl_status run_exp(fl_field *f, const fl_sample_opts *o, size_t n, double *x, const double *grid,
                         const fl_observe *obs, fl_run *res)
{
  const size_t d = (size_t)f->dim, N = o->steps;
  exp_ctx c = {0};
  c.o = o;
  c.n = n;
  c.d = d;
  c.grid = grid;
  c.x = x;
  fl_status st;
  if ((st = fl_sample_predict(f, o->kind, FL_PARAM_X0, &o->sched, &c.x0f)) ||
      (st = fl_sample_predict(f, o->kind, FL_PARAM_EPS, &o->sched, &c.epsf)) ||
      (st = fl_sample_predict(f, o->kind, FL_PARAM_SCORE, &o->sched, &c.scoref)))
    goto done;
  if (o->solver == FL_SAMP_DPMPP2M && !(c.Dprev = fl_alloc(n * d * sizeof(double)))) {
    st = fl_fail(FL_ENOMEM, "no memory for %zu particles", n);
    goto done;
  }
  int par = f->thread_safe && n > BLOCK;
  size_t chunk = par ? BLOCK : (n ? n : 1);
  int nth = 1;
#ifdef _OPENMP
  if (par) nth = omp_get_max_threads();
#endif
  size_t sbytes = (size_t)nth * chunk * d * 3 * sizeof(double);
  double *scr = fl_alloc(sbytes);
  if (!scr) {
    st = fl_fail(FL_ENOMEM, "no memory for the stages of %zu particles", n);
    goto done;
  }
  res->t = grid[0];
  if (want_record(obs, 0, N) && (st = store(obs, res, grid[0], x, n * d))) goto freescr;
  const size_t nb = n ? (n + chunk - 1) / chunk : 0;
  for (size_t k = 0; k < N; k++) {
    if (fl_interrupted()) {
      st = fl_fail(FL_EINTR, "interrupted at t = %g after %zu steps", grid[k], k);
      break;
    }
    c.err = FL_OK;
    if (nb <= 1) {
      st = exp_step(&c, k, 0, n, scr);
    } else {
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nth)
#endif
      for (size_t b = 0; b < nb; b++) {
        if (c.err) continue;
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        size_t i0 = b * chunk, m = n - i0 < chunk ? n - i0 : chunk;
        fl_status s2 = exp_step(&c, k, i0, m, scr + (size_t)tid * chunk * d * 3);
        if (s2) {
#ifdef _OPENMP
#pragma omp critical(fl_sample_err)
#endif
          if (!c.err) {
            c.err = s2;
            snprintf(c.errmsg, sizeof c.errmsg, "%s", fl_last_detail());
          }
        }
      }
      if (c.err) st = c.err == FL_ECALLBACK ? FL_ECALLBACK : fl_fail(c.err, "%s", c.errmsg);
    }
    if (st) break;
    if (o->solver == FL_SAMP_DPMPP2M) {
      double ls = fl_schedule_eval(&o->sched, FL_SCHED_LOGSNR, grid[k]);
      double lt = fl_schedule_eval(&o->sched, FL_SCHED_LOGSNR, grid[k + 1]);
      c.hprev = lt - ls;
    }
    res->evals += (size_t)evals_per_step(o, k, N, grid[k + 1]);
    size_t bi, bj;
    if (fl_first_nonfinite(x, n, d, &bi, &bj)) {
      st = bad_state(res, fl_sampler_name(o->solver), k + 1, grid[k + 1], bi, bj);
      break;
    }
    res->steps = k + 1;
    res->t = grid[k + 1];
    if (want_record(obs, k + 1, N) && (st = store(obs, res, grid[k + 1], x, n * d))) break;
    if ((st = fl_observe_progress(obs, (double)(k + 1) / (double)N))) break;
  }
freescr:
  fl_free(scr, sbytes);
done:
  if (c.Dprev) fl_free(c.Dprev, n * d * sizeof(double));
  fl_field_release(c.x0f);
  fl_field_release(c.epsf);
  fl_field_release(c.scoref);
  return st;
}

/* ================================================================ the driver */

static fl_status check_range(const fl_sample_opts *o)
{
  if (!isfinite(o->t_max) || !isfinite(o->t_min) || !(o->t_max > o->t_min))
    return fl_fail(FL_EINVAL, "sampling runs from t_max down to t_min: t_max (%g) must be greater than t_min (%g)",
                   o->t_max, o->t_min);
  if (o->t_min < 0) return fl_fail(FL_EINVAL, "t_min must be >= 0, not %g", o->t_min);
  return FL_OK;
}

/* Copy record k of r2 into res. */
static fl_status take_rec(const fl_observe *obs, fl_run *res, const fl_run *r2, size_t k, size_t len)
{
  if (!obs || !obs->store) return FL_OK;
  fl_observe o2 = *obs;
  o2.observer = NULL;
  return store(&o2, res, r2->rec_t[k], r2->rec + k * r2->reclen, len);
}

fl_status fl_sample_run(fl_field *f, const fl_sample_opts *o, size_t n, double *x, const fl_observe *obs,
                        fl_run *res)
{
  if (f->dim != f->codim)
    return fl_fail(FL_EDIM, "the field must map R^d to R^d (a prediction of eps, x0, the score or the velocity), "
                            "not R^%d to R^%d", f->dim, f->codim);
  fl_status st = fl_schedule_check(&o->sched);
  if (st || (st = check_range(o))) return st;
  if (o->solver != FL_SAMP_RK45 && o->steps == 0) return fl_fail(FL_EINVAL, "the number of steps must be positive");
  if (o->solver == FL_SAMP_EDM && o->sched.kind != FL_SCHED_EDM && o->sched.kind != FL_SCHED_VE)
    return fl_fail(FL_EINVAL, "the EDM stochastic sampler needs a schedule with alpha = 1 (edm or ve), not %s",
                   fl_schedule_name(&o->sched));
  if (obs && obs->ntimes) return fl_fail(FL_EINVAL, "sampling runs record every k steps, not at given times");
  const size_t d = (size_t)f->dim;
  double *grid = NULL;
  if (o->steps) {
    grid = malloc((o->steps + 1) * sizeof(double));
    if (!grid) return fl_fail(FL_ENOMEM, "no memory for a grid of %zu steps", o->steps);
    if ((st = fl_sample_grid(&o->sched, o->grid, o->steps, o->t_max, o->t_min, o->rho, grid))) goto done;
  }
  fl_field *v = NULL, *aux = NULL;
  switch (o->solver) {
  case FL_SAMP_EULER:
  case FL_SAMP_HEUN:
  case FL_SAMP_RK4:
  case FL_SAMP_RK45: {
    if ((st = fl_sample_predict(f, o->kind, FL_PARAM_VELOCITY, &o->sched, &v))) break;
    fl_ode_opts oo = {0};
    if (o->solver == FL_SAMP_RK45) {
      oo.method = &fl_ode_dopri5;
      oo.t0 = o->t_max;
      oo.t1 = o->t_min;
      oo.rtol = o->rtol;
      oo.atol = o->atol;
      st = fl_ode_run(v, n, x, &oo, obs, res);
      break;
    }
    oo.method = o->solver == FL_SAMP_EULER ? &fl_ode_euler : o->solver == FL_SAMP_HEUN ? &fl_ode_heun : &fl_ode_rk4;
    oo.steps = o->steps;
    oo.grid = grid;
    if (o->solver == FL_SAMP_HEUN && grid[o->steps] == 0) {
      /* EDM's rule: the last step, to t = 0, is an Euler step */
      fl_run r2 = {0};
      if (o->steps > 1) {
        oo.steps = o->steps - 1;
        if ((st = fl_ode_run(v, n, x, &oo, obs, res))) break;
      }
      fl_observe o2 = {0};
      if (obs) {
        o2 = *obs;
        o2.every = obs->every ? 1 : 0;
        o2.observer = NULL;
        o2.progress = NULL;
      }
      fl_ode_opts oe = {0};
      oe.method = &fl_ode_euler;
      oe.steps = 1;
      oe.grid = grid + o->steps - 1;
      st = fl_ode_run(v, n, x, &oe, obs ? &o2 : NULL, &r2);
      if (st == FL_ENAN) {
        res->bad_step = o->steps;
        res->bad_particle = r2.bad_particle;
        res->bad_comp = r2.bad_comp;
        res->bad_t = 0;
        st = fl_fail(FL_ENAN, "non-finite state at step %zu (t = 0), particle %zu, component %zu", o->steps,
                     r2.bad_particle + 1, r2.bad_comp + 1);
      }
      if (!st) {
        res->steps = o->steps;
        res->evals += r2.evals;
        res->t = 0;
        if (o->steps == 1 && r2.nrec > 1) st = take_rec(obs, res, &r2, 0, n * d);
        if (!st && r2.nrec) st = take_rec(obs, res, &r2, r2.nrec - 1, n * d);
        if (!st && obs && obs->observer && obs->every) {
          const double *parts[1] = {x};
          if (obs->observer(obs->ctx, 0, 1, parts) < 0) st = fl_fail(FL_ECALLBACK, "the observer failed at t = 0");
        }
      }
      fl_run_free(&r2);
      break;
    }
    st = fl_ode_run(v, n, x, &oo, obs, res);
    break;
  }
  case FL_SAMP_EM: {
    if ((st = fl_sample_predict(f, o->kind, FL_PARAM_SCORE, &o->sched, &aux))) break;
    rd_data *q = malloc(sizeof *q);
    if (!q) {
      st = fl_fail(FL_ENOMEM, "cannot allocate a field");
      break;
    }
    q->score = fl_field_retain(aux);
    q->s = o->sched;
    if ((st = fl_field_new(&rd_ops, f->dim, f->dim, 1, f->thread_safe, q, &v))) break;
    gd_data *gq = malloc(sizeof *gq);
    if (!gq) {
      st = fl_fail(FL_ENOMEM, "cannot allocate a field");
      break;
    }
    gq->s = o->sched;
    fl_field *g = NULL;
    if ((st = fl_field_new(&gd_ops, f->dim, 1, 1, 1, gq, &g))) break;
    fl_sde_opts so = {0};
    so.method = FL_SDE_EULER_MARUYAMA;
    so.steps = o->steps;
    so.grid = grid;
    so.seed = o->seed;
    so.stream = o->stream + 1;
    st = fl_sde_run(v, g, 0, n, x, &so, obs, res);
    fl_field_release(g);
    break;
  }
  default:
    st = run_exp(f, o, n, x, grid, obs, res);
    break;
  }
  fl_field_release(v);
  fl_field_release(aux);
done:
  free(grid);
  return st;
}

/* ================================================================ log-likelihood */

typedef struct aug_data {
  fl_field *v; /* the velocity */
  size_t d, K;
  int hutch;
} aug_data;

static void aug_destroy(void *p)
{
  aug_data *q = p;
  if (!q) return;
  fl_field_release(q->v);
  free(q);
}

/* state (x[d], probes[K*d], l[K]) (Hutchinson) or (x[d], l) (exact) -> (v, 0, e^T J e) or (v, div v) */
static fl_status aug_eval(fl_field *self, size_t n, const double *s, double t, double *out)
{
  aug_data *q = self->data;
  const size_t d = q->d, K = q->K, D = (size_t)self->dim;
  double *xs = malloc(n * d * sizeof(double)), *vs = malloc(n * d * sizeof(double));
  double *J = q->hutch ? malloc(n * d * d * sizeof(double)) : malloc(n * sizeof(double));
  fl_status st = FL_OK;
  if (!xs || !vs || !J) {
    st = fl_fail(FL_ENOMEM, "no memory for %zu particles", n);
    goto done;
  }
  for (size_t i = 0; i < n; i++) memcpy(xs + i * d, s + i * D, d * sizeof(double));
  if ((st = fl_field_eval(q->v, n, xs, t, vs))) goto done;
  if (q->hutch) {
    if ((st = fl_field_jacobian(q->v, n, xs, t, J, NULL))) goto done;
  } else if ((st = fl_field_div(q->v, n, xs, t, J, NULL))) {
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    double *o = out + i * D;
    memcpy(o, vs + i * d, d * sizeof(double));
    if (!q->hutch) {
      o[d] = J[i];
      continue;
    }
    const double *Ji = J + i * d * d, *P = s + i * D + d;
    for (size_t k = 0; k < K * d; k++) o[d + k] = 0;
    for (size_t k = 0; k < K; k++) {
      const double *e = P + k * d;
      double acc = 0;
      for (size_t a = 0; a < d; a++) {
        double r = 0;
        for (size_t b = 0; b < d; b++) r += Ji[a * d + b] * e[b];
        acc += e[a] * r;
      }
      o[d + K * d + k] = acc;
    }
  }
done:
  free(xs);
  free(vs);
  free(J);
  return st;
}

static const fl_field_ops aug_ops = {"loglik_augmented", aug_eval, NULL, NULL, NULL, NULL, aug_destroy};

fl_status fl_sample_loglik(fl_field *f, const fl_loglik_opts *o, size_t n, const double *x, double *logp, double *se,
                           double *xT, int *exact, size_t *evals)
{
  fl_status st = fl_schedule_check(&o->sched);
  if (st) return st;
  if (!isfinite(o->t_max) || !isfinite(o->t_min) || !(o->t_max > o->t_min) || o->t_min < 0)
    return fl_fail(FL_EINVAL, "the likelihood integrates from t_min up to t_max: t_max (%g) must be greater than "
                              "t_min (%g) >= 0", o->t_max, o->t_min);
  if (o->hutchinson && o->nprobes == 0) return fl_fail(FL_EINVAL, "the number of probes must be positive");
  if (o->prior && (o->prior->dim != f->dim || o->prior->codim != 1))
    return fl_fail(FL_EDIM, "the prior must be a scalar field on R^%d (a log density), not R^%d -> R^%d", f->dim,
                   o->prior->dim, o->prior->codim);
  fl_field *v = NULL, *aug = NULL;
  if ((st = fl_sample_predict(f, o->kind, FL_PARAM_VELOCITY, &o->sched, &v))) return st;
  if (exact) *exact = v->ops->div && !(v->inexact & FL_INEXACT_DIV) && !o->hutchinson;
  if (exact && o->hutchinson) *exact = v->ops->jac && !(v->inexact & FL_INEXACT_JAC);
  const size_t d = (size_t)f->dim, K = o->hutchinson ? o->nprobes : 1;
  const size_t D = o->hutchinson ? d + K * d + K : d + 1;
  double *S = NULL, *lp = NULL;
  aug_data *q = malloc(sizeof *q);
  if (!q) {
    fl_field_release(v);
    return fl_fail(FL_ENOMEM, "cannot allocate a field");
  }
  q->v = v;
  q->d = d;
  q->K = K;
  q->hutch = o->hutchinson;
  if ((st = fl_field_new(&aug_ops, (int)D, (int)D, 1, v->thread_safe, q, &aug))) return st;
  S = fl_alloc(n * D * sizeof(double));
  lp = malloc((n ? n : 1) * sizeof(double));
  if (!S || !lp) {
    st = fl_fail(FL_ENOMEM, "no memory for %zu particles", n);
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    double *row = S + i * D;
    memcpy(row, x + i * d, d * sizeof(double));
    for (size_t k = d; k < D; k++) row[k] = 0;
    if (o->hutchinson)
      for (size_t k = 0; k < K * d; k++) {
        double z = fl_rng_normal(o->seed, o->stream, i * K * d + k);
        row[d + k] = o->gaussian ? z : (z < 0 ? -1.0 : 1.0);
      }
  }
  fl_ode_opts oo = {0};
  oo.t0 = o->t_min;
  oo.t1 = o->t_max;
  if (o->steps) {
    oo.method = &fl_ode_rk4;
    oo.steps = o->steps;
  } else {
    oo.method = &fl_ode_dopri5;
    oo.rtol = o->rtol;
    oo.atol = o->atol;
  }
  fl_run r = {0};
  st = fl_ode_run(aug, n, S, &oo, NULL, &r);
  if (evals) *evals = r.evals;
  fl_run_free(&r);
  if (st) goto done;
  /* the prior at the latent points */
  double *xs = malloc((n ? n : 1) * d * sizeof(double));
  if (!xs) {
    st = fl_fail(FL_ENOMEM, "no memory for %zu particles", n);
    goto done;
  }
  for (size_t i = 0; i < n; i++) memcpy(xs + i * d, S + i * D, d * sizeof(double));
  if (xT) memcpy(xT, xs, n * d * sizeof(double));
  if (o->prior) {
    st = fl_field_eval(o->prior, n, xs, o->t_max, lp);
  } else {
    double sg = fl_schedule_eval(&o->sched, FL_SCHED_SIGMA, o->t_max);
    double c0 = -0.5 * (double)d * log(2 * M_PI * sg * sg);
    for (size_t i = 0; i < n; i++) {
      double r2 = 0;
      for (size_t j = 0; j < d; j++) r2 += xs[i * d + j] * xs[i * d + j];
      lp[i] = c0 - 0.5 * r2 / (sg * sg);
    }
  }
  free(xs);
  if (st) goto done;
  for (size_t i = 0; i < n; i++) {
    const double *L = S + i * D + (o->hutchinson ? d + K * d : d);
    double m = 0, m2 = 0;
    for (size_t k = 0; k < K; k++) m += L[k];
    m /= (double)K;
    for (size_t k = 0; k < K; k++) m2 += (L[k] - m) * (L[k] - m);
    logp[i] = lp[i] + m;
    if (se) se[i] = K > 1 ? sqrt(m2 / (double)(K - 1) / (double)K) : (o->hutchinson ? NAN : 0);
  }
done:
  fl_free(S, n * D * sizeof(double));
  free(lp);
  fl_field_release(aug);
  return st;
}

/* ================================================================ FlowChef */

int fl_cost_linear_fn(void *ctx, size_t n, size_t d, const double *x, double *grad, double *L)
{
  const fl_cost_linear *c = ctx;
  const size_t m = c->m;
  const double w = 1 / (c->noise * c->noise);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (n > 4096)
#endif
  for (size_t i = 0; i < n; i++) {
    const double *xi = x + i * d;
    double *gi = grad + i * d, acc = 0;
    for (size_t j = 0; j < d; j++) gi[j] = 0;
    for (size_t a = 0; a < m; a++) {
      double r = -c->y[a];
      for (size_t j = 0; j < d; j++) r += c->A[a * d + j] * xi[j];
      acc += r * r;
      for (size_t j = 0; j < d; j++) gi[j] += w * r * c->A[a * d + j];
    }
    if (L) L[i] = 0.5 * w * acc;
  }
  return 0;
}

fl_status fl_sample_flowchef(fl_field *v, const fl_flowchef_opts *o, fl_cost_fn cost, void *ctx, size_t n, double *z,
                             double *L, const fl_observe *obs, fl_run *res)
{
  if (v->dim != v->codim)
    return fl_fail(FL_EDIM, "the velocity must map R^d to R^d, not R^%d to R^%d", v->dim, v->codim);
  if (o->steps == 0) return fl_fail(FL_EINVAL, "the number of steps must be positive");
  if (!(o->t_max > 0) || !isfinite(o->t_max))
    return fl_fail(FL_EINVAL, "FlowChef runs from t_max down to 0: t_max must be positive, not %g", o->t_max);
  if (!isfinite(o->lr) || o->lr < 0) return fl_fail(FL_EINVAL, "the step size lr must be >= 0, not %g", o->lr);
  const size_t d = (size_t)v->dim, len = n * d, N = o->steps;
  double *V = fl_alloc(len * sizeof(double)), *X = fl_alloc(len * sizeof(double));
  double *G = fl_alloc(len * sizeof(double));
  double *J = o->exact_grad ? fl_alloc(len * d * sizeof(double)) : NULL, *W = o->exact_grad ? fl_alloc(len * sizeof(double)) : NULL;
  fl_status st = FL_OK;
  if (!V || !X || !G || (o->exact_grad && (!J || !W))) {
    st = fl_fail(FL_ENOMEM, "no memory for %zu particles", n);
    goto done;
  }
  res->t = o->t_max;
  if (want_record(obs, 0, N) && (st = store(obs, res, o->t_max, z, len))) goto done;
  for (size_t i = 0; i < N; i++) {
    if (fl_interrupted()) {
      st = fl_fail(FL_EINTR, "interrupted at t = %g after %zu steps", res->t, i);
      break;
    }
    const double t = o->t_max * (1 - (double)i / (double)N), tn = o->t_max * (1 - (double)(i + 1) / (double)N);
    if ((st = fl_field_eval(v, n, z, t, V))) break;
    res->evals++;
    if (i < o->steer_steps)
      for (size_t it = 0; it < o->iters; it++) {
        const double *Vs = V;
        if (o->exact_grad) {
          /* v and its Jacobian at the current z (the first time: where V was taken) */
          if (it > 0) {
            if ((st = fl_field_eval(v, n, z, t, W))) goto done;
            res->evals++;
            Vs = W;
          }
          if ((st = fl_field_jacobian(v, n, z, t, J, NULL))) goto done;
        }
        for (size_t q = 0; q < len; q++) X[q] = z[q] - t * Vs[q];
        if (cost(ctx, n, d, X, G, L) < 0) {
          st = fl_fail(FL_ECALLBACK, "the cost failed at t = %g", t);
          goto done;
        }
        if (o->exact_grad)
          /* the chain rule through x0hat = z - t v(z): (I - t J)^T G */
          for (size_t p = 0; p < n; p++) {
            const double *Jp = J + p * d * d, *Gp = G + p * d;
            for (size_t b = 0; b < d; b++) {
              double acc = Gp[b];
              for (size_t a = 0; a < d; a++) acc -= t * Jp[a * d + b] * Gp[a];
              z[p * d + b] -= o->lr * acc;
            }
          }
        else
          for (size_t q = 0; q < len; q++) z[q] -= o->lr * G[q];
      }
    for (size_t q = 0; q < len; q++) z[q] += (tn - t) * V[q];
    size_t bi, bj;
    if (fl_first_nonfinite(z, n, d, &bi, &bj)) {
      st = bad_state(res, "flowchef", i + 1, tn, bi, bj);
      break;
    }
    res->steps = i + 1;
    res->t = tn;
    if (want_record(obs, i + 1, N) && (st = store(obs, res, tn, z, len))) break;
    if ((st = fl_observe_progress(obs, (double)(i + 1) / (double)N))) break;
  }
done:
  fl_free(V, len * sizeof(double));
  fl_free(X, len * sizeof(double));
  fl_free(G, len * sizeof(double));
  if (J) fl_free(J, len * d * sizeof(double));
  if (W) fl_free(W, len * sizeof(double));
  return st;
}
