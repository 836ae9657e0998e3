/* fl_array: ref-counted dense n-d arrays of double, row-major (C order).
 *
 * Every array is contiguous. A view (a row a[i], a reshape) shares the data of
 * its owner and holds a reference to it; anything that would not be contiguous
 * (a column, a strided slice, a transpose) is a copy.
 *
 * Functions that make an array return it through `fl_array **out` with one
 * reference owned by the caller (release it with fl_array_release). On failure
 * they return a status, set the detail (fl_last_detail) and leave *out NULL.
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_ARRAY_H
#define FL_ARRAY_H

#include <stddef.h>
#include <stdint.h>
#include "fl_core.h"

#define FL_MAXDIM 8

typedef struct fl_array {
  int refcount;
  int ndim;                  /* 1 .. FL_MAXDIM */
  size_t shape[FL_MAXDIM];   /* entries beyond ndim are 1 */
  size_t size;               /* product of shape[0..ndim) */
  double *data;
  size_t nbytes;             /* bytes allocated (0 for a view) */
  struct fl_array *base;     /* owner when this is a view, else NULL */
} fl_array;

/* ---- life cycle ---- */
/* Uninitialised data. ndim 1..FL_MAXDIM; a zero extent is allowed (empty array). */
fl_status fl_array_new(int ndim, const size_t *shape, fl_array **out);
fl_status fl_array_zeros(int ndim, const size_t *shape, fl_array **out);
fl_status fl_array_full(int ndim, const size_t *shape, double value, fl_array **out);
/* New 1-D or 2-D array copying n (or rows*cols) doubles. */
fl_status fl_array_from_data(int ndim, const size_t *shape, const double *data, fl_array **out);
fl_array *fl_array_retain(fl_array *a);
void fl_array_release(fl_array *a);
fl_status fl_array_copy(const fl_array *a, fl_array **out);
int fl_array_same_shape(const fl_array *a, const fl_array *b);
/* "(2,3)" into buf (always NUL-terminated); returns buf. */
const char *fl_array_shape_str(const fl_array *a, char *buf, size_t len);
const char *fl_shape_str(int ndim, const size_t *shape, char *buf, size_t len);

/* ---- constructors ---- */
fl_status fl_array_linspace(double a, double b, size_t n, fl_array **out);
/* start, start+step, ... while < stop (step > 0) or > stop (step < 0). */
fl_status fl_array_arange(double start, double stop, double step, fl_array **out);
fl_status fl_array_eye(size_t n, size_t m, fl_array **out);
/* n 1-D arrays of lengths l1..ln -> n arrays of shape (l1, ..., ln), "ij" indexing
 * (out[k][i1..in] = in[k][ik]). out must have room for n pointers. */
fl_status fl_array_meshgrid(int n, const fl_array *const *in, fl_array **out);
/* Counter-based: element k (row-major) is fl_rng_normal/uniform(seed, stream, k). */
fl_status fl_array_randn(int ndim, const size_t *shape, uint64_t seed, uint64_t stream, fl_array **out);
fl_status fl_array_rand(int ndim, const size_t *shape, uint64_t seed, uint64_t stream, fl_array **out);

/* ---- views and copies (indices 0-based here; the bindings add 1) ---- */
/* View of a[i] for ndim >= 2 (shape a.shape[1:]). */
fl_status fl_array_row(fl_array *a, size_t i, fl_array **out);
/* View with a new shape of the same size. */
fl_status fl_array_reshape(fl_array *a, int ndim, const size_t *shape, fl_array **out);
/* Copy of column j of a 2-D array (length shape[0]). */
fl_status fl_array_col(const fl_array *a, size_t j, fl_array **out);
/* Copy of a strided slice: for each axis k < n, indices start[k], start[k]+step[k], ...
 * strictly before stop[k] (step > 0) or after it (step < 0). Axes >= n are taken whole. */
typedef struct fl_range { long long start, stop, step; } fl_range;
fl_status fl_array_slice(const fl_array *a, int n, const fl_range *r, fl_array **out);
/* Reverse the axes (2-D: the transpose). A copy. */
fl_status fl_array_transpose(const fl_array *a, fl_array **out);
/* Join along an existing axis (concat) or a new one (stack). */
fl_status fl_array_concat(int n, const fl_array *const *in, int axis, fl_array **out);
fl_status fl_array_stack(int n, const fl_array *const *in, int axis, fl_array **out);

