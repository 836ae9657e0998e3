/* fl_grid: gridded fields: interpolation, sampling, FD and spectral derivatives. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_grid.h"
#include "fl_fft.h"

#ifdef _OPENMP
#define FL_PRAGMA(x) _Pragma(#x)
#define FL_PFOR(cond) FL_PRAGMA(omp parallel for schedule(static) if(cond))
#define FL_PFOR_OR(var, cond) FL_PRAGMA(omp parallel for schedule(static) reduction(|:var) if(cond))
#else
#define FL_PFOR(cond)
#define FL_PFOR_OR(var, cond)
#endif
/* The per-point kernels must be inlined into each (K, d) loop so that the
 * tap loops unroll with constant bounds. */
#if defined(__GNUC__)
#define FL_INLINE static inline __attribute__((always_inline))
#else
#define FL_INLINE static inline
#endif
/* Points per call from which the loops over points run in parallel. */
#define PAR_POINTS 4096

/* ------------------------------------------------------------ geometry */

size_t fl_grid_spec_npoints(const fl_grid_spec *s)
{
  size_t n = 1;
  for (int k = 0; k < s->dim; k++) n *= s->n[k];
  return n;
}

double fl_grid_spec_spacing(const fl_grid_spec *s, int k)
{
  return (s->hi[k] - s->lo[k]) / (double)(s->periodic[k] ? s->n[k] : s->n[k] - 1);
}

fl_status fl_grid_spec_check(const fl_grid_spec *s)
{
  if (s->dim < 1 || s->dim > FL_GRID_MAXDIM)
    return fl_fail(FL_EINVAL, "a grid has 1 to %d axes, not %d", FL_GRID_MAXDIM, s->dim);
  size_t total = 1;
  for (int k = 0; k < s->dim; k++) {
    if (s->n[k] < 2)
      return fl_fail(FL_EINVAL, "axis %d has %zu nodes (a grid needs at least 2 per axis)", k + 1, s->n[k]);
    if (!isfinite(s->lo[k]) || !isfinite(s->hi[k]))
      return fl_fail(FL_EINVAL, "axis %d: box [%g, %g] is not finite", k + 1, s->lo[k], s->hi[k]);
    if (!(s->hi[k] > s->lo[k]))
      return fl_fail(FL_EINVAL, "axis %d: box [%g, %g] is empty (need a < b)", k + 1, s->lo[k], s->hi[k]);
    if (fl_mul_overflow(total, s->n[k], &total))
      return fl_fail(FL_EINVAL, "grid too large");
  }
  return FL_OK;
}

/* "[0, 1) x [-1, 1]" */
static const char *box_str(const fl_grid_spec *s, char *buf, size_t len)
{
  size_t used = 0;
  buf[0] = '\0';
  for (int k = 0; k < s->dim && used < len; k++) {
    int w = snprintf(buf + used, len - used, "%s[%.6g, %.6g%c", k ? " x " : "", s->lo[k], s->hi[k],
                     s->periodic[k] ? ')' : ']');
    if (w < 0) break;
    used += (size_t)w;
  }
  return buf;
}

static const char *point_str(const double *x, int d, char *buf, size_t len)
{
  size_t used = 0;
  buf[0] = '\0';
  for (int k = 0; k < d && used < len; k++) {
    char num[40];
    snprintf(num, sizeof num, "%.15g", x[k]); /* the shortest of %.15g/%.17g that reads back exactly */
    if (strtod(num, NULL) != x[k] && isfinite(x[k])) snprintf(num, sizeof num, "%.17g", x[k]);
    int w = snprintf(buf + used, len - used, "%s%s%s", k ? ", " : "(", num, k == d - 1 ? ")" : "");
    if (w < 0) break;
    used += (size_t)w;
  }
  return buf;
}

fl_status fl_grid_coords(const fl_grid_spec *s, int k, fl_array **out)
{
  *out = NULL;
  fl_status st = fl_grid_spec_check(s);
  if (st != FL_OK) return st;
  if (k < 0 || k >= s->dim) return fl_fail(FL_EINVAL, "axis %d out of range 1..%d", k + 1, s->dim);
  size_t n = s->n[k];
  st = fl_array_new(1, &n, out);
  if (st != FL_OK) return st;
  double h = fl_grid_spec_spacing(s, k);
  for (size_t j = 0; j < n; j++) (*out)->data[j] = s->lo[k] + (double)j * h;
  if (!s->periodic[k]) (*out)->data[n - 1] = s->hi[k];
  return FL_OK;
}

