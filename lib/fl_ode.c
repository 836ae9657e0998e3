/* fl_ode: ODE, SDE, symplectic and variational integrators on particle
 * arrays. See fl_ode.h. */
#include "config.h"
#include "fl_ode.h"
#include "fl_rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#define ODE_PRAGMA(x) _Pragma(#x)
/* stage combinations over many numbers (only outside the block-parallel path) */
#define PFOR(len) ODE_PRAGMA(omp parallel for schedule(static) if((len) > ODE_PAR_MIN))
#else
#define PFOR(len)
#endif
#define ODE_PAR_MIN ((size_t)32768)

/* ================================================================ step types */

static const double euler_c[] = {0}, euler_a[] = {0}, euler_b[] = {1};
static const double heun_c[] = {0, 1}, heun_a[] = {0, 0, 1, 0}, heun_b[] = {0.5, 0.5};
static const double mid_c[] = {0, 0.5}, mid_a[] = {0, 0, 0.5, 0}, mid_b[] = {0, 1};
static const double rk4_c[] = {0, 0.5, 0.5, 1};
static const double rk4_a[] = {0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 1, 0};
static const double rk4_b[] = {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6};
static const double dp_c[] = {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1};
static const double dp_a[] = {
  0, 0, 0, 0, 0, 0, 0,
  1.0 / 5, 0, 0, 0, 0, 0, 0,
  3.0 / 40, 9.0 / 40, 0, 0, 0, 0, 0,
  44.0 / 45, -56.0 / 15, 32.0 / 9, 0, 0, 0, 0,
  19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729, 0, 0, 0,
  9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656, 0, 0,
  35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0};
static const double dp_b[] = {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0};
static const double dp_e[] = {71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40};
/* Hairer's continuous extension of dopri5 (order 4) */
static const double dp_d[] = {-12715105075.0 / 11282082432.0, 0, 87487479700.0 / 32700410799.0,
                              -10690763975.0 / 1880347072.0, 701980252875.0 / 199316789632.0,
                              -1453857185.0 / 822651844.0, 69997945.0 / 29380423.0};

const fl_ode_step_type fl_ode_euler = {"euler", 1, 1, 0, 0, euler_c, euler_a, euler_b, NULL};
const fl_ode_step_type fl_ode_heun = {"heun", 2, 2, 0, 0, heun_c, heun_a, heun_b, NULL};
const fl_ode_step_type fl_ode_midpoint = {"midpoint", 2, 2, 0, 0, mid_c, mid_a, mid_b, NULL};
const fl_ode_step_type fl_ode_rk4 = {"rk4", 4, 4, 0, 0, rk4_c, rk4_a, rk4_b, NULL};
const fl_ode_step_type fl_ode_dopri5 = {"dopri5", 5, 7, 1, 4, dp_c, dp_a, dp_b, dp_e};

static const fl_ode_step_type *const all_types[] = {&fl_ode_euler, &fl_ode_heun, &fl_ode_midpoint, &fl_ode_rk4,
                                                    &fl_ode_dopri5, NULL};

const fl_ode_step_type *fl_ode_step_type_find(const char *name)
{
  for (int i = 0; name && all_types[i]; i++)
    if (strcmp(all_types[i]->name, name) == 0) return all_types[i];
  return NULL;
}

const char *fl_ode_step_type_names(void) { return "euler, heun, midpoint, rk4, dopri5"; }

/* dst = y + h sum_{j<m} coef[j] K[j] (y may be NULL: no y term); dst may be y. */
static void combo(size_t len, const double *y, double h, const double *coef, int m, double *const *K, double *dst)
{
  double c[FL_ODE_MAXSTAGES];
  const double *k[FL_ODE_MAXSTAGES];
  int q = 0;
  for (int j = 0; j < m; j++)
    if (coef[j] != 0) { c[q] = h * coef[j]; k[q++] = K[j]; }
  if (q == 1) {
    const double c0 = c[0], *k0 = k[0];
    if (y) {
      PFOR(len)
      for (size_t i = 0; i < len; i++) dst[i] = y[i] + c0 * k0[i];
    } else {
      PFOR(len)
      for (size_t i = 0; i < len; i++) dst[i] = c0 * k0[i];
    }
    return;
  }
  PFOR(len)
  for (size_t i = 0; i < len; i++) {
    double acc = y ? y[i] : 0;
    for (int j = 0; j < q; j++) acc += c[j] * k[j][i];
    dst[i] = acc;
  }
}

/* ================================================================ one step */

struct fl_ode_step {
  const fl_ode_step_type *T;
  fl_field *f;
  size_t n, len;
  double *k[FL_ODE_MAXSTAGES];
  double *tmp;
  int have_k0;
  double h;
  size_t evals;
};

fl_status fl_ode_step_new(const fl_ode_step_type *T, fl_field *f, size_t n, fl_ode_step **out)
{
  *out = NULL;
  if (!T || !f) return fl_fail(FL_EINVAL, "a step needs a method and a field");
  if (f->dim != f->codim)
    return fl_fail(FL_EDIM, "the right-hand side must map R^d to R^d, not R^%d to R^%d", f->dim, f->codim);
  size_t len;
  if (fl_mul_overflow(n, (size_t)f->dim, &len) || len > ((size_t)-1) / 64)
    return fl_fail(FL_ENOMEM, "%zu particles in R^%d are too many", n, f->dim);
  fl_ode_step *s = calloc(1, sizeof *s);
  if (!s) return fl_fail(FL_ENOMEM, "no memory for an ODE step");
  s->T = T;
  s->f = fl_field_retain(f);
  s->n = n;
  s->len = len;
  int ok = 1;
  for (int j = 0; j < T->stages; j++) ok &= (s->k[j] = fl_alloc(len * sizeof(double))) != NULL;
  ok &= (s->tmp = fl_alloc(len * sizeof(double))) != NULL;
  if (!ok) {
    fl_ode_step_free(s);
    return fl_fail(FL_ENOMEM, "no memory for the stages of %zu particles", n);
  }
  *out = s;
  return FL_OK;
}

