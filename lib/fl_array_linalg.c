/* fl_array LAPACK routines (LAPACKE, row-major). Every routine copies its
 * inputs first (LAPACK overwrites them) and checks them for NaN/Inf before
 * calling LAPACK. */
#include "config.h"
#include "fl_array.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <lapacke.h>

#define SHAPE_BUF 200

static fl_status check_finite(const fl_array *a, const char *fn, const char *what)
{
  for (size_t i = 0; i < a->size; i++)
    if (!isfinite(a->data[i]))
      return fl_fail(FL_ENAN, "%s: %s contains NaN or Inf (element %zu is %g)", fn, what, i + 1, a->data[i]);
  return FL_OK;
}

static fl_status check_matrix(const fl_array *a, const char *fn, int square)
{
  char b[SHAPE_BUF];
  if (a->ndim != 2)
    return fl_fail(FL_EDIM, "%s needs a 2-D %smatrix, not shape %s", fn, square ? "square " : "",
                   fl_array_shape_str(a, b, sizeof b));
  if (square && a->shape[0] != a->shape[1])
    return fl_fail(FL_EDIM, "%s needs a square matrix, not shape %s", fn, fl_array_shape_str(a, b, sizeof b));
  if (a->shape[0] > (size_t)INT_MAX || a->shape[1] > (size_t)INT_MAX)
    return fl_fail(FL_ERANGE, "%s: shape %s exceeds the LAPACK integer range", fn,
                   fl_array_shape_str(a, b, sizeof b));
  return check_finite(a, fn, "matrix");
}

static void release_all(fl_array **p, int n)
{
  for (int i = 0; i < n; i++)
    if (p[i]) {
      fl_array_release(p[i]);
      p[i] = NULL;
    }
}

fl_status fl_array_solve(const fl_array *A, const fl_array *B, fl_array **out)
{
  *out = NULL;
  char b1[SHAPE_BUF], b2[SHAPE_BUF];
  fl_status st = check_matrix(A, "solve", 1);
  if (st) return st;
  size_t n = A->shape[0];
  if (B->ndim > 2 || B->shape[0] != n)
    return fl_fail(FL_EDIM, "solve: right-hand side of shape %s does not fit a matrix of shape %s (needs (%zu) "
                            "or (%zu,k))",
                   fl_array_shape_str(B, b1, sizeof b1), fl_array_shape_str(A, b2, sizeof b2), n, n);
  if ((st = check_finite(B, "solve", "right-hand side"))) return st;
  size_t nrhs = B->ndim == 2 ? B->shape[1] : 1;
  if (nrhs > (size_t)INT_MAX) return fl_fail(FL_ERANGE, "solve: too many right-hand sides");
  fl_array *lu = NULL, *x = NULL;
  if ((st = fl_array_copy(B, &x))) return st;
  if (n == 0 || nrhs == 0) {
    *out = x;
    return FL_OK;
  }
  if ((st = fl_array_copy(A, &lu))) {
    fl_array_release(x);
    return st;
  }
  lapack_int *ipiv = malloc(n * sizeof *ipiv);
  if (!ipiv) {
    fl_array_release(x);
    fl_array_release(lu);
    return fl_fail(FL_ENOMEM, "solve: cannot allocate pivots");
  }
  lapack_int info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)nrhs, lu->data, (lapack_int)n,
                                  ipiv, x->data, (lapack_int)nrhs);
  free(ipiv);
  fl_array_release(lu);
  if (info != 0) {
    fl_array_release(x);
    if (info > 0)
      return fl_fail(FL_ESINGULAR, "solve: matrix of shape %s is singular (pivot %d of the LU factorisation is "
                                   "exactly zero)",
                     fl_array_shape_str(A, b1, sizeof b1), (int)info);
    return fl_fail(FL_EINVAL, "solve: LAPACK dgesv rejected argument %d", (int)-info);
  }
  *out = x;
  return FL_OK;
}

/* Reads the LOWER triangle of A (the upper one is ignored) and returns L with zeros above
 * the diagonal. */
fl_status fl_array_cholesky(const fl_array *A, fl_array **out)
{
  *out = NULL;
  fl_status st = check_matrix(A, "cholesky", 1);
  if (st) return st;
  size_t n = A->shape[0];
  fl_array *L = NULL;
  if ((st = fl_array_copy(A, &L))) return st;
  if (n == 0) {
    *out = L;
    return FL_OK;
  }
  lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, L->data, (lapack_int)n);
  if (info != 0) {
    fl_array_release(L);
    if (info > 0)
      return fl_fail(FL_ESINGULAR, "cholesky: matrix is not positive definite (the leading minor of order %d "
                                   "is not positive)",
                     (int)info);
    return fl_fail(FL_EINVAL, "cholesky: LAPACK dpotrf rejected argument %d", (int)-info);
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) L->data[i * n + j] = 0.0;
  *out = L;
  return FL_OK;
}

