/* fl_analytic: closed-form test fields and potentials with exact derivatives.
 * See fl_analytic.h. Every kernel is a flat loop over points, parallel over
 * points (OpenMP) for large batches; parameters live in a small malloc'ed
 * struct owned by the field. */
#include "config.h"
#include "fl_analytic.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#define AN_PRAGMA(x) _Pragma(#x)
#define AN_PFOR(n) AN_PRAGMA(omp parallel for schedule(static) if((n) > AN_PAR_MIN))
#else
#define AN_PFOR(n)
#endif
#define AN_PAR_MIN ((size_t)4096)

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static fl_status check_finite(const char *what, double v)
{
  if (!isfinite(v)) return fl_fail(FL_EINVAL, "%s must be finite, not %g", what, v);
  return FL_OK;
}

static fl_status check_positive(const char *what, double v)
{
  if (!isfinite(v) || !(v > 0)) return fl_fail(FL_EINVAL, "%s must be positive and finite, not %g", what, v);
  return FL_OK;
}

/* ================================================================ linear */

typedef struct lin_data {
  int m, d;
  double trace; /* trace of A when m == d */
  double *b;    /* m entries, after A */
  double A[];   /* m*d, row-major */
} lin_data;

static fl_status lin_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)t;
  const lin_data *p = f->data;
  const int m = p->m, d = p->d;
  const double *A = p->A, *b = p->b;
  if ((size_t)m * (size_t)d >= 64 && n >= 16 && n <= (size_t)INT_MAX) {
    /* out (n x m) = X (n x d) A^T, then + b */
    for (size_t i = 0; i < n; i++) memcpy(out + i * (size_t)m, b, sizeof(double) * (size_t)m);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, m, d, 1.0, x, d, A, d, 1.0, out, m);
    return FL_OK;
  }
  AN_PFOR(n)
  for (size_t i = 0; i < n; i++) {
    const double *xi = x + i * (size_t)d;
    double *oi = out + i * (size_t)m;
    for (int a = 0; a < m; a++) {
      const double *Aa = A + (size_t)a * (size_t)d;
      double s = b[a];
      for (int k = 0; k < d; k++) s += Aa[k] * xi[k];
      oi[a] = s;
    }
  }
  return FL_OK;
}

static fl_status lin_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  (void)x;
  (void)t;
  const lin_data *p = f->data;
  const size_t md = (size_t)p->m * (size_t)p->d;
  AN_PFOR(n)
  for (size_t i = 0; i < n; i++) memcpy(J + i * md, p->A, sizeof(double) * md);
  return FL_OK;
}

static fl_status lin_div(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)x;
  (void)t;
  const lin_data *p = f->data;
  if (p->m != p->d) return fl_fail(FL_EDIM, "the divergence needs a square field, this one maps R^%d to R^%d", p->d, p->m);
  for (size_t i = 0; i < n; i++) out[i] = p->trace;
  return FL_OK;
}

static const fl_field_ops linear_ops = {"linear", lin_eval, lin_jac, lin_div, NULL, NULL, free};
static const fl_field_ops rotation_ops = {"rotation", lin_eval, lin_jac, lin_div, NULL, NULL, free};
static const fl_field_ops shear_ops = {"shear", lin_eval, lin_jac, lin_div, NULL, NULL, free};

static fl_status make_linear(const fl_field_ops *ops, int m, int d, const double *A, const double *b,
                             fl_field **out)
{
  *out = NULL;
  if (m < 1 || d < 1) return fl_fail(FL_EDIM, "a linear field needs m >= 1 and d >= 1, not %d x %d", m, d);
  if (!A) return fl_fail(FL_EINVAL, "a linear field needs a matrix A");
  size_t md = (size_t)m * (size_t)d;
  for (size_t k = 0; k < md; k++)
    if (!isfinite(A[k]))
      return fl_fail(FL_EINVAL, "A[%zu][%zu] is %g, not a finite number", k / (size_t)d + 1, k % (size_t)d + 1, A[k]);
  if (b)
    for (int k = 0; k < m; k++)
      if (!isfinite(b[k])) return fl_fail(FL_EINVAL, "b[%d] is %g, not a finite number", k + 1, b[k]);
  lin_data *p = malloc(sizeof *p + sizeof(double) * (md + (size_t)m));
  if (!p) return fl_fail(FL_ENOMEM, "out of memory for a %d x %d linear field", m, d);
  p->m = m;
  p->d = d;
  p->b = p->A + md;
  memcpy(p->A, A, sizeof(double) * md);
  if (b) memcpy(p->b, b, sizeof(double) * (size_t)m);
  else memset(p->b, 0, sizeof(double) * (size_t)m);
  p->trace = 0;
  if (m == d)
    for (int k = 0; k < d; k++) p->trace += A[(size_t)k * (size_t)d + (size_t)k];
  return fl_field_new(ops, d, m, 0, 1, p, out);
}

