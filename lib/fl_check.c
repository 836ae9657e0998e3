#include "config.h"
#include "fl_check.h"
#include "fl_rng.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Doubles of scratch per chunk: bounds the memory of every batched call. */
#define CHUNK_DOUBLES ((size_t)1 << 21)

static fl_status need_vector(fl_field *f, const char *what)
{
  if (f->codim != f->dim)
    return fl_fail(FL_EDIM, "%s needs a vector field (R^d -> R^d), not R^%d -> R^%d", what, f->dim, f->codim);
  return FL_OK;
}

static size_t chunk_of(size_t per_item, size_t n)
{
  size_t c = per_item ? CHUNK_DOUBLES / per_item : n;
  if (c < 1) c = 1;
  return c < n ? c : n;
}

/* ------------------------------------------------------------ Jacobian asymmetry */

fl_status fl_check_jacobian(fl_field *f, size_t n, const double *x, double t, int k, const int *coords,
                            double *asym, double *nasym, double *jnorm2, int *exact)
{
  fl_status st = need_vector(f, "the Jacobian asymmetry");
  if (st) return st;
  const int d = f->dim;
  if (k < 0 || k > d) return fl_fail(FL_EINVAL, "a sub-block of %d coordinates in dimension %d", k, d);
  for (int i = 0; i < k; i++) {
    if (coords[i] < 0 || coords[i] >= d)
      return fl_fail(FL_ERANGE, "coordinate %d is out of range 1..%d", coords[i] + 1, d);
    for (int j = 0; j < i; j++)
      if (coords[i] == coords[j]) return fl_fail(FL_EINVAL, "coordinate %d is given twice", coords[i] + 1);
  }
  if (exact) *exact = f->ops->jac && !(f->inexact & FL_INEXACT_JAC);
  if (n == 0) return FL_OK;
  const size_t dd = (size_t)d * (size_t)d;
  const size_t cap = chunk_of(dd, n);
  double *J = fl_alloc(cap * dd * sizeof(double));
  if (!J) return fl_fail(FL_ENOMEM, "no memory for %zu Jacobians of size %dx%d", cap, d, d);
  int kk = k ? k : d;
  int *S = malloc(sizeof(int) * (size_t)kk);
  if (!S) {
    fl_free(J, cap * dd * sizeof(double));
    return fl_fail(FL_ENOMEM, "no memory");
  }
  for (int i = 0; i < kk; i++) S[i] = k ? coords[i] : i;
  for (size_t i0 = 0; i0 < n && st == FL_OK; i0 += cap) {
    size_t c = n - i0 < cap ? n - i0 : cap;
    st = fl_field_jacobian(f, c, x + i0 * (size_t)d, t, J, exact);
    if (st) break;
#pragma omp parallel for schedule(static) if (c * dd > 65536)
    for (size_t i = 0; i < c; i++) {
      const double *Ji = J + i * dd;
      double a2 = 0, j2 = 0;
      for (int p = 0; p < kk; p++)
        for (int q = 0; q < kk; q++) {
          double jpq = Ji[(size_t)S[p] * (size_t)d + (size_t)S[q]];
          j2 += jpq * jpq;
          if (q > p) {
            double e = jpq - Ji[(size_t)S[q] * (size_t)d + (size_t)S[p]];
            a2 += 2 * e * e; /* both (p,q) and (q,p) entries of J - J^T */
          }
        }
      /* a2 = |J - J^T|_F^2 */
      asym[i0 + i] = 0.5 * a2;
      if (nasym) nasym[i0 + i] = j2 > 0 ? a2 / (4 * j2) : (isfinite(a2) ? 0.0 : NAN);
      if (jnorm2) jnorm2[i0 + i] = j2;
    }
  }
  free(S);
  fl_free(J, cap * dd * sizeof(double));
  return st;
}