/* Uses the LOWER triangle of A (dsyevd with uplo 'L'); the upper one is ignored. */
fl_status fl_array_eigh(const fl_array *A, fl_array **w, fl_array **V)
{
  *w = NULL;
  *V = NULL;
  fl_status st = check_matrix(A, "eigh", 1);
  if (st) return st;
  size_t n = A->shape[0];
  fl_array *res[2] = {NULL, NULL};
  if ((st = fl_array_new(1, &n, &res[0])) || (st = fl_array_copy(A, &res[1]))) {
    release_all(res, 2);
    return st;
  }
  if (n > 0) {
    lapack_int info =
        LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'L', (lapack_int)n, res[1]->data, (lapack_int)n, res[0]->data);
    if (info != 0) {
      release_all(res, 2);
      if (info > 0)
        return fl_fail(FL_ENOTCONV, "eigh: the eigenvalue algorithm did not converge (LAPACK dsyevd info %d)",
                       (int)info);
      return fl_fail(FL_EINVAL, "eigh: LAPACK dsyevd rejected argument %d", (int)-info);
    }
  }
  *w = res[0];
  *V = res[1];
  return FL_OK;
}

fl_status fl_array_svd(const fl_array *A, fl_array **U, fl_array **S, fl_array **Vt)
{
  *U = NULL;
  *S = NULL;
  *Vt = NULL;
  fl_status st = check_matrix(A, "svd", 0);
  if (st) return st;
  size_t m = A->shape[0], n = A->shape[1], k = m < n ? m : n;
  fl_array *res[4] = {NULL, NULL, NULL, NULL}; /* U, S, Vt, work copy */
  size_t su[2] = {m, k}, sv[2] = {k, n};
  if ((st = fl_array_new(2, su, &res[0])) || (st = fl_array_new(1, &k, &res[1])) ||
      (st = fl_array_new(2, sv, &res[2])) || (st = fl_array_copy(A, &res[3]))) {
    release_all(res, 4);
    return st;
  }
  if (k > 0) {
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)m, (lapack_int)n, res[3]->data,
                                     (lapack_int)n, res[1]->data, res[0]->data, (lapack_int)k, res[2]->data,
                                     (lapack_int)n);
    if (info != 0) {
      release_all(res, 4);
      if (info > 0)
        return fl_fail(FL_ENOTCONV, "svd: the SVD algorithm did not converge (LAPACK dgesdd info %d)", (int)info);
      return fl_fail(FL_EINVAL, "svd: LAPACK dgesdd rejected argument %d", (int)-info);
    }
  }
  fl_array_release(res[3]);
  *U = res[0];
  *S = res[1];
  *Vt = res[2];
  return FL_OK;
}

