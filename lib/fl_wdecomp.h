/* fl_wdecomp: the density-weighted ("gauge") decomposition
 *
 *   v = grad phi + r   with   div(p r) = 0,
 *
 * the orthogonal projection of v onto gradients in L^2(p): E_p[grad psi . r]
 * = 0 for every psi, so E_p|v|^2 = E_p|grad phi|^2 + E_p|r|^2 (reference
 * diffusion.md section 2). r moves no probability mass: adding it to a
 * transport field leaves d/dt p = -div(p v) unchanged.
 *
 * On a grid (the density known at the nodes): solve the variable-coefficient
 * Poisson problem  -D(p G phi) = -D(p v)  by preconditioned conjugate
 * gradients. G is a discrete gradient at the nodes and D = -G^T the matching
 * divergence, both periodic:
 *   FL_WDECOMP_FD:       central differences (f[i+1] - f[i-1]) / 2h, order 2;
 *   FL_WDECOMP_SPECTRAL: FFT derivatives (Nyquist mode dropped), spectral.
 * The same D is applied to p v, so the gauge part r = v - G phi is
 * weighted-divergence-free in the discrete sense: |D(p r)| / |D(p v)| is the
 * CG residual reached, and sum_i p_i (G phi)_i . r_i = phi^T (b - A phi) is
 * zero to that tolerance too: the energy split holds in the p-weighted node
 * quadrature. The preconditioner is the constant-coefficient operator
 * mean(p) * G^T G, inverted by FFT (its null space, the modes each of whose
 * wave numbers is 0 or Nyquist, included the constants, is projected out:
 * phi has zero mean over the nodes). Grids must be periodic on every axis.
 *
 * From samples x_i of p (density unknown): least squares
 *   min_c  sum_i |v(x_i) - sum_j c_j grad psi_j(x_i)|^2
 * over a basis psi_j: monomials of total degree 1..degree (graded order,
 * x before y: x, y, x^2, xy, y^2, ...), or random Fourier features
 * sqrt(2/F) cos(w_j . x + b_j) with w_j ~ N(0, I / scale^2), b_j ~ U[0, 2 pi)
 * drawn from the counter-based generator (seed, stream). Solved with LAPACK
 * (fl_array_lstsq, columns equilibrated first), optionally with a ridge
 * penalty: min (1/n_fit) sum_i |v(x_i) - grad phi(x_i)|^2 + ridge |c|^2
 * (K extra rows sqrt(n_fit ridge) I; random features are near-collinear and
 * want one). phi = sum_j c_j psi_j is a
 * scalar field with exact gradient, Hessian and Laplacian.
 *
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_WDECOMP_H
#define FL_WDECOMP_H

#include <stddef.h>
#include <stdint.h>
#include "fl_core.h"
#include "fl_array.h"
#include "fl_field.h"
#include "fl_grid.h"
#include "fl_gmm.h"

/* The split of E_p|v|^2. On a grid: p-weighted node sums (p normalised to
 * sum 1 over the nodes), the standard errors are 0. From samples: sample
 * means over the n evaluation points with their standard errors
 * (std with ddof 1 / sqrt(n)). */
typedef struct fl_wdecomp_energies {
  double total, gradient, gauge, cross;  /* E|v|^2, E|grad phi|^2, E|r|^2, E[grad phi . r] */
  double total_se, gradient_se, gauge_se, cross_se;
  size_t n;                              /* nodes or evaluation points */
} fl_wdecomp_energies;

/* ---------------------------------------------------------------- grids */

typedef enum fl_wdecomp_method { FL_WDECOMP_FD = 0, FL_WDECOMP_SPECTRAL = 1 } fl_wdecomp_method;

typedef struct fl_wdecomp_grid_opts {
  double tol;                /* relative residual |b - A phi| / |b|; > 0, e.g. 1e-10 */
  int maxiter;               /* >= 1 */
  fl_wdecomp_method method;
} fl_wdecomp_grid_opts;