void fl_ode_step_free(fl_ode_step *s)
{
  if (!s) return;
  for (int j = 0; j < s->T->stages; j++) fl_free(s->k[j], s->len * sizeof(double));
  fl_free(s->tmp, s->len * sizeof(double));
  fl_field_release(s->f);
  free(s);
}

void fl_ode_step_reset(fl_ode_step *s) { s->have_k0 = 0; }
size_t fl_ode_step_evals(const fl_ode_step *s) { return s->evals; }

fl_status fl_ode_step_apply(fl_ode_step *s, double t, double h, const double *y, double *yout, double *yerr)
{
  const fl_ode_step_type *T = s->T;
  const int S = T->stages;
  fl_status st;
  if (!(T->fsal && s->have_k0)) {
    if ((st = fl_field_eval(s->f, s->n, y, t, s->k[0]))) return st;
    s->evals++;
    s->have_k0 = 1;
  }
  for (int i = 1; i < S; i++) {
    double *dst = (T->fsal && i == S - 1) ? yout : s->tmp;
    combo(s->len, y, h, T->a + i * S, i, s->k, dst);
    if ((st = fl_field_eval(s->f, s->n, dst, t + T->c[i] * h, s->k[i]))) return st;
    s->evals++;
  }
  if (!T->fsal) combo(s->len, y, h, T->b, S, s->k, yout);
  if (yerr && T->e) combo(s->len, NULL, h, T->e, S, s->k, yerr);
  s->h = h;
  return FL_OK;
}

void fl_ode_step_accept(fl_ode_step *s)
{
  if (s->T->fsal) {
    double *k0 = s->k[0];
    s->k[0] = s->k[s->T->stages - 1];
    s->k[s->T->stages - 1] = k0;
    s->have_k0 = 1;
  } else {
    s->have_k0 = 0;
  }
}

fl_status fl_ode_step_dense(const fl_ode_step *s, double theta, const double *y, const double *yout, double *out)
{
  if (s->T != &fl_ode_dopri5) return fl_fail(FL_EINVAL, "method %s has no dense output", s->T->name);
  const double h = s->h, th = theta, th1 = 1 - theta;
  double *const *k = s->k;
  const size_t len = s->len;
  PFOR(len)
  for (size_t i = 0; i < len; i++) {
    double r2 = yout[i] - y[i];
    double r3 = h * k[0][i] - r2;
    double r4 = r2 - h * k[6][i] - r3;
    double r5 = h * (dp_d[0] * k[0][i] + dp_d[2] * k[2][i] + dp_d[3] * k[3][i] + dp_d[4] * k[4][i] +
                     dp_d[5] * k[5][i] + dp_d[6] * k[6][i]);
    out[i] = y[i] + th * (r2 + th1 * (r3 + th * (r4 + th1 * r5)));
  }
  return FL_OK;
}

/* ================================================================ control */

double fl_ode_error_norm(size_t n, size_t d, const double *y, const double *ynew, const double *err, double rtol,
                         double atol)
{
  double mx = 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) reduction(max : mx) if (n * d > ODE_PAR_MIN)
#endif
  for (size_t i = 0; i < n; i++) {
    double s = 0;
    for (size_t j = 0; j < d; j++) {
      size_t q = i * d + j;
      double sc = atol + rtol * fmax(fabs(y[q]), fabs(ynew[q]));
      double e = err[q] / sc;
      s += e * e;
    }
    double r = sqrt(s / (double)d);
    if (!(r <= HUGE_VAL)) r = HUGE_VAL; /* NaN counts as an infinite error */
    if (r > mx) mx = r;
  }
  return mx;
}

/* ================================================================ runs and records */

void fl_run_free(fl_run *r)
{
  if (!r) return;
  fl_free(r->rec, r->rec_cap * r->reclen * sizeof(double));
  fl_free(r->rec_t, r->rec_cap * sizeof(double));
  r->rec = r->rec_t = NULL;
  r->rec_cap = r->nrec = 0;
}

fl_status fl_run_record(const fl_observe *obs, fl_run *res, double t, int nparts, const double *const *parts,
                        const size_t *lens)
{
  if (!obs) return FL_OK;
  if (obs->store) {
    if (res->nrec == res->rec_cap) {
      size_t cap = res->rec_cap ? 2 * res->rec_cap : 16, bytes;
      if (fl_mul_overflow(cap, res->reclen * sizeof(double), &bytes))
        return fl_fail(FL_ENOMEM, "too many records");
      double *r = fl_alloc(bytes), *rt = fl_alloc(cap * sizeof(double));
      if (!r || !rt) {
        fl_free(r, bytes);
        fl_free(rt, cap * sizeof(double));
        return fl_fail(FL_ENOMEM, "no memory for %zu records of %zu numbers", cap, res->reclen);
      }
      if (res->nrec) {
        memcpy(r, res->rec, res->nrec * res->reclen * sizeof(double));
        memcpy(rt, res->rec_t, res->nrec * sizeof(double));
      }
      size_t nrec = res->nrec;
      fl_run_free(res);
      res->nrec = nrec;
      res->rec = r;
      res->rec_t = rt;
      res->rec_cap = cap;
    }
    double *dst = res->rec + res->nrec * res->reclen;
    for (int k = 0; k < nparts; k++) {
      memcpy(dst, parts[k], lens[k] * sizeof(double));
      dst += lens[k];
    }
    res->rec_t[res->nrec++] = t;
  }
  if (obs->observer && obs->observer(obs->ctx, t, nparts, parts) < 0)
    return fl_fail(FL_ECALLBACK, "the observer failed at t = %g", t);
  return FL_OK;
}

fl_status fl_observe_progress(const fl_observe *obs, double frac)
{
  if (obs && obs->progress && obs->progress(obs->ctx, frac) < 0)
    return fl_fail(FL_ECALLBACK, "the progress callback failed");
  return FL_OK;
}