fl_status fl_analytic_linear(int m, int d, const double *A, const double *b, fl_field **out)
{
  return make_linear(&linear_ops, m, d, A, b, out);
}

fl_status fl_analytic_rotation(int dim, double omega, const double *axis, fl_field **out)
{
  *out = NULL;
  fl_status st = check_finite("omega", omega);
  if (st) return st;
  if (dim == 2) {
    if (axis) return fl_fail(FL_EINVAL, "an axis is only meaningful for a 3-D rotation");
    const double A[4] = {0, -omega, omega, 0};
    return make_linear(&rotation_ops, 2, 2, A, NULL, out);
  }
  if (dim != 3) return fl_fail(FL_EINVAL, "a rotation is 2-D or 3-D, not %d-D", dim);
  double nx = 0, ny = 0, nz = 1;
  if (axis) {
    double len = sqrt(axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]);
    if (!isfinite(len) || len == 0)
      return fl_fail(FL_EINVAL, "the rotation axis must be a finite non-zero vector, not (%g, %g, %g)", axis[0],
                     axis[1], axis[2]);
    nx = axis[0] / len;
    ny = axis[1] / len;
    nz = axis[2] / len;
  }
  /* omega (n x x) = omega [n]_x x */
  const double A[9] = {0, -omega * nz, omega * ny, omega * nz, 0, -omega * nx, -omega * ny, omega * nx, 0};
  return make_linear(&rotation_ops, 3, 3, A, NULL, out);
}

fl_status fl_analytic_shear(int dim, double rate, fl_field **out)
{
  *out = NULL;
  fl_status st = check_finite("the shear rate", rate);
  if (st) return st;
  if (dim < 2 || dim > 4096) return fl_fail(FL_EINVAL, "a shear flow has dimension 2 to 4096, not %d", dim);
  double *A = calloc((size_t)dim * (size_t)dim, sizeof *A);
  if (!A) return fl_fail(FL_ENOMEM, "out of memory for a %d-D shear flow", dim);
  A[1] = rate;
  st = make_linear(&shear_ops, dim, dim, A, NULL, out);
  free(A);
  return st;
}

/* ================================================================ vortex */

typedef struct vortex_data {
  double c;      /* gamma / (2 pi) */
  double x0, y0; /* centre */
  double a2;     /* core radius squared, 0 for a point vortex */
} vortex_data;

/* phi(z) = (1 - exp(-z))/z and its derivative, accurate for all z >= 0:
 * series below 0.5 (where the closed forms cancel), closed forms above. */
static void oseen_phi(double z, double *phi, double *dphi)
{
  if (z < 0.5) {
    /* phi = sum_j (-z)^j/(j+1)!,  phi' = sum_j (-1)^(j+1) (j+1) z^j/(j+2)! */
    double p = 0, dp = 0, zj = 1, fact = 1; /* zj = z^j, fact = (j+1)! */
    for (int j = 0; j < 40; j++) {
      double sgn = (j & 1) ? -1.0 : 1.0;
      p += sgn * zj / fact;
      dp -= sgn * (double)(j + 1) * zj / (fact * (double)(j + 2));
      if (zj < 1e-17 * fact) break;
      zj *= z;
      fact *= (double)(j + 2);
    }
    *phi = p;
    *dphi = dp;
  } else {
    *phi = -expm1(-z) / z;
    *dphi = (exp(-z) * (1 + z) - 1) / (z * z);
  }
}

/* u = c F(q) (-y, x) with q = r^2: F and F' = dF/dq at q. */
static inline void vortex_F(const vortex_data *p, double q, double *F, double *dF)
{
  if (p->a2 == 0) {
    double iq = 1 / q;
    *F = iq;
    *dF = -iq * iq;
  } else {
    double phi, dphi;
    oseen_phi(q / p->a2, &phi, &dphi);
    *F = phi / p->a2;
    *dF = dphi / (p->a2 * p->a2);
  }
}