fl_status fl_grid_points(const fl_grid_spec *s, fl_array **out)
{
  *out = NULL;
  fl_status st = fl_grid_spec_check(s);
  if (st != FL_OK) return st;
  int d = s->dim;
  size_t shape[2] = {fl_grid_spec_npoints(s), (size_t)d};
  st = fl_array_new(2, shape, out);
  if (st != FL_OK) return st;
  fl_array *cs[FL_GRID_MAXDIM] = {NULL, NULL, NULL};
  for (int k = 0; k < d && st == FL_OK; k++) st = fl_grid_coords(s, k, &cs[k]);
  if (st == FL_OK) {
    double *p = (*out)->data;
    size_t np = shape[0];
    FL_PFOR(np > PAR_POINTS)
    for (size_t i = 0; i < np; i++) {
      size_t r = i;
      for (int k = d - 1; k >= 0; k--) {
        p[i * (size_t)d + (size_t)k] = cs[k]->data[r % s->n[k]];
        r /= s->n[k];
      }
    }
  }
  for (int k = 0; k < d; k++) fl_array_release(cs[k]);
  if (st != FL_OK) {
    fl_array_release(*out);
    *out = NULL;
  }
  return st;
}

/* ------------------------------------------------------------ the field */

static fl_status grid_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)t;
  return fl_grid_interp(f->data, n, x, out);
}

static fl_status grid_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  (void)t;
  return fl_grid_interp_jac(f->data, n, x, J);
}

static void grid_destroy(void *data)
{
  fl_grid *g = data;
  if (!g) return;
  fl_array_release(g->values);
  free(g);
}

static const fl_field_ops grid_ops = {
  .kind = "grid",
  .eval = grid_eval,
  .jac = grid_jac,
  .destroy = grid_destroy,
};

fl_grid *fl_grid_of(const fl_field *f)
{
  return f && f->ops == &grid_ops ? f->data : NULL;
}

/* Does values have the shape of an m-component grid on s? */
static fl_status check_values(const fl_grid_spec *s, int m, const fl_array *v)
{
  int d = s->dim;
  int ok = v->ndim == d + 1 || (m == 1 && v->ndim == d);
  for (int k = 0; ok && k < d; k++) ok = v->shape[k] == s->n[k];
  if (ok && v->ndim == d + 1) ok = v->shape[d] == (size_t)m;
  if (ok) return FL_OK;
  size_t want[FL_GRID_MAXDIM + 1];
  for (int k = 0; k < d; k++) want[k] = s->n[k];
  want[d] = (size_t)m;
  char a[100], b[100], c[100];
  if (m == 1)
    return fl_fail(FL_EDIM, "values have shape %s, expected %s or %s", fl_array_shape_str(v, a, sizeof a),
                   fl_shape_str(d, want, b, sizeof b), fl_shape_str(d + 1, want, c, sizeof c));
  return fl_fail(FL_EDIM, "values have shape %s, expected %s", fl_array_shape_str(v, a, sizeof a),
                 fl_shape_str(d + 1, want, b, sizeof b));
}

fl_status fl_grid_new(const fl_grid_spec *s, int m, fl_interp interp, fl_array *values, fl_field **out)
{
  *out = NULL;
  fl_status st = fl_grid_spec_check(s);
  if (st != FL_OK) return st;
  if (m < 1) return fl_fail(FL_EINVAL, "a grid needs at least 1 component, not %d", m);
  if (interp != FL_INTERP_LINEAR && interp != FL_INTERP_CUBIC)
    return fl_fail(FL_EINVAL, "unknown interpolation %d", (int)interp);
  if (interp == FL_INTERP_CUBIC)
    for (int k = 0; k < s->dim; k++)
      if (!s->periodic[k] && s->n[k] < 3)
        return fl_fail(FL_EINVAL, "cubic interpolation needs at least 3 nodes on non-periodic axis %d (it has %zu)",
                       k + 1, s->n[k]);
  if (values) {
    st = check_values(s, m, values);
    if (st != FL_OK) return st;
    fl_array_retain(values);
  } else {
    size_t shape[FL_GRID_MAXDIM + 1];
    for (int k = 0; k < s->dim; k++) shape[k] = s->n[k];
    shape[s->dim] = (size_t)m;
    st = fl_array_zeros(m == 1 ? s->dim : s->dim + 1, shape, &values);
    if (st != FL_OK) return st;
  }
  fl_grid *g = calloc(1, sizeof *g);
  if (!g) {
    fl_array_release(values);
    return fl_fail(FL_ENOMEM, "no memory for a grid");
  }
  g->s = *s;
  for (int k = s->dim; k < FL_GRID_MAXDIM; k++) {
    g->s.n[k] = 1;
    g->s.lo[k] = 0;
    g->s.hi[k] = 1;
    g->s.periodic[k] = 0;
  }
  g->m = m;
  g->interp = interp;
  g->values = values;
  g->npoints = fl_grid_spec_npoints(s);
  size_t stride = (size_t)m;
  for (int k = s->dim - 1; k >= 0; k--) {
    g->stride[k] = stride;
    stride *= s->n[k];
    g->h[k] = fl_grid_spec_spacing(s, k);
    g->inv_h[k] = 1.0 / g->h[k];
  }
  return fl_field_new(&grid_ops, s->dim, m, 0, 1, g, out);
}

