/* fl_wdecomp: the density-weighted (gauge) decomposition v = grad phi + r,
 * div(p r) = 0: PCG on periodic grids, least squares on samples. */
#include "config.h"
#include "fl_wdecomp.h"

#include <complex.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_fft.h"
#include "fl_rng.h"

#ifdef _OPENMP
#define FL_PRAGMA(x) _Pragma(#x)
#define FL_PFOR(cond) FL_PRAGMA(omp parallel for schedule(static) if(cond))
#define FL_PFOR_SUM(var, cond) FL_PRAGMA(omp parallel for schedule(static) reduction(+:var) if(cond))
#else
#define FL_PFOR(cond)
#define FL_PFOR_SUM(var, cond)
#endif
/* Points from which the loops over points run in parallel. */
#define PAR_POINTS 4096

/* ================================================================ grids */

/* The grid padded to 3 axes at the front: axis k of the grid is padded axis
 * k + off. */
typedef struct pgrid {
  int d, off;
  size_t P[3];        /* padded extents */
  size_t N, rows;     /* nodes, N / P[2] */
  double inv2h[3];    /* 1 / (2 h) per grid axis */
  double len[3];      /* period per grid axis */
  size_t n[3];        /* grid extents */
} pgrid;

static void pgrid_init(pgrid *g, const fl_grid_spec *s)
{
  g->d = s->dim;
  g->off = 3 - s->dim;
  for (int k = 0; k < 3; k++) g->P[k] = 1;
  for (int k = 0; k < s->dim; k++) {
    g->P[k + g->off] = s->n[k];
    g->n[k] = s->n[k];
    g->len[k] = s->hi[k] - s->lo[k];
    g->inv2h[k] = 0.5 * (double)s->n[k] / g->len[k];
  }
  g->N = g->P[0] * g->P[1] * g->P[2];
  g->rows = g->P[0] * g->P[1];
}

/* out[N*d] = central-difference gradient of x[N], scaled by w[N] when w is not NULL. */
static void fd_grad(const pgrid *g, const double *x, const double *w, double *out)
{
  const size_t P0 = g->P[0], P1 = g->P[1], P2 = g->P[2];
  const int d = g->d, off = g->off;
  FL_PFOR(g->N > PAR_POINTS)
  for (size_t r = 0; r < g->rows; r++) {
    size_t i0 = r / P1, i1 = r % P1;
    size_t rn[2][2] = {{((i0 + 1) % P0) * P1 + i1, ((i0 + P0 - 1) % P0) * P1 + i1},
                       {i0 * P1 + (i1 + 1) % P1, i0 * P1 + (i1 + P1 - 1) % P1}};
    for (size_t i2 = 0; i2 < P2; i2++) {
      size_t idx = r * P2 + i2;
      size_t ip = (i2 + 1 == P2) ? 0 : i2 + 1, im = (i2 == 0) ? P2 - 1 : i2 - 1;
      double s = w ? w[idx] : 1.0;
      for (int c = 0; c < d; c++) {
        int a = c + off;
        double diff;
        if (a == 2)
          diff = x[r * P2 + ip] - x[r * P2 + im];
        else
          diff = x[rn[a][0] * P2 + i2] - x[rn[a][1] * P2 + i2];
        out[idx * (size_t)d + c] = s * diff * g->inv2h[c];
      }
    }
  }
}

/* out[N] = -(central-difference divergence of q[N*d]). */
static void fd_negdiv(const pgrid *g, const double *q, double *out)
{
  const size_t P0 = g->P[0], P1 = g->P[1], P2 = g->P[2];
  const size_t d = (size_t)g->d;
  const int off = g->off;
  FL_PFOR(g->N > PAR_POINTS)
  for (size_t r = 0; r < g->rows; r++) {
    size_t i0 = r / P1, i1 = r % P1;
    size_t rn[2][2] = {{((i0 + 1) % P0) * P1 + i1, ((i0 + P0 - 1) % P0) * P1 + i1},
                       {i0 * P1 + (i1 + 1) % P1, i0 * P1 + (i1 + P1 - 1) % P1}};
    for (size_t i2 = 0; i2 < P2; i2++) {
      size_t ip = (i2 + 1 == P2) ? 0 : i2 + 1, im = (i2 == 0) ? P2 - 1 : i2 - 1;
      double acc = 0;
      for (size_t c = 0; c < d; c++) {
        int a = (int)c + off;
        double diff;
        if (a == 2)
          diff = q[(r * P2 + ip) * d + c] - q[(r * P2 + im) * d + c];
        else
          diff = q[(rn[a][0] * P2 + i2) * d + c] - q[(rn[a][1] * P2 + i2) * d + c];
        acc += diff * g->inv2h[c];
      }
      out[r * P2 + i2] = -acc;
    }
  }
}

/* Work space of the grid operator. */
typedef struct gop {
  pgrid g;
  fl_wdecomp_method method;
  const double *p;
  double *q;        /* N*d */
  double *coefG;    /* spectral: d*d */
  double *coefD;    /* spectral: d*d */
} gop;

/* out[N*d] = G x (times p when withp). */
static fl_status op_grad(gop *o, const double *x, int withp, double *out)
{
  if (o->method == FL_WDECOMP_FD) {
    fd_grad(&o->g, x, withp ? o->p : NULL, out);
    return FL_OK;
  }
  fl_status st = fl_fft_diffop(o->g.d, o->g.n, o->g.len, 1, x, (size_t)o->g.d, o->coefG, out);
  if (st || !withp) return st;
  const size_t N = o->g.N, d = (size_t)o->g.d;
  const double *p = o->p;
  FL_PFOR(N > PAR_POINTS)
  for (size_t i = 0; i < N; i++)
    for (size_t c = 0; c < d; c++) out[i * d + c] *= p[i];
  return FL_OK;
}