static fl_status vortex_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)t;
  const vortex_data *p = f->data;
  AN_PFOR(n)
  for (size_t i = 0; i < n; i++) {
    double X = x[2 * i] - p->x0, Y = x[2 * i + 1] - p->y0, q = X * X + Y * Y, F, dF;
    if (q == 0 && p->a2 == 0) {
      out[2 * i] = out[2 * i + 1] = 0;
      continue;
    }
    vortex_F(p, q, &F, &dF);
    out[2 * i] = -p->c * F * Y;
    out[2 * i + 1] = p->c * F * X;
  }
  return FL_OK;
}

static fl_status vortex_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  (void)t;
  const vortex_data *p = f->data;
  AN_PFOR(n)
  for (size_t i = 0; i < n; i++) {
    double X = x[2 * i] - p->x0, Y = x[2 * i + 1] - p->y0, q = X * X + Y * Y, F, dF;
    double *Ji = J + 4 * i;
    if (q == 0 && p->a2 == 0) {
      Ji[0] = Ji[1] = Ji[2] = Ji[3] = 0;
      continue;
    }
    vortex_F(p, q, &F, &dF);
    double c = p->c, g = 2 * dF;
    Ji[0] = -c * g * X * Y;
    Ji[1] = -c * (g * Y * Y + F);
    Ji[2] = c * (g * X * X + F);
    Ji[3] = c * g * X * Y;
  }
  return FL_OK;
}

static fl_status zero_div(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)f;
  (void)x;
  (void)t;
  memset(out, 0, sizeof(double) * n);
  return FL_OK;
}

static const fl_field_ops vortex_ops = {"vortex", vortex_eval, vortex_jac, zero_div, NULL, NULL, free};

fl_status fl_analytic_vortex(double gamma, const double *center, double core, fl_field **out)
{
  *out = NULL;
  fl_status st = check_finite("the circulation gamma", gamma);
  if (st) return st;
  if (!isfinite(core) || core < 0) return fl_fail(FL_EINVAL, "the core radius must be >= 0 and finite, not %g", core);
  if (center && (!isfinite(center[0]) || !isfinite(center[1])))
    return fl_fail(FL_EINVAL, "the centre must be finite, not (%g, %g)", center[0], center[1]);
  vortex_data *p = malloc(sizeof *p);
  if (!p) return fl_fail(FL_ENOMEM, "out of memory for a vortex");
  p->c = gamma / (2 * M_PI);
  p->x0 = center ? center[0] : 0;
  p->y0 = center ? center[1] : 0;
  p->a2 = core * core;
  if (core > 0 && !(p->a2 > 0)) {
    free(p);
    return fl_fail(FL_EINVAL, "the core radius %g is too small (its square underflows)", core);
  }
  return fl_field_new(&vortex_ops, 2, 2, 0, 1, p, out);
}

/* ================================================================ Taylor-Green */

typedef struct tg_data {
  int dim;
  double u0, k;
} tg_data;

static fl_status tg_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)t;
  const tg_data *p = f->data;
  const double u0 = p->u0, k = p->k;
  if (p->dim == 2) {
    AN_PFOR(n)
    for (size_t i = 0; i < n; i++) {
      double sx = sin(k * x[2 * i]), cx = cos(k * x[2 * i]);
      double sy = sin(k * x[2 * i + 1]), cy = cos(k * x[2 * i + 1]);
      out[2 * i] = u0 * sx * cy;
      out[2 * i + 1] = -u0 * cx * sy;
    }
  } else {
    AN_PFOR(n)
    for (size_t i = 0; i < n; i++) {
      const double *xi = x + 3 * i;
      double sx = sin(k * xi[0]), cx = cos(k * xi[0]);
      double sy = sin(k * xi[1]), cy = cos(k * xi[1]);
      double cz = cos(k * xi[2]);
      out[3 * i] = u0 * sx * cy * cz;
      out[3 * i + 1] = -u0 * cx * sy * cz;
      out[3 * i + 2] = 0;
    }
  }
  return FL_OK;
}