fl_status fl_grid_from_array(fl_array *values, int d, const double *lo, const double *hi,
                             const int *periodic, fl_interp interp, fl_field **out)
{
  *out = NULL;
  if (!values) return fl_fail(FL_EINVAL, "no values");
  if (d < 1 || d > FL_GRID_MAXDIM)
    return fl_fail(FL_EINVAL, "a grid has 1 to %d axes, not %d", FL_GRID_MAXDIM, d);
  if (values->ndim != d && values->ndim != d + 1) {
    char a[100];
    return fl_fail(FL_EDIM, "values of shape %s do not make a %d-D grid (need %d dimensions, or %d with the components last)",
                   fl_array_shape_str(values, a, sizeof a), d, d, d + 1);
  }
  fl_grid_spec s;
  memset(&s, 0, sizeof s);
  s.dim = d;
  for (int k = 0; k < d; k++) {
    s.n[k] = values->shape[k];
    s.lo[k] = lo[k];
    s.hi[k] = hi[k];
    s.periodic[k] = periodic[k] != 0;
  }
  size_t m = values->ndim == d ? 1 : values->shape[d];
  if (m < 1 || m > 1000000) return fl_fail(FL_EDIM, "values have %zu components", m);
  return fl_grid_new(&s, (int)m, interp, values, out);
}

/* ------------------------------------------------------------ interpolation */

typedef struct axis {
  double lo, hi, inv_h, nd, inv_n;
  size_t n, stride;
  int periodic;
} axis;

static void axes_of(const fl_grid *g, axis *ax)
{
  for (int k = 0; k < g->s.dim; k++) {
    ax[k].lo = g->s.lo[k];
    ax[k].hi = g->s.hi[k];
    ax[k].inv_h = g->inv_h[k];
    ax[k].n = g->s.n[k];
    ax[k].nd = (double)g->s.n[k];
    ax[k].inv_n = 1.0 / (double)g->s.n[k];
    ax[k].stride = g->stride[k];
    ax[k].periodic = g->s.periodic[k];
  }
}

/* Cell index j and offset t in [0, 1] of coordinate x; 1 when x is outside
 * the box of a non-periodic axis or not finite (j = 0, t = 0 then). */
FL_INLINE int locate(const axis *a, double x, size_t *j, double *t)
{
  double u = (x - a->lo) * a->inv_h;
  int bad = 0;
  if (a->periodic) {
    if (!(fabs(u) < 1e15)) {
      bad = 1;
      u = 0;
    }
    u -= a->nd * floor(u * a->inv_n);
    size_t jj = (size_t)u;
    *t = u - (double)jj;
    *j = jj >= a->n ? jj - a->n : jj;
  } else {
    if (!(x >= a->lo && x <= a->hi)) {
      bad = 1;
      u = 0;
    }
    size_t jj = (size_t)u;
    if (jj > a->n - 2) jj = a->n - 2;
    *j = jj;
    *t = u - (double)jj;
  }
  return bad;
}

/* Offsets (in doubles) and weights of the 2 linear taps of coordinate x;
 * dw (may be NULL): derivative weights d/dx. */
FL_INLINE int taps2(const axis *a, double x, size_t *o, double *w, double *dw)
{
  size_t j;
  double t;
  int bad = locate(a, x, &j, &t);
  size_t j1 = j + 1 == a->n ? 0 : j + 1;
  o[0] = j * a->stride;
  o[1] = j1 * a->stride;
  w[0] = 1 - t;
  w[1] = t;
  if (dw) {
    dw[0] = -a->inv_h;
    dw[1] = a->inv_h;
  }
  return bad;
}

