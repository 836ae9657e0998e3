/* fl_decomp: Helmholtz-Hodge decompositions of vector grid fields (periodic by
 * FFT projection; bounded boxes: natural HHD by zero-padded FFT convolution
 * with the free-space Green's function, normal-flux HHD by a DCT-I Neumann
 * solve). See fl_decomp.h. */
#include "config.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fl_decomp.h"
#include "fl_array.h"
#include "fl_fft.h"
#include "fl_grid.h"

#ifdef _OPENMP
#define FL_PRAGMA(x) _Pragma(#x)
#define FL_PFOR(cond) FL_PRAGMA(omp parallel for schedule(static) if(cond))
#define FL_PFOR_SUM4(a, b, c, e, cond) \
  FL_PRAGMA(omp parallel for schedule(static) reduction(+:a, b, c, e) if(cond))
#define FL_PFOR_SUM3(a, b, c, cond) \
  FL_PRAGMA(omp parallel for schedule(static) reduction(+:a, b, c) if(cond))
#else
#define FL_PFOR_SUM3(a, b, c, cond)
#define FL_PFOR(cond)
#define FL_PFOR_SUM4(a, b, c, e, cond)
#endif
/* Work items (nodes or modes) from which loops run in parallel. */
#define PAR_MIN 4096

const char *fl_hhd_boundary_name(fl_hhd_boundary b)
{
  switch (b) {
  case FL_HHD_PERIODIC: return "periodic";
  case FL_HHD_NATURAL: return "natural";
  case FL_HHD_NORMAL: return "normal";
  }
  return "unknown";
}

