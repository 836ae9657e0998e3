#include "config.h"
#include "fl_field.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ life cycle */

fl_status fl_field_new(const fl_field_ops *ops, int dim, int codim, int time_dependent,
                       int thread_safe, void *data, fl_field **out)
{
  *out = NULL;
  if (!ops || !ops->eval) {
    if (ops && ops->destroy && data) ops->destroy(data);
    return fl_fail(FL_EINVAL, "a field needs an eval function");
  }
  if (dim < 1 || codim < 1) {
    if (ops->destroy && data) ops->destroy(data);
    return fl_fail(FL_EDIM, "a field maps R^d to R^m with d, m >= 1, not d = %d, m = %d", dim, codim);
  }
  fl_field *f = calloc(1, sizeof *f);
  if (!f) {
    if (ops->destroy && data) ops->destroy(data);
    return fl_fail(FL_ENOMEM, "cannot allocate a field");
  }
  f->refcount = 1;
  f->ops = ops;
  f->dim = dim;
  f->codim = codim;
  f->time_dependent = time_dependent != 0;
  f->thread_safe = thread_safe != 0;
  f->data = data;
  *out = f;
  return FL_OK;
}

fl_field *fl_field_retain(fl_field *f)
{
  if (f) f->refcount++;
  return f;
}

void fl_field_release(fl_field *f)
{
  if (!f || --f->refcount > 0) return;
  void (*destroy)(void *) = f->ops->destroy; /* ops may live inside data */
  if (destroy) destroy(f->data);
  free(f);
}

/* ------------------------------------------------------------ evaluation */

fl_status fl_field_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  if (n == 0) return FL_OK;
  return f->ops->eval(f, n, x, t, out);
}

double fl_field_fd_step(double x, int k)
{
  double scale = fabs(x) > 1.0 ? fabs(x) : 1.0;
  double h = (k == 1 ? cbrt(DBL_EPSILON) : sqrt(sqrt(DBL_EPSILON))) * scale;
  volatile double xp = x + h; /* make x + h exactly representable */
  return xp - x;
}

/* Points per chunk of a finite-difference batch: bounds the scratch memory. */
static size_t fd_chunk(int d) { size_t c = 32768 / (size_t)(2 * d + 1); return c ? c : 1; }

/* The 2*d perturbed copies x_i + h e_b, x_i - h e_b (b = 0..d-1, h the
 * first-difference step of x_ib) of each of the c points x_i of x, in that
 * order, into xs (c * 2d * d numbers). */
static void fd_perturb(int d, size_t c, const double *x, double *xs)
{
  for (size_t i = 0; i < c; i++) {
    const double *xi = x + i * (size_t)d;
    for (int b = 0; b < d; b++) {
      double h = fl_field_fd_step(xi[b], 1);
      double *p = xs + ((i * (size_t)d + (size_t)b) * 2) * (size_t)d;
      memcpy(p, xi, sizeof(double) * (size_t)d);
      memcpy(p + d, xi, sizeof(double) * (size_t)d);
      p[b] += h;
      p[d + b] -= h;
    }
  }
}

/* J[n*m*d] by central differences of eval: one eval call per chunk on the
 * 2*d perturbed copies of each point. */