/* Check that record times lie in [t0, t1] and increase in the direction of integration. */
static fl_status check_times(const fl_observe *obs, double t0, double t1)
{
  if (!obs || !obs->ntimes) return FL_OK;
  double dir = t1 > t0 ? 1 : -1;
  for (size_t i = 0; i < obs->ntimes; i++) {
    double s = obs->times[i];
    if (!isfinite(s)) return fl_fail(FL_EINVAL, "record time %zu is not finite", i + 1);
    if (dir * (s - t0) < 0 || dir * (s - t1) > 0)
      return fl_fail(FL_ERANGE, "record time %zu (%g) is outside the interval from t0 = %g to t1 = %g", i + 1, s,
                     t0, t1);
    if (i > 0 && !(dir * (s - obs->times[i - 1]) > 0))
      return fl_fail(FL_EINVAL, "record times must %s from t0 to t1 (times %zu and %zu are %g and %g)",
                     dir > 0 ? "increase" : "decrease", i, i + 1, obs->times[i - 1], s);
  }
  return FL_OK;
}

int fl_first_nonfinite(const double *x, size_t m, size_t w, size_t *bi, size_t *bj)
{
  *bi = *bj = 0;
  for (size_t q = 0; q < m * w; q++)
    if (!isfinite(x[q])) {
      *bi = q / w;
      *bj = q % w;
      return 1;
    }
  return 0;
}

static int all_finite(const double *x, size_t len)
{
  /* x*0 is 0 for a finite x and NaN otherwise; eight independent sums keep the loop fast */
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t q = 0;
  for (; q + 8 <= len; q += 8)
    for (int k = 0; k < 8; k++) s[k] += x[q + (size_t)k] * 0;
  for (; q < len; q++) s[0] += x[q] * 0;
  return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7] == 0;
}

/* ================================================================ the fixed-step engine */

typedef struct engine engine;
/* Advance particles [i0, i0+m) over steps [k0, k1); scratch has scratch_pp*m numbers. */
typedef fl_status (*advance_fn)(engine *e, size_t i0, size_t m, size_t k0, size_t k1, double *scratch);

struct engine {
  size_t n;
  size_t N;      /* steps */
  double *tg;    /* times tg[0..N] */
  size_t *ridx;  /* record step indices, ascending */
  size_t nr;
  advance_fn advance;
  size_t scratch_pp;
  int parallel;
  void *m;
  int nparts;
  const double *parts[2];
  size_t w[2];
  size_t evals; /* counted by the block holding particle 0 */
  /* the first non-finite state */
  int bad;
  size_t bad_step, bad_particle, bad_comp;
  /* an error in a worker thread */
  fl_status err;
  char errmsg[256];
};

static void engine_free(engine *e)
{
  free(e->tg);
  free(e->ridx);
}

/* Note a non-finite state at (1-based) step k of particle i, component j. */
static void note_bad(engine *e, size_t k, size_t i, size_t j)
{
#ifdef _OPENMP
#pragma omp critical(fl_ode_bad)
#endif
  {
    if (!e->bad || k < e->bad_step || (k == e->bad_step && i < e->bad_particle)) {
      e->bad = 1;
      e->bad_step = k;
      e->bad_particle = i;
      e->bad_comp = j;
    }
  }
}

/* After step k (0-based) of the m particles (d numbers each) from i0 at y
 * (len numbers in all): 1 when all are finite, else 0 with the first bad
 * number noted. */
static int step_finite(engine *e, const double *y, size_t len, size_t m, size_t d, size_t k, size_t i0)
{
  if (all_finite(y, len)) return 1;
  size_t bi, bj;
  fl_first_nonfinite(y, m, d, &bi, &bj);
  note_bad(e, k + 1, i0 + bi, bj);
  return 0;
}

static void note_err(engine *e, fl_status st)
{
#ifdef _OPENMP
#pragma omp critical(fl_ode_err)
#endif
  {
    if (!e->err) {
      e->err = st;
      snprintf(e->errmsg, sizeof e->errmsg, "%s", fl_last_detail());
    }
  }
}

/* The step grid from t0 to t1 (steps equal steps, or the given grid), with
 * the record times of obs inserted, and the record indices. */
static fl_status engine_grid(engine *e, double t0, double t1, size_t steps, const double *grid, const fl_observe *obs)
{
  if (steps == 0) return fl_fail(FL_EINVAL, "the number of steps must be positive");
  if (grid) {
    t0 = grid[0];
    t1 = grid[steps];
    for (size_t k = 0; k <= steps; k++)
      if (!isfinite(grid[k])) return fl_fail(FL_EINVAL, "grid time %zu is not finite", k + 1);
    double dir = t1 > t0 ? 1 : -1;
    for (size_t k = 1; k <= steps; k++)
      if (!(dir * (grid[k] - grid[k - 1]) > 0))
        return fl_fail(FL_EINVAL, "the time grid must be strictly monotone (times %zu and %zu are %g and %g)", k,
                       k + 1, grid[k - 1], grid[k]);
  }
  if (!isfinite(t0) || !isfinite(t1)) return fl_fail(FL_EINVAL, "t0 and t1 must be finite (t0 = %g, t1 = %g)", t0, t1);
  if (t0 == t1) return fl_fail(FL_EINVAL, "t1 equals t0 (%g): nothing to integrate", t0);
  fl_status st = check_times(obs, t0, t1);
  if (st) return st;
  size_t nt = obs ? obs->ntimes : 0;
  e->tg = malloc((steps + nt + 1) * sizeof(double));
  size_t *tidx = malloc((nt + 1) * sizeof(size_t));
  if (!e->tg || !tidx) {
    free(tidx);
    return fl_fail(FL_ENOMEM, "no memory for a time grid of %zu steps", steps);
  }
  const double dir = t1 > t0 ? 1 : -1, tol = 1e-12 * fabs(t1 - t0);
  size_t N = 0, ti = 0;
  for (size_t k = 0; k <= steps; k++) {
    double g = grid ? grid[k] : (k == steps ? t1 : t0 + (t1 - t0) * ((double)k / (double)steps));
    while (ti < nt && dir * (obs->times[ti] - g) < -tol) { /* strictly before g: insert */
      tidx[ti++] = N;
      e->tg[N++] = obs->times[ti - 1];
    }
    while (ti < nt && fabs(obs->times[ti] - g) <= tol) tidx[ti++] = N; /* at g */
    e->tg[N++] = g;
  }
  e->N = N - 1;
  size_t every = obs ? obs->every : 0, cnt = nt + (every ? e->N / every + 2 : 0);
  e->ridx = malloc((cnt + 1) * sizeof(size_t));
  if (!e->ridx) {
    free(tidx);
    return fl_fail(FL_ENOMEM, "no memory for record indices");
  }
  size_t a = 0, r = 0;
  size_t nextk = 0; /* next multiple of every */
  while (1) {
    size_t cand = (size_t)-1;
    if (a < nt) cand = tidx[a];
    if (every && nextk <= e->N && nextk < cand) cand = nextk;
    if (cand == (size_t)-1) break;
    if (!r || e->ridx[r - 1] != cand) e->ridx[r++] = cand;
    if (a < nt && tidx[a] == cand) a++;
    if (every && nextk == cand) {
      if (nextk == e->N) nextk = e->N + 1;
      else nextk = nextk + every > e->N ? e->N : nextk + every;
    }
  }
  e->nr = r;
  free(tidx);
  return FL_OK;
}