static fl_status tg_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  (void)t;
  const tg_data *p = f->data;
  const double u0k = p->u0 * p->k, k = p->k;
  if (p->dim == 2) {
    AN_PFOR(n)
    for (size_t i = 0; i < n; i++) {
      double sx = sin(k * x[2 * i]), cx = cos(k * x[2 * i]);
      double sy = sin(k * x[2 * i + 1]), cy = cos(k * x[2 * i + 1]);
      double *Ji = J + 4 * i;
      Ji[0] = u0k * cx * cy;
      Ji[1] = -u0k * sx * sy;
      Ji[2] = u0k * sx * sy;
      Ji[3] = -u0k * cx * cy;
    }
  } else {
    AN_PFOR(n)
    for (size_t i = 0; i < n; i++) {
      const double *xi = x + 3 * i;
      double sx = sin(k * xi[0]), cx = cos(k * xi[0]);
      double sy = sin(k * xi[1]), cy = cos(k * xi[1]);
      double sz = sin(k * xi[2]), cz = cos(k * xi[2]);
      double *Ji = J + 9 * i;
      Ji[0] = u0k * cx * cy * cz;
      Ji[1] = -u0k * sx * sy * cz;
      Ji[2] = -u0k * sx * cy * sz;
      Ji[3] = u0k * sx * sy * cz;
      Ji[4] = -u0k * cx * cy * cz;
      Ji[5] = u0k * cx * sy * sz;
      Ji[6] = Ji[7] = Ji[8] = 0;
    }
  }
  return FL_OK;
}

static const fl_field_ops tg_ops = {"taylor_green", tg_eval, tg_jac, zero_div, NULL, NULL, free};

fl_status fl_analytic_taylor_green(int dim, double u0, double k, fl_field **out)
{
  *out = NULL;
  if (dim != 2 && dim != 3) return fl_fail(FL_EINVAL, "the Taylor-Green vortex is 2-D or 3-D, not %d-D", dim);
  fl_status st = check_finite("u0", u0);
  if (st) return st;
  if ((st = check_positive("the wave number k", k))) return st;
  tg_data *p = malloc(sizeof *p);
  if (!p) return fl_fail(FL_ENOMEM, "out of memory for a Taylor-Green field");
  p->dim = dim;
  p->u0 = u0;
  p->k = k;
  return fl_field_new(&tg_ops, dim, dim, 0, 1, p, out);
}

/* ================================================================ ABC flow */

typedef struct abc_data {
  double A, B, C;
} abc_data;

static fl_status abc_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)t;
  const abc_data *p = f->data;
  const double A = p->A, B = p->B, C = p->C;
  AN_PFOR(n)
  for (size_t i = 0; i < n; i++) {
    const double *xi = x + 3 * i;
    double sx = sin(xi[0]), cx = cos(xi[0]), sy = sin(xi[1]), cy = cos(xi[1]), sz = sin(xi[2]), cz = cos(xi[2]);
    out[3 * i] = A * sz + C * cy;
    out[3 * i + 1] = B * sx + A * cz;
    out[3 * i + 2] = C * sy + B * cx;
  }
  return FL_OK;
}

static fl_status abc_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  (void)t;
  const abc_data *p = f->data;
  const double A = p->A, B = p->B, C = p->C;
  AN_PFOR(n)
  for (size_t i = 0; i < n; i++) {
    const double *xi = x + 3 * i;
    double sx = sin(xi[0]), cx = cos(xi[0]), sy = sin(xi[1]), cy = cos(xi[1]), sz = sin(xi[2]), cz = cos(xi[2]);
    double *Ji = J + 9 * i;
    Ji[0] = 0;
    Ji[1] = -C * sy;
    Ji[2] = A * cz;
    Ji[3] = B * cx;
    Ji[4] = 0;
    Ji[5] = -A * sz;
    Ji[6] = -B * sx;
    Ji[7] = C * cy;
    Ji[8] = 0;
  }
  return FL_OK;
}

static const fl_field_ops abc_ops = {"abc", abc_eval, abc_jac, zero_div, NULL, NULL, free};

fl_status fl_analytic_abc(double A, double B, double C, fl_field **out)
{
  *out = NULL;
  fl_status st;
  if ((st = check_finite("A", A)) || (st = check_finite("B", B)) || (st = check_finite("C", C))) return st;
  abc_data *p = malloc(sizeof *p);
  if (!p) return fl_fail(FL_ENOMEM, "out of memory for an ABC field");
  p->A = A;
  p->B = B;
  p->C = C;
  return fl_field_new(&abc_ops, 3, 3, 0, 1, p, out);
}

/* ================================================================ gauge */

typedef struct gauge_data {
  int d;
  fl_field *s;
  double A[]; /* d*d, skew */
} gauge_data;

static void gauge_destroy(void *data)
{
  gauge_data *p = data;
  if (p) fl_field_release(p->s);
  free(p);
}

