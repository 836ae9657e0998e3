/* fl_check: conservativity tests of vector fields and their statistics.
 *
 * A vector field v: R^d -> R^d is conservative (a gradient field) when its
 * Jacobian is symmetric everywhere (differential test) or, equivalently on a
 * simply connected domain, when every closed-loop integral vanishes and line
 * integrals depend only on the endpoints (integral tests). Everything here
 * works through the field interface (fl_field.h), so analytic, grid,
 * scripted and network fields are tested the same way; every test makes its
 * field evaluations in one batched call (per chunk of points).
 *
 * Definitions (reference diffusion.md section 1):
 *   Asym  = 1/2 |J - J^T|_F^2
 *   NAsym = |J - J^T|_F^2 / (4 |J|_F^2)   in [0, 1] (0 where J = 0)
 *   circulation G = closed integral of v . dl on a circle of radius rho in
 *   the plane span{u, w} (u, w orthonormal) through a centre c,
 *   counter-clockwise from u to w; G/(pi rho^2) -> w^T (J - J^T) u as rho -> 0.
 *
 * Non-finite field values are not errors: the affected outputs are NaN and
 * fl_check_stats counts and excludes them.
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_CHECK_H
#define FL_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include "fl_core.h"
#include "fl_field.h"

/* ---- differential tests ---- */

/* Per point i: asym[i], nasym[i] of the Jacobian of f (m == d) at x_i, or of
 * its sub-block J_SS on the k coordinates coords[0..k) (0-based, distinct;
 * k == 0: the whole Jacobian). jnorm2 (may be NULL) gets |J|_F^2 (of the
 * block). *exact (may be NULL): whether the field's own Jacobian was used. */
fl_status fl_check_jacobian(fl_field *f, size_t n, const double *x, double t, int k, const int *coords,
                            double *asym, double *nasym, double *jnorm2, int *exact);

/* The same by random probes, for large d, without forming J: with p, q
 * independent N(0, I_d), E[(p^T J q - q^T J p)^2] = |J - J^T|_F^2 and
 * E|J p|^2 = |J|_F^2. J p and J q are central differences of f along p and q
 * (step fl_field_fd_step(max(1, |x|_inf), 1) / |p|_inf, the same for q), so
 * each probe pair costs 4 evaluations per point; all probes of a chunk of
 * points go to the field in one batched eval. The probes are normals of the
 * counter-based generator keyed (seed, stream): index (i * probes + j) * 2d
 * + c for point i, probe pair j, coordinate c (p first, then q). asym and
 * nasym are the estimates averaged over `probes` pairs; se_asym (may be NULL)
 * gets the standard error of the asym estimate (NaN when probes < 2). */
fl_status fl_check_jacobian_probes(fl_field *f, size_t n, const double *x, double t, int probes, uint64_t seed,
                                   uint64_t stream, double *asym, double *nasym, double *se_asym);

/* ---- integral tests ---- */

/* L random oriented 2-planes in R^d (d >= 2): u[L*d], w[L*d] orthonormal, by
 * Gram-Schmidt of normals keyed (seed, stream), index l * 2d + c. */
fl_status fl_check_random_planes(int d, size_t L, uint64_t seed, uint64_t stream, double *u, double *w);

/* Make the pair (u_l, w_l) orthonormal in place (Gram-Schmidt), for L
 * planes; FL_EINVAL when a pair is degenerate (|u| = 0, or w parallel to u
 * to 1e-12 relative). */
fl_status fl_check_orthonormalise(int d, size_t L, double *u, double *w);

/* Outputs of fl_check_circulation, one value per loop; any pointer but
 * gamma may be NULL. */
typedef struct fl_check_circ_out {
  double *gamma;      /* the circulation G (trapezoid rule, M nodes) */
  double *per_area;   /* G / (pi rho^2) */
  double *relative;   /* G / (2 pi rho mean|v|): circulation over perimeter times mean speed, in [-1, 1] */
  double *vmean;      /* mean |v| over the loop nodes */
  double *halving;    /* |G_M - G_{M/2}| / (2 pi rho mean|v|): the M/2-node rule on every other node */
  double *floor;      /* |G_ref| / (2 pi rho mean|v_ref|) of the reference gradient field (see below) */
  double *small_loop; /* w^T (J - J^T) u at the centre (the small-loop limit of per_area) */
} fl_check_circ_out;

/* Circulation of f (m == d) on L circles: centre c_l (c[L*d]), radius
 * rho[l] > 0, plane (u_l, w_l) orthonormal (u[L*d], w[L*d]), M >= 2 nodes
 * theta_k = 2 pi k / M, periodic trapezoid rule
 *   G = (2 pi rho / M) sum_k v(x_k) . (-sin theta_k u + cos theta_k w),
 * spectrally accurate for smooth fields. All L*M nodes go to the field in
 * one batched eval (chunked for memory). A loop with a non-finite value at
 * a node gets NaN everywhere. The reference gradient field of the floor is
 * grad exp(-|x - x*|^2 / (2 rho^2)) with x* = c + (rho/2) u, evaluated in
 * closed form at the same nodes: a smooth gradient field that varies on the
 * scale of the loop, so its relative circulation is what the quadrature and
 * rounding give for a conservative field (it is scale free: matching its
 * magnitude to |v| does not change the relative value). small_loop needs
 * the Jacobian at the centres (one more batched call); *exact tells
 * whether it was the field's own. */
