/* fl_vmath: element-wise kernels over arrays that run several lanes at a
 * time (the activations of networks and their derivatives).
 *
 * On x86-64 processors with AVX2 and FMA (checked at run time) each kernel
 * works on 4 doubles at once with its own exp: x = k ln2 + r (Cody-Waite,
 * |r| <= ln2/2), exp(r) by its Taylor polynomial of degree 13 (truncation
 * below 5e-18 relative), times 2^k applied as two powers of two, so that
 * results down to the subnormal range and up to overflow come out right:
 * within 1 ulp of exp everywhere, +inf above 709.78, 0 below -745.2, NaN
 * for NaN. Elsewhere the same formulas run one element at a time on libm's
 * exp. A partial group of lanes at the end of an array goes through the
 * same vector code (padded), so an element's result does not depend on
 * its position or on n.
 *
 * With s = 1/(1 + e^-x) (no cancellation for any x):
 *   sigmoid  s
 *   silu     x s,   silu' = s (1 + x (1 - s)),   silu'' = s (1 - s) (2 + x (1 - 2 s))
 * Outputs may alias inputs element for element (out == x or out == g).
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_VMATH_H
#define FL_VMATH_H

#include <stddef.h>

/* out[i] = exp(x[i]) */
void fl_vm_exp(size_t n, const double *x, double *out);
/* out[i] = sigmoid(x[i]) */
void fl_vm_sigmoid(size_t n, const double *x, double *out);
/* out[i] = silu(x[i]) */
void fl_vm_silu(size_t n, const double *x, double *out);
/* out[i] = g[i] * silu^(k)(x[i]) for k = 1, 2 (g NULL: the derivative itself). */
void fl_vm_silu_d1(size_t n, const double *x, const double *g, double *out);
void fl_vm_silu_d2(size_t n, const double *x, const double *g, double *out);
/* silu, silu' and silu'' at once (any output may be NULL; none may alias x). */
void fl_vm_silu_jet(size_t n, const double *x, double *f, double *f1, double *f2);
/* The same from the sigmoid s of x already at hand (a forward pass keeps it
 * for the backward one): fl_vm_silu_s gives silu (f) and s; the other two
 * take s. Results equal those of the functions above bit for bit. */
void fl_vm_silu_s(size_t n, const double *x, double *f, double *s);
void fl_vm_silu_d1_s(size_t n, const double *x, const double *s, const double *g, double *out);
void fl_vm_silu_d2_s(size_t n, const double *x, const double *s, const double *g, double *out);
/* 1 when the vector code runs on this machine (AVX2 and FMA), else 0. */
int fl_vm_vectorised(void);

#endif