static fl_status fd_jacobian(fl_field *f, size_t n, const double *x, double t, double *J)
{
  const int d = f->dim, m = f->codim;
  const size_t chunk = fd_chunk(d);
  size_t cap = n < chunk ? n : chunk;
  double *xs = fl_alloc(cap * 2 * (size_t)d * (size_t)d * sizeof(double));
  double *ys = fl_alloc(cap * 2 * (size_t)d * (size_t)m * sizeof(double));
  fl_status st = FL_OK;
  if (!xs || !ys) { st = fl_fail(FL_ENOMEM, "no memory for finite differences"); goto done; }
  for (size_t i0 = 0; i0 < n; i0 += cap) {
    size_t c = n - i0 < cap ? n - i0 : cap;
    fd_perturb(d, c, x + i0 * (size_t)d, xs);
    st = f->ops->eval(f, c * 2 * (size_t)d, xs, t, ys);
    if (st) goto done;
    for (size_t i = 0; i < c; i++) {
      const double *xi = x + (i0 + i) * (size_t)d;
      double *Ji = J + (i0 + i) * (size_t)m * (size_t)d;
      for (int b = 0; b < d; b++) {
        double h = fl_field_fd_step(xi[b], 1);
        const double *yp = ys + ((i * (size_t)d + (size_t)b) * 2) * (size_t)m, *ym = yp + m;
        for (int a = 0; a < m; a++) Ji[(size_t)a * (size_t)d + (size_t)b] = (yp[a] - ym[a]) / (2 * h);
      }
    }
  }
done:
  fl_free(xs, cap * 2 * (size_t)d * (size_t)d * sizeof(double));
  fl_free(ys, cap * 2 * (size_t)d * (size_t)m * sizeof(double));
  return st;
}

static fl_status need_dim(fl_field *f, const char *what)
{
  if (f->codim != f->dim)
    return fl_fail(FL_EDIM, "%s needs a vector field (codim = dim), not R^%d -> R^%d", what, f->dim, f->codim);
  return FL_OK;
}

static fl_status need_scalar(fl_field *f, const char *what)
{
  if (f->codim != 1)
    return fl_fail(FL_EDIM, "%s needs a scalar field (codim 1), not R^%d -> R^%d", what, f->dim, f->codim);
  return FL_OK;
}

fl_status fl_field_jacobian(fl_field *f, size_t n, const double *x, double t, double *J, int *exact)
{
  if (exact) *exact = f->ops->jac && !(f->inexact & FL_INEXACT_JAC);
  if (n == 0) return FL_OK;
  if (f->ops->jac) return f->ops->jac(f, n, x, t, J);
  return fd_jacobian(f, n, x, t, J);
}

fl_status fl_field_div(fl_field *f, size_t n, const double *x, double t, double *out, int *exact)
{
  fl_status st = need_dim(f, "divergence");
  if (st) return st;
  if (f->ops->div) {
    if (exact) *exact = !(f->inexact & FL_INEXACT_DIV);
    return n ? f->ops->div(f, n, x, t, out) : FL_OK;
  }
  const int d = f->dim;
  const size_t dd = (size_t)d * (size_t)d;
  const size_t chunk = fd_chunk(d);
  size_t cap = n < chunk ? n : chunk;
  double *J = fl_alloc(cap * dd * sizeof(double));
  if (!J) return fl_fail(FL_ENOMEM, "no memory for the divergence");
  for (size_t i0 = 0; i0 < n && st == FL_OK; i0 += cap) {
    size_t c = n - i0 < cap ? n - i0 : cap;
    st = fl_field_jacobian(f, c, x + i0 * (size_t)d, t, J, exact);
    for (size_t i = 0; st == FL_OK && i < c; i++) {
      double s = 0;
      for (int a = 0; a < d; a++) s += J[i * dd + (size_t)a * (size_t)d + (size_t)a];
      out[i0 + i] = s;
    }
  }
  fl_free(J, cap * dd * sizeof(double));
  if (n == 0 && exact) *exact = f->ops->jac && !(f->inexact & FL_INEXACT_JAC);
  return st;
}