static fl_status engine_record(engine *e, const fl_observe *obs, fl_run *res, double t)
{
  size_t lens[2] = {e->n * e->w[0], e->n * e->w[1]};
  return fl_run_record(obs, res, t, e->nparts, e->parts, lens);
}

/* Particles per block: the scratch of a block stays in cache. */
static size_t block_size(size_t pp)
{
  size_t b = 24576 / (pp ? pp : 1);
  if (b < 16) b = 16;
  if (b > 4096) b = 4096;
  return b;
}

static fl_status engine_run(engine *e, const fl_observe *obs, fl_run *res)
{
  fl_status st = FL_OK;
  res->reclen = 0;
  for (int k = 0; k < e->nparts; k++) res->reclen += e->n * e->w[k];
  res->t = e->tg[0];
  const size_t n = e->n;
  size_t chunk = e->parallel ? block_size(e->scratch_pp) : (n ? n : 1);
  if (chunk > n) chunk = n ? n : 1;
  int nth = 1;
#ifdef _OPENMP
  if (e->parallel && n > chunk) nth = omp_get_max_threads();
#endif
  size_t sbytes = (size_t)nth * chunk * e->scratch_pp * sizeof(double);
  double *scratch = fl_alloc(sbytes);
  if (!scratch) return fl_fail(FL_ENOMEM, "no memory for the stages of %zu particles", n);
  /* a run of steps between polls of Ctrl-C and progress: about 2^24 particle-steps */
  size_t seg = ((size_t)1 << 24) / (n ? n : 1);
  if (seg < 1) seg = 1;
  if (seg > 4096) seg = 4096;
  size_t k = 0, r = 0;
  if (e->nr && e->ridx[0] == 0) {
    if ((st = engine_record(e, obs, res, e->tg[0]))) goto done;
    r = 1;
  }
  while (k < e->N) {
    if (fl_interrupted()) { st = fl_fail(FL_EINTR, "interrupted at t = %g after %zu steps", e->tg[k], k); break; }
    size_t kend = k + seg < e->N ? k + seg : e->N;
    if (r < e->nr && e->ridx[r] < kend) kend = e->ridx[r];
    size_t nb = n ? (n + chunk - 1) / chunk : 0;
    e->err = FL_OK;
    if (nb <= 1) {
      st = e->advance(e, 0, n, k, kend, scratch);
      if (st == FL_ENAN && e->bad) st = FL_OK;
    } else {
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nth)
#endif
      for (size_t b = 0; b < nb; b++) {
        if (e->err) continue;
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        size_t i0 = b * chunk, m = n - i0 < chunk ? n - i0 : chunk;
        fl_status s = e->advance(e, i0, m, k, kend, scratch + (size_t)tid * chunk * e->scratch_pp);
        if (s && s != FL_ENAN) note_err(e, s);
      }
      if (e->err) st = e->err == FL_ECALLBACK ? FL_ECALLBACK : fl_fail(e->err, "%s", e->errmsg);
    }
    if (st) break;
    if (e->bad) {
      res->bad_step = e->bad_step;
      res->bad_particle = e->bad_particle;
      res->bad_comp = e->bad_comp;
      res->bad_t = e->tg[e->bad_step];
      st = fl_fail(FL_ENAN, "non-finite state at step %zu (t = %g), particle %zu, component %zu", e->bad_step,
                   e->tg[e->bad_step], e->bad_particle + 1, e->bad_comp + 1);
      break;
    }
    k = kend;
    res->steps = k;
    res->t = e->tg[k];
    if (r < e->nr && e->ridx[r] == k) {
      if ((st = engine_record(e, obs, res, e->tg[k]))) break;
      r++;
    }
    if ((st = fl_observe_progress(obs, (double)k / (double)e->N))) break;
  }
done:
  res->evals = e->evals;
  fl_free(scratch, sbytes);
  return st;
}

/* ================================================================ ODE, fixed steps */

typedef struct ode_m {
  fl_field *f;
  const fl_ode_step_type *T;
  double *x;
  size_t d;
} ode_m;

static fl_status ode_advance(engine *e, size_t i0, size_t m, size_t k0, size_t k1, double *scr)
{
  const ode_m *M = e->m;
  const fl_ode_step_type *T = M->T;
  const int S = T->stages;
  const size_t d = M->d, len = m * d;
  double *K[FL_ODE_MAXSTAGES], *tmp = scr + (size_t)S * len, *y = M->x + i0 * d;
  for (int j = 0; j < S; j++) K[j] = scr + (size_t)j * len;
  int have = 0, count = i0 == 0;
  fl_status st;
  for (size_t k = k0; k < k1; k++) {
    const double t = e->tg[k], h = e->tg[k + 1] - t;
    if (!have) {
      if ((st = fl_field_eval(M->f, m, y, t, K[0]))) return st;
      e->evals += count;
    }
    for (int i = 1; i < S; i++) {
      combo(len, y, h, T->a + i * S, i, K, tmp);
      if ((st = fl_field_eval(M->f, m, tmp, i == S - 1 && T->fsal ? e->tg[k + 1] : t + T->c[i] * h, K[i])))
        return st;
      e->evals += count;
    }
    if (T->fsal) {
      memcpy(y, tmp, len * sizeof(double));
      double *k0p = K[0];
      K[0] = K[S - 1];
      K[S - 1] = k0p;
      have = 1;
    } else {
      combo(len, y, h, T->b, S, K, y);
    }
    if (!step_finite(e, y, len, m, d, k, i0)) return FL_ENAN;
  }
  return FL_OK;
}