fl_status fl_check_jacobian_probes(fl_field *f, size_t n, const double *x, double t, int probes, uint64_t seed,
                                   uint64_t stream, double *asym, double *nasym, double *se_asym)
{
  fl_status st = need_vector(f, "the Jacobian asymmetry");
  if (st) return st;
  if (probes < 1) return fl_fail(FL_EINVAL, "the number of probes must be at least 1, not %d", probes);
  if (n == 0) return FL_OK;
  const size_t d = (size_t)f->dim, P = (size_t)probes;
  /* per point: 2P probe vectors (p, q), 4P evaluation points, 4P values */
  const size_t per = P * (2 * d + 8 * d);
  const size_t cap = chunk_of(per, n);
  const size_t nb = cap * per * sizeof(double);
  double *buf = fl_alloc(nb);
  if (!buf) return fl_fail(FL_ENOMEM, "no memory for %d probes at %zu points", probes, cap);
  double *pq = buf, *xs = pq + cap * P * 2 * d, *ys = xs + cap * P * 4 * d;
  double *h = malloc(sizeof(double) * cap * P * 2);
  if (!h) {
    fl_free(buf, nb);
    return fl_fail(FL_ENOMEM, "no memory");
  }
  for (size_t i0 = 0; i0 < n && st == FL_OK; i0 += cap) {
    size_t c = n - i0 < cap ? n - i0 : cap;
    fl_rng_fill_normal(seed, stream, i0 * P * 2 * d, c * P * 2 * d, pq);
    for (size_t i = 0; i < c; i++) {
      const double *xi = x + (i0 + i) * d;
      double xm = 1;
      for (size_t a = 0; a < d; a++) xm = fmax(xm, fabs(xi[a]));
      for (size_t j = 0; j < 2 * P; j++) {
        const double *v = pq + (i * 2 * P + j) * d;
        double vm = 0;
        for (size_t a = 0; a < d; a++) vm = fmax(vm, fabs(v[a]));
        double hh = fl_field_fd_step(xm, 1) / (vm > 0 ? vm : 1);
        h[i * 2 * P + j] = hh;
        double *xp = xs + ((i * 2 * P + j) * 2) * d, *xn = xp + d;
        for (size_t a = 0; a < d; a++) {
          xp[a] = xi[a] + hh * v[a];
          xn[a] = xi[a] - hh * v[a];
        }
      }
    }
    st = fl_field_eval(f, c * P * 4, xs, t, ys);
    if (st) break;
    for (size_t i = 0; i < c; i++) {
      double sa = 0, sa2 = 0, sj = 0;
      for (size_t j = 0; j < P; j++) {
        const size_t jp = i * 2 * P + 2 * j, jq = jp + 1;
        const double *p = pq + jp * d, *q = pq + jq * d;
        const double *fpp = ys + jp * 2 * d, *fpn = fpp + d, *fqp = ys + jq * 2 * d, *fqn = fqp + d;
        double qJp = 0, pJq = 0, Jp2 = 0, Jq2 = 0;
        for (size_t a = 0; a < d; a++) {
          double jpa = (fpp[a] - fpn[a]) / (2 * h[jp]), jqa = (fqp[a] - fqn[a]) / (2 * h[jq]);
          qJp += q[a] * jpa;
          pJq += p[a] * jqa;
          Jp2 += jpa * jpa;
          Jq2 += jqa * jqa;
        }
        double e = pJq - qJp;
        double ai = 0.5 * e * e; /* unbiased for Asym = |J - J^T|^2 / 2 */
        sa += ai;
        sa2 += ai * ai;
        sj += 0.5 * (Jp2 + Jq2);
      }
      double ma = sa / (double)P, mj = sj / (double)P;
      asym[i0 + i] = ma;
      if (nasym) nasym[i0 + i] = mj > 0 ? fmin(1.0, ma / (2 * mj)) : (isfinite(ma) ? 0.0 : NAN);
      if (se_asym) {
        double var = P > 1 ? (sa2 - (double)P * ma * ma) / (double)(P - 1) : NAN;
        se_asym[i0 + i] = P > 1 ? sqrt(fmax(var, 0) / (double)P) : NAN;
      }
    }
  }
  free(h);
  fl_free(buf, nb);
  return st;
}

/* ------------------------------------------------------------ planes */

static double dotv(size_t d, const double *a, const double *b)
{
  double s = 0;
  for (size_t i = 0; i < d; i++) s += a[i] * b[i];
  return s;
}