fl_status fl_check_circulation(fl_field *f, size_t L, const double *c, const double *rho, const double *u,
                               const double *w, int M, double t, const fl_check_circ_out *out, int *exact);

/* Path kinds for fl_check_paths. */
typedef enum fl_check_path_kind {
  FL_PATH_SEGMENT = 0, /* the straight segment a -> b */
  FL_PATH_ARC,         /* the half circle on the diameter ab, bulging towards +w */
  FL_PATH_POLYLINE     /* a -> given vertices -> b, straight pieces */
} fl_check_path_kind;

typedef struct fl_check_path {
  fl_check_path_kind kind;
  int nvert;           /* FL_PATH_POLYLINE: interior vertices per pair */
  const double *vert;  /* FL_PATH_POLYLINE: P*nvert*d vertices */
} fl_check_path;

/* Outputs of fl_check_paths, one value per pair; any pointer may be NULL. */
typedef struct fl_check_path_out {
  double *i1, *i2;     /* the line integrals along path 1 and path 2 */
  double *diff;        /* i1 - i2 */
  double *relative;    /* (i1 - i2) / ((len1 + len2) mean|v|) */
  double *vmean;       /* mean |v| over all quadrature nodes of both paths */
  double *floor;       /* |same relative difference| of the reference gradient field */
  double *halving;     /* |difference - the same with nodes/2 Gauss-Legendre points| / ((len1 + len2) mean|v|) */
} fl_check_path_out;

/* Line integrals of f (m == d) along two paths with the same endpoints
 * a_l -> b_l (a[P*d], b[P*d], a != b) for P pairs: Gauss-Legendre with
 * `nodes` points (1..256) on every straight piece and on the arc (in the
 * angle). w[P*d]: unit vectors orthogonal to b - a that fix the plane of
 * arcs and the reference field. The same integrals with nodes/2 points
 * (at least 1) give the halving estimate of the quadrature error. All
 * nodes of all pairs and both rules go to the field in one batched eval. The reference gradient field is that of the loops with
 * rho = |b - a|/2 and x* = (a + b)/2 + (rho/2) w. */
fl_status fl_check_paths(fl_field *f, size_t P, const double *a, const double *b, const double *w,
                         const fl_check_path *p1, const fl_check_path *p2, int nodes, double t,
                         const fl_check_path_out *out);

/* For P pairs: unit vectors w_l orthogonal to b_l - a_l (d >= 2), from
 * normals keyed (seed, stream), index l * d + c (redrawn further along the
 * counter in the probability-0 event of a degenerate draw). */
fl_status fl_check_path_normals(int d, size_t P, const double *a, const double *b, uint64_t seed, uint64_t stream,
                                double *w);

/* Random polylines: for pair l, interior vertex j (0-based, of nvert) is
 * a + (j+1)/(nvert+1) (b - a) + spread |b - a| z / sqrt(d), z standard
 * normals keyed (seed, stream), index start + (l * nvert + j) * d + c. */
fl_status fl_check_random_vertices(int d, size_t P, const double *a, const double *b, int nvert, double spread,
                                   uint64_t seed, uint64_t stream, uint64_t start, double *vert);

/* Gauss-Legendre nodes x[n] and weights wt[n] on [-1, 1] (Newton on P_n),
 * n in 1..256; accurate to a few ulps. */
fl_status fl_check_gauss_legendre(int n, double *x, double *wt);

/* ---- statistics ---- */

typedef struct fl_check_summary {
  size_t n;       /* finite values used */
  size_t nnan;    /* non-finite values excluded */
  double mean, sd, se;  /* sd with ddof 1; se = sd/sqrt(n) (NaN when n < 2) */
  double median, min, max;
  double ci_lo, ci_hi;  /* bootstrap percentile interval of the mean (NaN when n < 2 or B = 0) */
} fl_check_summary;

/* Summary of v[0..n): non-finite values are counted in nnan and excluded.
 * Quantiles q[0..nq) in [0, 1] go to qout (linear interpolation between
 * order statistics, numpy's default). The bootstrap: B resamples of the
 * finite values, indices from the counter-based generator (seed, stream),
 * and the central `level` (e.g. 0.95) percentile interval of their means.
 * n == 0 or no finite value: everything NaN except the counts. */
fl_status fl_check_stats(size_t n, const double *v, int nq, const double *q, double *qout, size_t B,
                         double level, uint64_t seed, uint64_t stream, fl_check_summary *out);

#endif