/* ---- element-wise ---- */
typedef enum fl_binop { FL_ADD, FL_SUB, FL_MUL, FL_DIV, FL_POW } fl_binop;
/* numpy broadcasting: shapes aligned at the right, extents equal or 1. */
fl_status fl_array_binop(fl_binop op, const fl_array *a, const fl_array *b, fl_array **out);
/* a op s (scalar_first = 0) or s op a (scalar_first = 1). */
fl_status fl_array_binop_scalar(fl_binop op, const fl_array *a, double s, int scalar_first, fl_array **out);
typedef enum fl_unop {
  FL_NEG, FL_EXP, FL_LOG, FL_SQRT, FL_ABS, FL_SIN, FL_COS, FL_TANH
} fl_unop;
fl_status fl_array_map(fl_unop op, const fl_array *a, fl_array **out);
/* Shape of the broadcast of a and b into out_shape/out_ndim; FL_EDIM if they do not broadcast. */
fl_status fl_broadcast_shape(const fl_array *a, const fl_array *b, int *out_ndim, size_t *out_shape);

/* ---- reductions ---- */
typedef enum fl_redop { FL_SUM, FL_MEAN, FL_STD, FL_MIN, FL_MAX, FL_NORM, FL_ARGMAX, FL_ARGMIN } fl_redop;
/* Over all elements. ARGMAX/ARGMIN give the 0-based flat index as a double.
 * MIN/MAX/ARG* of an empty array: FL_EINVAL. STD is the population std (ddof 0). */
fl_status fl_array_reduce_all(fl_redop op, const fl_array *a, double *out);
/* Along one axis (0-based); the result drops that axis (a 1-D input gives shape (1)). */
fl_status fl_array_reduce(fl_redop op, const fl_array *a, int axis, fl_array **out);

/* ---- BLAS ---- */
/* 2-D x 2-D (dgemm), 2-D x 1-D (dgemv, result 1-D), 1-D x 2-D (result 1-D), 1-D x 1-D (result shape (1)). */
fl_status fl_array_matmul(const fl_array *a, const fl_array *b, fl_array **out);
/* Sum of a[k]*b[k] over all elements; sizes must agree. */
fl_status fl_array_dot(const fl_array *a, const fl_array *b, double *out);

/* ---- LAPACK (fl_array_linalg.c) ---- */
/* A x = B with A n-by-n, B of shape (n) or (n, k). FL_ESINGULAR when A is singular. */
fl_status fl_array_solve(const fl_array *A, const fl_array *B, fl_array **out);
/* Lower factor L with A = L L^T. FL_ESINGULAR when not positive definite, FL_ENAN on NaN/Inf. */
fl_status fl_array_cholesky(const fl_array *A, fl_array **out);
/* Symmetric eigen-decomposition: ascending eigenvalues w (n), eigenvectors as columns of V (n x n). */
fl_status fl_array_eigh(const fl_array *A, fl_array **w, fl_array **V);
/* Thin SVD A = U diag(S) Vt: A m x n, k = min(m,n): U m x k, S (k), Vt k x n. */
fl_status fl_array_svd(const fl_array *A, fl_array **U, fl_array **S, fl_array **Vt);
/* Least squares min ||A x - B||: A m x n, B (m) or (m, k); x (n) or (n, k).
 * rank (may be NULL) gets the effective rank, sv (may be NULL) the singular values. */
fl_status fl_array_lstsq(const fl_array *A, const fl_array *B, double rcond,
                         fl_array **x, int *rank, fl_array **sv);
fl_status fl_array_det(const fl_array *A, double *out);
/* log|det A| and the sign (+1, -1, or 0 with logabs = -inf for a singular A). */
fl_status fl_array_logdet(const fl_array *A, double *sign, double *logabs);

/* ---- I/O (fl_array_io.c) ---- */
/* .npy: reads <f8 >f8 <f4 <i8 <i4 <i2 <i1 <u1 |b1 in C order (fortran_order False), versions 1-3;
 * writes <f8 version 1.0. Malformed or truncated files: FL_EFORMAT naming the problem. */
fl_status fl_array_load_npy(const char *path, fl_array **out);
fl_status fl_array_save_npy(const char *path, const fl_array *a);
/* CSV of numbers, one row per line, comma separated. header: -1 detect (a first row
 * with a non-numeric cell is a header), 0 none, 1 present. The header names, when there
 * is a header, go to *names (a malloc'd array of *nnames malloc'd strings, free with
 * fl_csv_names_free); names may be NULL. A ragged row or a non-numeric cell:
 * FL_EFORMAT with line and column. The result is 2-D (rows, cols). */
fl_status fl_array_load_csv(const char *path, int header, char ***names, size_t *nnames, fl_array **out);
void fl_csv_names_free(char **names, size_t n);
/* 1-D arrays are written as one column; 2-D as rows; header (may be NULL) is written as is. */
fl_status fl_array_save_csv(const char *path, const fl_array *a, const char *header);

#endif