static fl_status gauge_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  const gauge_data *p = f->data;
  const int d = p->d;
  size_t nd = n * (size_t)d, bytes;
  if (fl_mul_overflow(nd, sizeof(double), &bytes)) return fl_fail(FL_ENOMEM, "gauge field: batch too large");
  double *s = fl_alloc(bytes);
  if (!s) return fl_fail(FL_ENOMEM, "gauge field: out of memory for %zu points", n);
  fl_status st = fl_field_eval(p->s, n, x, t, s);
  if (st == FL_OK) {
    const double *A = p->A;
    AN_PFOR(n)
    for (size_t i = 0; i < n; i++) {
      const double *si = s + i * (size_t)d;
      double *oi = out + i * (size_t)d;
      for (int a = 0; a < d; a++) {
        const double *Aa = A + (size_t)a * (size_t)d;
        double v = 0;
        for (int b = 0; b < d; b++) v += Aa[b] * si[b];
        oi[a] = v;
      }
    }
  }
  fl_free(s, bytes);
  return st;
}

static fl_status gauge_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  const gauge_data *p = f->data;
  const int d = p->d;
  const size_t dd = (size_t)d * (size_t)d;
  size_t ndd, bytes;
  if (fl_mul_overflow(n, dd, &ndd) || fl_mul_overflow(ndd, sizeof(double), &bytes))
    return fl_fail(FL_ENOMEM, "gauge field: batch too large");
  double *Js = fl_alloc(bytes);
  if (!Js) return fl_fail(FL_ENOMEM, "gauge field: out of memory for %zu Jacobians", n);
  fl_status st = fl_field_jacobian(p->s, n, x, t, Js, NULL);
  if (st == FL_OK) {
    const double *A = p->A;
    AN_PFOR(n)
    for (size_t i = 0; i < n; i++) {
      const double *Jsi = Js + i * dd;
      double *Ji = J + i * dd;
      for (int a = 0; a < d; a++) {
        const double *Aa = A + (size_t)a * (size_t)d;
        double *Ja = Ji + (size_t)a * (size_t)d;
        for (int b = 0; b < d; b++) Ja[b] = 0;
        for (int c = 0; c < d; c++) {
          double w = Aa[c];
          if (w == 0) continue;
          const double *Jc = Jsi + (size_t)c * (size_t)d;
          for (int b = 0; b < d; b++) Ja[b] += w * Jc[b];
        }
      }
    }
  }
  fl_free(Js, bytes);
  return st;
}

/* With an exact score Jacobian the gauge Jacobian is exact; without one the
 * field offers none, so fl_field_jacobian differences it and says so. */
static const fl_field_ops gauge_ops_exact = {"gauge", gauge_eval, gauge_jac, NULL, NULL, NULL, gauge_destroy};
static const fl_field_ops gauge_ops_fd = {"gauge", gauge_eval, NULL, NULL, NULL, NULL, gauge_destroy};

fl_status fl_analytic_gauge(int d, const double *A, fl_field *s, fl_field **out)
{
  *out = NULL;
  if (!s) return fl_fail(FL_EINVAL, "the gauge field needs a score field");
  if (s->dim != s->codim)
    return fl_fail(FL_EDIM, "the score field must be a vector field (R^d to R^d), this one maps R^%d to R^%d", s->dim,
                   s->codim);
  if (d != s->dim) return fl_fail(FL_EDIM, "A is %d x %d but the score field has dimension %d", d, d, s->dim);
  if (!A) return fl_fail(FL_EINVAL, "the gauge field needs a matrix A");
  const size_t dd = (size_t)d * (size_t)d;
  double amax = 0;
  for (size_t k = 0; k < dd; k++) {
    if (!isfinite(A[k]))
      return fl_fail(FL_EINVAL, "A[%zu][%zu] is %g, not a finite number", k / (size_t)d + 1, k % (size_t)d + 1, A[k]);
    if (fabs(A[k]) > amax) amax = fabs(A[k]);
  }
  double tol = 1e-12 * (amax > 1 ? amax : 1);
  for (int i = 0; i < d; i++)
    for (int j = i; j < d; j++) {
      double aij = A[(size_t)i * (size_t)d + (size_t)j], aji = A[(size_t)j * (size_t)d + (size_t)i];
      if (fabs(aij + aji) > tol)
        return fl_fail(FL_EINVAL, "A is not skew-symmetric: A[%d][%d] = %g but A[%d][%d] = %g", i + 1, j + 1, aij,
                       j + 1, i + 1, aji);
    }
  gauge_data *p = malloc(sizeof *p + sizeof(double) * dd);
  if (!p) return fl_fail(FL_ENOMEM, "out of memory for a gauge field");
  p->d = d;
  for (int i = 0; i < d; i++)
    for (int j = 0; j < d; j++)
      p->A[(size_t)i * (size_t)d + (size_t)j] =
          0.5 * (A[(size_t)i * (size_t)d + (size_t)j] - A[(size_t)j * (size_t)d + (size_t)i]);
  p->s = fl_field_retain(s);
  return fl_field_new(s->ops->jac ? &gauge_ops_exact : &gauge_ops_fd, d, d, s->time_dependent, s->thread_safe, p,
                      out);
}