/* ================================================================ ODE, adaptive */

static double initial_step(fl_ode_step *s, fl_field *v, size_t n, size_t d, const double *x, double t0, double dir,
                           double rtol, double atol, double *f0, double *y1, double *f1, fl_status *st)
{
  const size_t len = n * d;
  *st = fl_field_eval(v, n, x, t0, f0);
  if (*st) return 0;
  s->evals++;
  double d0 = fl_ode_error_norm(n, d, x, x, x, rtol, atol);
  double d1 = fl_ode_error_norm(n, d, x, x, f0, rtol, atol);
  double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
  for (size_t i = 0; i < len; i++) y1[i] = x[i] + dir * h0 * f0[i];
  *st = fl_field_eval(v, n, y1, t0 + dir * h0, f1);
  if (*st) return 0;
  s->evals++;
  for (size_t i = 0; i < len; i++) f1[i] -= f0[i];
  double d2 = fl_ode_error_norm(n, d, x, x, f1, rtol, atol) / h0;
  double mx = d1 > d2 ? d1 : d2;
  double h1 = mx <= 1e-15 ? fmax(1e-6, h0 * 1e-3) : pow(0.01 / mx, 0.2);
  return fmin(100 * h0, h1);
}

static fl_status ode_adaptive(fl_field *v, size_t n, double *x, const fl_ode_opts *o, const fl_observe *obs,
                              fl_run *res)
{
  const fl_ode_step_type *T = o->method;
  const double t0 = o->t0, t1 = o->t1, dir = t1 > t0 ? 1 : -1;
  const size_t d = (size_t)v->dim, len = n * d;
  if (!T->e) return fl_fail(FL_EINVAL, "method %s has no error estimate: give a number of steps", T->name);
  if (!(o->rtol >= 0) || !(o->atol >= 0) || !(o->rtol + o->atol > 0) || !isfinite(o->rtol) || !isfinite(o->atol))
    return fl_fail(FL_EINVAL, "tolerances must be finite, non-negative and not both zero (rtol = %g, atol = %g)",
                   o->rtol, o->atol);
  if (!(o->h0 >= 0) || !(o->hmin >= 0) || !(o->hmax >= 0) || !isfinite(o->h0) || !isfinite(o->hmin))
    return fl_fail(FL_EINVAL, "h0, hmin and hmax must be non-negative");
  if (t0 == t1) return fl_fail(FL_EINVAL, "t1 equals t0 (%g): nothing to integrate", t0);
  if (!isfinite(t0) || !isfinite(t1)) return fl_fail(FL_EINVAL, "t0 and t1 must be finite (t0 = %g, t1 = %g)", t0, t1);
  fl_status st = check_times(obs, t0, t1);
  if (st) return st;
  const size_t max_steps = o->max_steps ? o->max_steps : 100000;
  const double safety = 0.9, fac_min = 0.2, fac_max = 10.0;
  fl_ode_step *s;
  if ((st = fl_ode_step_new(T, v, n, &s))) return st;
  double *ynew = fl_alloc(len * sizeof(double)), *err = fl_alloc(len * sizeof(double)),
         *dense = fl_alloc(len * sizeof(double));
  res->reclen = len;
  res->t = t0;
  const double *parts[1] = {x};
  size_t lens[1] = {len};
  if (!ynew || !err || !dense) { st = fl_fail(FL_ENOMEM, "no memory for %zu particles", n); goto done; }
  size_t ti = 0, every = obs ? obs->every : 0, nt = obs ? obs->ntimes : 0;
  if ((every || (nt && obs->times[0] == t0)) && (st = fl_run_record(obs, res, t0, 1, parts, lens))) goto done;
  if (nt && obs->times[0] == t0) ti = 1;
  double h = o->h0;
  if (h == 0) {
    h = initial_step(s, v, n, d, x, t0, dir, o->rtol, o->atol, err, ynew, dense, &st);
    if (st) goto done;
  }
  if (o->hmax > 0 && h > o->hmax) h = o->hmax;
  h *= dir;
  double t = t0;
  size_t tries = 0;
  int recorded_last = 1;
  while (dir * (t1 - t) > 0) {
    if (fl_interrupted()) { st = fl_fail(FL_EINTR, "interrupted at t = %g after %zu steps", t, res->steps); break; }
    if (tries >= max_steps) {
      st = fl_fail(FL_ENOTCONV, "%s reached max_steps = %zu at t = %g (t1 = %g, step %g)", T->name, max_steps, t, t1,
                   fabs(h));
      break;
    }
    int last = 0;
    if (dir * (t + h - t1) >= -1e-12 * fabs(t1 - t0)) { h = t1 - t; last = 1; }
    tries++;
    if ((st = fl_ode_step_apply(s, t, h, x, ynew, err))) break;
    double en = fl_ode_error_norm(n, d, x, ynew, err, o->rtol, o->atol);
    if (en <= 1) {
      double tn = last ? t1 : t + h;
      while (ti < nt && dir * (obs->times[ti] - tn) <= 0) {
        double *out = dense;
        double th = (obs->times[ti] - t) / h;
        if ((st = fl_ode_step_dense(s, th < 0 ? 0 : th > 1 ? 1 : th, x, ynew, out))) goto done;
        const double *p1[1] = {out};
        if ((st = fl_run_record(obs, res, obs->times[ti], 1, p1, lens))) goto done;
        ti++;
      }
      memcpy(x, ynew, len * sizeof(double));
      fl_ode_step_accept(s);
      t = tn;
      res->t = t;
      res->steps++;
      recorded_last = 0;
      if (every && res->steps % every == 0) {
        if ((st = fl_run_record(obs, res, t, 1, parts, lens))) goto done;
        recorded_last = 1;
      }
      double fac = en == 0 ? fac_max : fmin(fac_max, fmax(fac_min, safety * pow(en, -0.2)));
      h *= fac;
      if (o->hmax > 0 && fabs(h) > o->hmax) h = dir * o->hmax;
    } else {
      if (!all_finite(ynew, len)) {
        size_t bi, bj;
        fl_first_nonfinite(ynew, n, d, &bi, &bj);
        /* a non-finite trial state: shrink once more unless the step is already tiny */
        if (fabs(h) <= 1e-12 * fmax(fabs(t), fabs(t1 - t0))) {
          res->bad_step = res->steps + 1;
          res->bad_particle = bi;
          res->bad_comp = bj;
          res->bad_t = t;
          st = fl_fail(FL_ENAN, "non-finite state at step %zu (t = %g), particle %zu, component %zu",
                       res->steps + 1, t, bi + 1, bj + 1);
          break;
        }
      }
      res->rejected++;
      h *= isfinite(en) ? fmax(fac_min, safety * pow(en, -0.2)) : fac_min;
    }
    if (fabs(h) < o->hmin || fabs(h) <= 1e-14 * fmax(fabs(t), fabs(t1 - t0))) {
      if (dir * (t1 - t) <= 0) break;
      st = fl_fail(FL_ENOTCONV, "the step size fell to %g at t = %g (hmin = %g): the problem may be stiff or singular",
                   fabs(h), t, o->hmin);
      break;
    }
    if ((st = fl_observe_progress(obs, (t - t0) / (t1 - t0)))) break;
  }
  if (!st && every && !recorded_last) st = fl_run_record(obs, res, t, 1, parts, lens);
done:
  res->evals = fl_ode_step_evals(s);
  fl_ode_step_free(s);
  fl_free(ynew, len * sizeof(double));
  fl_free(err, len * sizeof(double));
  fl_free(dense, len * sizeof(double));
  return st;
}