fl_status fl_field_curl(fl_field *f, size_t n, const double *x, double t, double *out, int *exact)
{
  fl_status st = need_dim(f, "curl");
  if (st) return st;
  const int d = f->dim;
  if (d != 2 && d != 3) return fl_fail(FL_EDIM, "curl is defined in 2-D and 3-D, not %d-D", d);
  const size_t dd = (size_t)d * (size_t)d;
  const size_t chunk = fd_chunk(d);
  size_t cap = n < chunk ? n : chunk;
  if (exact) *exact = f->ops->jac && !(f->inexact & FL_INEXACT_JAC);
  double *J = fl_alloc((cap ? cap : 1) * dd * sizeof(double));
  if (!J) return fl_fail(FL_ENOMEM, "no memory for the curl");
  for (size_t i0 = 0; i0 < n && st == FL_OK; i0 += cap) {
    size_t c = n - i0 < cap ? n - i0 : cap;
    st = fl_field_jacobian(f, c, x + i0 * (size_t)d, t, J, exact);
    for (size_t i = 0; st == FL_OK && i < c; i++) {
      const double *Ji = J + i * dd;
#define JJ(a, b) Ji[(a) * d + (b)]
      if (d == 2) {
        out[i0 + i] = JJ(1, 0) - JJ(0, 1);
      } else {
        double *o = out + (i0 + i) * 3;
        o[0] = JJ(2, 1) - JJ(1, 2);
        o[1] = JJ(0, 2) - JJ(2, 0);
        o[2] = JJ(1, 0) - JJ(0, 1);
      }
#undef JJ
    }
  }
  fl_free(J, (cap ? cap : 1) * dd * sizeof(double));
  return st;
}

/* Hessian of a scalar field by differences: of the exact gradient when the
 * field has one (first differences), else second differences of the values. */
static fl_status fd_hessian(fl_field *f, size_t n, const double *x, double t, double *H)
{
  const int d = f->dim;
  const size_t dd = (size_t)d * (size_t)d;
  if (f->ops->jac && !(f->inexact & FL_INEXACT_JAC)) {
    /* the gradient's Jacobian: perturb each coordinate, difference the gradients */
    const size_t chunk = fd_chunk(d);
    size_t cap = n < chunk ? n : chunk;
    double *xs = fl_alloc(cap * 2 * dd * sizeof(double));
    double *gs = fl_alloc(cap * 2 * dd * sizeof(double));
    fl_status st = FL_OK;
    if (!xs || !gs) { st = fl_fail(FL_ENOMEM, "no memory for finite differences"); goto out1; }
    for (size_t i0 = 0; i0 < n; i0 += cap) {
      size_t c = n - i0 < cap ? n - i0 : cap;
      fd_perturb(d, c, x + i0 * (size_t)d, xs);
      st = f->ops->jac(f, c * 2 * (size_t)d, xs, t, gs);
      if (st) goto out1;
      for (size_t i = 0; i < c; i++) {
        const double *xi = x + (i0 + i) * (size_t)d;
        double *Hi = H + (i0 + i) * dd;
        for (int b = 0; b < d; b++) {
          double h = fl_field_fd_step(xi[b], 1);
          const double *gp = gs + ((i * (size_t)d + (size_t)b) * 2) * (size_t)d, *gm = gp + d;
          for (int a = 0; a < d; a++) Hi[(size_t)a * (size_t)d + (size_t)b] = (gp[a] - gm[a]) / (2 * h);
        }
        for (int a = 0; a < d; a++) /* symmetrise */
          for (int b = a + 1; b < d; b++) {
            double s = 0.5 * (Hi[a * d + b] + Hi[b * d + a]);
            Hi[a * d + b] = Hi[b * d + a] = s;
          }
      }
    }
  out1:
    fl_free(xs, cap * 2 * dd * sizeof(double));
    fl_free(gs, cap * 2 * dd * sizeof(double));
    return st;
  }
  /* second differences of the values: 1 + 2d + 4 d(d-1)/2 evaluations per point */
  const size_t per = 1 + 2 * (size_t)d + 2 * (size_t)d * (size_t)(d - 1);
  size_t cap = 32768 / per;
  if (cap < 1) cap = 1;
  if (cap > n) cap = n;
  double *xs = fl_alloc(cap * per * (size_t)d * sizeof(double));
  double *ys = fl_alloc(cap * per * sizeof(double));
  fl_status st = FL_OK;
  if (!xs || !ys) { st = fl_fail(FL_ENOMEM, "no memory for finite differences"); goto out2; }
  for (size_t i0 = 0; i0 < n; i0 += cap) {
    size_t c = n - i0 < cap ? n - i0 : cap;
    for (size_t i = 0; i < c; i++) {
      const double *xi = x + (i0 + i) * (size_t)d;
      double *p = xs + i * per * (size_t)d;
      size_t q = 0;
      memcpy(p + q++ * (size_t)d, xi, sizeof(double) * (size_t)d);
      for (int b = 0; b < d; b++)
        for (int s = -1; s <= 1; s += 2) {
          double *r = p + q++ * (size_t)d;
          memcpy(r, xi, sizeof(double) * (size_t)d);
          r[b] += s * fl_field_fd_step(xi[b], 2);
        }
      for (int a = 0; a < d; a++)
        for (int b = a + 1; b < d; b++)
          for (int sa = -1; sa <= 1; sa += 2)
            for (int sb = -1; sb <= 1; sb += 2) {
              double *r = p + q++ * (size_t)d;
              memcpy(r, xi, sizeof(double) * (size_t)d);
              r[a] += sa * fl_field_fd_step(xi[a], 2);
              r[b] += sb * fl_field_fd_step(xi[b], 2);
            }
    }
    st = f->ops->eval(f, c * per, xs, t, ys);
    if (st) goto out2;
    for (size_t i = 0; i < c; i++) {
      const double *xi = x + (i0 + i) * (size_t)d;
      const double *y = ys + i * per;
      double *Hi = H + (i0 + i) * dd;
      size_t q = 1;
      for (int b = 0; b < d; b++, q += 2) {
        double h = fl_field_fd_step(xi[b], 2);
        Hi[b * d + b] = (y[q + 1] - 2 * y[0] + y[q]) / (h * h);
      }
      for (int a = 0; a < d; a++)
        for (int b = a + 1; b < d; b++, q += 4) {
          double ha = fl_field_fd_step(xi[a], 2), hb = fl_field_fd_step(xi[b], 2);
          /* order of the four: (-,-), (-,+), (+,-), (+,+) */
          double v = (y[q + 3] - y[q + 2] - y[q + 1] + y[q]) / (4 * ha * hb);
          Hi[a * d + b] = Hi[b * d + a] = v;
        }
    }
  }
out2:
  fl_free(xs, cap * per * (size_t)d * sizeof(double));
  fl_free(ys, cap * per * sizeof(double));
  return st;
}

