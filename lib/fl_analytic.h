/* fl_analytic: closed-form test fields and galaxy potentials, each with exact
 * derivatives.
 *
 * Vector fields (linear maps, rotation, shear, point and Lamb-Oseen vortices,
 * Taylor-Green and ABC flows, the "gauge" field A s of a skew matrix A and a
 * score s) provide eval, an exact Jacobian and, where it is cheap, the exact
 * divergence. Potentials are scalar fields (codim 1) with exact gradient
 * (jac, 1 x d), Hessian and Laplacian. All of them are thread safe (the gauge
 * field is when its score field is) and time independent (the gauge field is
 * time dependent when its score field is).
 *
 * Every constructor returns a new field with one reference in *out (NULL on
 * failure) and validates its parameters: finite, positive masses and scales,
 * matching shapes.
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_ANALYTIC_H
#define FL_ANALYTIC_H

#include "fl_core.h"
#include "fl_field.h"

/* x -> A x + b in R^m for x in R^d: A is m-by-d row-major, b has length m
 * (NULL: zero). Kind "linear"; Jacobian A; divergence trace A (m == d). */
fl_status fl_analytic_linear(int m, int d, const double *A, const double *b, fl_field **out);

/* Rigid rotation with angular speed omega. dim 2: omega (-y, x). dim 3:
 * omega (n x x) with n = axis / |axis| (axis NULL: the z axis). Kind "rotation". */
fl_status fl_analytic_rotation(int dim, double omega, const double *axis, fl_field **out);

/* Simple shear rate (x_2, 0, ..., 0) in dim >= 2. Kind "shear". */
fl_status fl_analytic_shear(int dim, double rate, fl_field **out);

/* 2-D vortex of circulation gamma centred at center (NULL: the origin).
 * core == 0: point vortex u = gamma/(2 pi r^2) (-(y-y0), x-x0); at the centre
 * itself velocity and Jacobian are 0 (the self-induced value). core = a > 0:
 * Lamb-Oseen vortex, the same times (1 - exp(-r^2/a^2)), smooth everywhere.
 * Kind "vortex". Divergence 0. */
fl_status fl_analytic_vortex(double gamma, const double *center, double core, fl_field **out);

/* Taylor-Green vortex, dim 2: u0 (sin kx cos ky, -cos kx sin ky); dim 3:
 * u0 (sin kx cos ky cos kz, -cos kx sin ky cos kz, 0). k > 0. Kind
 * "taylor_green". Divergence 0. */
fl_status fl_analytic_taylor_green(int dim, double u0, double k, fl_field **out);

/* Arnold-Beltrami-Childress flow (A sin z + C cos y, B sin x + A cos z,
 * C sin y + B cos x). Kind "abc". Divergence 0, curl u = u. */
fl_status fl_analytic_abc(double A, double B, double C, fl_field **out);

/* r(x, t) = A s(x, t) for a skew-symmetric d-by-d A (row-major; rejected
 * when |A_ij + A_ji| > 1e-12 max(1, max |A|), then stored as (A - A^T)/2)
 * and a vector field s of dimension d (s->codim == s->dim == d). Holds a
 * reference to s. Kind "gauge". Exact Jacobian A J_s when s has an exact
 * Jacobian (otherwise none, so that derivatives are differenced and reported
 * as such). When s = grad log p, div(p r) = 0. */
fl_status fl_analytic_gauge(int d, const double *A, fl_field *s, fl_field **out);

/* Spherical potentials Phi(r), r = |x|, x in R^dim (dim >= 1):
 *   PLUMMER    -G M / sqrt(r^2 + b^2)                   (scale b)
 *   HERNQUIST  -G M / (r + a)                           (scale a)
 *   ISOCHRONE  -G M / (b + sqrt(r^2 + b^2))             (scale b)
 *   NFW        -G M ln(1 + r/rs) / r, M = 4 pi rho0 rs^3 (scale rs)
 * G, M, scale > 0. Kinds "plummer", "hernquist", "isochrone", "nfw".
 * Hernquist and NFW have a cusp at r = 0: there the gradient is 0 (the
 * symmetric value) and the Hessian diagonal and the Laplacian are +inf. */
typedef enum fl_potential_kind {
  FL_POT_PLUMMER,
  FL_POT_HERNQUIST,
  FL_POT_ISOCHRONE,
  FL_POT_NFW
} fl_potential_kind;
fl_status fl_analytic_potential(fl_potential_kind kind, int dim, double G, double M, double scale,
                                fl_field **out);

/* Harmonic potential Phi = 1/2 sum_i omega_i^2 x_i^2 (omega[dim], each > 0).
 * Kind "harmonic". */
fl_status fl_analytic_harmonic(int dim, const double *omega, fl_field **out);

#endif