void fl_hhd_clear(fl_hhd *r)
{
  if (!r) return;
  fl_field_release(r->gradient);
  fl_field_release(r->solenoidal);
  fl_field_release(r->harmonic);
  fl_field_release(r->phi);
  fl_field_release(r->psi);
  memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------ helpers */

static fl_status new_grid(const fl_grid *g, int m, int zero, fl_field **out, double **data);

/* The harmonic part at a node whose index on axis k has parity par[k]:
 * coef[0] plus, for every mask, coef[mask] times -1 when an odd number of
 * the mask's axes have odd indices. d axes, m components into h. */
static void harmonic_sum(int d, int m, const double coef[8][3], const int *par, double *h)
{
  for (int a = 0; a < m; a++) h[a] = coef[0][a];
  for (int mask = 1; mask < (1 << d); mask++) {
    int neg = 0;
    for (int k = 0; k < d; k++) neg ^= (mask >> k & 1) & par[k];
    for (int a = 0; a < m; a++) h[a] += neg ? -coef[mask][a] : coef[mask][a];
  }
}

/* The same at node p (flat index) of grid g. */
static void harmonic_at(const fl_grid *g, const double coef[8][3], size_t p, double *h)
{
  int par[FL_GRID_MAXDIM];
  for (int k = g->s.dim - 1; k >= 0; k--) {
    par[k] = (int)(p % g->s.n[k] & 1);
    p /= g->s.n[k];
  }
  harmonic_sum(g->s.dim, g->m, coef, par, h);
}

fl_status fl_hhd_harmonic(fl_field *like, const double coef[8][3], fl_field **out)
{
  *out = NULL;
  fl_grid *g = fl_grid_of(like);
  if (!g) return fl_fail(FL_EINVAL, "a harmonic grid needs a grid field to copy the grid of");
  if (g->s.dim > 3 || g->m > 3)
    return fl_fail(FL_EDIM, "a harmonic grid has 1 to 3 axes and components (this grid: %d axes, %d components)",
                   g->s.dim, g->m);
  double *D;
  fl_status st = new_grid(g, g->m, 0, out, &D);
  if (st != FL_OK) return st;
  size_t nodes = 1;
  for (int k = 0; k < g->s.dim; k++) nodes *= g->s.n[k];
  const size_t m = (size_t)g->m;
  FL_PFOR(nodes > PAR_MIN)
  for (size_t i = 0; i < nodes; i++) harmonic_at(g, coef, i, D + i * m);
  return FL_OK;
}

/* A new grid field on g's grid with m components and uninitialised values
 * (zeroed when zero); *data gets the values. */
static fl_status new_grid(const fl_grid *g, int m, int zero, fl_field **out, double **data)
{
  size_t shape[FL_GRID_MAXDIM + 1];
  int d = g->s.dim;
  for (int k = 0; k < d; k++) shape[k] = g->s.n[k];
  shape[d] = (size_t)m;
  fl_array *a;
  fl_status st = zero ? fl_array_zeros(m == 1 ? d : d + 1, shape, &a) : fl_array_new(m == 1 ? d : d + 1, shape, &a);
  if (st != FL_OK) return st;
  st = fl_grid_new(&g->s, m, g->interp, a, out);
  if (st == FL_OK && data) *data = a->data; /* the grid holds a reference */
  fl_array_release(a);
  return st;
}

/* The grid of v checked for a decomposition: d = 2 or 3, d components. */
static fl_status check_vector_grid(fl_field *v, fl_grid **gp)
{
  fl_grid *g = fl_grid_of(v);
  if (!g)
    return fl_fail(FL_EINVAL, "needs a grid field (this one is of kind %s)",
                   v && v->ops && v->ops->kind ? v->ops->kind : "field");
  int d = g->s.dim;
  if (d < 2 || d > 3)
    return fl_fail(FL_EDIM, "a %d-D grid has no Helmholtz-Hodge decomposition (2-D or 3-D grids only)", d);
  if (g->m != d)
    return fl_fail(FL_EDIM, "a vector field on a %d-D grid needs %d components, this grid has %d%s", d, d, g->m,
                   g->m == 1 ? " (a scalar grid)" : "");
  *gp = g;
  return FL_OK;
}

/* Spectral wave numbers of the first derivative along axis k (the Nyquist
 * wave number of an even n is 0); nc entries (n, or n/2+1 for the last axis). */
static void wavenumbers(size_t n, double len, size_t nc, double *kd)
{
  double scale = 2 * M_PI / len;
  for (size_t j = 0; j < nc; j++) {
    double kk = j <= n / 2 ? (double)j : (double)j - (double)n;
    kd[j] = (n % 2 == 0 && j == n / 2) ? 0.0 : scale * kk;
  }
}

/* Shapes of a periodic grid as 3 loop levels (2-D: a leading level of 1). */
typedef struct lay3 {
  int d;
  size_t nr[3];        /* real extents */
  size_t nc[3];        /* complex extents (last halved) */
  size_t nreal, ncomplex;
  double *kd[3];       /* wave numbers per level (level 0 of a 2-D grid: {0}) */
  double *buf;
  size_t bytes;
} lay3;

static void lay3_free(lay3 *l) { fl_free(l->buf, l->bytes); }

static fl_status lay3_init(lay3 *l, const fl_grid *g)
{
  memset(l, 0, sizeof *l);
  int d = g->s.dim, off = 3 - d;
  l->d = d;
  for (int k = 0; k < 3; k++) l->nr[k] = l->nc[k] = 1;
  for (int k = 0; k < d; k++) l->nr[off + k] = l->nc[off + k] = g->s.n[k];
  l->nc[2] = l->nr[2] / 2 + 1;
  l->nreal = l->nr[0] * l->nr[1] * l->nr[2];
  l->ncomplex = l->nc[0] * l->nc[1] * l->nc[2];
  l->bytes = (l->nc[0] + l->nc[1] + l->nc[2]) * sizeof(double);
  l->buf = fl_alloc(l->bytes);
  if (!l->buf) return fl_fail(FL_ENOMEM, "no memory for wave numbers");
  double *p = l->buf;
  for (int k = 0; k < 3; k++) {
    l->kd[k] = p;
    p += l->nc[k];
    if (k < off)
      p[-1] = 0.0;
    else
      wavenumbers(l->nr[k], g->s.hi[k - off] - g->s.lo[k - off], l->nc[k], l->kd[k]);
  }
  return FL_OK;
}

/* ------------------------------------------------------------ periodic */

/* One row of n values of the periodic split: s = v - g - pat[i % per], with
 * |v|^2, |g|^2 and |s|^2 added to the sums (a row of odd length ends with a
 * partial period). */
static inline void solenoidal_row(const double *restrict v, const double *restrict g, double *restrict s,
                                  size_t n, const double *pat, size_t per, double *ev, double *eg, double *es)
{
  double sv = 0, sg = 0, ss = 0;
  for (size_t i = 0; i < n; i += per) {
    const size_t e = n - i < per ? n - i : per;
    for (size_t q = 0; q < e; q++) {
      double vv = v[i + q], gg = g[i + q], x = vv - gg - pat[q];
      s[i + q] = x;
      sv += vv * vv;
      sg += gg * gg;
      ss += x * x;
    }
  }
  *ev += sv;
  *eg += sg;
  *es += ss;
}

static fl_status hhd_periodic(fl_field *v, fl_grid *g, fl_hhd *r)
{
  const int d = g->s.dim, off = 3 - d;
  lay3 l;
  fl_status st = lay3_init(&l, g);
  if (st != FL_OK) return st;
  const fl_fft_plan *fwd, *bwd;
  st = fl_fft_plan_get(FL_FFT_R2C, d, g->s.n, (size_t)d, &fwd);
  if (st == FL_OK) st = fl_fft_plan_get(FL_FFT_C2R, d, g->s.n, (size_t)d, &bwd);
  if (st != FL_OK) {
    lay3_free(&l);
    return st;
  }
  size_t fb = l.ncomplex * (size_t)d * sizeof(double complex);
  double complex *F = fl_alloc(fb);
  double *G = NULL, *S = NULL;
  if (!F) st = fl_fail(FL_ENOMEM, "no memory for the spectrum of a %zu-node grid", l.nreal);
  if (st == FL_OK) st = new_grid(g, d, 0, &r->gradient, &G);
  if (st == FL_OK) st = new_grid(g, d, 0, &r->solenoidal, &S);
  const double *V = g->values->data;
  if (st == FL_OK) st = fl_fft_r2c(fwd, V, F);
  /* Harmonic modes: every axis index 0 or Nyquist. hc[mask][a], mask bit k
   * for axis k at its Nyquist index. */
  double (*hc)[3] = r->harmonic_coef;
  if (st == FL_OK) {
    const double inv = 1.0 / (double)l.nreal;
    const size_t nab = l.nc[0] * l.nc[1], nc2 = l.nc[2];
    double *const kd0 = l.kd[0], *const kd1 = l.kd[1], *const kd2 = l.kd[2];
    FL_PFOR(l.ncomplex > PAR_MIN)
    for (size_t ab = 0; ab < nab; ab++) {
      size_t a = ab / l.nc[1], b = ab % l.nc[1];
      double K[3];
      K[0] = kd0[a];
      K[1] = kd1[b];
      double complex *row = F + ab * nc2 * (size_t)d;
      if (d == 2) {
        double kx = K[1];
        for (size_t c = 0; c < nc2; c++) {
          double ky = kd2[c], k2 = kx * kx + ky * ky;
          double complex *f = row + c * 2;
          if (k2 > 0) {
            double complex dot = (kx * f[0] + ky * f[1]) * (inv / k2);
            f[0] = kx * dot;
            f[1] = ky * dot;
          }
        }
      } else {
        for (size_t c = 0; c < nc2; c++) {
          double kz = kd2[c], k2 = K[0] * K[0] + K[1] * K[1] + kz * kz;
          double complex *f = row + c * 3;
          if (k2 > 0) {
            double complex dot = (K[0] * f[0] + K[1] * f[1] + kz * f[2]) * (inv / k2);
            f[0] = K[0] * dot;
            f[1] = K[1] * dot;
            f[2] = kz * dot;
          }
        }
      }
    }
    /* the modes with zero wave vector: at most 2^d of them */
    for (int mask = 0; mask < (1 << d); mask++) {
      size_t idx[3] = {0, 0, 0};
      int ok = 1;
      for (int k = 0; k < d; k++) {
        if (!(mask >> k & 1)) continue;
        size_t n = g->s.n[k];
        if (n % 2) ok = 0;
        idx[off + k] = n / 2;
      }
      if (!ok) continue;
      double complex *f = F + ((idx[0] * l.nc[1] + idx[1]) * l.nc[2] + idx[2]) * (size_t)d;
      for (int a = 0; a < d; a++) {
        hc[mask][a] = creal(f[a]) * inv;
        f[a] = 0;
      }
    }
    st = fl_fft_c2r(bwd, F, G);
  }
  if (st == FL_OK) {
    /* solenoidal = v - gradient - harmonic, and the energies, in one pass.
     * The harmonic part is the same along a row for nodes of the same
     * parity: pat holds it for an even and an odd node (period 2d). Its
     * energy is N sum |hc|^2 (the sign patterns are orthogonal). */
    double ev = 0, eg = 0, es = 0;
    const size_t nab = l.nr[0] * l.nr[1], nrow = l.nr[2] * (size_t)d;
    FL_PFOR_SUM3(ev, eg, es, l.nreal > PAR_MIN)
    for (size_t ab = 0; ab < nab; ab++) {
      size_t a = ab / l.nr[1], b = ab % l.nr[1];
      int par[3] = {(int)(a & 1), (int)(b & 1), 0};
      double pat[6];
      for (int c = 0; c < 2; c++) {
        par[2] = c;
        harmonic_sum(d, d, (const double(*)[3])hc, par + off, pat + c * d);
      }
      const double *vr = V + ab * nrow, *gr = G + ab * nrow;
      double *sr = S + ab * nrow;
      if (d == 2)
        solenoidal_row(vr, gr, sr, nrow, pat, 4, &ev, &eg, &es);
      else
        solenoidal_row(vr, gr, sr, nrow, pat, 6, &ev, &eg, &es);
    }
    double eh = 0;
    for (int mask = 0; mask < (1 << d); mask++)
      for (int q = 0; q < d; q++) eh += hc[mask][q] * hc[mask][q];
    double cell = 1;
    for (int k = 0; k < d; k++) cell *= g->h[k];
    r->e_total = ev * cell;
    r->e_gradient = eg * cell;
    r->e_solenoidal = es * cell;
    r->e_harmonic = eh * (double)l.nreal * cell;
  }
  (void)v;
  fl_free(F, fb);
  lay3_free(&l);
  return st;
}

fl_status fl_hhd_potential(fl_field *gf, int which, fl_field **out)
{
  *out = NULL;
  fl_grid *g;
  fl_status st = check_vector_grid(gf, &g);
  if (st != FL_OK) return st;
  const int d = g->s.dim;
  for (int k = 0; k < d; k++)
    if (!g->s.periodic[k])
      return fl_fail(FL_EINVAL, "spectral potentials need a grid periodic on every axis (axis %d is not)", k + 1);
  if (which != 0 && which != 1) return fl_fail(FL_EINVAL, "unknown potential %d (0: phi, 1: psi or A)", which);
  const size_t mo = which == 0 || d == 2 ? 1 : 3;
  lay3 l;
  st = lay3_init(&l, g);
  if (st != FL_OK) return st;
  const fl_fft_plan *fwd, *bwd;
  st = fl_fft_plan_get(FL_FFT_R2C, d, g->s.n, (size_t)d, &fwd);
  if (st == FL_OK) st = fl_fft_plan_get(FL_FFT_C2R, d, g->s.n, mo, &bwd);
  if (st != FL_OK) {
    lay3_free(&l);
    return st;
  }
  size_t fb = l.ncomplex * (size_t)d * sizeof(double complex), pb = l.ncomplex * mo * sizeof(double complex);
  double complex *F = fl_alloc(fb), *P = fl_alloc(pb);
  double *R = NULL;
  if (!F || !P) st = fl_fail(FL_ENOMEM, "no memory for the spectrum of a %zu-node grid", l.nreal);
  if (st == FL_OK) st = new_grid(g, (int)mo, 0, out, &R);
  if (st == FL_OK) st = fl_fft_r2c(fwd, g->values->data, F);
  if (st == FL_OK) {
    const double inv = 1.0 / (double)l.nreal;
    const size_t nab = l.nc[0] * l.nc[1], nc2 = l.nc[2];
    FL_PFOR(l.ncomplex > PAR_MIN)
    for (size_t ab = 0; ab < nab; ab++) {
      size_t a = ab / l.nc[1], b = ab % l.nc[1];
      for (size_t c = 0; c < nc2; c++) {
        size_t q = ab * nc2 + c;
        double K[3] = {l.kd[0][a], l.kd[1][b], l.kd[2][c]};
        const double *k = K + (3 - d);
        double k2 = 0;
        for (int i = 0; i < d; i++) k2 += k[i] * k[i];
        const double complex *f = F + q * (size_t)d;
        double complex *p = P + q * mo;
        if (k2 == 0) {
          for (size_t i = 0; i < mo; i++) p[i] = 0;
          continue;
        }
        double s = inv / k2;
        if (which == 0) {
          double complex dot = 0;
          for (int i = 0; i < d; i++) dot += k[i] * f[i];
          p[0] = -I * dot * s;
        } else if (d == 2) {
          p[0] = -I * (k[0] * f[1] - k[1] * f[0]) * s;
        } else {
          p[0] = I * (k[1] * f[2] - k[2] * f[1]) * s;
          p[1] = I * (k[2] * f[0] - k[0] * f[2]) * s;
          p[2] = I * (k[0] * f[1] - k[1] * f[0]) * s;
        }
      }
    }
    st = fl_fft_c2r(bwd, P, R);
  }
  if (st != FL_OK) {
    fl_field_release(*out);
    *out = NULL;
  }
  fl_free(F, fb);
  fl_free(P, pb);
  lay3_free(&l);
  return st;
}

fl_status fl_hhd_fft_roundtrip(fl_field *v, fl_array **out)
{
  *out = NULL;
  fl_grid *g;
  fl_status st = check_vector_grid(v, &g);
  if (st != FL_OK) return st;
  const int d = g->s.dim;
  const fl_fft_plan *fwd, *bwd;
  st = fl_fft_plan_get(FL_FFT_R2C, d, g->s.n, (size_t)d, &fwd);
  if (st == FL_OK) st = fl_fft_plan_get(FL_FFT_C2R, d, g->s.n, (size_t)d, &bwd);
  if (st != FL_OK) return st;
  size_t fb = fl_fft_plan_out_size(fwd) * sizeof(double complex);
  double complex *F = fl_alloc(fb);
  if (!F) return fl_fail(FL_ENOMEM, "no memory for a spectrum");
  st = fl_array_new(g->values->ndim, g->values->shape, out);
  if (st == FL_OK) st = fl_fft_r2c(fwd, g->values->data, F);
  if (st == FL_OK) st = fl_fft_c2r(bwd, F, (*out)->data);
  if (st != FL_OK) {
    fl_array_release(*out);
    *out = NULL;
  }
  fl_free(F, fb);
  return st;
}

/* ------------------------------------------------------------ bounded boxes */

/* Trapezoid weight of flat node p (product of 1/2 at the ends of each axis). */
static inline double trap_weight(const fl_grid *g, size_t p)
{
  double w = 1;
  for (int k = g->s.dim - 1; k >= 0; k--) {
    size_t n = g->s.n[k], i = p % n;
    p /= n;
    if (i == 0 || i == n - 1) w *= 0.5;
  }
  return w;
}

static fl_status check_bounded(const fl_grid *g, fl_hhd_boundary b, size_t nmin)
{
  for (int k = 0; k < g->s.dim; k++) {
    if (g->s.periodic[k])
      return fl_fail(FL_EINVAL,
                     "boundary \"%s\" needs a grid non-periodic on every axis (axis %d is periodic; "
                     "a grid periodic on every axis takes the periodic split)",
                     fl_hhd_boundary_name(b), k + 1);
    if (g->s.n[k] < nmin)
      return fl_fail(FL_EINVAL, "boundary \"%s\" needs at least %zu nodes per axis (axis %d has %zu)",
                     fl_hhd_boundary_name(b), nmin, k + 1, g->s.n[k]);
  }
  return FL_OK;
}

/* harmonic = v - gradient - solenoidal (zero when zero_h), and the energies
 * by the trapezoid rule. */
static fl_status finish_bounded(const fl_grid *g, fl_hhd *r, int zero_h)
{
  double *H;
  fl_status st = new_grid(g, g->s.dim, 0, &r->harmonic, &H);
  if (st != FL_OK) return st;
  const double *V = g->values->data, *G = fl_grid_of(r->gradient)->values->data,
               *S = fl_grid_of(r->solenoidal)->values->data;
  const size_t np = g->npoints, du = (size_t)g->s.dim;
  double ev = 0, eg = 0, es = 0, eh = 0;
  FL_PFOR_SUM4(ev, eg, es, eh, np > PAR_MIN)
  for (size_t p = 0; p < np; p++) {
    double w = trap_weight(g, p), sv = 0, sg = 0, ss = 0, sh = 0;
    for (size_t q = 0; q < du; q++) {
      size_t i = p * du + q;
      double h = zero_h ? 0.0 : V[i] - G[i] - S[i];
      H[i] = h;
      sv += V[i] * V[i];
      sg += G[i] * G[i];
      ss += S[i] * S[i];
      sh += h * h;
    }
    ev += w * sv;
    eg += w * sg;
    es += w * ss;
    eh += w * sh;
  }
  double cell = 1;
  for (int k = 0; k < g->s.dim; k++) cell *= g->h[k];
  r->e_total = ev * cell;
  r->e_gradient = eg * cell;
  r->e_solenoidal = es * cell;
  r->e_harmonic = eh * cell;
  return FL_OK;
}

/* Average of x y ln(x^2 + y^2) antiderivative: the integral of
 * ln(x^2 + y^2) over [0, a] x [0, b]. */
static double int_log2(double a, double b)
{
  return a * b * log(a * a + b * b) - 3 * a * b + a * a * atan(b / a) + b * b * atan(a / b);
}

/* Integral of 1/r over [0, a] x [0, b] x [0, c]. */
static double int_inv_r3(double a, double b, double c)
{
  double r = sqrt(a * a + b * b + c * c);
  return b * c * log((a + r) / sqrt(b * b + c * c)) + a * c * log((b + r) / sqrt(a * a + c * c)) +
         a * b * log((c + r) / sqrt(a * a + b * b)) - 0.5 * a * a * atan(b * c / (a * r)) -
         0.5 * b * b * atan(a * c / (b * r)) - 0.5 * c * c * atan(a * b / (c * r));
}

double fl_hhd_green_cell(int d, const double *h)
{
  if (d == 2) {
    double a = h[0] / 2, b = h[1] / 2;
    /* mean of ln r = (1/2) mean of ln(x^2 + y^2) over the quarter cell */
    return int_log2(a, b) / (a * b) / 2 / (2 * M_PI);
  }
  double a = h[0] / 2, b = h[1] / 2, c = h[2] / 2;
  return -int_inv_r3(a, b, c) / (a * b * c) / (4 * M_PI);
}

static inline double green(int d, const double *x)
{
  if (d == 2) return log(x[0] * x[0] + x[1] * x[1]) / (4 * M_PI);
  return -1.0 / (4 * M_PI * sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]));
}