/* Catmull-Rom weights of nodes j-1, j, j+1, j+2 at offset t. */
static inline void catmull_rom(double t, double *w)
{
  double t2 = t * t, t3 = t2 * t;
  w[0] = 0.5 * (-t3 + 2 * t2 - t);
  w[1] = 0.5 * (3 * t3 - 5 * t2 + 2);
  w[2] = 0.5 * (-3 * t3 + 4 * t2 + t);
  w[3] = 0.5 * (t3 - t2);
}

static inline void catmull_rom_d(double t, double *w)
{
  double t2 = t * t;
  w[0] = 0.5 * (-3 * t2 + 4 * t - 1);
  w[1] = 0.5 * (9 * t2 - 10 * t);
  w[2] = 0.5 * (-9 * t2 + 8 * t + 1);
  w[3] = 0.5 * (3 * t2 - 2 * t);
}

/* Fold the weight of the ghost node (slot 0 left, slot 3 right) into the
 * real nodes: f[-1] = 3 f[0] - 3 f[1] + f[2] (and its mirror). */
static inline void fold_left(double *w)
{
  w[1] += 3 * w[0];
  w[2] -= 3 * w[0];
  w[3] += w[0];
  w[0] = 0;
}

static inline void fold_right(double *w)
{
  w[2] += 3 * w[3];
  w[1] -= 3 * w[3];
  w[0] += w[3];
  w[3] = 0;
}

FL_INLINE int taps4(const axis *a, double x, size_t *o, double *w, double *dw)
{
  size_t j;
  double t;
  int bad = locate(a, x, &j, &t);
  size_t n = a->n, i0, i1 = j, i2, i3;
  catmull_rom(t, w);
  if (dw) {
    catmull_rom_d(t, dw);
    for (int q = 0; q < 4; q++) dw[q] *= a->inv_h;
  }
  if (a->periodic) {
    i0 = j == 0 ? n - 1 : j - 1;
    i2 = j + 1 == n ? 0 : j + 1;
    i3 = i2 + 1 == n ? 0 : i2 + 1;
  } else {
    i0 = j == 0 ? 0 : j - 1;
    i2 = j + 1;
    i3 = j + 2 < n ? j + 2 : n - 1;
    if (j == 0) {
      fold_left(w);
      if (dw) fold_left(dw);
    }
    if (j + 2 == n) {
      fold_right(w);
      if (dw) fold_right(dw);
    }
  }
  o[0] = i0 * a->stride;
  o[1] = i1 * a->stride;
  o[2] = i2 * a->stride;
  o[3] = i3 * a->stride;
  return bad;
}

/* out[0..m) = interpolant at x: K taps per axis, d axes (constants at the
 * call sites, so the loops unroll). The K^d node offsets and weights are
 * gathered first; each component is then one independent sum (no stores
 * inside it, and the loads of all nodes are in flight together). */
FL_INLINE int interp_point(const axis *ax, const double *v, size_t m, int K, int d, const double *x,
                               double *out)
{
  size_t o[FL_GRID_MAXDIM][4];
  double w[FL_GRID_MAXDIM][4];
  int bad = 0;
  for (int k = 0; k < d; k++)
    bad |= K == 2 ? taps2(&ax[k], x[k], o[k], w[k], NULL) : taps4(&ax[k], x[k], o[k], w[k], NULL);
  size_t off[64];
  double wt[64];
  int nq = 0;
  if (d == 1) {
    for (int a = 0; a < K; a++, nq++) {
      off[nq] = o[0][a];
      wt[nq] = w[0][a];
    }
  } else if (d == 2) {
    for (int a = 0; a < K; a++)
      for (int b = 0; b < K; b++, nq++) {
        off[nq] = o[0][a] + o[1][b];
        wt[nq] = w[0][a] * w[1][b];
      }
  } else {
    for (int a = 0; a < K; a++)
      for (int b = 0; b < K; b++)
        for (int e = 0; e < K; e++, nq++) {
          off[nq] = o[0][a] + o[1][b] + o[2][e];
          wt[nq] = w[0][a] * w[1][b] * w[2][e];
        }
  }
  for (size_t c = 0; c < m; c++) {
    double acc = 0;
    for (int q = 0; q < nq; q++) acc += wt[q] * v[off[q] + c];
    out[c] = acc;
  }
  return bad;
}