fl_status fl_field_hessian(fl_field *f, size_t n, const double *x, double t, double *H, int *exact)
{
  fl_status st = need_scalar(f, "the Hessian");
  if (st) return st;
  if (exact) *exact = f->ops->hess && !(f->inexact & FL_INEXACT_HESS);
  if (n == 0) return FL_OK;
  if (f->ops->hess) return f->ops->hess(f, n, x, t, H);
  return fd_hessian(f, n, x, t, H);
}

fl_status fl_field_laplacian(fl_field *f, size_t n, const double *x, double t, double *out, int *exact)
{
  fl_status st = need_scalar(f, "the Laplacian");
  if (st) return st;
  if (f->ops->lap) {
    if (exact) *exact = !(f->inexact & FL_INEXACT_LAP);
    return n ? f->ops->lap(f, n, x, t, out) : FL_OK;
  }
  const int d = f->dim;
  const size_t dd = (size_t)d * (size_t)d;
  size_t cap = n < 4096 ? n : 4096;
  double *H = fl_alloc((cap ? cap : 1) * dd * sizeof(double));
  if (!H) return fl_fail(FL_ENOMEM, "no memory for the Laplacian");
  if (exact) *exact = f->ops->hess && !(f->inexact & FL_INEXACT_HESS);
  for (size_t i0 = 0; i0 < n && st == FL_OK; i0 += cap) {
    size_t c = n - i0 < cap ? n - i0 : cap;
    st = fl_field_hessian(f, c, x + i0 * (size_t)d, t, H, exact);
    for (size_t i = 0; st == FL_OK && i < c; i++) {
      double s = 0;
      for (int a = 0; a < d; a++) s += H[i * dd + (size_t)a * (size_t)d + (size_t)a];
      out[i0 + i] = s;
    }
  }
  fl_free(H, (cap ? cap : 1) * dd * sizeof(double));
  return st;
}