/* out[N] = -D q. */
static fl_status op_negdiv(gop *o, const double *q, double *out)
{
  if (o->method == FL_WDECOMP_FD) {
    fd_negdiv(&o->g, q, out);
    return FL_OK;
  }
  fl_status st = fl_fft_diffop(o->g.d, o->g.n, o->g.len, (size_t)o->g.d, q, 1, o->coefD, out);
  if (st) return st;
  const size_t N = o->g.N;
  FL_PFOR(N > PAR_POINTS)
  for (size_t i = 0; i < N; i++) out[i] = -out[i];
  return FL_OK;
}

/* out = A x = -D(p G x). */
static fl_status op_apply(gop *o, const double *x, double *out)
{
  fl_status st = op_grad(o, x, 1, o->q);
  return st ? st : op_negdiv(o, o->q, out);
}

/* out = b = -D(p v). */
static fl_status op_rhs(gop *o, const double *v, double *out)
{
  const size_t N = o->g.N, d = (size_t)o->g.d;
  const double *p = o->p;
  double *q = o->q;
  FL_PFOR(N > PAR_POINTS)
  for (size_t i = 0; i < N; i++)
    for (size_t c = 0; c < d; c++) q[i * d + c] = p[i] * v[i * d + c];
  return op_negdiv(o, q, out);
}

static fl_status gop_init(gop *o, const fl_grid_spec *s, fl_wdecomp_method method, const double *p)
{
  memset(o, 0, sizeof *o);
  pgrid_init(&o->g, s);
  o->method = method;
  o->p = p;
  size_t d = (size_t)s->dim;
  o->q = fl_alloc(o->g.N * d * sizeof(double));
  o->coefG = calloc(d * d, sizeof(double));
  o->coefD = calloc(d * d, sizeof(double));
  if (!o->q || !o->coefG || !o->coefD) {
    fl_free(o->q, o->g.N * d * sizeof(double));
    free(o->coefG);
    free(o->coefD);
    return fl_fail(FL_ENOMEM, "no memory for a %zu-node grid operator", o->g.N);
  }
  for (size_t c = 0; c < d; c++) {
    o->coefG[c * d + c] = 1; /* out_c = d/dx_c in_0: coef[(c*1 + 0)*d + k] */
    o->coefD[c * d + c] = 1; /* out_0 = sum_a d/dx_a in_a: coef[(0*d + a)*d + k] */
  }
  return FL_OK;
}

static void gop_free(gop *o)
{
  fl_free(o->q, o->g.N * (size_t)o->g.d * sizeof(double));
  free(o->coefG);
  free(o->coefD);
}

/* The preconditioner: z = (pbar G^T G)^+ r by FFT. */
typedef struct precond {
  const fl_fft_plan *fwd, *bwd;
  size_t N, nh;
  double *inv;             /* nh: 1 / (N pbar sum sigma^2), 0 on the null space */
  double complex *spec;    /* nh */
} precond;

static fl_status precond_init(precond *pc, const gop *o, double pbar)
{
  memset(pc, 0, sizeof *pc);
  const pgrid *g = &o->g;
  int d = g->d;
  fl_status st = fl_fft_plan_get(FL_FFT_R2C, d, g->n, 1, &pc->fwd);
  if (!st) st = fl_fft_plan_get(FL_FFT_C2R, d, g->n, 1, &pc->bwd);
  if (st) return st;
  pc->N = g->N;
  size_t nl = g->n[d - 1] / 2 + 1;
  pc->nh = g->N / g->n[d - 1] * nl;
  pc->inv = fl_alloc(pc->nh * sizeof(double));
  pc->spec = fl_alloc(pc->nh * sizeof(double complex));
  if (!pc->inv || !pc->spec) {
    fl_free(pc->inv, pc->nh * sizeof(double));
    fl_free(pc->spec, pc->nh * sizeof(double complex));
    return fl_fail(FL_ENOMEM, "no memory for the FFT preconditioner");
  }
  /* sigma_k(j)^2 per axis: the symbol of G^T G is sum_k sigma_k^2. */
  double *sig[FL_GRID_MAXDIM];
  for (int k = 0; k < d; k++) {
    size_t nk = (k == d - 1) ? nl : g->n[k];
    sig[k] = malloc(nk * sizeof(double));
    if (!sig[k]) {
      for (int j = 0; j < k; j++) free(sig[j]);
      fl_free(pc->inv, pc->nh * sizeof(double));
      fl_free(pc->spec, pc->nh * sizeof(double complex));
      return fl_fail(FL_ENOMEM, "no memory for the FFT preconditioner");
    }
    size_t n = g->n[k];
    double h = g->len[k] / (double)n;
    for (size_t j = 0; j < nk; j++) {
      long long jj = (j <= n / 2) ? (long long)j : (long long)j - (long long)n;
      double kap = 2 * M_PI * (double)jj / g->len[k];
      double s;
      if (j == 0 || (n % 2 == 0 && j == n / 2))
        s = 0; /* zero mode and Nyquist: not seen by G */
      else if (o->method == FL_WDECOMP_FD)
        s = sin(kap * h) / h;
      else
        s = kap;
      sig[k][j] = s * s;
    }
  }
  size_t e[3] = {1, 1, 1};
  for (int k = 0; k < d; k++) e[k] = (k == d - 1) ? nl : g->n[k];
  double scale = 1.0 / ((double)g->N * pbar);
  for (size_t q = 0; q < pc->nh; q++) {
    size_t rem = q, j[3] = {0, 0, 0};
    for (int k = d - 1; k >= 0; k--) {
      j[k] = rem % e[k];
      rem /= e[k];
    }
    double sum = 0;
    for (int k = 0; k < d; k++) sum += sig[k][j[k]];
    pc->inv[q] = sum > 0 ? scale / sum : 0.0;
  }
  for (int k = 0; k < d; k++) free(sig[k]);
  return FL_OK;
}