#define INTERP_LOOP(K, D)                                                                              \
  do {                                                                                                 \
    FL_PFOR_OR(bad, n > PAR_POINTS)                                                                    \
    for (size_t i = 0; i < n; i++) bad |= interp_point(ax, v, m, K, D, x + i * D, out + i * m);        \
  } while (0)

/* The error for the first bad point of x. */
static fl_status outside(const fl_grid *g, size_t n, const double *x)
{
  int d = g->s.dim;
  for (size_t i = 0; i < n; i++) {
    const double *p = x + i * (size_t)d;
    for (int k = 0; k < d; k++) {
      int bad = g->s.periodic[k] ? !(fabs((p[k] - g->s.lo[k]) * g->inv_h[k]) < 1e15)
                                 : !(p[k] >= g->s.lo[k] && p[k] <= g->s.hi[k]);
      if (bad) {
        char pb[200], bb[200];
        point_str(p, d, pb, sizeof pb);
        box_str(&g->s, bb, sizeof bb);
        if (!isfinite(p[k]))
          return fl_fail(FL_ERANGE, "point %zu of %zu %s has a non-finite coordinate (grid box %s)", i + 1, n, pb, bb);
        return fl_fail(FL_ERANGE, "point %zu of %zu %s is outside the grid box %s (axis %d is not periodic)", i + 1, n,
                       pb, bb, k + 1);
      }
    }
  }
  return fl_fail(FL_ERANGE, "a point is outside the grid box");
}

fl_status fl_grid_interp(const fl_grid *g, size_t n, const double *x, double *out)
{
  axis ax[FL_GRID_MAXDIM];
  axes_of(g, ax);
  const double *v = g->values->data;
  const size_t m = (size_t)g->m;
  int bad = 0;
  switch (g->s.dim * 10 + (g->interp == FL_INTERP_LINEAR ? 2 : 4)) {
  case 12: INTERP_LOOP(2, 1); break;
  case 22: INTERP_LOOP(2, 2); break;
  case 32: INTERP_LOOP(2, 3); break;
  case 14: INTERP_LOOP(4, 1); break;
  case 24: INTERP_LOOP(4, 2); break;
  default: INTERP_LOOP(4, 3); break;
  }
  if (bad) {
    /* leave no stale numbers behind for a caller that ignores the status */
    for (size_t i = 0; i < n * m; i++) out[i] = NAN;
    return outside(g, n, x);
  }
  return FL_OK;
}

fl_status fl_grid_interp_jac(const fl_grid *g, size_t n, const double *x, double *J)
{
  axis ax[FL_GRID_MAXDIM];
  axes_of(g, ax);
  const double *v = g->values->data;
  const size_t m = (size_t)g->m;
  const int d = g->s.dim, K = g->interp == FL_INTERP_LINEAR ? 2 : 4;
  int ncomb = 1;
  for (int k = 0; k < d; k++) ncomb *= K;
  int bad = 0;
  FL_PFOR_OR(bad, n > PAR_POINTS / 4)
  for (size_t i = 0; i < n; i++) {
    size_t o[FL_GRID_MAXDIM][4];
    double w[FL_GRID_MAXDIM][4], dw[FL_GRID_MAXDIM][4];
    const double *p = x + i * (size_t)d;
    double *Ji = J + i * m * (size_t)d;
    for (int k = 0; k < d; k++)
      bad |= K == 2 ? taps2(&ax[k], p[k], o[k], w[k], dw[k]) : taps4(&ax[k], p[k], o[k], w[k], dw[k]);
    for (size_t q = 0; q < m * (size_t)d; q++) Ji[q] = 0;
    for (int q = 0; q < ncomb; q++) {
      int r = q;
      size_t off = 0;
      double wv[FL_GRID_MAXDIM], dv[FL_GRID_MAXDIM];
      for (int k = 0; k < d; k++) {
        int dig = r % K;
        r /= K;
        off += o[k][dig];
        wv[k] = w[k][dig];
        dv[k] = dw[k][dig];
      }
      for (int b = 0; b < d; b++) {
        double prod = dv[b];
        for (int k = 0; k < d; k++)
          if (k != b) prod *= wv[k];
        if (prod == 0) continue;
        for (size_t c = 0; c < m; c++) Ji[c * (size_t)d + (size_t)b] += prod * v[off + c];
      }
    }
  }
  if (bad) {
    for (size_t i = 0; i < n * m * (size_t)d; i++) J[i] = NAN;
    return outside(g, n, x);
  }
  return FL_OK;
}