/* out[c] (c < ns, ns interleaved grids on g's nodes) = sum over nodes j of
 * G(x_i - x_j) src_c(x_j) w_j cell: the trapezoid rule of the convolution,
 * by zero-padded FFTs of size 2n per axis. */
static fl_status green_convolve(const fl_grid *g, size_t ns, const double *src, double *out)
{
  const int d = g->s.dim;
  size_t M[3] = {1, 1, 1}, mt = 1, mc = 1;
  for (int k = 0; k < d; k++) {
    M[k] = 2 * g->s.n[k];
    mt *= M[k];
    mc *= k == d - 1 ? M[k] / 2 + 1 : M[k];
  }
  const fl_fft_plan *fk, *fs, *bs;
  fl_status st = fl_fft_plan_get(FL_FFT_R2C, d, M, 1, &fk);
  if (st == FL_OK) st = fl_fft_plan_get(FL_FFT_R2C, d, M, ns, &fs);
  if (st == FL_OK) st = fl_fft_plan_get(FL_FFT_C2R, d, M, ns, &bs);
  if (st != FL_OK) return st;
  size_t kb = mt * sizeof(double), pb = mt * ns * sizeof(double);
  size_t kcb = mc * sizeof(double complex), pcb = mc * ns * sizeof(double complex);
  double *Kr = fl_alloc(kb), *P = fl_calloc(mt * ns, sizeof(double));
  double complex *Kc = fl_alloc(kcb), *Pc = fl_alloc(pcb);
  if (!Kr || !P || !Kc || !Pc) {
    st = fl_fail(FL_ENOMEM, "no memory for a padded %zu-point convolution", mt);
    goto done;
  }
  double cell = 1;
  for (int k = 0; k < d; k++) cell *= g->h[k];
  const double g0 = fl_hhd_green_cell(d, g->h);
  /* the kernel at the padded offsets (index j >= M - (n-1): j - M; index n: unused) */
  FL_PFOR(mt > PAR_MIN)
  for (size_t q = 0; q < mt; q++) {
    size_t rest = q;
    double x[3] = {0, 0, 0};
    int zero = 1;
    for (int k = d - 1; k >= 0; k--) {
      size_t j = rest % M[k];
      rest /= M[k];
      long long o = j < g->s.n[k] ? (long long)j : (long long)j - (long long)M[k];
      x[k] = (double)o * g->h[k];
      zero &= o == 0;
    }
    Kr[q] = zero ? g0 : green(d, x);
  }
  /* the weighted sources at the corner of the padded box */
  const size_t np = g->npoints;
  FL_PFOR(np > PAR_MIN)
  for (size_t p = 0; p < np; p++) {
    size_t rest = p, pq = 0, mul = 1;
    for (int k = d - 1; k >= 0; k--) {
      size_t i = rest % g->s.n[k];
      rest /= g->s.n[k];
      pq += i * mul;
      mul *= M[k];
    }
    double w = trap_weight(g, p) * cell;
    for (size_t c = 0; c < ns; c++) P[pq * ns + c] = w * src[p * ns + c];
  }
  st = fl_fft_r2c(fk, Kr, Kc);
  if (st == FL_OK) st = fl_fft_r2c(fs, P, Pc);
  if (st == FL_OK) {
    const double inv = 1.0 / (double)mt;
    FL_PFOR(mc > PAR_MIN)
    for (size_t q = 0; q < mc; q++) {
      double kk = creal(Kc[q]) * inv; /* the kernel is even: its transform is real */
      for (size_t c = 0; c < ns; c++) Pc[q * ns + c] *= kk;
    }
    st = fl_fft_c2r(bs, Pc, P);
  }
  if (st == FL_OK) {
    FL_PFOR(np > PAR_MIN)
    for (size_t p = 0; p < np; p++) {
      size_t rest = p, pq = 0, mul = 1;
      for (int k = d - 1; k >= 0; k--) {
        size_t i = rest % g->s.n[k];
        rest /= g->s.n[k];
        pq += i * mul;
        mul *= M[k];
      }
      for (size_t c = 0; c < ns; c++) out[p * ns + c] = P[pq * ns + c];
    }
  }
done:
  fl_free(Kr, kb);
  fl_free(P, pb);
  fl_free(Kc, kcb);
  fl_free(Pc, pcb);
  return st;
}