static void precond_free(precond *pc)
{
  fl_free(pc->inv, pc->nh * sizeof(double));
  fl_free(pc->spec, pc->nh * sizeof(double complex));
}

static fl_status precond_apply(precond *pc, const double *r, double *z)
{
  fl_status st = fl_fft_r2c(pc->fwd, r, pc->spec);
  if (st) return st;
  const size_t nh = pc->nh;
  double complex *S = pc->spec;
  const double *inv = pc->inv;
  FL_PFOR(nh > PAR_POINTS)
  for (size_t q = 0; q < nh; q++) S[q] *= inv[q];
  return fl_fft_c2r(pc->bwd, S, z);
}

static double vdot(size_t n, const double *a, const double *b)
{
  double s = 0;
  FL_PFOR_SUM(s, n > PAR_POINTS)
  for (size_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* y += a x */
static void vaxpy(size_t n, double a, const double *x, double *y)
{
  FL_PFOR(n > PAR_POINTS)
  for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}

/* y = x + a y */
static void vxpay(size_t n, const double *x, double a, double *y)
{
  FL_PFOR(n > PAR_POINTS)
  for (size_t i = 0; i < n; i++) y[i] = x[i] + a * y[i];
}

static int same_spec(const fl_grid_spec *a, const fl_grid_spec *b)
{
  if (a->dim != b->dim) return 0;
  for (int k = 0; k < a->dim; k++) {
    double tol = 1e-12 * (fabs(a->hi[k] - a->lo[k]) + fabs(a->lo[k]) + fabs(a->hi[k]));
    if (a->n[k] != b->n[k] || a->periodic[k] != b->periodic[k] || fabs(a->lo[k] - b->lo[k]) > tol ||
        fabs(a->hi[k] - b->hi[k]) > tol)
      return 0;
  }
  return 1;
}

static void spec_str(const fl_grid_spec *s, char *buf, size_t len)
{
  size_t used = 0;
  buf[0] = 0;
  for (int k = 0; k < s->dim && used < len; k++) {
    int w = snprintf(buf + used, len - used, "%s%zu on [%g, %g]%s", k ? " x " : "", s->n[k], s->lo[k], s->hi[k],
                     s->periodic[k] ? " periodic" : "");
    if (w < 0) break;
    used += (size_t)w;
  }
}

/* Node multi-index of flat index i, 1-based, as text. */
static void node_str(const fl_grid_spec *s, size_t i, char *buf, size_t len)
{
  size_t j[FL_GRID_MAXDIM];
  for (int k = s->dim - 1; k >= 0; k--) {
    j[k] = i % s->n[k];
    i /= s->n[k];
  }
  size_t used = 0;
  buf[0] = 0;
  for (int k = 0; k < s->dim && used < len; k++) {
    int w = snprintf(buf + used, len - used, "%s%zu", k ? ", " : "(", j[k] + 1);
    if (w < 0) return;
    used += (size_t)w;
  }
  if (used < len) snprintf(buf + used, len - used, ")");
}

static fl_status check_density(const fl_grid_spec *s, const double *p, size_t N)
{
  for (size_t i = 0; i < N; i++) {
    if (!(p[i] > 0) || !isfinite(p[i])) {
      char nb[96];
      node_str(s, i, nb, sizeof nb);
      return fl_fail(FL_EINVAL, "the density must be positive and finite at every node: p = %g at node %s", p[i], nb);
    }
  }
  return FL_OK;
}

fl_status fl_wdecomp_density_nodes(const fl_grid_spec *s, fl_field *p, const fl_gmm *gmm, double t, double *out)
{
  fl_status st = fl_grid_spec_check(s);
  if (st) return st;
  size_t N = fl_grid_spec_npoints(s);
  if (gmm) {
    if (gmm->d != s->dim)
      return fl_fail(FL_EDIM, "the density is a mixture in %d-D, the grid is %d-D", gmm->d, s->dim);
  } else {
    if (!p) return fl_fail(FL_EINVAL, "no density given");
    if (p->codim != 1)
      return fl_fail(FL_EDIM, "the density must be a scalar field (it has %d components)", p->codim);
    if (p->dim != s->dim) return fl_fail(FL_EDIM, "the density is a field on R^%d, the grid is %d-D", p->dim, s->dim);
    fl_grid *pg = fl_grid_of(p);
    if (pg) {
      if (!same_spec(&pg->s, s)) {
        char a[160], b[160];
        spec_str(&pg->s, a, sizeof a);
        spec_str(s, b, sizeof b);
        return fl_fail(FL_EDIM, "mismatched grids: the density is on %s, the field on %s", a, b);
      }
      memcpy(out, pg->values->data, N * sizeof(double));
      return check_density(s, out, N);
    }
  }
  fl_array *pts;
  st = fl_grid_points(s, &pts);
  if (st) return st;
  st = gmm ? fl_gmm_density(gmm, N, pts->data, out) : fl_field_eval(p, N, pts->data, t, out);
  fl_array_release(pts);
  if (st) return st;
  return check_density(s, out, N);
}

fl_status fl_wdecomp_grid_apply(const fl_grid_spec *s, fl_wdecomp_method method, const double *p,
                                const double *phi, const double *v, double *out)
{
  fl_status st = fl_grid_spec_check(s);
  if (st) return st;
  gop o;
  if ((st = gop_init(&o, s, method, p))) return st;
  st = phi ? op_apply(&o, phi, out) : op_rhs(&o, v, out);
  gop_free(&o);
  return st;
}

void fl_wdecomp_grid_result_free(fl_wdecomp_grid_result *res)
{
  if (!res) return;
  if (res->phi) fl_field_release(res->phi);
  if (res->gradient) fl_field_release(res->gradient);
  if (res->gauge) fl_field_release(res->gauge);
  res->phi = res->gradient = res->gauge = NULL;
}

/* Preconditioned CG on A x = b (x starts at 0). */
static fl_status pcg(gop *o, precond *pc, const double *b, double *x, double tol, int maxiter, int *iters,
                     double *resid)
{
  const size_t N = o->g.N;
  size_t bytes = N * sizeof(double);
  double *r = fl_alloc(bytes), *z = fl_alloc(bytes), *s = fl_alloc(bytes), *q = fl_alloc(bytes);
  fl_status st = FL_OK;
  *iters = 0;
  *resid = 0;
  if (!r || !z || !s || !q) {
    st = fl_fail(FL_ENOMEM, "no memory for conjugate gradients on %zu nodes", N);
    goto done;
  }
  memset(x, 0, bytes);
  double bnorm = sqrt(vdot(N, b, b));
  if (bnorm == 0) goto done;
  memcpy(r, b, bytes);
  if ((st = precond_apply(pc, r, z))) goto done;
  memcpy(s, z, bytes);
  double rz = vdot(N, r, z);
  double rel = 1;
  int it = 0;
  while (it < maxiter) {
    if (fl_interrupted()) {
      st = fl_fail(FL_EINTR, "interrupted after %d CG iterations (relative residual %.3g)", it, rel);
      goto done;
    }
    if ((st = op_apply(o, s, q))) goto done;
    double sq = vdot(N, s, q);
    if (!(sq > 0) || !(rz > 0)) break; /* nothing left to reduce in the range of A */
    double alpha = rz / sq;
    vaxpy(N, alpha, s, x);
    vaxpy(N, -alpha, q, r);
    it++;
    rel = sqrt(vdot(N, r, r)) / bnorm;
    if (rel <= tol) {
      /* confirm with the true residual; continue from it if drift spoiled it */
      if ((st = op_apply(o, x, q))) goto done;
      for (size_t i = 0; i < N; i++) r[i] = b[i] - q[i];
      rel = sqrt(vdot(N, r, r)) / bnorm;
      if (rel <= tol) break;
      if ((st = precond_apply(pc, r, z))) goto done;
      memcpy(s, z, bytes);
      rz = vdot(N, r, z);
      continue;
    }
    if ((st = precond_apply(pc, r, z))) goto done;
    double rz1 = vdot(N, r, z);
    vxpay(N, z, rz1 / rz, s);
    rz = rz1;
  }
  /* the true residual */
  if ((st = op_apply(o, x, q))) goto done;
  for (size_t i = 0; i < N; i++) r[i] = b[i] - q[i];
  rel = sqrt(vdot(N, r, r)) / bnorm;
  *iters = it;
  *resid = rel;
  if (!(rel <= tol))
    st = fl_fail(FL_ENOTCONV,
                 "conjugate gradients did not converge in %d iterations: relative residual %.3g reached, tol %.3g "
                 "(raise maxiter or tol; a density with a large range max/min converges slowly)",
                 it, rel, tol);
done:
  fl_free(r, bytes);
  fl_free(z, bytes);
  fl_free(s, bytes);
  fl_free(q, bytes);
  return st;
}

fl_status fl_wdecomp_grid(fl_field *v, const double *p, const fl_wdecomp_grid_opts *opts,
                          fl_wdecomp_grid_result *res)
{
  memset(res, 0, sizeof *res);
  fl_grid *gv = fl_grid_of(v);
  if (!gv) return fl_fail(FL_EINVAL, "the field must be a grid field (kind \"grid\"), not kind \"%s\"", v->ops->kind);
  const fl_grid_spec *s = &gv->s;
  int d = s->dim;
  if (gv->m != d)
    return fl_fail(FL_EDIM, "the field must be a vector grid field with %d components on its %d-D grid, not %d", d, d,
                   gv->m);
  for (int k = 0; k < d; k++)
    if (!s->periodic[k])
      return fl_fail(FL_EINVAL,
                     "the grid must be periodic on every axis (axis %d is not): the weighted decomposition on a "
                     "grid supports periodic boxes only",
                     k + 1);
  if (!(opts->tol > 0) || !isfinite(opts->tol)) return fl_fail(FL_EINVAL, "tol must be positive, not %g", opts->tol);
  if (opts->maxiter < 1) return fl_fail(FL_EINVAL, "maxiter must be at least 1, not %d", opts->maxiter);
  if (opts->method != FL_WDECOMP_FD && opts->method != FL_WDECOMP_SPECTRAL)
    return fl_fail(FL_EINVAL, "unknown method %d", (int)opts->method);
  for (int k = 0; k < d; k++)
    if (s->n[k] < 3) return fl_fail(FL_EINVAL, "axis %d has %zu nodes: at least 3 are needed", k + 1, s->n[k]);
  size_t N = gv->npoints, D = (size_t)d;
  fl_status st = check_density(s, p, N);
  if (st) return st;
  const double *V = gv->values->data;
  for (size_t i = 0; i < N * D; i++)
    if (!isfinite(V[i])) {
      char nb[96];
      node_str(s, i / D, nb, sizeof nb);
      return fl_fail(FL_ENAN, "the field is %g (component %zu) at node %s", V[i], i % D + 1, nb);
    }

  gop o;
  if ((st = gop_init(&o, s, opts->method, p))) return st;
  precond pc;
  double psum = 0;
  for (size_t i = 0; i < N; i++) psum += p[i];
  if ((st = precond_init(&pc, &o, psum / (double)N))) {
    gop_free(&o);
    return st;
  }
  double *b = fl_alloc(N * sizeof(double));
  if (!b) {
    st = fl_fail(FL_ENOMEM, "no memory for a %zu-node right-hand side", N);
    goto fail;
  }
  if ((st = fl_grid_new(s, 1, gv->interp, NULL, &res->phi))) goto fail;
  if ((st = fl_grid_new(s, d, gv->interp, NULL, &res->gradient))) goto fail;
  if ((st = fl_grid_new(s, d, gv->interp, NULL, &res->gauge))) goto fail;
  double *phi = fl_grid_of(res->phi)->values->data;
  double *G = fl_grid_of(res->gradient)->values->data;
  double *R = fl_grid_of(res->gauge)->values->data;
  if ((st = op_rhs(&o, V, b))) goto fail;
  /* div(p v) at rounding level (v already weighted-divergence-free): phi = 0.
   * The scale is what the difference quotients of p v are made of. */
  double bn = 0, fluxn = 0, hmin = INFINITY;
  for (size_t i = 0; i < N; i++) {
    bn += b[i] * b[i];
    for (size_t a = 0; a < D; a++) fluxn += p[i] * p[i] * V[i * D + a] * V[i * D + a];
  }
  for (int k = 0; k < d; k++) {
    double h = (s->hi[k] - s->lo[k]) / (double)(s->periodic[k] ? s->n[k] : s->n[k] - 1);
    if (h < hmin) hmin = h;
  }
  if (sqrt(bn) <= 1e3 * DBL_EPSILON * sqrt(fluxn) / hmin) memset(b, 0, N * sizeof(double));
  if ((st = pcg(&o, &pc, b, phi, opts->tol, opts->maxiter, &res->iterations, &res->residual))) goto fail;
  double mean = 0;
  for (size_t i = 0; i < N; i++) mean += phi[i];
  mean /= (double)N;
  for (size_t i = 0; i < N; i++) phi[i] -= mean;
  if ((st = op_grad(&o, phi, 0, G))) goto fail;
  double et = 0, eg = 0, er = 0, ec = 0;
  FL_PFOR_SUM(et, N > PAR_POINTS)
  for (size_t i = 0; i < N; i++) {
    double a = 0;
    for (size_t c = 0; c < D; c++) a += V[i * D + c] * V[i * D + c];
    et += p[i] * a;
  }
  FL_PFOR(N > PAR_POINTS)
  for (size_t i = 0; i < N * D; i++) R[i] = V[i] - G[i];
  for (size_t i = 0; i < N; i++) {
    double a = 0, bb = 0, c2 = 0;
    for (size_t c = 0; c < D; c++) {
      a += G[i * D + c] * G[i * D + c];
      bb += R[i * D + c] * R[i * D + c];
      c2 += G[i * D + c] * R[i * D + c];
    }
    eg += p[i] * a;
    er += p[i] * bb;
    ec += p[i] * c2;
  }
  res->e.total = et / psum;
  res->e.gradient = eg / psum;
  res->e.gauge = er / psum;
  res->e.cross = ec / psum;
  res->e.n = N;
  fl_free(b, N * sizeof(double));
  precond_free(&pc);
  gop_free(&o);
  return FL_OK;
fail:
  fl_free(b, N * sizeof(double));
  precond_free(&pc);
  gop_free(&o);
  fl_wdecomp_grid_result_free(res);
  return st;
}

/* ================================================================ samples */

typedef struct basis {
  int d;
  size_t K;
  fl_wdecomp_basis kind;
  int degree;
  int *exps;      /* poly: K*d */
  double *W;      /* fourier: K*d */
  double *b;      /* fourier: K */
  double amp;     /* fourier: sqrt(2/K) */
  double *coef;   /* K */
} basis;

static void basis_free(void *data)
{
  basis *B = data;
  if (!B) return;
  free(B->exps);
  free(B->W);
  free(B->b);
  free(B->coef);
  free(B);
}

size_t fl_wdecomp_poly_size(int d, int degree)
{
  if (d < 1 || degree < 1) return 0;
  /* C(d + degree, degree) - 1, saturating */
  double c = 1;
  for (int i = 1; i <= degree; i++) c = c * (double)(d + i) / (double)i;
  if (c > 1e15) return (size_t)-1;
  return (size_t)llround(c) - 1;
}

/* Exponent vectors of total degree k, graded order with x1 first. */
static void gen_exps(int d, int pos, int rem, int *cur, int *out, size_t *idx)
{
  if (pos == d - 1) {
    cur[pos] = rem;
    memcpy(out + *idx * (size_t)d, cur, (size_t)d * sizeof(int));
    (*idx)++;
    return;
  }
  for (int e = rem; e >= 0; e--) {
    cur[pos] = e;
    gen_exps(d, pos + 1, rem - e, cur, out, idx);
  }
}

/* Scratch doubles needed by basis_point. */
static size_t basis_scratch(const basis *B)
{
  return B->kind == FL_WBASIS_POLY ? (size_t)B->d * (size_t)(B->degree + 1) : 0;
}

/* At one point x: val[K], grad[K*d], hess[K*d*d] of every basis function
 * (each may be NULL). pw: basis_scratch(B) doubles. */
static void basis_point(const basis *B, const double *x, double *pw, double *val, double *grad, double *hess)
{
  const int d = B->d;
  const size_t K = B->K, D = (size_t)d;
  if (B->kind == FL_WBASIS_FOURIER) {
    for (size_t j = 0; j < K; j++) {
      const double *w = B->W + j * D;
      double th = B->b[j];
      for (size_t a = 0; a < D; a++) th += w[a] * x[a];
      double c = B->amp * cos(th), s = B->amp * sin(th);
      if (val) val[j] = c;
      if (grad)
        for (size_t a = 0; a < D; a++) grad[j * D + a] = -s * w[a];
      if (hess)
        for (size_t a = 0; a < D; a++)
          for (size_t bb = 0; bb < D; bb++) hess[(j * D + a) * D + bb] = -c * w[a] * w[bb];
    }
    return;
  }
  const int P = B->degree + 1;
  for (int a = 0; a < d; a++) {
    double *row = pw + (size_t)a * (size_t)P;
    row[0] = 1;
    for (int e = 1; e < P; e++) row[e] = row[e - 1] * x[a];
  }
#define PW(a, e) pw[(size_t)(a) * (size_t)P + (size_t)(e)]
  for (size_t j = 0; j < K; j++) {
    const int *ex = B->exps + j * D;
    if (val) {
      double t = 1;
      for (int a = 0; a < d; a++) t *= PW(a, ex[a]);
      val[j] = t;
    }
    if (grad)
      for (int a = 0; a < d; a++) {
        double t = 0;
        if (ex[a] > 0) {
          t = ex[a] * PW(a, ex[a] - 1);
          for (int c = 0; c < d; c++)
            if (c != a) t *= PW(c, ex[c]);
        }
        grad[j * D + (size_t)a] = t;
      }
    if (hess)
      for (int a = 0; a < d; a++)
        for (int bb = 0; bb < d; bb++) {
          double t = 0;
          if (a == bb) {
            if (ex[a] > 1) {
              t = (double)ex[a] * (ex[a] - 1) * PW(a, ex[a] - 2);
              for (int c = 0; c < d; c++)
                if (c != a) t *= PW(c, ex[c]);
            }
          } else if (ex[a] > 0 && ex[bb] > 0) {
            t = (double)ex[a] * ex[bb] * PW(a, ex[a] - 1) * PW(bb, ex[bb] - 1);
            for (int c = 0; c < d; c++)
              if (c != a && c != bb) t *= PW(c, ex[c]);
          }
          hess[(j * D + (size_t)a) * D + (size_t)bb] = t;
        }
  }
#undef PW
}

/* What a potential-field op computes at each point. */
enum { PHI_VAL, PHI_GRAD, PHI_HESS, PHI_LAP };

static fl_status phi_run(fl_field *f, size_t n, const double *x, double *out, int what)
{
  const basis *B = f->data;
  const size_t K = B->K, D = (size_t)B->d;
  size_t per = basis_scratch(B) + K * (what == PHI_VAL ? 1 : what == PHI_GRAD ? D : D * D);
  int fail = 0;
#ifdef _OPENMP
#pragma omp parallel if (n > 256)
#endif
  {
    double *w = malloc((per ? per : 1) * sizeof(double));
    if (!w) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
      fail = 1;
    }
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
    for (size_t i = 0; i < n; i++) {
      if (!w) continue;
      double *pw = w, *buf = w + basis_scratch(B);
      const double *xi = x + i * D;
      const double *c = B->coef;
      if (what == PHI_VAL) {
        basis_point(B, xi, pw, buf, NULL, NULL);
        double s = 0;
        for (size_t j = 0; j < K; j++) s += c[j] * buf[j];
        out[i] = s;
      } else if (what == PHI_GRAD) {
        basis_point(B, xi, pw, NULL, buf, NULL);
        for (size_t a = 0; a < D; a++) {
          double s = 0;
          for (size_t j = 0; j < K; j++) s += c[j] * buf[j * D + a];
          out[i * D + a] = s;
        }
      } else {
        basis_point(B, xi, pw, NULL, NULL, buf);
        if (what == PHI_HESS) {
          for (size_t ab = 0; ab < D * D; ab++) {
            double s = 0;
            for (size_t j = 0; j < K; j++) s += c[j] * buf[j * D * D + ab];
            out[i * D * D + ab] = s;
          }
        } else {
          double s = 0;
          for (size_t j = 0; j < K; j++)
            for (size_t a = 0; a < D; a++) s += c[j] * buf[(j * D + a) * D + a];
          out[i] = s;
        }
      }
    }
    free(w);
  }
  if (fail) return fl_fail(FL_ENOMEM, "no memory to evaluate a potential");
  return FL_OK;
}

static fl_status phi_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)t;
  return phi_run(f, n, x, out, PHI_VAL);
}
static fl_status phi_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  (void)t;
  return phi_run(f, n, x, J, PHI_GRAD);
}
static fl_status phi_hess(fl_field *f, size_t n, const double *x, double t, double *H)
{
  (void)t;
  return phi_run(f, n, x, H, PHI_HESS);
}
static fl_status phi_lap(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)t;
  return phi_run(f, n, x, out, PHI_LAP);
}