/* ------------------------------------------------------------ sampling */

fl_status fl_grid_sample(fl_field *f, const fl_grid_spec *s, fl_interp interp, double t, fl_field **out)
{
  *out = NULL;
  if (!f) return fl_fail(FL_EINVAL, "no field");
  fl_status st = fl_grid_spec_check(s);
  if (st != FL_OK) return st;
  if (f->dim != s->dim)
    return fl_fail(FL_EDIM, "the field has dimension %d, the grid %d", f->dim, s->dim);
  fl_array *pts, *vals;
  st = fl_grid_points(s, &pts);
  if (st != FL_OK) return st;
  size_t shape[FL_GRID_MAXDIM + 1];
  for (int k = 0; k < s->dim; k++) shape[k] = s->n[k];
  shape[s->dim] = (size_t)f->codim;
  st = fl_array_new(f->codim == 1 ? s->dim : s->dim + 1, shape, &vals);
  if (st != FL_OK) {
    fl_array_release(pts);
    return st;
  }
  st = fl_field_eval(f, pts->shape[0], pts->data, t, vals->data);
  fl_array_release(pts);
  if (st == FL_OK) st = fl_grid_new(s, f->codim, interp, vals, out);
  fl_array_release(vals);
  return st;
}

/* ------------------------------------------------------------ finite differences */

/* Stencils: offsets relative to the node, coefficients (times 1/h^deriv). */
typedef struct stencil {
  int ntap;
  int off[6];
  double c[6];
} stencil;

static const stencil central[2][2] = {
  { /* first derivative: order 2, order 4 */
    {2, {-1, 1}, {-0.5, 0.5}},
    {4, {-2, -1, 1, 2}, {1.0 / 12, -8.0 / 12, 8.0 / 12, -1.0 / 12}},
  },
  { /* second derivative */
    {3, {-1, 0, 1}, {1, -2, 1}},
    {5, {-2, -1, 0, 1, 2}, {-1.0 / 12, 16.0 / 12, -30.0 / 12, 16.0 / 12, -1.0 / 12}},
  },
};

/* Left-wall stencils for nodes 0 and 1 (row 1 of order 2 is the central one). */
static const stencil wall[2][2][2] = {
  { /* first derivative */
    {{3, {0, 1, 2}, {-1.5, 2, -0.5}}, {0, {0}, {0}}},
    {{5, {0, 1, 2, 3, 4}, {-25.0 / 12, 48.0 / 12, -36.0 / 12, 16.0 / 12, -3.0 / 12}},
     {5, {-1, 0, 1, 2, 3}, {-3.0 / 12, -10.0 / 12, 18.0 / 12, -6.0 / 12, 1.0 / 12}}},
  },
  { /* second derivative */
    {{4, {0, 1, 2, 3}, {2, -5, 4, -1}}, {0, {0}, {0}}},
    {{6, {0, 1, 2, 3, 4, 5}, {45.0 / 12, -154.0 / 12, 214.0 / 12, -156.0 / 12, 61.0 / 12, -10.0 / 12}},
     {6, {-1, 0, 1, 2, 3, 4}, {10.0 / 12, -15.0 / 12, -4.0 / 12, 14.0 / 12, -6.0 / 12, 1.0 / 12}}},
  },
};

/* Minimum nodes on an axis for a derivative (deriv 1 or 2) of order 2 or 4. */
static size_t fd_min_nodes(int deriv, int order, int periodic)
{
  if (deriv == 1) return order == 2 ? 3 : 5;
  if (periodic) return order == 2 ? 3 : 5;
  return order == 2 ? 4 : 6;
}

/* Absolute node indices and coefficients of the stencil at node j. */
static int stencil_at(size_t n, int periodic, int deriv, int order, size_t j, double scale, size_t *idx,
                      double *cf)
{
  int o = order == 2 ? 0 : 1, dv = deriv - 1;
  const stencil *st = &central[dv][o];
  int sign = 1, mirror = 0;
  if (!periodic) {
    size_t rows = order == 2 ? 1 : 2;
    if (j < rows) {
      st = &wall[dv][o][j];
    } else if (n - 1 - j < rows) {
      st = &wall[dv][o][n - 1 - j];
      mirror = 1;
      sign = deriv == 1 ? -1 : 1;
    }
  }
  for (int q = 0; q < st->ntap; q++) {
    long long off = mirror ? -st->off[q] : st->off[q];
    long long i = (long long)j + off;
    if (periodic) i = ((i % (long long)n) + (long long)n) % (long long)n;
    idx[q] = (size_t)i;
    cf[q] = sign * st->c[q] * scale;
  }
  return st->ntap;
}