/* ================================================================ potentials */

typedef struct pot_data {
  fl_potential_kind kind;
  int dim;
  double GM, s; /* G*M, scale */
} pot_data;

/* Taylor coefficients at u = 0 of f'(u) and f''(u), f(u) = ln(1+u)/u (NFW):
 * f' = sum_j (-1)^(j+1) (j+1)/(j+2) u^j, f'' = sum_j (-1)^j (j+1)(j+2)/(j+3) u^j. */
#define NFW_NSER 30
static const double nfw_c1[NFW_NSER] = {
    -1.0 / 2, 2.0 / 3, -3.0 / 4, 4.0 / 5, -5.0 / 6, 6.0 / 7, -7.0 / 8, 8.0 / 9,
    -9.0 / 10, 10.0 / 11, -11.0 / 12, 12.0 / 13, -13.0 / 14, 14.0 / 15, -15.0 / 16, 16.0 / 17,
    -17.0 / 18, 18.0 / 19, -19.0 / 20, 20.0 / 21, -21.0 / 22, 22.0 / 23, -23.0 / 24, 24.0 / 25,
    -25.0 / 26, 26.0 / 27, -27.0 / 28, 28.0 / 29, -29.0 / 30, 30.0 / 31,
};
static const double nfw_c2[NFW_NSER] = {
    2.0 / 3, -6.0 / 4, 12.0 / 5, -20.0 / 6, 30.0 / 7, -42.0 / 8, 56.0 / 9, -72.0 / 10,
    90.0 / 11, -110.0 / 12, 132.0 / 13, -156.0 / 14, 182.0 / 15, -210.0 / 16, 240.0 / 17, -272.0 / 18,
    306.0 / 19, -342.0 / 20, 380.0 / 21, -420.0 / 22, 462.0 / 23, -506.0 / 24, 552.0 / 25, -600.0 / 26,
    650.0 / 27, -702.0 / 28, 756.0 / 29, -812.0 / 30, 870.0 / 31, -930.0 / 32,
};

/* f'(u) and f''(u), accurate for all u >= 0: the series (Horner, 14 or 30
 * terms: below 1e-17 relative) where the closed forms cancel (u < 0.25, they
 * lose up to 3/u^2 eps there), the closed forms above. */
static inline void nfw_f12(double u, double *f1, double *f2)
{
  if (u < 0.25) {
    int nt = u < 0.05 ? 14 : NFW_NSER;
    double s1 = nfw_c1[nt - 1], s2 = nfw_c2[nt - 1];
    for (int j = nt - 2; j >= 0; j--) {
      s1 = s1 * u + nfw_c1[j];
      s2 = s2 * u + nfw_c2[j];
    }
    *f1 = s1;
    *f2 = s2;
  } else {
    double L = log1p(u), iu = 1 / u, iu1 = 1 / (1 + u);
    *f1 = iu * iu1 - L * iu * iu;
    *f2 = 2 * L * iu * iu * iu - iu * iu * iu1 - (1 + 2 * u) * iu * iu * iu1 * iu1;
  }
}

/* Phi(r) (need 0), also g = Phi'(r)/r (need 1) and Phi''(r) (need 2) of a
 * spherical potential; what is not needed may be left unset. For a cusp
 * (Hernquist, NFW) g is +inf at r = 0. */
static inline void pot_radial(const pot_data *p, double r, int need, double *phi, double *g, double *d2)
{
  const double GM = p->GM, b = p->s;
  switch (p->kind) {
  case FL_POT_PLUMMER: {
    double s2 = r * r + b * b, s = sqrt(s2), is3 = 1 / (s2 * s);
    *phi = -GM / s;
    *g = GM * is3;
    *d2 = GM * is3 * (1 - 3 * r * r / s2);
    break;
  }
  case FL_POT_HERNQUIST: {
    double ra = 1 / (r + b);
    *phi = -GM * ra;
    *g = r > 0 ? GM * ra * ra / r : INFINITY;
    *d2 = -2 * GM * ra * ra * ra;
    break;
  }
  case FL_POT_ISOCHRONE: {
    double s = sqrt(r * r + b * b), bs = b + s, ibs = 1 / bs;
    *phi = -GM * ibs;
    *g = GM * ibs * ibs / s;
    *d2 = *g - GM * r * r * (b + 3 * s) / (s * s * s * bs * bs * bs);
    break;
  }
  case FL_POT_NFW: {
    double u = r / b, f1 = 0, f2 = 0;
    *phi = u > 0 ? -GM * log1p(u) / r : -GM / b;
    if (need == 0) break;
    nfw_f12(u, &f1, &f2);
    *g = u > 0 ? -GM / (b * b * b) * f1 / u : INFINITY;
    *d2 = -GM / (b * b * b) * f2;
    break;
  }
  }
}

