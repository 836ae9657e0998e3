/* fl_field: the field interface.
 *
 * A field maps points x in R^d (and a time t) to values in R^m: a vector
 * field (m = d), a scalar field (m = 1), or any other codimension. Every call
 * is batched: n points in one call, x[n*d] row-major, out[n*m] row-major.
 *
 * A kind of field provides `eval` and, when it can, exact derivatives
 * (`jac`, `div`, `hess`, `lap`). The generic functions below use them when
 * present and central differences of `eval` otherwise, and say which through
 * `*exact`. The step rule for differences (scale aware, documented in
 * fl_field_fd_step) is the one place where it is defined.
 *
 * Fields are ref-counted; one reference is owned by whoever received it.
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_FIELD_H
#define FL_FIELD_H

#include <stddef.h>
#include "fl_core.h"

typedef struct fl_field fl_field;

typedef struct fl_field_ops {
  const char *kind; /* "gmm", "grid", "lua", "sum", ...: shown to users */
  /* out[n*m] = f(x_i, t). Required. May return FL_ECALLBACK (a user callback
   * failed: the caller keeps the callback's own error) or any other status. */
  fl_status (*eval)(fl_field *f, size_t n, const double *x, double t, double *out);
  /* J[n*m*d], J[(i*m + a)*d + b] = d f_a / d x_b at x_i. Optional. */
  fl_status (*jac)(fl_field *f, size_t n, const double *x, double t, double *J);
  /* out[n] = div f (m == d). Optional (else the trace of jac). */
  fl_status (*div)(fl_field *f, size_t n, const double *x, double t, double *out);
  /* Scalar fields (m == 1): H[n*d*d] Hessian. Optional. */
  fl_status (*hess)(fl_field *f, size_t n, const double *x, double t, double *H);
  /* Scalar fields: out[n] Laplacian. Optional (else the trace of hess). */
  fl_status (*lap)(fl_field *f, size_t n, const double *x, double t, double *out);
  /* Frees data (and releases the fields it holds). Optional. */
  void (*destroy)(void *data);
} fl_field_ops;

struct fl_field {
  int refcount;
  const fl_field_ops *ops;
  int dim;            /* d, input dimension, >= 1 */
  int codim;          /* m, output dimension, >= 1 */
  int time_dependent; /* whether t matters */
  int thread_safe;    /* eval may run concurrently (0 for Lua callbacks) */
  unsigned inexact;   /* FL_INEXACT_* bits: provided ops that approximate (derived fields) */
  void *data;
};

/* Bits of fl_field.inexact: the op is present but numerical, so results
 * through it are not reported exact. fl_field_new sets none. */
#define FL_INEXACT_JAC 1u
#define FL_INEXACT_DIV 2u
#define FL_INEXACT_HESS 4u
#define FL_INEXACT_LAP 8u

/* A new field with one reference; takes ownership of data (destroy is called
 * on it on failure too). */
fl_status fl_field_new(const fl_field_ops *ops, int dim, int codim, int time_dependent,
                       int thread_safe, void *data, fl_field **out);
fl_field *fl_field_retain(fl_field *f);
void fl_field_release(fl_field *f);

/* ---- evaluation and derivatives of any field ---- */
fl_status fl_field_eval(fl_field *f, size_t n, const double *x, double t, double *out);
/* J[n*m*d]. *exact (may be NULL) is set to 1 when the field's own derivative was used. */
fl_status fl_field_jacobian(fl_field *f, size_t n, const double *x, double t, double *J, int *exact);
/* out[n], m == d. */
fl_status fl_field_div(fl_field *f, size_t n, const double *x, double t, double *out, int *exact);
/* d == m == 2: out[n] = d f2/dx1 - d f1/dx2; d == m == 3: out[n*3] = curl f. */
fl_status fl_field_curl(fl_field *f, size_t n, const double *x, double t, double *out, int *exact);
/* Scalar fields: H[n*d*d] and out[n] = trace H. */
fl_status fl_field_hessian(fl_field *f, size_t n, const double *x, double t, double *H, int *exact);
fl_status fl_field_laplacian(fl_field *f, size_t n, const double *x, double t, double *out, int *exact);

/* The central-difference step for coordinate value x and a derivative of
 * order k (1: first derivatives, 2: second): h = eps^(1/3) * max(1, |x|)
 * for k = 1 and eps^(1/4) * max(1, |x|) for k = 2 (eps = DBL_EPSILON), each
 * rounded so that x + h is exactly representable. This balances truncation
 * error (~h^2) against rounding (~eps/h, eps/h^2): about 1e-10 relative for
 * first derivatives of a smooth field of unit scale. */
double fl_field_fd_step(double x, int k);

/* ---- fields made from fields ---- */
/* a*f + b*g (g may be NULL: a*f). Same dim and codim. Exact derivatives when both have them. */
fl_status fl_field_lincomb(double a, fl_field *f, double b, fl_field *g, fl_field **out);
/* The gradient field of a scalar field: eval = its derivative, jac = its Hessian. */
fl_status fl_field_gradient(fl_field *scalar, fl_field **out);
/* f o g: x -> f(g(x), t); g's codim must be f's dim. Chain rule for the Jacobian. */
fl_status fl_field_compose(fl_field *f, fl_field *g, fl_field **out);
/* Components comp[0..k) (0-based) of f's output. */
fl_status fl_field_project(fl_field *f, int k, const int *comp, fl_field **out);

#endif