/* out[:, c_out] += scale * (d/dx_axis)^deriv in[:, c_in] by FD of the given order. */
static void fd_apply(const fl_grid_spec *s, int axis, int deriv, int order, const double *in, size_t m_in,
                     size_t c_in, double *out, size_t m_out, size_t c_out, double scale)
{
  size_t before = 1, after = 1, na = s->n[axis];
  for (int k = 0; k < axis; k++) before *= s->n[k];
  for (int k = axis + 1; k < s->dim; k++) after *= s->n[k];
  double h = fl_grid_spec_spacing(s, axis);
  double sc = scale / (deriv == 1 ? h : h * h);
  int periodic = s->periodic[axis];
  size_t nrow = before * na;
  FL_PFOR(nrow * after > PAR_POINTS)
  for (size_t row = 0; row < nrow; row++) {
    size_t b = row / na, j = row % na;
    size_t idx[6];
    double cf[6];
    int nt = stencil_at(na, periodic, deriv, order, j, sc, idx, cf);
    size_t base_in[6];
    for (int q = 0; q < nt; q++) base_in[q] = (b * na + idx[q]) * after;
    double *po = out + (row * after) * m_out + c_out;
    for (size_t r = 0; r < after; r++) {
      double acc = 0;
      for (int q = 0; q < nt; q++) acc += cf[q] * in[(base_in[q] + r) * m_in + c_in];
      po[r * m_out] += acc;
    }
  }
}

static fl_status fd_check(const fl_grid_spec *s, int axis, int deriv, int order)
{
  size_t need = fd_min_nodes(deriv, order, s->periodic[axis]);
  if (s->n[axis] < need)
    return fl_fail(FL_EINVAL, "order-%d finite %s on %s axis %d need at least %zu nodes (it has %zu)", order,
                   deriv == 1 ? "differences" : "second differences", s->periodic[axis] ? "periodic" : "non-periodic",
                   axis + 1, need, s->n[axis]);
  return FL_OK;
}

/* ------------------------------------------------------------ grid operators */

typedef enum op_kind { OP_PARTIAL, OP_DIV, OP_CURL, OP_GRAD, OP_LAP } op_kind;

static const char *op_name(op_kind k)
{
  static const char *const names[] = {"partial derivative", "divergence", "curl", "gradient", "Laplacian"};
  return names[k];
}