static inline double norm_d(const double *x, int d)
{
  double s = 0;
  for (int k = 0; k < d; k++) s += x[k] * x[k];
  return sqrt(s);
}

static fl_status pot_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)t;
  const pot_data *p = f->data;
  const int d = p->dim;
  AN_PFOR(n)
  for (size_t i = 0; i < n; i++) {
    double phi, g, d2;
    pot_radial(p, norm_d(x + i * (size_t)d, d), 0, &phi, &g, &d2);
    out[i] = phi;
  }
  return FL_OK;
}

/* The Plummer gradient GM x / (r^2 + b^2)^(3/2) in 3-D, the force of
 * test-particle runs: branch free so that it vectorises. */
static void plummer_grad3(const pot_data *p, size_t n, const double *x, double *J)
{
  const double GM = p->GM, b2 = p->s * p->s;
  AN_PFOR(n)
  for (size_t i = 0; i < n; i++) {
    const double *xi = x + 3 * i;
    double s2 = xi[0] * xi[0] + xi[1] * xi[1] + xi[2] * xi[2] + b2;
    double g = GM / (s2 * sqrt(s2));
    J[3 * i] = g * xi[0];
    J[3 * i + 1] = g * xi[1];
    J[3 * i + 2] = g * xi[2];
  }
}

static fl_status pot_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  (void)t;
  const pot_data *p = f->data;
  const int d = p->dim;
  if (p->kind == FL_POT_PLUMMER && d == 3) {
    plummer_grad3(p, n, x, J);
    return FL_OK;
  }
  AN_PFOR(n)
  for (size_t i = 0; i < n; i++) {
    const double *xi = x + i * (size_t)d;
    double *Ji = J + i * (size_t)d;
    double r = norm_d(xi, d), phi, g, d2;
    if (r == 0) { /* the gradient of a radial function vanishes at the centre (a cusp: by symmetry) */
      for (int k = 0; k < d; k++) Ji[k] = 0;
      continue;
    }
    pot_radial(p, r, 1, &phi, &g, &d2);
    for (int k = 0; k < d; k++) Ji[k] = g * xi[k];
  }
  return FL_OK;
}

static fl_status pot_hess(fl_field *f, size_t n, const double *x, double t, double *H)
{
  (void)t;
  const pot_data *p = f->data;
  const int d = p->dim;
  const size_t dd = (size_t)d * (size_t)d;
  AN_PFOR(n)
  for (size_t i = 0; i < n; i++) {
    const double *xi = x + i * (size_t)d;
    double *Hi = H + i * dd;
    double r = norm_d(xi, d), phi, g, d2;
    pot_radial(p, r, 2, &phi, &g, &d2);
    /* H = g I + (Phi'' - g) xhat xhat^T */
    double c = r > 0 ? (d2 - g) / (r * r) : 0;
    for (int a = 0; a < d; a++)
      for (int b = 0; b < d; b++) Hi[(size_t)a * (size_t)d + (size_t)b] = c * xi[a] * xi[b] + (a == b ? g : 0);
  }
  return FL_OK;
}

static fl_status pot_lap(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)t;
  const pot_data *p = f->data;
  const int d = p->dim;
  AN_PFOR(n)
  for (size_t i = 0; i < n; i++) {
    double r = norm_d(x + i * (size_t)d, d), phi, g, d2;
    pot_radial(p, r, 2, &phi, &g, &d2);
    out[i] = isinf(g) ? INFINITY : (double)(d - 1) * g + d2;
  }
  return FL_OK;
}

static const fl_field_ops plummer_ops = {"plummer", pot_eval, pot_jac, NULL, pot_hess, pot_lap, free};
static const fl_field_ops hernquist_ops = {"hernquist", pot_eval, pot_jac, NULL, pot_hess, pot_lap, free};
static const fl_field_ops isochrone_ops = {"isochrone", pot_eval, pot_jac, NULL, pot_hess, pot_lap, free};
static const fl_field_ops nfw_ops = {"nfw", pot_eval, pot_jac, NULL, pot_hess, pot_lap, free};