/* ------------------------------------------------------------ derived fields
 * Each keeps its own ops table inside its data, filled with the operations
 * its parts support exactly; the rest fall back to the generic differences. */

typedef struct derived {
  fl_field_ops ops;
  fl_field *f, *g;
  double a, b;
  int k;
  int *comp;
} derived;

static void derived_destroy(void *p)
{
  derived *q = p;
  fl_field_release(q->f);
  fl_field_release(q->g);
  free(q->comp);
  free(q);
}

static derived *derived_new(const char *kind, fl_field *f, fl_field *g)
{
  derived *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  q->ops.kind = kind;
  q->ops.destroy = derived_destroy;
  q->f = fl_field_retain(f);
  q->g = fl_field_retain(g);
  return q;
}

static int has_exact_jac(const fl_field *f) { return f->ops->jac && !(f->inexact & FL_INEXACT_JAC); }

/* out = a*u + b*v over len entries (v may be NULL). */
static void axpby(size_t len, double a, double *u, double b, const double *v)
{
  if (v)
    for (size_t i = 0; i < len; i++) u[i] = a * u[i] + b * v[i];
  else
    for (size_t i = 0; i < len; i++) u[i] *= a;
}

/* Evaluate op (via getter) of both parts into out and scratch, combine. */
typedef fl_status (*part_fn)(fl_field *f, size_t n, const double *x, double t, double *out);

static fl_status lincomb_apply(derived *q, part_fn ff, part_fn gf, size_t n, size_t per,
                               const double *x, double t, double *out)
{
  fl_status st = ff(q->f, n, x, t, out);
  if (st || !q->g) {
    if (!st) axpby(n * per, q->a, out, 0, NULL);
    return st;
  }
  double *tmp = fl_alloc(n * per * sizeof(double));
  if (!tmp) return fl_fail(FL_ENOMEM, "no memory for a sum of fields");
  st = gf(q->g, n, x, t, tmp);
  if (!st) axpby(n * per, q->a, out, q->b, tmp);
  fl_free(tmp, n * per * sizeof(double));
  return st;
}

static fl_status lc_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  derived *q = f->data;
  return lincomb_apply(q, q->f->ops->eval, q->g ? q->g->ops->eval : NULL, n, (size_t)f->codim, x, t, out);
}

static fl_status lc_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  derived *q = f->data;
  return lincomb_apply(q, q->f->ops->jac, q->g ? q->g->ops->jac : NULL, n,
                       (size_t)f->codim * (size_t)f->dim, x, t, J);
}

static fl_status lc_div(fl_field *f, size_t n, const double *x, double t, double *out)
{
  derived *q = f->data;
  return lincomb_apply(q, q->f->ops->div, q->g ? q->g->ops->div : NULL, n, 1, x, t, out);
}

static fl_status lc_hess(fl_field *f, size_t n, const double *x, double t, double *H)
{
  derived *q = f->data;
  return lincomb_apply(q, q->f->ops->hess, q->g ? q->g->ops->hess : NULL, n,
                       (size_t)f->dim * (size_t)f->dim, x, t, H);
}

static fl_status lc_lap(fl_field *f, size_t n, const double *x, double t, double *out)
{
  derived *q = f->data;
  return lincomb_apply(q, q->f->ops->lap, q->g ? q->g->ops->lap : NULL, n, 1, x, t, out);
}

static fl_status derived_field(derived *q, int dim, int codim, int tdep, int safe, unsigned inexact,
                               fl_field **out)
{
  fl_status st = fl_field_new(&q->ops, dim, codim, tdep, safe, q, out);
  if (st == FL_OK) (*out)->inexact = inexact;
  return st;
}

