/* fl_decomp: Helmholtz-Hodge decompositions of 2-D and 3-D vector grid fields.
 *
 * v = gradient + solenoidal + harmonic, with gradient = grad phi and, in
 * 2-D, solenoidal = grad_perp psi = (-psi_y, psi_x), in 3-D solenoidal =
 * curl A. Three boundary treatments:
 *
 * FL_HHD_PERIODIC (grid periodic on every axis): one r2c transform of the d
 *   components, the projection onto the wave vector in one pass over the
 *   spectrum, one c2r transform of the gradient part; solenoidal = v -
 *   gradient - harmonic in the same pass over the nodes. The projection uses
 *   the wave numbers of the spectral first derivative (fl_fft_diffop: the
 *   Nyquist wave number of an even n is 0), so the spectral divergence of the
 *   solenoidal part and the spectral curl of the gradient part are zero to
 *   rounding for any data. The harmonic part is the kernel of both: the mean,
 *   plus, for even n, the modes whose every wave number is 0 or Nyquist (none
 *   for data of degree < n/2). Potentials (phi; psi or A in the Coulomb gauge
 *   div A = 0, both of zero mean) are not made here: fl_hhd_potential makes
 *   them from the gradient / solenoidal part (one more r2c and c2r).
 *
 * FL_HHD_NATURAL (grid non-periodic on every axis; Bhatia et al. 2014, the
 *   natural HHD): phi = G * div v, psi = G * curl v (2-D, G = ln(r)/(2 pi)),
 *   A = -G * curl v (3-D, G = -1/(4 pi r)), convolutions over the box by the
 *   trapezoid rule, computed with zero-padded FFTs of size 2n per axis. G is
 *   sampled at the node offsets; at offset 0 it is replaced by its average
 *   over the cell [-h/2, h/2]^d (closed forms, fl_hhd_green_cell). div v and
 *   curl v, and the derivatives of the potentials, are finite differences of
 *   order 4 (order 2 on grids with fewer than 6 nodes on an axis).
 *   gradient = grad phi, solenoidal = grad_perp psi or curl A, harmonic = v -
 *   gradient - solenoidal. Observed order 2 in h for smooth data.
 *
 * FL_HHD_NORMAL (grid non-periodic on every axis): the gradient part carries
 *   the normal flux: lap phi = div v with d phi/dn = v.n on the walls, by the
 *   second-order node-centred finite-difference Laplacian (ghost nodes from
 *   the Neumann data, i.e. the standard modified right-hand side) diagonalised
 *   by the DCT-I (FFTW REDFT00); phi has zero trapezoid mean. gradient =
 *   central differences of phi, with the normal component on each wall equal
 *   to the Neumann data, so solenoidal = v - gradient has zero normal
 *   component on the walls and divergence O(h^2) inside. A box has no
 *   harmonic fields tangent to its walls: harmonic = 0. In 2-D psi solves
 *   lap psi = curl v with psi = 0 on the walls (DST-I, FFTW RODFT00); A is not
 *   made in 3-D.
 *
 * Energies are integrals of |.|^2 over the box: the node sum times the cell
 * volume on periodic grids (exact for trigonometric polynomials), the
 * trapezoid rule on bounded ones.
 *
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_DECOMP_H
#define FL_DECOMP_H

#include "fl_core.h"
#include "fl_array.h"
#include "fl_field.h"

typedef enum fl_hhd_boundary { FL_HHD_PERIODIC = 0, FL_HHD_NATURAL, FL_HHD_NORMAL } fl_hhd_boundary;

/* "periodic", "natural", "normal". */
const char *fl_hhd_boundary_name(fl_hhd_boundary b);

typedef struct fl_hhd {
  fl_hhd_boundary boundary;
  int dim;              /* 2 or 3 */
  fl_field *gradient;   /* vector grid fields on v's grid (one reference each) */
  fl_field *solenoidal;
  fl_field *harmonic;   /* NULL for a periodic split: harmonic_coef holds it
                           (build the grid, when wanted, with fl_hhd_harmonic) */
  fl_field *phi;        /* scalar grid, or NULL (periodic: see fl_hhd_potential) */
  fl_field *psi;        /* 2-D: scalar grid psi; 3-D: vector potential A; or NULL */
  double e_total;       /* integral of |v|^2 over the box */
  double e_gradient, e_solenoidal, e_harmonic;
  double harmonic_coef[8][3]; /* periodic: the harmonic part at node (j_1..j_d)
                                 is the sum over masks of harmonic_coef[mask]
                                 times (-1)^j_k for every axis k (bit k-1) in the
                                 mask: [0] is the mean flow, the others the
                                 modes at Nyquist indices (0 on odd axes) */
} fl_hhd;

/* A grid field on like's grid (1 to 3 axes and components) with the values
 * sum_mask coef[mask][a] prod_{k in mask} (-1)^j_k at node (j_1..j_d): the
 * harmonic part of a periodic split (fl_hhd.harmonic_coef), made on demand,
 * or a constant grid (coef[0] alone non-zero). */
fl_status fl_hhd_harmonic(fl_field *like, const double coef[8][3], fl_field **out);

/* Decompose the vector grid field v (d = 2 or 3 axes, d components). The
 * grid must be periodic on every axis for FL_HHD_PERIODIC and non-periodic on
 * every axis for the others (FL_EINVAL saying so). On success *out holds new
 * references (release with fl_hhd_clear); on failure *out is zeroed. */
fl_status fl_hhd_compute(fl_field *v, fl_hhd_boundary boundary, fl_hhd *out);
void fl_hhd_clear(fl_hhd *r);

/* Potentials of a periodic split: from the gradient part g (d components),
 * phi with grad phi = g (which = 0); from the solenoidal part s, psi with
 * grad_perp psi = s (which = 1, 2-D) or A with curl A = s, div A = 0
 * (which = 1, 3-D). Spectral, zero mean; exact to rounding when g (s) is the
 * gradient (solenoidal) part of fl_hhd_compute. */
fl_status fl_hhd_potential(fl_field *g, int which, fl_field **out);

/* The average of the free-space Green's function over the cell
 * [-h0/2, h0/2] x ... (d = 2: ln(r)/(2 pi); d = 3: -1/(4 pi r)). */
double fl_hhd_green_cell(int d, const double *h);

/* One r2c and one c2r transform of the d interleaved components of a
 * periodic vector grid field, into a new array of v's values' shape (N v, N
 * the number of nodes, unnormalised): the bare transforms of a periodic
 * split, for benchmarks. */
fl_status fl_hhd_fft_roundtrip(fl_field *v, fl_array **out);

#endif