/* Gram-Schmidt of one pair; returns 0 on success, -1 when degenerate. */
static int orthonormal_pair(size_t d, double *u, double *w)
{
  double nu = sqrt(dotv(d, u, u));
  if (!(nu > 0) || !isfinite(nu)) return -1;
  for (size_t i = 0; i < d; i++) u[i] /= nu;
  double nw0 = sqrt(dotv(d, w, w));
  if (!(nw0 > 0) || !isfinite(nw0)) return -1;
  for (int pass = 0; pass < 2; pass++) { /* twice is enough (Kahan) */
    double p = dotv(d, u, w);
    for (size_t i = 0; i < d; i++) w[i] -= p * u[i];
  }
  double nw = sqrt(dotv(d, w, w));
  if (!(nw > 1e-12 * nw0)) return -1;
  for (size_t i = 0; i < d; i++) w[i] /= nw;
  return 0;
}

fl_status fl_check_orthonormalise(int d, size_t L, double *u, double *w)
{
  if (d < 2) return fl_fail(FL_EDIM, "a plane needs dimension 2 or more, not %d", d);
  for (size_t l = 0; l < L; l++)
    if (orthonormal_pair((size_t)d, u + l * (size_t)d, w + l * (size_t)d))
      return fl_fail(FL_EINVAL, "plane %zu is degenerate: its two vectors must be non-zero and not parallel", l + 1);
  return FL_OK;
}

fl_status fl_check_random_planes(int d, size_t L, uint64_t seed, uint64_t stream, double *u, double *w)
{
  if (d < 2) return fl_fail(FL_EDIM, "a plane needs dimension 2 or more, not %d", d);
  const size_t D = (size_t)d;
  for (size_t l = 0; l < L; l++) {
    uint64_t base = (uint64_t)l * 2 * D, extra = 0;
    for (;;) { /* a degenerate draw has probability 0; redraw further along the counter */
      fl_rng_fill_normal(seed, stream, base + extra, D, u + l * D);
      fl_rng_fill_normal(seed, stream, base + extra + D, D, w + l * D);
      if (!orthonormal_pair(D, u + l * D, w + l * D)) break;
      extra += (uint64_t)L * 2 * D;
    }
  }
  return FL_OK;
}

/* ------------------------------------------------------------ reference gradient field */

/* grad of exp(-|x - s|^2 / (2 l^2)) at x. */
static void ref_grad(size_t d, const double *x, const double *s, double l, double *g)
{
  double r2 = 0;
  for (size_t i = 0; i < d; i++) {
    double e = x[i] - s[i];
    r2 += e * e;
  }
  double e = exp(-r2 / (2 * l * l)) / (l * l);
  for (size_t i = 0; i < d; i++) g[i] = -(x[i] - s[i]) * e;
}

/* ------------------------------------------------------------ circulation */

