/* fl_grid: gridded fields in 1-D, 2-D and 3-D: interpolation, sampling,
 * finite-difference and spectral derivatives.
 *
 * A grid has d = 1..3 axes. Axis k spans [lo[k], hi[k]] with n[k] nodes:
 *   periodic axis:     nodes lo + j h, j = 0..n-1, h = (hi - lo)/n  (the box is [lo, hi))
 *   non-periodic axis: nodes lo + j h, j = 0..n-1, h = (hi - lo)/(n - 1) (both ends are nodes)
 * Values: m components per node, stored row-major with the component last,
 * i.e. an array of shape (n[0], ..., n[d-1], m); a scalar grid (m = 1) may
 * also use shape (n[0], ..., n[d-1]) (same memory layout). Node order is
 * row-major (the last axis varies fastest), as in fl_grid_points.
 *
 * A grid field is an fl_field of kind "grid" (thread safe, time
 * independent) that holds one reference to its values array: writes into
 * that array change the field.
 *
 * Interpolation (evaluation at any point):
 *   FL_INTERP_LINEAR: multilinear (tensor product of 2-point hat functions):
 *     exact for affine data, error O(h^2), continuous.
 *   FL_INTERP_CUBIC: tensor product of Catmull-Rom (Keys, a = -1/2) cubic
 *     convolution on 4 nodes per axis: interpolates the nodes, C^1, error
 *     O(h^3). Next to a non-periodic wall the missing node is Keys' quadratic
 *     extrapolation f[-1] = 3 f[0] - 3 f[1] + f[2], which keeps O(h^3).
 *     Needs n >= 3 on non-periodic axes.
 * Periodic axes wrap any coordinate; a point outside [lo, hi] on a
 * non-periodic axis (or a non-finite coordinate) is FL_ERANGE naming the
 * point and the box. The Jacobian of the interpolant is exact (the derivative
 * of the piecewise polynomial, one-sided at cell faces).
 *
 * Derivatives on the grid (results are new grid fields on the same grid):
 *   FL_GRID_FD, order 2 or 4: central differences inside and across periodic
 *     wraps; at non-periodic walls one-sided stencils of the same order.
 *     Minimum nodes per axis: first derivatives 3 (order 2) / 5 (order 4);
 *     second derivatives (Laplacian) 4 / 6 on non-periodic axes, 3 / 5 on
 *     periodic ones.
 *   FL_GRID_SPECTRAL: FFT on a grid periodic on every axis (fl_fft_diffop);
 *     exact for trigonometric polynomials of degree < n/2.
 *
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_GRID_H
#define FL_GRID_H

#include <stddef.h>
#include "fl_core.h"
#include "fl_array.h"
#include "fl_field.h"

#define FL_GRID_MAXDIM 3

typedef enum fl_interp { FL_INTERP_LINEAR = 0, FL_INTERP_CUBIC = 1 } fl_interp;
typedef enum fl_grid_method { FL_GRID_FD = 0, FL_GRID_SPECTRAL = 1 } fl_grid_method;

/* The geometry of a grid. */
typedef struct fl_grid_spec {
  int dim;                       /* d, 1..3 */
  size_t n[FL_GRID_MAXDIM];      /* nodes per axis, >= 2 */
  double lo[FL_GRID_MAXDIM];     /* box [lo, hi], lo < hi, finite */
  double hi[FL_GRID_MAXDIM];
  int periodic[FL_GRID_MAXDIM];  /* 0 or 1 per axis */
} fl_grid_spec;

/* The data of a grid field (f->data of a field of kind "grid"). */
typedef struct fl_grid {
  fl_grid_spec s;
  int m;                          /* components per node */
  fl_interp interp;
  double h[FL_GRID_MAXDIM];       /* node spacing */
  double inv_h[FL_GRID_MAXDIM];
  size_t stride[FL_GRID_MAXDIM];  /* doubles between neighbours along each axis */
  size_t npoints;                 /* number of nodes */
  fl_array *values;               /* one reference */
} fl_grid;

/* FL_OK when the spec is valid; else FL_EINVAL saying what is wrong. */
fl_status fl_grid_spec_check(const fl_grid_spec *s);
/* Product of n (the number of nodes). */
size_t fl_grid_spec_npoints(const fl_grid_spec *s);
/* The spacing of axis k. */
double fl_grid_spec_spacing(const fl_grid_spec *s, int k);

/* A new grid field with m components. values NULL: a new zero array of shape
 * (n..., m), or (n...) when m == 1. Otherwise values must have shape
 * (n..., m), or (n...) when m == 1; the field keeps a reference to it (no
 * copy). */
fl_status fl_grid_new(const fl_grid_spec *s, int m, fl_interp interp, fl_array *values, fl_field **out);
/* Wrap an array as a grid: shape (n..., m) or (n...) for a scalar grid,
 * geometry d, lo, hi, periodic (the n come from the shape). */
fl_status fl_grid_from_array(fl_array *values, int d, const double *lo, const double *hi,
                             const int *periodic, fl_interp interp, fl_field **out);

/* The grid of a grid field, or NULL when f is not one. */
fl_grid *fl_grid_of(const fl_field *f);

/* The n[k] node coordinates of axis k (1-D array). */
fl_status fl_grid_coords(const fl_grid_spec *s, int k, fl_array **out);
/* All node coordinates, shape (N, d), in row-major node order. */
fl_status fl_grid_points(const fl_grid_spec *s, fl_array **out);

/* Interpolation of the grid at n points x[n*d]: out[n*m], J[n*m*d]. */
fl_status fl_grid_interp(const fl_grid *g, size_t n, const double *x, double *out);
fl_status fl_grid_interp_jac(const fl_grid *g, size_t n, const double *x, double *J);

/* A grid field of f's values at the nodes of s at time t (m = f's codim). */
fl_status fl_grid_sample(fl_field *f, const fl_grid_spec *s, fl_interp interp, double t, fl_field **out);

/* Derivatives of a grid field g (axis 0-based, order 2 or 4 for FD; ignored
 * for spectral). Each returns a new grid field on the same grid, with g's
 * interpolation:
 *   partial:   d/dx_axis of every component (m components)
 *   div:       m == d; a scalar grid
 *   curl:      d == m == 2: the scalar d f2/dx1 - d f1/dx2; d == m == 3: the vector curl
 *   grad:      m == 1; a vector grid of d components
 *   laplacian: the Laplacian of every component (m components) */
fl_status fl_grid_partial(fl_field *g, int axis, int order, fl_grid_method method, fl_field **out);
fl_status fl_grid_div(fl_field *g, int order, fl_grid_method method, fl_field **out);
fl_status fl_grid_curl(fl_field *g, int order, fl_grid_method method, fl_field **out);
fl_status fl_grid_grad(fl_field *g, int order, fl_grid_method method, fl_field **out);
fl_status fl_grid_laplacian(fl_field *g, int order, fl_grid_method method, fl_field **out);

#endif