fl_status fl_field_lincomb(double a, fl_field *f, double b, fl_field *g, fl_field **out)
{
  *out = NULL;
  if (g && (f->dim != g->dim || f->codim != g->codim))
    return fl_fail(FL_EDIM, "cannot combine fields of different shapes: R^%d -> R^%d and R^%d -> R^%d", f->dim,
                   f->codim, g->dim, g->codim);
  derived *q = derived_new("sum", f, g);
  if (!q) return fl_fail(FL_ENOMEM, "cannot allocate a field");
  q->a = a;
  q->b = b;
  q->ops.eval = lc_eval;
  /* an operation is offered when every part offers it; it is exact when every part's is */
  unsigned inexact = f->inexact | (g ? g->inexact : 0);
#define BOTH(op) (f->ops->op && (!g || g->ops->op))
  if (BOTH(jac)) q->ops.jac = lc_jac;
  if (BOTH(div)) q->ops.div = lc_div;
  if (BOTH(hess)) q->ops.hess = lc_hess;
  if (BOTH(lap)) q->ops.lap = lc_lap;
#undef BOTH
  return derived_field(q, f->dim, f->codim, f->time_dependent || (g && g->time_dependent),
                       f->thread_safe && (!g || g->thread_safe), inexact, out);
}

/* ---- the gradient of a scalar field ---- */

static fl_status grad_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  derived *q = f->data;
  return fl_field_jacobian(q->f, n, x, t, out, NULL); /* a 1 x d Jacobian per point */
}

static fl_status grad_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  derived *q = f->data;
  return fl_field_hessian(q->f, n, x, t, J, NULL);
}

static fl_status grad_div(fl_field *f, size_t n, const double *x, double t, double *out)
{
  derived *q = f->data;
  return fl_field_laplacian(q->f, n, x, t, out, NULL);
}

fl_status fl_field_gradient(fl_field *s, fl_field **out)
{
  *out = NULL;
  fl_status st = need_scalar(s, "the gradient");
  if (st) return st;
  derived *q = derived_new("gradient", s, NULL);
  if (!q) return fl_fail(FL_ENOMEM, "cannot allocate a field");
  q->ops.eval = grad_eval;
  /* The Jacobian of a gradient is the Hessian: always offered, since second
   * differences of the values beat differences of a differenced gradient. */
  q->ops.jac = grad_jac;
  q->ops.div = grad_div;
  unsigned inexact = 0;
  if (!(s->ops->hess && !(s->inexact & FL_INEXACT_HESS))) inexact |= FL_INEXACT_JAC;
  if (!((s->ops->lap && !(s->inexact & FL_INEXACT_LAP)) || (s->ops->hess && !(s->inexact & FL_INEXACT_HESS))))
    inexact |= FL_INEXACT_DIV;
  return derived_field(q, s->dim, s->dim, s->time_dependent, s->thread_safe, inexact, out);
}

/* ---- composition f(g(x)) ---- */

static fl_status comp_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  derived *q = f->data;
  size_t len = n * (size_t)q->g->codim;
  double *y = fl_alloc(len * sizeof(double));
  if (!y) return fl_fail(FL_ENOMEM, "no memory for a composition");
  fl_status st = fl_field_eval(q->g, n, x, t, y);
  if (!st) st = fl_field_eval(q->f, n, y, t, out);
  fl_free(y, len * sizeof(double));
  return st;
}