static const fl_field_ops poly_ops = {"poly_potential", phi_eval, phi_jac, NULL, phi_hess, phi_lap, basis_free};
static const fl_field_ops fourier_ops = {"fourier_potential", phi_eval, phi_jac, NULL, phi_hess, phi_lap, basis_free};

void fl_wdecomp_sample_result_free(fl_wdecomp_sample_result *res)
{
  if (!res) return;
  if (res->phi) fl_field_release(res->phi);
  if (res->gradient) fl_field_release(res->gradient);
  if (res->gauge) fl_field_release(res->gauge);
  fl_array *arr[] = {res->coef, res->basis, res->phases, res->values_v, res->values_gradient, res->values_phi};
  for (size_t k = 0; k < sizeof arr / sizeof arr[0]; k++)
    if (arr[k]) fl_array_release(arr[k]);
  memset(res, 0, sizeof *res);
}

/* mean and standard error of y[n] */
static void mean_se(const double *y, size_t n, double *mean, double *se)
{
  double m = 0;
  for (size_t i = 0; i < n; i++) m += y[i];
  m /= (double)n;
  double s2 = 0;
  for (size_t i = 0; i < n; i++) s2 += (y[i] - m) * (y[i] - m);
  *mean = m;
  *se = n > 1 ? sqrt(s2 / (double)(n - 1) / (double)n) : 0.0;
}