static fl_status hhd_natural(fl_field *v, fl_grid *g, fl_hhd *r)
{
  fl_status st = check_bounded(g, FL_HHD_NATURAL, 3);
  if (st != FL_OK) return st;
  const int d = g->s.dim;
  int order = 4;
  for (int k = 0; k < d; k++)
    if (g->s.n[k] < 6) order = 2;
  fl_field *dv = NULL, *cv = NULL, *grad_psi = NULL;
  double *src = NULL, *pot = NULL;
  const size_t np = g->npoints, ns = d == 2 ? 2 : 4;
  const size_t sb = np * ns * sizeof(double);
  st = fl_grid_div(v, order, FL_GRID_FD, &dv);
  if (st == FL_OK) st = fl_grid_curl(v, order, FL_GRID_FD, &cv);
  if (st == FL_OK) {
    src = fl_alloc(sb);
    pot = fl_alloc(sb);
    if (!src || !pot) st = fl_fail(FL_ENOMEM, "no memory for the sources of a %zu-node grid", np);
  }
  if (st == FL_OK) {
    const double *D = fl_grid_of(dv)->values->data, *C = fl_grid_of(cv)->values->data;
    /* sources: div v for phi; curl v for psi (2-D), -curl v for A (3-D) */
    for (size_t p = 0; p < np; p++) {
      src[p * ns] = D[p];
      if (d == 2)
        src[p * ns + 1] = C[p];
      else
        for (int c = 0; c < 3; c++) src[p * ns + 1 + (size_t)c] = -C[p * 3 + (size_t)c];
    }
    st = green_convolve(g, ns, src, pot);
  }
  double *phi = NULL, *psi = NULL;
  if (st == FL_OK) st = new_grid(g, 1, 0, &r->phi, &phi);
  if (st == FL_OK) st = new_grid(g, d == 2 ? 1 : 3, 0, &r->psi, &psi);
  if (st == FL_OK) {
    for (size_t p = 0; p < np; p++) {
      phi[p] = pot[p * ns];
      for (size_t c = 1; c < ns; c++) psi[p * (ns - 1) + c - 1] = pot[p * ns + c];
    }
    st = fl_grid_grad(r->phi, order, FL_GRID_FD, &r->gradient);
  }
  if (st == FL_OK) {
    if (d == 2) {
      st = fl_grid_grad(r->psi, order, FL_GRID_FD, &grad_psi);
      if (st == FL_OK) {
        /* grad_perp psi = (-psi_y, psi_x), in place */
        double *s = fl_grid_of(grad_psi)->values->data;
        for (size_t p = 0; p < np; p++) {
          double px = s[2 * p], py = s[2 * p + 1];
          s[2 * p] = -py;
          s[2 * p + 1] = px;
        }
        r->solenoidal = grad_psi;
        grad_psi = NULL;
      }
    } else {
      st = fl_grid_curl(r->psi, order, FL_GRID_FD, &r->solenoidal);
    }
  }
  if (st == FL_OK) st = finish_bounded(g, r, 0);
  fl_field_release(dv);
  fl_field_release(cv);
  fl_field_release(grad_psi);
  fl_free(src, sb);
  fl_free(pot, sb);
  return st;
}