fl_status fl_analytic_potential(fl_potential_kind kind, int dim, double G, double M, double scale, fl_field **out)
{
  *out = NULL;
  const fl_field_ops *ops;
  const char *sname;
  switch (kind) {
  case FL_POT_PLUMMER: ops = &plummer_ops; sname = "the scale radius b"; break;
  case FL_POT_HERNQUIST: ops = &hernquist_ops; sname = "the scale radius a"; break;
  case FL_POT_ISOCHRONE: ops = &isochrone_ops; sname = "the scale radius b"; break;
  case FL_POT_NFW: ops = &nfw_ops; sname = "the scale radius rs"; break;
  default: return fl_fail(FL_EINVAL, "unknown potential kind %d", (int)kind);
  }
  if (dim < 1) return fl_fail(FL_EINVAL, "a potential needs dimension >= 1, not %d", dim);
  fl_status st;
  if ((st = check_positive("the mass M", M)) || (st = check_positive("G", G)) || (st = check_positive(sname, scale)))
    return st;
  if (!isfinite(G * M)) return fl_fail(FL_EINVAL, "G*M = %g overflows", G * M);
  pot_data *p = malloc(sizeof *p);
  if (!p) return fl_fail(FL_ENOMEM, "out of memory for a potential");
  p->kind = kind;
  p->dim = dim;
  p->GM = G * M;
  p->s = scale;
  return fl_field_new(ops, dim, 1, 0, 1, p, out);
}

/* ================================================================ harmonic */

typedef struct harm_data {
  int dim;
  double sum; /* sum of w2 */
  double w2[]; /* omega_i^2 */
} harm_data;

static fl_status harm_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)t;
  const harm_data *p = f->data;
  const int d = p->dim;
  AN_PFOR(n)
  for (size_t i = 0; i < n; i++) {
    const double *xi = x + i * (size_t)d;
    double s = 0;
    for (int k = 0; k < d; k++) s += p->w2[k] * xi[k] * xi[k];
    out[i] = 0.5 * s;
  }
  return FL_OK;
}

static fl_status harm_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  (void)t;
  const harm_data *p = f->data;
  const int d = p->dim;
  AN_PFOR(n)
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < d; k++) J[i * (size_t)d + (size_t)k] = p->w2[k] * x[i * (size_t)d + (size_t)k];
  return FL_OK;
}

static fl_status harm_hess(fl_field *f, size_t n, const double *x, double t, double *H)
{
  (void)t;
  (void)x;
  const harm_data *p = f->data;
  const int d = p->dim;
  const size_t dd = (size_t)d * (size_t)d;
  AN_PFOR(n)
  for (size_t i = 0; i < n; i++) {
    double *Hi = H + i * dd;
    memset(Hi, 0, sizeof(double) * dd);
    for (int k = 0; k < d; k++) Hi[(size_t)k * (size_t)d + (size_t)k] = p->w2[k];
  }
  return FL_OK;
}

static fl_status harm_lap(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)t;
  (void)x;
  const harm_data *p = f->data;
  for (size_t i = 0; i < n; i++) out[i] = p->sum;
  return FL_OK;
}

static const fl_field_ops harmonic_ops = {"harmonic", harm_eval, harm_jac, NULL, harm_hess, harm_lap, free};

fl_status fl_analytic_harmonic(int dim, const double *omega, fl_field **out)
{
  *out = NULL;
  if (dim < 1) return fl_fail(FL_EINVAL, "a potential needs dimension >= 1, not %d", dim);
  if (!omega) return fl_fail(FL_EINVAL, "the harmonic potential needs its frequencies");
  for (int k = 0; k < dim; k++)
    if (!isfinite(omega[k]) || !(omega[k] > 0) || !isfinite(omega[k] * omega[k]))
      return fl_fail(FL_EINVAL, "frequency omega[%d] must be positive and finite, not %g", k + 1, omega[k]);
  harm_data *p = malloc(sizeof *p + sizeof(double) * (size_t)dim);
  if (!p) return fl_fail(FL_ENOMEM, "out of memory for a potential");
  p->dim = dim;
  p->sum = 0;
  for (int k = 0; k < dim; k++) {
    p->w2[k] = omega[k] * omega[k];
    p->sum += p->w2[k];
  }
  return fl_field_new(&harmonic_ops, dim, 1, 0, 1, p, out);
}