fl_status fl_array_lstsq(const fl_array *A, const fl_array *B, double rcond, fl_array **x, int *rank,
                         fl_array **sv)
{
  *x = NULL;
  if (sv) *sv = NULL;
  char b1[SHAPE_BUF], b2[SHAPE_BUF];
  fl_status st = check_matrix(A, "lstsq", 0);
  if (st) return st;
  size_t m = A->shape[0], n = A->shape[1], k = m < n ? m : n, mx = m > n ? m : n;
  if (B->ndim > 2 || B->shape[0] != m)
    return fl_fail(FL_EDIM, "lstsq: right-hand side of shape %s does not fit a matrix of shape %s (needs (%zu) "
                            "or (%zu,k))",
                   fl_array_shape_str(B, b1, sizeof b1), fl_array_shape_str(A, b2, sizeof b2), m, m);
  if ((st = check_finite(B, "lstsq", "right-hand side"))) return st;
  if (isnan(rcond)) return fl_fail(FL_ENAN, "lstsq: rcond is NaN");
  size_t nrhs = B->ndim == 2 ? B->shape[1] : 1;
  if (nrhs > (size_t)INT_MAX) return fl_fail(FL_ERANGE, "lstsq: too many right-hand sides");
  if (rcond < 0) rcond = DBL_EPSILON * (double)mx;
  /* res: x, sv, A copy, B padded to max(m,n) rows */
  fl_array *res[4] = {NULL, NULL, NULL, NULL};
  size_t xs[2] = {n, nrhs}, bs[2] = {mx, nrhs};
  if ((st = fl_array_zeros(B->ndim, xs, &res[0])) || (st = fl_array_new(1, &k, &res[1])) ||
      (st = fl_array_copy(A, &res[2])) || (st = fl_array_zeros(2, bs, &res[3]))) {
    release_all(res, 4);
    return st;
  }
  lapack_int r = 0;
  if (k > 0 && nrhs > 0) {
    memcpy(res[3]->data, B->data, m * nrhs * sizeof(double));
    lapack_int info = LAPACKE_dgelsd(LAPACK_ROW_MAJOR, (lapack_int)m, (lapack_int)n, (lapack_int)nrhs,
                                     res[2]->data, (lapack_int)n, res[3]->data, (lapack_int)nrhs, res[1]->data,
                                     rcond, &r);
    if (info != 0) {
      release_all(res, 4);
      if (info > 0)
        return fl_fail(FL_ENOTCONV, "lstsq: the SVD did not converge (LAPACK dgelsd info %d)", (int)info);
      return fl_fail(FL_EINVAL, "lstsq: LAPACK dgelsd rejected argument %d", (int)-info);
    }
    memcpy(res[0]->data, res[3]->data, n * nrhs * sizeof(double));
  } else if (k > 0) {
    /* no right-hand sides: rank and singular values from one zero right-hand side */
    double *z = fl_calloc(mx, sizeof(double));
    if (!z) {
      release_all(res, 4);
      return fl_fail(FL_ENOMEM, "lstsq: cannot allocate a work vector");
    }
    lapack_int info = LAPACKE_dgelsd(LAPACK_ROW_MAJOR, (lapack_int)m, (lapack_int)n, 1, res[2]->data,
                                     (lapack_int)n, z, 1, res[1]->data, rcond, &r);
    fl_free(z, mx * sizeof(double));
    if (info != 0) {
      release_all(res, 4);
      return fl_fail(FL_ENOTCONV, "lstsq: the SVD did not converge (LAPACK dgelsd info %d)", (int)info);
    }
  }
  fl_array_release(res[2]);
  fl_array_release(res[3]);
  if (rank) *rank = (int)r;
  if (sv)
    *sv = res[1];
  else
    fl_array_release(res[1]);
  *x = res[0];
  return FL_OK;
}

/* LU of A: the diagonal of U and the permutation sign. *singular when a pivot is exactly 0. */
static fl_status lu_diag(const fl_array *A, const char *fn, fl_array **lu, double *sign, int *singular)
{
  *lu = NULL;
  fl_status st = check_matrix(A, fn, 1);
  if (st) return st;
  size_t n = A->shape[0];
  if ((st = fl_array_copy(A, lu))) return st;
  *sign = 1;
  *singular = 0;
  if (n == 0) return FL_OK;
  lapack_int *ipiv = malloc(n * sizeof *ipiv);
  if (!ipiv) {
    fl_array_release(*lu);
    *lu = NULL;
    return fl_fail(FL_ENOMEM, "%s: cannot allocate pivots", fn);
  }
  lapack_int info = LAPACKE_dgetrf(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)n, (*lu)->data, (lapack_int)n, ipiv);
  for (size_t i = 0; i < n; i++)
    if (ipiv[i] != (lapack_int)(i + 1)) *sign = -*sign;
  free(ipiv);
  if (info < 0) {
    fl_array_release(*lu);
    *lu = NULL;
    return fl_fail(FL_EINVAL, "%s: LAPACK dgetrf rejected argument %d", fn, (int)-info);
  }
  *singular = info > 0;
  return FL_OK;
}

fl_status fl_array_det(const fl_array *A, double *out)
{
  fl_array *lu;
  double sign;
  int singular;
  fl_status st = lu_diag(A, "det", &lu, &sign, &singular);
  if (st) return st;
  size_t n = A->shape[0];
  double d = sign;
  if (singular)
    d = 0;
  else
    for (size_t i = 0; i < n; i++) d *= lu->data[i * n + i];
  fl_array_release(lu);
  *out = d;
  return FL_OK;
}

fl_status fl_array_logdet(const fl_array *A, double *sign, double *logabs)
{
  fl_array *lu;
  double sg;
  int singular;
  fl_status st = lu_diag(A, "logdet", &lu, &sg, &singular);
  if (st) return st;
  size_t n = A->shape[0];
  double la = 0;
  if (singular) {
    sg = 0;
    la = -INFINITY;
  } else {
    for (size_t i = 0; i < n; i++) {
      double u = lu->data[i * n + i];
      if (u < 0) sg = -sg;
      la += log(fabs(u));
    }
  }
  fl_array_release(lu);
  *sign = sg;
  *logabs = la;
  return FL_OK;
}