/* Neumann (flux) Poisson solve and Dirichlet stream function by DCT-I / DST-I. */
static fl_status hhd_normal(fl_field *v, fl_grid *g, fl_hhd *r)
{
  fl_status st = check_bounded(g, FL_HHD_NORMAL, 3);
  if (st != FL_OK) return st;
  const int d = g->s.dim;
  const size_t np = g->npoints, du = (size_t)d;
  const double *V = g->values->data;
  fl_field *dv = NULL, *cv = NULL;
  const size_t rb = np * sizeof(double);
  double *rhs = fl_alloc(rb), *R = fl_alloc(rb), *phi = NULL;
  if (!rhs || !R) st = fl_fail(FL_ENOMEM, "no memory for a %zu-node Poisson problem", np);
  const fl_fft_plan *dct = NULL;
  if (st == FL_OK) st = fl_fft_plan_get(FL_FFT_REDFT00, d, g->s.n, 1, &dct);
  if (st == FL_OK) st = fl_grid_div(v, 2, FL_GRID_FD, &dv);
  if (st == FL_OK) {
    /* modified right-hand side: ghost nodes phi[-1] = phi[1] - 2 h v_k(wall 0),
     * phi[n] = phi[n-2] + 2 h v_k(wall n-1) */
    const double *D = fl_grid_of(dv)->values->data;
    FL_PFOR(np > PAR_MIN)
    for (size_t p = 0; p < np; p++) {
      double s = D[p];
      size_t rest = p;
      for (int k = d - 1; k >= 0; k--) {
        size_t n = g->s.n[k], i = rest % n;
        rest /= n;
        if (i == 0) s += 2 * V[p * du + (size_t)k] * g->inv_h[k];
        if (i == n - 1) s -= 2 * V[p * du + (size_t)k] * g->inv_h[k];
      }
      rhs[p] = s;
    }
    st = fl_fft_r2r(dct, rhs, R);
  }
  if (st == FL_OK) {
    /* eigenvalues of the Neumann Laplacian: sum_k (2 cos(pi j_k/(n_k-1)) - 2)/h_k^2 */
    double norm = 1;
    for (int k = 0; k < d; k++) norm *= 2.0 * (double)(g->s.n[k] - 1);
    FL_PFOR(np > PAR_MIN)
    for (size_t p = 0; p < np; p++) {
      size_t rest = p;
      double lam = 0;
      for (int k = d - 1; k >= 0; k--) {
        size_t n = g->s.n[k], j = rest % n;
        rest /= n;
        lam += (2 * cos(M_PI * (double)j / (double)(n - 1)) - 2) * g->inv_h[k] * g->inv_h[k];
      }
      R[p] = p == 0 ? 0.0 : R[p] / (lam * norm);
    }
    st = new_grid(g, 1, 0, &r->phi, &phi);
  }
  if (st == FL_OK) st = fl_fft_r2r(dct, R, phi);
  double *G = NULL, *S = NULL;
  if (st == FL_OK) st = new_grid(g, d, 0, &r->gradient, &G);
  if (st == FL_OK) st = new_grid(g, d, 0, &r->solenoidal, &S);
  if (st == FL_OK) {
    FL_PFOR(np > PAR_MIN)
    for (size_t p = 0; p < np; p++) {
      size_t rest = p, sn = 1, idx[3], strides[3];
      for (int k = d - 1; k >= 0; k--) {
        idx[k] = rest % g->s.n[k];
        rest /= g->s.n[k];
        strides[k] = sn;
        sn *= g->s.n[k];
      }
      for (int k = 0; k < d; k++) {
        size_t n = g->s.n[k], q = p * du + (size_t)k;
        double gk = idx[k] == 0 || idx[k] == n - 1
                        ? V[q]
                        : (phi[p + strides[k]] - phi[p - strides[k]]) * 0.5 * g->inv_h[k];
        G[q] = gk;
        S[q] = V[q] - gk;
      }
    }
  }
  /* 2-D: psi with lap psi = curl v inside, psi = 0 on the walls (DST-I on the interior) */
  if (st == FL_OK && d == 2) {
    size_t ni[2] = {g->s.n[0] - 2, g->s.n[1] - 2}, nin = ni[0] * ni[1];
    const fl_fft_plan *dst;
    double *psi;
    st = fl_fft_plan_get(FL_FFT_RODFT00, 2, ni, 1, &dst);
    if (st == FL_OK) st = fl_grid_curl(v, 2, FL_GRID_FD, &cv);
    if (st == FL_OK) st = new_grid(g, 1, 1, &r->psi, &psi);
    if (st == FL_OK) {
      const double *C = fl_grid_of(cv)->values->data;
      size_t n1 = g->s.n[1];
      for (size_t i = 0; i < ni[0]; i++)
        for (size_t j = 0; j < ni[1]; j++) rhs[i * ni[1] + j] = C[(i + 1) * n1 + j + 1];
      st = fl_fft_r2r(dst, rhs, R);
    }
    if (st == FL_OK) {
      double norm = 4.0 * (double)(g->s.n[0] - 1) * (double)(g->s.n[1] - 1);
      for (size_t i = 0; i < ni[0]; i++)
        for (size_t j = 0; j < ni[1]; j++) {
          double lam = (2 * cos(M_PI * (double)(i + 1) / (double)(g->s.n[0] - 1)) - 2) * g->inv_h[0] * g->inv_h[0] +
                       (2 * cos(M_PI * (double)(j + 1) / (double)(g->s.n[1] - 1)) - 2) * g->inv_h[1] * g->inv_h[1];
          R[i * ni[1] + j] /= lam * norm;
        }
      st = fl_fft_r2r(dst, R, rhs);
    }
    if (st == FL_OK) {
      size_t n1 = g->s.n[1];
      for (size_t i = 0; i < ni[0]; i++)
        for (size_t j = 0; j < ni[1]; j++) psi[(i + 1) * n1 + j + 1] = rhs[i * ni[1] + j];
    }
    (void)nin;
  }
  if (st == FL_OK) st = finish_bounded(g, r, 1);
  fl_field_release(dv);
  fl_field_release(cv);
  fl_free(rhs, rb);
  fl_free(R, rb);
  return st;
}

fl_status fl_hhd_compute(fl_field *v, fl_hhd_boundary boundary, fl_hhd *out)
{
  memset(out, 0, sizeof *out);
  fl_grid *g;
  fl_status st = check_vector_grid(v, &g);
  if (st != FL_OK) return st;
  out->boundary = boundary;
  out->dim = g->s.dim;
  switch (boundary) {
  case FL_HHD_PERIODIC:
    for (int k = 0; k < g->s.dim; k++)
      if (!g->s.periodic[k])
        return fl_fail(FL_EINVAL,
                       "the periodic split needs a grid periodic on every axis (axis %d is not); "
                       "on a bounded box choose boundary \"natural\" or \"normal\"",
                       k + 1);
    st = hhd_periodic(v, g, out);
    break;
  case FL_HHD_NATURAL: st = hhd_natural(v, g, out); break;
  case FL_HHD_NORMAL: st = hhd_normal(v, g, out); break;
  default: return fl_fail(FL_EINVAL, "unknown boundary %d", (int)boundary);
  }
  if (st != FL_OK) fl_hhd_clear(out);
  return st;
}