static fl_status grid_op(fl_field *gf, op_kind kind, int axis, int order, fl_grid_method method, fl_field **out)
{
  *out = NULL;
  const fl_grid *g = fl_grid_of(gf);
  if (!g) return fl_fail(FL_EINVAL, "not a grid field (kind %s)", gf && gf->ops ? gf->ops->kind : "?");
  const fl_grid_spec *s = &g->s;
  const int d = s->dim, m = g->m;
  if (method != FL_GRID_FD && method != FL_GRID_SPECTRAL)
    return fl_fail(FL_EINVAL, "unknown derivative method %d", (int)method);
  if (method == FL_GRID_FD && order != 2 && order != 4)
    return fl_fail(FL_EINVAL, "finite-difference order %d (must be 2 or 4)", order);
  if (method == FL_GRID_SPECTRAL)
    for (int k = 0; k < d; k++)
      if (!s->periodic[k])
        return fl_fail(FL_EINVAL, "spectral derivatives need a grid periodic on every axis (axis %d is not)", k + 1);

  int m_out;
  switch (kind) {
  case OP_PARTIAL:
    if (axis < 0 || axis >= d) return fl_fail(FL_EINVAL, "axis %d out of range 1..%d", axis + 1, d);
    m_out = m;
    break;
  case OP_DIV:
    if (m != d) return fl_fail(FL_EDIM, "divergence needs as many components as axes (grid %d-D, %d components)", d, m);
    m_out = 1;
    break;
  case OP_CURL:
    if (!((d == 2 && m == 2) || (d == 3 && m == 3)))
      return fl_fail(FL_EDIM, "curl needs a 2-D or 3-D vector grid (grid %d-D, %d components)", d, m);
    m_out = d == 2 ? 1 : 3;
    break;
  case OP_GRAD:
    if (m != 1) return fl_fail(FL_EDIM, "gradient needs a scalar grid (it has %d components)", m);
    m_out = d;
    break;
  default:
    m_out = m;
  }
  if (method == FL_GRID_FD) {
    for (int k = 0; k < d; k++) {
      if (kind == OP_PARTIAL && k != axis) continue;
      fl_status st = fd_check(s, k, kind == OP_LAP ? 2 : 1, order);
      if (st != FL_OK) return st;
    }
  }

  /* coefficients of first-derivative operators: out_c = sum coef * d in_a / dx_k */
  size_t ncoef = (size_t)m_out * (size_t)m * (size_t)d;
  double *coef = NULL;
  if (kind != OP_LAP) {
    coef = calloc(ncoef, sizeof *coef);
    if (!coef) return fl_fail(FL_ENOMEM, "no memory for a grid %s", op_name(kind));
#define COEF(c, a, k) coef[((size_t)(c) * (size_t)m + (size_t)(a)) * (size_t)d + (size_t)(k)]
    switch (kind) {
    case OP_PARTIAL:
      for (int c = 0; c < m; c++) COEF(c, c, axis) = 1;
      break;
    case OP_DIV:
      for (int k = 0; k < d; k++) COEF(0, k, k) = 1;
      break;
    case OP_CURL:
      if (d == 2) {
        COEF(0, 1, 0) = 1;
        COEF(0, 0, 1) = -1;
      } else {
        COEF(0, 2, 1) = 1;
        COEF(0, 1, 2) = -1;
        COEF(1, 0, 2) = 1;
        COEF(1, 2, 0) = -1;
        COEF(2, 1, 0) = 1;
        COEF(2, 0, 1) = -1;
      }
      break;
    default: /* OP_GRAD */
      for (int k = 0; k < d; k++) COEF(k, 0, k) = 1;
    }
#undef COEF
  }

  size_t shape[FL_GRID_MAXDIM + 1];
  for (int k = 0; k < d; k++) shape[k] = s->n[k];
  shape[d] = (size_t)m_out;
  fl_array *vals;
  fl_status st = fl_array_zeros(m_out == 1 ? d : d + 1, shape, &vals);
  if (st != FL_OK) {
    free(coef);
    return st;
  }
  const double *in = g->values->data;
  if (method == FL_GRID_SPECTRAL) {
    double len[FL_GRID_MAXDIM];
    for (int k = 0; k < d; k++) len[k] = s->hi[k] - s->lo[k];
    if (kind == OP_LAP)
      st = fl_fft_laplacian(d, s->n, len, (size_t)m, in, vals->data);
    else
      st = fl_fft_diffop(d, s->n, len, (size_t)m, in, (size_t)m_out, coef, vals->data);
  } else if (kind == OP_LAP) {
    for (int c = 0; c < m; c++)
      for (int k = 0; k < d; k++)
        fd_apply(s, k, 2, order, in, (size_t)m, (size_t)c, vals->data, (size_t)m, (size_t)c, 1.0);
  } else {
    for (int c = 0; c < m_out; c++)
      for (int a = 0; a < m; a++)
        for (int k = 0; k < d; k++) {
          double w = coef[((size_t)c * (size_t)m + (size_t)a) * (size_t)d + (size_t)k];
          if (w != 0) fd_apply(s, k, 1, order, in, (size_t)m, (size_t)a, vals->data, (size_t)m_out, (size_t)c, w);
        }
  }
  free(coef);
  if (st == FL_OK) st = fl_grid_new(s, m_out, g->interp, vals, out);
  fl_array_release(vals);
  return st;
}

fl_status fl_grid_partial(fl_field *g, int axis, int order, fl_grid_method method, fl_field **out)
{
  return grid_op(g, OP_PARTIAL, axis, order, method, out);
}

fl_status fl_grid_div(fl_field *g, int order, fl_grid_method method, fl_field **out)
{
  return grid_op(g, OP_DIV, 0, order, method, out);
}

fl_status fl_grid_curl(fl_field *g, int order, fl_grid_method method, fl_field **out)
{
  return grid_op(g, OP_CURL, 0, order, method, out);
}

fl_status fl_grid_grad(fl_field *g, int order, fl_grid_method method, fl_field **out)
{
  return grid_op(g, OP_GRAD, 0, order, method, out);
}

fl_status fl_grid_laplacian(fl_field *g, int order, fl_grid_method method, fl_field **out)
{
  return grid_op(g, OP_LAP, 0, order, method, out);
}