static fl_status comp_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  derived *q = f->data;
  const size_t d = (size_t)q->g->dim, k = (size_t)q->g->codim, m = (size_t)q->f->codim;
  double *y = fl_alloc(n * k * sizeof(double));
  double *Jg = fl_alloc(n * k * d * sizeof(double));
  double *Jf = fl_alloc(n * m * k * sizeof(double));
  fl_status st = FL_OK;
  if (!y || !Jg || !Jf) { st = fl_fail(FL_ENOMEM, "no memory for a composition"); goto done; }
  st = fl_field_eval(q->g, n, x, t, y);
  if (!st) st = fl_field_jacobian(q->g, n, x, t, Jg, NULL);
  if (!st) st = fl_field_jacobian(q->f, n, y, t, Jf, NULL);
  for (size_t i = 0; st == FL_OK && i < n; i++) /* J_i = Jf_i (m x k) Jg_i (k x d) */
    for (size_t a = 0; a < m; a++)
      for (size_t b = 0; b < d; b++) {
        double s = 0;
        for (size_t c = 0; c < k; c++) s += Jf[(i * m + a) * k + c] * Jg[(i * k + c) * d + b];
        J[(i * m + a) * d + b] = s;
      }
done:
  fl_free(y, n * k * sizeof(double));
  fl_free(Jg, n * k * d * sizeof(double));
  fl_free(Jf, n * m * k * sizeof(double));
  return st;
}

fl_status fl_field_compose(fl_field *f, fl_field *g, fl_field **out)
{
  *out = NULL;
  if (g->codim != f->dim)
    return fl_fail(FL_EDIM, "cannot compose: the inner field gives R^%d, the outer takes R^%d", g->codim, f->dim);
  derived *q = derived_new("compose", f, g);
  if (!q) return fl_fail(FL_ENOMEM, "cannot allocate a field");
  q->ops.eval = comp_eval;
  unsigned inexact = 0;
  if (has_exact_jac(f) && has_exact_jac(g))
    q->ops.jac = comp_jac;
  return derived_field(q, g->dim, f->codim, f->time_dependent || g->time_dependent,
                       f->thread_safe && g->thread_safe, inexact, out);
}

/* ---- projection onto components ---- */

static fl_status proj_apply(fl_field *f, size_t n, const double *x, double t, double *out, int jac)
{
  derived *q = f->data;
  const size_t m = (size_t)q->f->codim, w = jac ? (size_t)q->f->dim : 1;
  double *full = fl_alloc(n * m * w * sizeof(double));
  if (!full) return fl_fail(FL_ENOMEM, "no memory for a projection");
  fl_status st = jac ? fl_field_jacobian(q->f, n, x, t, full, NULL) : fl_field_eval(q->f, n, x, t, full);
  if (!st)
    for (size_t i = 0; i < n; i++)
      for (int c = 0; c < q->k; c++)
        memcpy(out + (i * (size_t)q->k + (size_t)c) * w, full + (i * m + (size_t)q->comp[c]) * w,
               w * sizeof(double));
  fl_free(full, n * m * w * sizeof(double));
  return st;
}

static fl_status proj_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  return proj_apply(f, n, x, t, out, 0);
}

static fl_status proj_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  return proj_apply(f, n, x, t, J, 1);
}

fl_status fl_field_project(fl_field *f, int k, const int *comp, fl_field **out)
{
  *out = NULL;
  if (k < 1) return fl_fail(FL_EINVAL, "a projection needs at least one component");
  for (int c = 0; c < k; c++)
    if (comp[c] < 0 || comp[c] >= f->codim)
      return fl_fail(FL_ERANGE, "component %d out of range 1..%d", comp[c] + 1, f->codim);
  derived *q = derived_new("project", f, NULL);
  if (!q) return fl_fail(FL_ENOMEM, "cannot allocate a field");
  q->comp = malloc(sizeof(int) * (size_t)k);
  if (!q->comp) { derived_destroy(q); return fl_fail(FL_ENOMEM, "cannot allocate a field"); }
  memcpy(q->comp, comp, sizeof(int) * (size_t)k);
  q->k = k;
  q->ops.eval = proj_eval;
  if (has_exact_jac(f)) q->ops.jac = proj_jac;
  return derived_field(q, f->dim, k, f->time_dependent, f->thread_safe, 0, out);
}