static basis *basis_make(int d, const fl_wdecomp_sample_opts *o, fl_status *st)
{
  basis *B = calloc(1, sizeof *B);
  if (!B) {
    *st = fl_fail(FL_ENOMEM, "no memory for a basis");
    return NULL;
  }
  B->d = d;
  B->kind = o->basis;
  size_t D = (size_t)d;
  if (o->basis == FL_WBASIS_POLY) {
    B->degree = o->degree;
    B->K = fl_wdecomp_poly_size(d, o->degree);
    if (B->K > 100000) {
      *st = fl_fail(FL_ERANGE, "degree %d in %d dimensions gives %zu monomials: too many (at most 100000)", o->degree,
                    d, B->K);
      free(B);
      return NULL;
    }
    B->exps = malloc(B->K * D * sizeof(int));
    int *cur = malloc(D * sizeof(int));
    if (!B->exps || !cur) {
      free(cur);
      basis_free(B);
      *st = fl_fail(FL_ENOMEM, "no memory for a basis");
      return NULL;
    }
    size_t idx = 0;
    for (int k = 1; k <= o->degree; k++) gen_exps(d, 0, k, cur, B->exps, &idx);
    free(cur);
  } else {
    B->K = o->features;
    B->W = malloc(B->K * D * sizeof(double));
    B->b = malloc(B->K * sizeof(double));
    if (!B->W || !B->b) {
      basis_free(B);
      *st = fl_fail(FL_ENOMEM, "no memory for %zu Fourier features", o->features);
      return NULL;
    }
    fl_rng_fill_normal(o->seed, o->stream, 0, B->K * D, B->W);
    for (size_t i = 0; i < B->K * D; i++) B->W[i] /= o->scale;
    fl_rng_fill_uniform(o->seed, o->stream, (uint64_t)1 << 62, B->K, B->b);
    for (size_t j = 0; j < B->K; j++) B->b[j] *= 2 * M_PI;
    B->amp = sqrt(2.0 / (double)B->K);
  }
  B->coef = calloc(B->K, sizeof(double));
  if (!B->coef) {
    basis_free(B);
    *st = fl_fail(FL_ENOMEM, "no memory for a basis");
    return NULL;
  }
  *st = FL_OK;
  return B;
}