fl_status fl_check_circulation(fl_field *f, size_t L, const double *c, const double *rho, const double *u,
                               const double *w, int M, double t, const fl_check_circ_out *out, int *exact)
{
  fl_status st = need_vector(f, "the circulation");
  if (st) return st;
  if (f->dim < 2) return fl_fail(FL_EDIM, "loops need dimension 2 or more, not %d", f->dim);
  if (M < 2) return fl_fail(FL_EINVAL, "a loop needs at least 2 nodes, not %d", M);
  for (size_t l = 0; l < L; l++)
    if (!(rho[l] > 0) || !isfinite(rho[l]))
      return fl_fail(FL_EINVAL, "loop %zu has radius %g: radii must be positive and finite", l + 1, rho[l]);
  if (exact) *exact = f->ops->jac && !(f->inexact & FL_INEXACT_JAC);
  if (L == 0) return FL_OK;
  const size_t d = (size_t)f->dim, m = (size_t)M;
  double *ct = malloc(sizeof(double) * m * 2);
  if (!ct) return fl_fail(FL_ENOMEM, "no memory");
  double *sn = ct + m;
  for (size_t k = 0; k < m; k++) {
    double th = 2 * M_PI * (double)k / (double)m;
    ct[k] = cos(th);
    sn[k] = sin(th);
  }
  const size_t cap = chunk_of(m * d * 2, L);
  const size_t nb = cap * m * d * 2 * sizeof(double);
  double *xs = fl_alloc(nb);
  if (!xs) {
    free(ct);
    return fl_fail(FL_ENOMEM, "no memory for %zu loops of %d nodes", cap, M);
  }
  double *vs = xs + cap * m * d;
  for (size_t l0 = 0; l0 < L && st == FL_OK; l0 += cap) {
    size_t nl = L - l0 < cap ? L - l0 : cap;
#pragma omp parallel for schedule(static) if (nl * m * d > 65536)
    for (size_t l = 0; l < nl; l++) {
      const double *cl = c + (l0 + l) * d, *ul = u + (l0 + l) * d, *wl = w + (l0 + l) * d;
      const double r = rho[l0 + l];
      for (size_t k = 0; k < m; k++) {
        double *xk = xs + (l * m + k) * d;
        for (size_t a = 0; a < d; a++) xk[a] = cl[a] + r * (ct[k] * ul[a] + sn[k] * wl[a]);
      }
    }
    st = fl_field_eval(f, nl * m, xs, t, vs);
    if (st) break;
#pragma omp parallel for schedule(static) if (nl * m * d > 65536)
    for (size_t l = 0; l < nl; l++) {
      const size_t li = l0 + l;
      const double *ul = u + li * d, *wl = w + li * d;
      const double r = rho[li];
      double g = 0, gh = 0, sv = 0, gr = 0, svr = 0;
      int bad = 0;
      double s[64], gref[64], *sp = s, *gp = gref;
      double *heap = NULL;
      if (d > 64) {
        heap = malloc(sizeof(double) * 2 * d);
        if (!heap) { bad = 1; sp = gp = NULL; }
        else { sp = heap; gp = heap + d; }
      }
      if (sp)
        for (size_t a = 0; a < d; a++) sp[a] = c[li * d + a] + 0.5 * r * ul[a];
      for (size_t k = 0; k < m && !bad; k++) {
        const double *v = vs + (l * m + k) * d, *xk = xs + (l * m + k) * d;
        double vt = 0, v2 = 0, gt = 0, g2 = 0;
        ref_grad(d, xk, sp, r, gp);
        for (size_t a = 0; a < d; a++) {
          double ta = -sn[k] * ul[a] + ct[k] * wl[a];
          vt += v[a] * ta;
          v2 += v[a] * v[a];
          gt += gp[a] * ta;
          g2 += gp[a] * gp[a];
        }
        if (!isfinite(vt) || !isfinite(v2)) bad = 1;
        g += vt;
        if (k % 2 == 0) gh += vt;
        sv += sqrt(v2);
        gr += gt;
        svr += sqrt(g2);
      }
      free(heap);
      const double dl = 2 * M_PI * r / (double)m;
      double G = g * dl, Gh = gh * 2 * dl, vmean = sv / (double)m;
      double per = 2 * M_PI * r;
      if (bad) G = Gh = vmean = NAN;
      out->gamma[li] = G;
      if (out->per_area) out->per_area[li] = G / (M_PI * r * r);
      if (out->relative) out->relative[li] = vmean > 0 ? G / (per * vmean) : (G == 0 ? 0.0 : NAN);
      if (out->vmean) out->vmean[li] = vmean;
      if (out->halving)
        out->halving[li] = m % 2 ? NAN : vmean > 0 ? fabs(G - Gh) / (per * vmean) : (G == Gh ? 0.0 : NAN);
      if (out->floor) out->floor[li] = fabs(gr * dl) / (per * (svr / (double)m));
    }
  }
  fl_free(xs, nb);
  free(ct);
  if (st == FL_OK && out->small_loop) {
    const size_t dd = d * d, jcap = chunk_of(dd, L);
    double *J = fl_alloc(jcap * dd * sizeof(double));
    if (!J) return fl_fail(FL_ENOMEM, "no memory for the Jacobians at the loop centres");
    for (size_t l0 = 0; l0 < L && st == FL_OK; l0 += jcap) {
      size_t nl = L - l0 < jcap ? L - l0 : jcap;
      st = fl_field_jacobian(f, nl, c + l0 * d, t, J, exact);
      for (size_t l = 0; st == FL_OK && l < nl; l++) {
        const double *Jl = J + l * dd, *ul = u + (l0 + l) * d, *wl = w + (l0 + l) * d;
        double s = 0; /* w^T J u - u^T J w */
        for (size_t a = 0; a < d; a++)
          for (size_t b = 0; b < d; b++) s += Jl[a * d + b] * (wl[a] * ul[b] - ul[a] * wl[b]);
        out->small_loop[l0 + l] = s;
      }
    }
    fl_free(J, jcap * dd * sizeof(double));
  }
  return st;
}