static fl_status check_vector_field(fl_field *v, const char *what)
{
  if (!v) return fl_fail(FL_EINVAL, "no %s field", what);
  if (v->dim != v->codim)
    return fl_fail(FL_EDIM, "the %s field must map R^d to R^d, not R^%d to R^%d", what, v->dim, v->codim);
  return FL_OK;
}

fl_status fl_ode_run(fl_field *v, size_t n, double *x, const fl_ode_opts *o, const fl_observe *obs, fl_run *res)
{
  fl_status st = check_vector_field(v, "velocity");
  if (st) return st;
  if (!o->method) return fl_fail(FL_EINVAL, "no method");
  if (o->steps == 0 && !o->grid) return ode_adaptive(v, n, x, o, obs, res);
  engine e = {0};
  ode_m M = {v, o->method, x, (size_t)v->dim};
  if ((st = engine_grid(&e, o->t0, o->t1, o->steps, o->grid, obs))) goto done;
  e.n = n;
  e.advance = ode_advance;
  e.scratch_pp = (size_t)(o->method->stages + 1) * M.d;
  e.parallel = v->thread_safe;
  e.m = &M;
  e.nparts = 1;
  e.parts[0] = x;
  e.w[0] = M.d;
  st = engine_run(&e, obs, res);
done:
  engine_free(&e);
  return st;
}

/* ================================================================ SDE */

double fl_sde_noise(uint64_t seed, uint64_t stream, size_t n, size_t d, size_t k, size_t i, size_t j)
{
  return fl_rng_normal(seed, stream, ((uint64_t)k * n + i) * d + j);
}

typedef struct sde_m {
  fl_field *a, *g;
  double sigma;
  int milstein;
  double *x;
  size_t d;
  uint64_t seed, stream;
} sde_m;

static fl_status sde_advance(engine *e, size_t i0, size_t m, size_t k0, size_t k1, double *scr)
{
  const sde_m *M = e->m;
  const size_t d = M->d, len = m * d;
  const size_t gc = M->g ? (size_t)M->g->codim : 0;
  double *A = scr, *G = scr + len, *J = G + len, *y = M->x + i0 * d;
  int count = i0 == 0;
  fl_status st;
  for (size_t k = k0; k < k1; k++) {
    const double t = e->tg[k], h = e->tg[k + 1] - t, ah = fabs(h), sq = sqrt(ah);
    if ((st = fl_field_eval(M->a, m, y, t, A))) return st;
    e->evals += count;
    if (M->g) {
      if ((st = fl_field_eval(M->g, m, y, t, G))) return st;
      if (M->milstein && (st = fl_field_jacobian(M->g, m, y, t, J, NULL))) return st;
    }
    PFOR(len)
    for (size_t i = 0; i < m; i++) {
      const size_t gi = i0 + i;
      for (size_t j = 0; j < d; j++) {
        const size_t q = i * d + j;
        double dw = sq * fl_sde_noise(M->seed, M->stream, e->n, d, k, gi, j);
        double gv = M->g ? (gc == d ? G[q] : G[i]) : M->sigma;
        double dx = A[q] * h + gv * dw;
        if (M->milstein && M->g) {
          double dg = gc == d ? J[(i * d + j) * d + j] : J[i * d + j];
          dx += 0.5 * gv * dg * (dw * dw - ah);
        }
        y[q] += dx;
      }
    }
    if (!step_finite(e, y, len, m, d, k, i0)) return FL_ENAN;
  }
  return FL_OK;
}