typedef struct fl_wdecomp_grid_result {
  fl_field *phi;       /* scalar grid field (zero node mean) */
  fl_field *gradient;  /* vector grid field G phi */
  fl_field *gauge;     /* vector grid field v - G phi */
  int iterations;      /* CG iterations done */
  double residual;     /* final true relative residual |b - A phi| / |b| (0 when b = 0) */
  fl_wdecomp_energies e;
} fl_wdecomp_grid_result;

/* The density at the nodes of grid s, out[npoints]: from a GMM (when gmm is
 * not NULL), else from the scalar field p: a grid field on the same grid
 * (same n, box and periodicity: FL_EDIM "mismatched grids" otherwise) gives
 * its node values, any other scalar field is evaluated at the nodes at time
 * t. Every value must be positive and finite (FL_EINVAL naming the node). */
fl_status fl_wdecomp_density_nodes(const fl_grid_spec *s, fl_field *p, const fl_gmm *gmm, double t, double *out);

/* Decompose the vector grid field v (m == d, periodic on every axis) with
 * the density p[npoints] at its nodes (positive, finite). The result fields
 * have v's interpolation. FL_ENOTCONV when CG does not reach opts->tol in
 * opts->maxiter iterations (the detail gives the residual reached). res is
 * zeroed first; free it with fl_wdecomp_grid_result_free. */
fl_status fl_wdecomp_grid(fl_field *v, const double *p, const fl_wdecomp_grid_opts *opts,
                          fl_wdecomp_grid_result *res);
void fl_wdecomp_grid_result_free(fl_wdecomp_grid_result *res);

/* The operator of the grid decomposition, for tests: out[N] = -D(p G phi)
 * (the matrix A), or with phi NULL and v[N*d] given, out = -D(p v) (b). */
fl_status fl_wdecomp_grid_apply(const fl_grid_spec *s, fl_wdecomp_method method, const double *p,
                                const double *phi, const double *v, double *out);

/* ---------------------------------------------------------------- samples */

typedef enum fl_wdecomp_basis { FL_WBASIS_POLY = 0, FL_WBASIS_FOURIER = 1 } fl_wdecomp_basis;

typedef struct fl_wdecomp_sample_opts {
  fl_wdecomp_basis basis;
  int degree;           /* poly: >= 1 */
  size_t features;      /* fourier: >= 1 */
  double scale;         /* fourier: length scale > 0; 0: 3 times the mean std of the sample coordinates */
  uint64_t seed, stream;/* fourier: the draw of w, b */
  double t;             /* time at which v is evaluated */
  double ridge;         /* >= 0: adds ridge * sum_j c_j^2 to the mean squared misfit */
  double holdout;       /* fraction in [0, 1) of the samples (the last ones) left out of the fit;
                           the energies are computed on them (on all samples when 0) */
} fl_wdecomp_sample_opts;

typedef struct fl_wdecomp_sample_result {
  fl_field *phi;        /* scalar field sum_j c_j psi_j (exact jac, hess, lap) */
  fl_field *gradient;   /* grad phi */
  fl_field *gauge;      /* v - grad phi */
  fl_array *coef;       /* (K) */
  fl_array *basis;      /* poly: exponents (K, d); fourier: frequencies w (K, d) */
  fl_array *phases;     /* fourier: b (K); poly: NULL */
  fl_array *values_v;   /* (n, d): v at the samples */
  fl_array *values_gradient; /* (n, d): grad phi at the samples */
  fl_array *values_phi; /* (n): phi at the samples */
  size_t nfit;          /* samples used in the fit */
  int rank;             /* effective rank of the design matrix */
  double fit_residual;  /* sqrt(mean over fit samples of |v - grad phi|^2) */
  fl_wdecomp_energies e;
} fl_wdecomp_sample_result;

/* Number of monomials of total degree 1..degree in d variables. */
size_t fl_wdecomp_poly_size(int d, int degree);

fl_status fl_wdecomp_samples(fl_field *v, size_t n, const double *x, const fl_wdecomp_sample_opts *opts,
                             fl_wdecomp_sample_result *res);
void fl_wdecomp_sample_result_free(fl_wdecomp_sample_result *res);

#endif