fl_status fl_wdecomp_samples(fl_field *v, size_t n, const double *x, const fl_wdecomp_sample_opts *o,
                             fl_wdecomp_sample_result *res)
{
  memset(res, 0, sizeof *res);
  if (v->codim != v->dim)
    return fl_fail(FL_EDIM, "the field must be a vector field (R^d -> R^d), not R^%d -> R^%d", v->dim, v->codim);
  const int d = v->dim;
  const size_t D = (size_t)d;
  if (o->basis == FL_WBASIS_POLY) {
    if (o->degree < 1) return fl_fail(FL_EINVAL, "the degree must be at least 1, not %d", o->degree);
  } else if (o->basis == FL_WBASIS_FOURIER) {
    if (o->features < 1) return fl_fail(FL_EINVAL, "the number of Fourier features must be at least 1");
    if (!(o->scale >= 0) || !isfinite(o->scale))
      return fl_fail(FL_EINVAL, "the Fourier length scale must be positive and finite, not %g", o->scale);
  } else {
    return fl_fail(FL_EINVAL, "unknown basis %d", (int)o->basis);
  }
  if (!(o->ridge >= 0) || !isfinite(o->ridge)) return fl_fail(FL_EINVAL, "ridge must be >= 0 and finite, not %g", o->ridge);
  if (!(o->holdout >= 0 && o->holdout < 1))
    return fl_fail(FL_EINVAL, "holdout must be a fraction in [0, 1), not %g", o->holdout);
  size_t nhold = (size_t)floor(o->holdout * (double)n);
  size_t nfit = n - nhold;
  if (nfit < 1) return fl_fail(FL_EINVAL, "no samples to fit (%zu samples, holdout %g)", n, o->holdout);
  if (o->holdout > 0 && nhold < 2)
    return fl_fail(FL_EINVAL, "holdout %g of %zu samples leaves fewer than 2 samples to evaluate on", o->holdout, n);
  for (size_t i = 0; i < n * D; i++)
    if (!isfinite(x[i])) return fl_fail(FL_ENAN, "sample %zu has a non-finite coordinate (%g)", i / D + 1, x[i]);

  fl_wdecomp_sample_opts oo = *o;
  if (oo.basis == FL_WBASIS_FOURIER && oo.scale == 0) {
    /* automatic: 3 times the mean standard deviation of the coordinates */
    double sd = 0;
    for (size_t a = 0; a < D; a++) {
      double m = 0, q = 0;
      for (size_t i = 0; i < n; i++) m += x[i * D + a];
      m /= (double)n;
      for (size_t i = 0; i < n; i++) q += (x[i * D + a] - m) * (x[i * D + a] - m);
      sd += sqrt(q / (double)n);
    }
    oo.scale = 3 * sd / (double)D;
    if (!(oo.scale > 0)) return fl_fail(FL_EINVAL, "the samples do not spread: give the Fourier length scale");
  }
  o = &oo;
  fl_status st;
  basis *B = basis_make(d, o, &st);
  if (!B) return st;
  const size_t K = B->K;
  fl_array *A = NULL, *rhs = NULL, *c = NULL;
  double *colscale = NULL;
  size_t shp[2] = {n, D};
  if ((st = fl_array_new(2, shp, &res->values_v))) goto fail;
  if ((st = fl_array_new(2, shp, &res->values_gradient))) goto fail;
  if ((st = fl_array_new(1, &n, &res->values_phi))) goto fail;
  double *V = res->values_v->data;
  if ((st = fl_field_eval(v, n, x, o->t, V))) goto fail;
  for (size_t i = 0; i < n * D; i++)
    if (!isfinite(V[i])) {
      st = fl_fail(FL_ENAN, "the field is %g (component %zu) at sample %zu", V[i], i % D + 1, i / D + 1);
      goto fail;
    }

  /* the design matrix: row (i, a) holds d psi_j / dx_a at x_i */
  size_t ndata = nfit * D;
  size_t ashp[2] = {ndata + (o->ridge > 0 ? K : 0), K};
  size_t cells;
  if (fl_mul_overflow(ashp[0], K, &cells) || cells > ((size_t)1 << 31)) {
    st = fl_fail(FL_ERANGE, "the least-squares matrix (%zu x %zu) is too large: use fewer samples or basis functions",
                 ashp[0], K);
    goto fail;
  }
  if ((st = fl_array_new(2, ashp, &A))) goto fail;
  if ((st = fl_array_zeros(1, &ashp[0], &rhs))) goto fail;
  memcpy(rhs->data, V, ndata * sizeof(double));
  {
    double *Ad = A->data;
    size_t per = basis_scratch(B) + K * D;
    int nomem = 0;
#ifdef _OPENMP
#pragma omp parallel if (nfit > 256)
#endif
    {
      double *w = malloc(per * sizeof(double));
      if (!w) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
        nomem = 1;
      }
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
      for (size_t i = 0; i < nfit; i++) {
        if (!w) continue;
        double *gr = w + basis_scratch(B);
        basis_point(B, x + i * D, w, NULL, gr, NULL);
        for (size_t a = 0; a < D; a++)
          for (size_t j = 0; j < K; j++) Ad[(i * D + a) * K + j] = gr[j * D + a];
      }
      free(w);
    }
    if (nomem) {
      st = fl_fail(FL_ENOMEM, "no memory for the least-squares matrix");
      goto fail;
    }
    /* equilibrate the columns */
    colscale = calloc(K, sizeof(double));
    if (!colscale) {
      st = fl_fail(FL_ENOMEM, "no memory for the least-squares matrix");
      goto fail;
    }
    if (o->ridge > 0) {
      double rr = sqrt((double)nfit * o->ridge);
      memset(Ad + ndata * K, 0, K * K * sizeof(double));
      for (size_t j = 0; j < K; j++) Ad[(ndata + j) * K + j] = rr;
    }
    for (size_t r = 0; r < ndata; r++)
      for (size_t j = 0; j < K; j++) colscale[j] += Ad[r * K + j] * Ad[r * K + j];
    for (size_t j = 0; j < K; j++) colscale[j] = colscale[j] > 0 ? 1.0 / sqrt(colscale[j]) : 1.0;
    for (size_t r = 0; r < ashp[0]; r++)
      for (size_t j = 0; j < K; j++) Ad[r * K + j] *= colscale[j];
  }
  if ((st = fl_array_lstsq(A, rhs, -1.0, &c, &res->rank, NULL))) goto fail;
  fl_array_release(A);
  A = NULL;
  for (size_t j = 0; j < K; j++) B->coef[j] = c->data[j] * colscale[j];
  fl_array_release(c);
  c = NULL;
  if ((st = fl_array_from_data(1, &K, B->coef, &res->coef))) goto fail;
  if (B->kind == FL_WBASIS_POLY) {
    size_t bs[2] = {K, D};
    if ((st = fl_array_new(2, bs, &res->basis))) goto fail;
    for (size_t i = 0; i < K * D; i++) res->basis->data[i] = (double)B->exps[i];
  } else {
    size_t bs[2] = {K, D};
    if ((st = fl_array_from_data(2, bs, B->W, &res->basis))) goto fail;
    if ((st = fl_array_from_data(1, &K, B->b, &res->phases))) goto fail;
  }
  {
    basis *Bf = B;
    B = NULL; /* owned by the field now (freed on failure too) */
    if ((st = fl_field_new(Bf->kind == FL_WBASIS_POLY ? &poly_ops : &fourier_ops, d, 1, 0, 1, Bf, &res->phi)))
      goto fail;
  }
  if ((st = fl_field_gradient(res->phi, &res->gradient))) goto fail;
  if ((st = fl_field_lincomb(1.0, v, -1.0, res->gradient, &res->gauge))) goto fail;
  double *G = res->values_gradient->data;
  if ((st = phi_jac(res->phi, n, x, 0, G))) goto fail;
  if ((st = phi_eval(res->phi, n, x, 0, res->values_phi->data))) goto fail;
  res->nfit = nfit;
  {
    double ss = 0;
    for (size_t i = 0; i < nfit * D; i++) ss += (V[i] - G[i]) * (V[i] - G[i]);
    res->fit_residual = sqrt(ss / (double)nfit);
    size_t i0 = nhold > 0 ? nfit : 0, ne = nhold > 0 ? nhold : n;
    double *y = malloc(4 * ne * sizeof(double));
    if (!y) {
      st = fl_fail(FL_ENOMEM, "no memory for the energies");
      goto fail;
    }
    for (size_t i = 0; i < ne; i++) {
      const double *vi = V + (i0 + i) * D, *gi = G + (i0 + i) * D;
      double a = 0, g2 = 0, r2 = 0, gr = 0;
      for (size_t k = 0; k < D; k++) {
        double r = vi[k] - gi[k];
        a += vi[k] * vi[k];
        g2 += gi[k] * gi[k];
        r2 += r * r;
        gr += gi[k] * r;
      }
      y[i] = a;
      y[ne + i] = g2;
      y[2 * ne + i] = r2;
      y[3 * ne + i] = gr;
    }
    mean_se(y, ne, &res->e.total, &res->e.total_se);
    mean_se(y + ne, ne, &res->e.gradient, &res->e.gradient_se);
    mean_se(y + 2 * ne, ne, &res->e.gauge, &res->e.gauge_se);
    mean_se(y + 3 * ne, ne, &res->e.cross, &res->e.cross_se);
    res->e.n = ne;
    free(y);
  }
  free(colscale);
  fl_array_release(rhs);
  return FL_OK;
fail:
  if (B) basis_free(B);
  if (A) fl_array_release(A);
  if (rhs) fl_array_release(rhs);
  if (c) fl_array_release(c);
  free(colscale);
  fl_wdecomp_sample_result_free(res);
  return st;
}