fl_status fl_sde_run(fl_field *drift, fl_field *g, double sigma, size_t n, double *x, const fl_sde_opts *o,
                     const fl_observe *obs, fl_run *res)
{
  fl_status st = check_vector_field(drift, "drift");
  if (st) return st;
  const size_t d = (size_t)drift->dim;
  if (g && (g->dim != drift->dim || (g->codim != drift->dim && g->codim != 1)))
    return fl_fail(FL_EDIM, "the diffusion field must map R^%d to R^%d (its diagonal) or to R, not R^%d to R^%d",
                   drift->dim, drift->dim, g->dim, g->codim);
  if (!g && !isfinite(sigma)) return fl_fail(FL_EINVAL, "the diffusion coefficient must be finite, not %g", sigma);
  if (o->method != FL_SDE_EULER_MARUYAMA && o->method != FL_SDE_MILSTEIN) return fl_fail(FL_EINVAL, "unknown SDE method");
  engine e = {0};
  sde_m M = {drift, g, sigma, o->method == FL_SDE_MILSTEIN, x, d, o->seed, o->stream};
  if ((st = engine_grid(&e, o->t0, o->t1, o->steps, o->grid, obs))) goto done;
  e.n = n;
  e.advance = sde_advance;
  e.scratch_pp = 2 * d + (M.milstein && g ? (size_t)g->codim * d : 0);
  e.parallel = drift->thread_safe && (!g || g->thread_safe);
  e.m = &M;
  e.nparts = 1;
  e.parts[0] = x;
  e.w[0] = d;
  st = engine_run(&e, obs, res);
done:
  engine_free(&e);
  return st;
}

/* ================================================================ symplectic */

typedef struct symp_m {
  fl_field *f;
  int nsub;
  double w[3];
  double *q, *p, *a;
  size_t d;
} symp_m;

/* p += kick a; q += drift p, over len numbers */
static void kick_drift(size_t len, double *q, double *p, const double *a, double kick, double drift)
{
  PFOR(len)
  for (size_t i = 0; i < len; i++) {
    double pi = p[i] + kick * a[i];
    p[i] = pi;
    q[i] += drift * pi;
  }
}

/* Steps [k0, k1) of one block; with check, a non-finite state stops at its
 * step (*bad_k, 1-based, and the particle and component). */
static fl_status symp_steps(engine *e, const symp_m *M, size_t i0, size_t m, size_t k0, size_t k1, int check,
                            size_t *bad_k)
{
  const size_t d = M->d, len = m * d;
  double *q = M->q + i0 * d, *p = M->p + i0 * d, *a = M->a + i0 * d;
  int count = i0 == 0 && !check;
  fl_status st;
  double pending = 0; /* the half kick owed by the last substep */
  *bad_k = 0;
  for (size_t k = k0; k < k1; k++) {
    const double t = e->tg[k], h = e->tg[k + 1] - t;
    double ts = t;
    for (int s = 0; s < M->nsub; s++) {
      const double hs = M->w[s] * h;
      kick_drift(len, q, p, a, pending + 0.5 * hs, hs);
      ts = s == M->nsub - 1 ? e->tg[k + 1] : ts + hs;
      if ((st = fl_field_eval(M->f, m, q, ts, a))) return st;
      e->evals += count;
      pending = 0.5 * hs;
    }
    if (check && (!all_finite(q, len) || !all_finite(p, len) || !all_finite(a, len))) {
      for (size_t i = 0; i < len; i++) p[i] += pending * a[i];
      size_t bi = 0, bj = 0, ci = 0, cj = 0;
      int b1 = fl_first_nonfinite(q, m, d, &bi, &bj), b2 = fl_first_nonfinite(p, m, d, &ci, &cj);
      if (!b1 || (b2 && ci < bi)) { bi = ci; bj = cj; }
      if (!b1 && !b2) fl_first_nonfinite(a, m, d, &bi, &bj);
      note_bad(e, k + 1, i0 + bi, bj);
      *bad_k = k + 1;
      return FL_ENAN;
    }
  }
  for (size_t i = 0; i < len; i++) p[i] += pending * a[i];
  return FL_OK;
}

/* Runs the block without per-step checks (non-finite numbers persist: a NaN
 * or an infinity in q, p or a stays non-finite), checks at the end, and on
 * failure restores the saved start and reruns it checking every step to name
 * the step. scratch: 3 d numbers per particle. */
static fl_status symp_advance(engine *e, size_t i0, size_t m, size_t k0, size_t k1, double *scr)
{
  const symp_m *M = e->m;
  const size_t d = M->d, len = m * d;
  double *q = M->q + i0 * d, *p = M->p + i0 * d, *a = M->a + i0 * d;
  fl_status st;
  if (k0 == 0) { /* the force at the start; later runs find it in a */
    if ((st = fl_field_eval(M->f, m, q, e->tg[0], a))) return st;
    e->evals += i0 == 0;
  }
  memcpy(scr, q, len * sizeof(double));
  memcpy(scr + len, p, len * sizeof(double));
  memcpy(scr + 2 * len, a, len * sizeof(double));
  size_t bad_k;
  if ((st = symp_steps(e, M, i0, m, k0, k1, 0, &bad_k))) return st;
  if (all_finite(q, len) && all_finite(p, len) && all_finite(a, len)) return FL_OK;
  memcpy(q, scr, len * sizeof(double));
  memcpy(p, scr + len, len * sizeof(double));
  memcpy(a, scr + 2 * len, len * sizeof(double));
  st = symp_steps(e, M, i0, m, k0, k1, 1, &bad_k);
  if (st == FL_OK) { /* finite on the rerun: an overflow of the check itself cannot happen, but be safe */
    size_t bi, bj;
    fl_first_nonfinite(q, m, d, &bi, &bj);
    note_bad(e, k1, i0 + bi, bj);
    return FL_ENAN;
  }
  return st;
}

fl_status fl_symp_run(fl_field *accel, fl_symp_method method, size_t n, double *q, double *p, double t0,
                      double t1, size_t steps, const fl_observe *obs, fl_run *res)
{
  fl_status st = check_vector_field(accel, "force");
  if (st) return st;
  const size_t d = (size_t)accel->dim;
  symp_m M = {accel, 1, {1, 0, 0}, q, p, NULL, d};
  if (method == FL_SYMP_YOSHIDA4) {
    double c = cbrt(2.0), w1 = 1 / (2 - c);
    M.nsub = 3;
    M.w[0] = M.w[2] = w1;
    M.w[1] = 1 - 2 * w1;
  } else if (method != FL_SYMP_LEAPFROG) {
    return fl_fail(FL_EINVAL, "unknown symplectic method");
  }
  engine e = {0};
  size_t abytes = n * d * sizeof(double);
  if ((st = engine_grid(&e, t0, t1, steps, NULL, obs))) goto done;
  if (!(M.a = fl_alloc(abytes))) { st = fl_fail(FL_ENOMEM, "no memory for the forces on %zu particles", n); goto done; }
  e.n = n;
  e.advance = symp_advance;
  e.scratch_pp = 3 * d;
  e.parallel = accel->thread_safe;
  e.m = &M;
  e.nparts = 2;
  e.parts[0] = q;
  e.parts[1] = p;
  e.w[0] = e.w[1] = d;
  st = engine_run(&e, obs, res);
done:
  fl_free(M.a, abytes);
  engine_free(&e);
  return st;
}