/* ------------------------------------------------------------ Gauss-Legendre */

fl_status fl_check_gauss_legendre(int n, double *x, double *wt)
{
  if (n < 1 || n > 256) return fl_fail(FL_EINVAL, "Gauss-Legendre rule of %d nodes (1 to 256)", n);
  for (int i = 0; i < (n + 1) / 2; i++) {
    double z = cos(M_PI * (i + 0.75) / (n + 0.5)), dp = 0;
    for (int it = 0; it < 100; it++) {
      double p0 = 1, p1 = 0;
      for (int j = 1; j <= n; j++) {
        double p2 = p1;
        p1 = p0;
        p0 = ((2.0 * j - 1) * z * p1 - (j - 1.0) * p2) / j;
      }
      dp = n * (z * p0 - p1) / (z * z - 1);
      double dz = p0 / dp;
      z -= dz;
      if (fabs(dz) < 1e-16) {
        if (it > 0) break;
      }
    }
    /* recompute the derivative at the converged node */
    double p0 = 1, p1 = 0;
    for (int j = 1; j <= n; j++) {
      double p2 = p1;
      p1 = p0;
      p0 = ((2.0 * j - 1) * z * p1 - (j - 1.0) * p2) / j;
    }
    dp = n * (z * p0 - p1) / (z * z - 1);
    x[i] = -z;
    x[n - 1 - i] = z;
    wt[i] = wt[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
  }
  if (n % 2) x[n / 2] = 0;
  return FL_OK;
}

/* ------------------------------------------------------------ path independence */

/* Quadrature nodes of one path of pair l: writes npts points to xs and the
 * weighted tangents (dl = x'(s) w_s) to ts; returns the path length. */
static double path_nodes(size_t d, const double *a, const double *b, const double *w, const fl_check_path *p,
                         size_t l, int nq, const double *gx, const double *gw, double *xs, double *ts)
{
  if (p->kind == FL_PATH_ARC) {
    double R = 0;
    for (size_t i = 0; i < d; i++) R += (b[i] - a[i]) * (b[i] - a[i]);
    R = sqrt(R) / 2;
    for (int k = 0; k < nq; k++) {
      double th = M_PI * (1 + gx[k]) / 2, wk = M_PI / 2 * gw[k];
      double ct = cos(th), st = sin(th);
      for (size_t i = 0; i < d; i++) {
        double mid = 0.5 * (a[i] + b[i]), e = (a[i] - mid) / R;
        xs[(size_t)k * d + i] = mid + R * (ct * e + st * w[i]);
        ts[(size_t)k * d + i] = R * (-st * e + ct * w[i]) * wk;
      }
    }
    return M_PI * R;
  }
  int nv = p->kind == FL_PATH_POLYLINE ? p->nvert : 0;
  double len = 0;
  for (int s = 0; s <= nv; s++) {
    const double *P0 = s == 0 ? a : p->vert + (l * (size_t)nv + (size_t)s - 1) * d;
    const double *P1 = s == nv ? b : p->vert + (l * (size_t)nv + (size_t)s) * d;
    double sl = 0;
    for (size_t i = 0; i < d; i++) sl += (P1[i] - P0[i]) * (P1[i] - P0[i]);
    len += sqrt(sl);
    for (int k = 0; k < nq; k++) {
      double *xk = xs + ((size_t)s * (size_t)nq + (size_t)k) * d, *tk = ts + ((size_t)s * (size_t)nq + (size_t)k) * d;
      for (size_t i = 0; i < d; i++) {
        xk[i] = P0[i] + (P1[i] - P0[i]) * (1 + gx[k]) / 2;
        tk[i] = (P1[i] - P0[i]) / 2 * gw[k];
      }
    }
  }
  return len;
}

static size_t path_npts(const fl_check_path *p, int nq)
{
  return (size_t)nq * (p->kind == FL_PATH_POLYLINE ? (size_t)p->nvert + 1 : 1);
}

fl_status fl_check_paths(fl_field *f, size_t P, const double *a, const double *b, const double *w,
                         const fl_check_path *p1, const fl_check_path *p2, int nodes, double t,
                         const fl_check_path_out *out)
{
  fl_status st = need_vector(f, "path independence");
  if (st) return st;
  const size_t d = (size_t)f->dim;
  const fl_check_path *pp[2] = {p1, p2};
  for (int j = 0; j < 2; j++) {
    if (pp[j]->kind == FL_PATH_ARC && d < 2) return fl_fail(FL_EDIM, "an arc needs dimension 2 or more");
    if (pp[j]->kind == FL_PATH_POLYLINE && (pp[j]->nvert < 1 || !pp[j]->vert))
      return fl_fail(FL_EINVAL, "a polyline needs at least 1 interior vertex");
  }
  for (size_t l = 0; l < P; l++) {
    double s = 0;
    for (size_t i = 0; i < d; i++) s += (b[l * d + i] - a[l * d + i]) * (b[l * d + i] - a[l * d + i]);
    if (!(s > 0) || !isfinite(s))
      return fl_fail(FL_EINVAL, "pair %zu has equal (or non-finite) endpoints: a path needs two distinct points", l + 1);
  }
  /* rule A: `nodes` points; rule B: nodes/2 (at least 1), for the halving estimate */
  const int nB = nodes / 2 > 0 ? nodes / 2 : 1;
  double gx[256], gw[256], hx[256], hw[256];
  st = fl_check_gauss_legendre(nodes, gx, gw);
  if (st) return st;
  st = fl_check_gauss_legendre(nB, hx, hw);
  if (st) return st;
  if (P == 0) return FL_OK;
  const size_t n1 = path_npts(p1, nodes), n2 = path_npts(p2, nodes), nA = n1 + n2;
  const size_t m1 = path_npts(p1, nB), m2 = path_npts(p2, nB), np = nA + m1 + m2;
  const size_t cap = chunk_of(np * d * 3, P);
  const size_t nb = cap * np * d * 3 * sizeof(double);
  double *xs = fl_alloc(nb);
  if (!xs) return fl_fail(FL_ENOMEM, "no memory for the quadrature nodes of %zu paths", cap);
  double *ts = xs + cap * np * d, *vs = ts + cap * np * d;
  double *lens = malloc(sizeof(double) * cap * 2);
  if (!lens) {
    fl_free(xs, nb);
    return fl_fail(FL_ENOMEM, "no memory");
  }
  for (size_t l0 = 0; l0 < P && st == FL_OK; l0 += cap) {
    size_t nl = P - l0 < cap ? P - l0 : cap;
    for (size_t l = 0; l < nl; l++) {
      const size_t li = l0 + l;
      double *xl = xs + l * np * d, *tl = ts + l * np * d;
      const double *al = a + li * d, *bl = b + li * d, *wl = w + li * d;
      lens[2 * l] = path_nodes(d, al, bl, wl, p1, li, nodes, gx, gw, xl, tl);
      lens[2 * l + 1] = path_nodes(d, al, bl, wl, p2, li, nodes, gx, gw, xl + n1 * d, tl + n1 * d);
      path_nodes(d, al, bl, wl, p1, li, nB, hx, hw, xl + nA * d, tl + nA * d);
      path_nodes(d, al, bl, wl, p2, li, nB, hx, hw, xl + (nA + m1) * d, tl + (nA + m1) * d);
    }
    st = fl_field_eval(f, nl * np, xs, t, vs);
    if (st) break;
    for (size_t l = 0; l < nl; l++) {
      const size_t li = l0 + l;
      double I[4] = {0, 0, 0, 0}, R[2] = {0, 0}, sv = 0, sg = 0;
      double s[256], g[256]; /* large d uses the heap */
      double *sp = s, *gp = g, *heap = NULL;
      if (d > 256) {
        heap = malloc(sizeof(double) * 2 * d);
        if (!heap) {
          st = fl_fail(FL_ENOMEM, "no memory");
          break;
        }
        sp = heap;
        gp = heap + d;
      }
      double rho = 0.5 * sqrt(dotv(d, a + li * d, a + li * d) + dotv(d, b + li * d, b + li * d) -
                              2 * dotv(d, a + li * d, b + li * d));
      for (size_t i = 0; i < d; i++) sp[i] = 0.5 * (a[li * d + i] + b[li * d + i]) + 0.5 * rho * w[li * d + i];
      int bad = 0;
      for (size_t k = 0; k < np; k++) {
        const double *v = vs + (l * np + k) * d, *tk = ts + (l * np + k) * d, *xk = xs + (l * np + k) * d;
        int j = k < n1 ? 0 : k < nA ? 1 : k < nA + m1 ? 2 : 3;
        double vt = 0, v2 = 0;
        for (size_t i = 0; i < d; i++) {
          vt += v[i] * tk[i];
          v2 += v[i] * v[i];
        }
        if (!isfinite(vt) || !isfinite(v2)) bad = 1;
        I[j] += vt;
        if (j < 2) {
          double gt = 0, g2 = 0;
          ref_grad(d, xk, sp, rho, gp);
          for (size_t i = 0; i < d; i++) {
            gt += gp[i] * tk[i];
            g2 += gp[i] * gp[i];
          }
          R[j] += gt;
          sv += sqrt(v2);
          sg += sqrt(g2);
        }
      }
      free(heap);
      double vmean = sv / (double)nA, gmean = sg / (double)nA, len = lens[2 * l] + lens[2 * l + 1];
      if (bad) I[0] = I[1] = I[2] = I[3] = vmean = NAN;
      double diff = I[0] - I[1], diffB = I[2] - I[3];
      if (out->i1) out->i1[li] = I[0];
      if (out->i2) out->i2[li] = I[1];
      if (out->diff) out->diff[li] = diff;
      if (out->relative) out->relative[li] = vmean > 0 ? diff / (len * vmean) : (diff == 0 ? 0.0 : NAN);
      if (out->vmean) out->vmean[li] = vmean;
      if (out->floor) out->floor[li] = fabs(R[0] - R[1]) / (len * gmean);
      if (out->halving) out->halving[li] = vmean > 0 ? fabs(diff - diffB) / (len * vmean) : (diff == diffB ? 0.0 : NAN);
    }
  }
  free(lens);
  fl_free(xs, nb);
  return st;
}

fl_status fl_check_path_normals(int d, size_t P, const double *a, const double *b, uint64_t seed, uint64_t stream,
                                double *w)
{
  if (d < 2) return fl_fail(FL_EDIM, "paths in a plane need dimension 2 or more, not %d", d);
  const size_t D = (size_t)d;
  for (size_t l = 0; l < P; l++) {
    double *wl = w + l * D;
    for (uint64_t extra = 0;; extra += (uint64_t)P * D) {
      fl_rng_fill_normal(seed, stream, l * D + extra, D, wl);
      double e2 = 0, ew = 0;
      for (size_t i = 0; i < D; i++) {
        double e = b[l * D + i] - a[l * D + i];
        e2 += e * e;
        ew += e * wl[i];
      }
      if (!(e2 > 0)) return fl_fail(FL_EINVAL, "pair %zu has equal endpoints: a path needs two distinct points", l + 1);
      double nw = 0;
      for (size_t i = 0; i < D; i++) {
        wl[i] -= ew / e2 * (b[l * D + i] - a[l * D + i]);
        nw += wl[i] * wl[i];
      }
      nw = sqrt(nw);
      if (nw > 1e-8) {
        for (size_t i = 0; i < D; i++) wl[i] /= nw;
        break;
      }
    }
  }
  return FL_OK;
}

fl_status fl_check_random_vertices(int d, size_t P, const double *a, const double *b, int nvert, double spread,
                                   uint64_t seed, uint64_t stream, uint64_t start, double *vert)
{
  if (nvert < 1) return fl_fail(FL_EINVAL, "a polyline needs at least 1 interior vertex, not %d", nvert);
  if (!(spread >= 0) || !isfinite(spread)) return fl_fail(FL_EINVAL, "the spread of the vertices must be finite and >= 0");
  const size_t D = (size_t)d, K = (size_t)nvert;
  fl_rng_fill_normal(seed, stream, start, P * K * D, vert);
  for (size_t l = 0; l < P; l++) {
    double e2 = 0;
    for (size_t i = 0; i < D; i++) e2 += (b[l * D + i] - a[l * D + i]) * (b[l * D + i] - a[l * D + i]);
    double s = spread * sqrt(e2) / sqrt((double)D);
    for (size_t j = 0; j < K; j++) {
      double fr = (double)(j + 1) / (double)(K + 1);
      double *v = vert + (l * K + j) * D;
      for (size_t i = 0; i < D; i++) v[i] = a[l * D + i] + fr * (b[l * D + i] - a[l * D + i]) + s * v[i];
    }
  }
  return FL_OK;
}

/* ------------------------------------------------------------ statistics */

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Quantile q of sorted s[0..n) by linear interpolation (numpy "linear"). */
static double quantile(const double *s, size_t n, double q)
{
  if (n == 0) return NAN;
  double h = q * (double)(n - 1);
  size_t lo = (size_t)floor(h);
  if (lo >= n - 1) return s[n - 1];
  double fr = h - (double)lo;
  return s[lo] + fr * (s[lo + 1] - s[lo]);
}

fl_status fl_check_stats(size_t n, const double *v, int nq, const double *q, double *qout, size_t B,
                         double level, uint64_t seed, uint64_t stream, fl_check_summary *out)
{
  for (int i = 0; i < nq; i++)
    if (!(q[i] >= 0 && q[i] <= 1)) return fl_fail(FL_ERANGE, "quantile %g is outside [0, 1]", q[i]);
  if (B > 0 && !(level > 0 && level < 1)) return fl_fail(FL_ERANGE, "confidence level %g is outside (0, 1)", level);
  memset(out, 0, sizeof *out);
  double *s = malloc(sizeof(double) * (n ? n : 1));
  if (!s) return fl_fail(FL_ENOMEM, "no memory for %zu values", n);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (isfinite(v[i]))
      s[k++] = v[i];
    else
      out->nnan++;
  }
  out->n = k;
  out->mean = out->sd = out->se = out->median = out->min = out->max = out->ci_lo = out->ci_hi = NAN;
  for (int i = 0; i < nq; i++) qout[i] = NAN;
  if (k == 0) {
    free(s);
    return FL_OK;
  }
  /* mean and sd by the two-pass formula */
  double sum = 0;
  for (size_t i = 0; i < k; i++) sum += s[i];
  double mean = sum / (double)k, ss = 0, comp = 0;
  for (size_t i = 0; i < k; i++) {
    double e = s[i] - mean;
    ss += e * e;
    comp += e;
  }
  out->mean = mean;
  if (k > 1) {
    double var = (ss - comp * comp / (double)k) / (double)(k - 1);
    out->sd = sqrt(fmax(var, 0));
    out->se = out->sd / sqrt((double)k);
  }
  if (k > 1 && B > 0 && k > UINT32_MAX) {
    free(s);
    return fl_fail(FL_ERANGE, "the bootstrap takes at most 2^32 - 1 values, not %zu", k);
  }
  if (k > 1 && B > 0) {
    double *bm = malloc(sizeof(double) * B);
    if (!bm) {
      free(s);
      return fl_fail(FL_ENOMEM, "no memory for %zu bootstrap means", B);
    }
    /* resample the values in their original (unsorted) order */
    double *orig = malloc(sizeof(double) * k);
    if (!orig) {
      free(bm);
      free(s);
      return fl_fail(FL_ENOMEM, "no memory");
    }
    memcpy(orig, s, sizeof(double) * k);
    /* resample r draws the indices of blocks r * ceil(k/4) ... (four per
       Philox block), in chunks that stay in cache */
    const size_t per = (k + 3) & ~(size_t)3;
#pragma omp parallel if (B * k > 1000000)
    {
      uint32_t idx[1024];
#pragma omp for schedule(static)
      for (size_t r = 0; r < B; r++) {
        double acc = 0;
        for (size_t i = 0; i < k; i += 1024) {
          size_t m = k - i < 1024 ? k - i : 1024;
          fl_rng_fill_index(seed, stream, (uint64_t)r * per + i, m, (uint32_t)k, idx);
          for (size_t q = 0; q < m; q++) acc += orig[idx[q]];
        }
        bm[r] = acc / (double)k;
      }
    }
    qsort(bm, B, sizeof(double), cmp_double);
    out->ci_lo = quantile(bm, B, (1 - level) / 2);
    out->ci_hi = quantile(bm, B, 1 - (1 - level) / 2);
    free(orig);
    free(bm);
  }
  qsort(s, k, sizeof(double), cmp_double);
  out->min = s[0];
  out->max = s[k - 1];
  out->median = quantile(s, k, 0.5);
  for (int i = 0; i < nq; i++) qout[i] = quantile(s, k, q[i]);
  free(s);
  return FL_OK;
}