fl_status fl_symp_diagnostics(fl_field *pot, size_t n, const double *q, const double *p, double t, double *energy,
                              double *L)
{
  if (!pot || pot->codim != 1) return fl_fail(FL_EDIM, "the potential must be a scalar field");
  const size_t d = (size_t)pot->dim;
  double *phi = fl_alloc(n * sizeof(double));
  if (!phi) return fl_fail(FL_ENOMEM, "no memory for the potential of %zu particles", n);
  fl_status st = fl_field_eval(pot, n, q, t, phi);
  if (!st) {
    double E = 0, l0 = 0, l1 = 0, l2 = 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) reduction(+ : E, l0, l1, l2) if (n > 4096)
#endif
    for (size_t i = 0; i < n; i++) {
      const double *qi = q + i * d, *pi = p + i * d;
      double k = 0;
      for (size_t j = 0; j < d; j++) k += pi[j] * pi[j];
      E += 0.5 * k + phi[i];
      if (d == 2) {
        l0 += qi[0] * pi[1] - qi[1] * pi[0];
      } else if (d == 3) {
        l0 += qi[1] * pi[2] - qi[2] * pi[1];
        l1 += qi[2] * pi[0] - qi[0] * pi[2];
        l2 += qi[0] * pi[1] - qi[1] * pi[0];
      }
    }
    *energy = E;
    if (L && d == 2) L[0] = l0;
    if (L && d == 3) { L[0] = l0; L[1] = l1; L[2] = l2; }
  }
  fl_free(phi, n * sizeof(double));
  return st;
}

/* ================================================================ variational equation */

typedef struct var_m {
  fl_field *f;
  const fl_ode_step_type *T;
  double *x, *Y;
  size_t d;
  int exact;
} var_m;

static fl_status var_advance(engine *e, size_t i0, size_t m, size_t k0, size_t k1, double *scr)
{
  var_m *M = e->m;
  const fl_ode_step_type *T = M->T;
  const int S = T->stages;
  const size_t d = M->d, dd = d * d, lx = m * d, ly = m * dd;
  double *Kx[FL_ODE_MAXSTAGES], *KY[FL_ODE_MAXSTAGES];
  for (int j = 0; j < S; j++) {
    Kx[j] = scr + (size_t)j * (lx + ly);
    KY[j] = Kx[j] + lx;
  }
  double *xt = scr + (size_t)S * (lx + ly), *Yt = xt + lx, *J = Yt + ly;
  double *x = M->x + i0 * d, *Y = M->Y + i0 * dd;
  int count = i0 == 0;
  fl_status st;
  for (size_t k = k0; k < k1; k++) {
    const double t = e->tg[k], h = e->tg[k + 1] - t;
    for (int i = 0; i < S; i++) {
      const double *xs = x, *Ys = Y;
      if (i > 0) {
        combo(lx, x, h, T->a + i * S, i, Kx, xt);
        combo(ly, Y, h, T->a + i * S, i, KY, Yt);
        xs = xt;
        Ys = Yt;
      }
      double ti = i == 0 ? t : t + T->c[i] * h;
      int exact;
      if ((st = fl_field_eval(M->f, m, xs, ti, Kx[i]))) return st;
      if ((st = fl_field_jacobian(M->f, m, xs, ti, J, &exact))) return st;
      if (!exact) M->exact = 0;
      e->evals += count;
      for (size_t p = 0; p < m; p++) {
        const double *Jp = J + p * dd, *Yp = Ys + p * dd;
        double *Kp = KY[i] + p * dd;
        for (size_t a = 0; a < d; a++)
          for (size_t c = 0; c < d; c++) {
            double s = 0;
            for (size_t b = 0; b < d; b++) s += Jp[a * d + b] * Yp[b * d + c];
            Kp[a * d + c] = s;
          }
      }
    }
    combo(lx, x, h, T->b, S, Kx, x);
    combo(ly, Y, h, T->b, S, KY, Y);
    if (!all_finite(x, lx) || !all_finite(Y, ly)) {
      size_t bi, bj;
      if (!fl_first_nonfinite(x, m, d, &bi, &bj)) {
        fl_first_nonfinite(Y, m, dd, &bi, &bj);
        bj /= d;
      }
      note_bad(e, k + 1, i0 + bi, bj);
      return FL_ENAN;
    }
  }
  return FL_OK;
}

fl_status fl_var_run(fl_field *v, const fl_ode_step_type *T, size_t n, double *x, double *Y, double t0, double t1,
                     size_t steps, const fl_observe *obs, fl_run *res, int *exact)
{
  fl_status st = check_vector_field(v, "velocity");
  if (st) return st;
  if (!T) return fl_fail(FL_EINVAL, "no method");
  const size_t d = (size_t)v->dim;
  engine e = {0};
  var_m M = {v, T, x, Y, d, 1};
  if ((st = engine_grid(&e, t0, t1, steps, NULL, obs))) goto done;
  e.n = n;
  e.advance = var_advance;
  e.scratch_pp = (size_t)(T->stages + 1) * (d + d * d) + d * d;
  e.parallel = v->thread_safe;
  e.m = &M;
  e.nparts = 1;
  e.parts[0] = x;
  e.w[0] = d;
  st = engine_run(&e, obs, res);
done:
  if (exact) *exact = M.exact;
  engine_free(&e);
  return st;
}
