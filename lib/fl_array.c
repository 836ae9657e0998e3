#include "config.h"
#include "fl_array.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ life cycle */

static fl_status check_shape(int ndim, const size_t *shape, size_t *size)
{
  if (ndim < 1 || ndim > FL_MAXDIM)
    return fl_fail(FL_EDIM, "an array has 1 to %d dimensions, not %d", FL_MAXDIM, ndim);
  size_t n = 1;
  for (int k = 0; k < ndim; k++)
    if (fl_mul_overflow(n, shape[k], &n))
      return fl_fail(FL_ENOMEM, "array size overflows");
  size_t bytes;
  if (fl_mul_overflow(n, sizeof(double), &bytes))
    return fl_fail(FL_ENOMEM, "array size overflows");
  *size = n;
  return FL_OK;
}

fl_status fl_array_new(int ndim, const size_t *shape, fl_array **out)
{
  *out = NULL;
  size_t size;
  fl_status st = check_shape(ndim, shape, &size);
  if (st) return st;
  fl_array *a = calloc(1, sizeof *a);
  if (!a) return fl_fail(FL_ENOMEM, "cannot allocate an array header");
  a->nbytes = size * sizeof(double);
  a->data = fl_alloc(a->nbytes);
  if (!a->data) {
    free(a);
    char buf[128];
    return fl_fail(FL_ENOMEM, "cannot allocate %zu bytes for shape %s", size * sizeof(double),
                   fl_shape_str(ndim, shape, buf, sizeof buf));
  }
  a->refcount = 1;
  a->ndim = ndim;
  for (int k = 0; k < FL_MAXDIM; k++) a->shape[k] = k < ndim ? shape[k] : 1;
  a->size = size;
  *out = a;
  return FL_OK;
}

fl_status fl_array_zeros(int ndim, const size_t *shape, fl_array **out)
{
  fl_status st = fl_array_new(ndim, shape, out);
  if (st == FL_OK && (*out)->size) memset((*out)->data, 0, (*out)->size * sizeof(double));
  return st;
}

fl_status fl_array_full(int ndim, const size_t *shape, double value, fl_array **out)
{
  fl_status st = fl_array_new(ndim, shape, out);
  if (st) return st;
  double *d = (*out)->data;
  for (size_t i = 0; i < (*out)->size; i++) d[i] = value;
  return FL_OK;
}

fl_status fl_array_from_data(int ndim, const size_t *shape, const double *data, fl_array **out)
{
  fl_status st = fl_array_new(ndim, shape, out);
  if (st == FL_OK && (*out)->size) memcpy((*out)->data, data, (*out)->size * sizeof(double));
  return st;
}

fl_array *fl_array_retain(fl_array *a)
{
  if (a) a->refcount++;
  return a;
}

void fl_array_release(fl_array *a)
{
  while (a && --a->refcount == 0) {
    fl_array *base = a->base;
    if (!base) fl_free(a->data, a->nbytes);
    free(a);
    a = base; /* a view holds one reference to its owner */
  }
}

fl_status fl_array_copy(const fl_array *a, fl_array **out)
{
  return fl_array_from_data(a->ndim, a->shape, a->data, out);
}

int fl_array_same_shape(const fl_array *a, const fl_array *b)
{
  if (a->ndim != b->ndim) return 0;
  for (int k = 0; k < a->ndim; k++)
    if (a->shape[k] != b->shape[k]) return 0;
  return 1;
}

const char *fl_shape_str(int ndim, const size_t *shape, char *buf, size_t len)
{
  size_t pos = 0;
  if (len == 0) return buf;
  buf[0] = '\0';
  pos += (size_t)snprintf(buf + pos, len - pos, "(");
  for (int k = 0; k < ndim && pos < len; k++)
    pos += (size_t)snprintf(buf + pos, len - pos, k ? ",%zu" : "%zu", shape[k]);
  if (pos < len) snprintf(buf + pos, len - pos, ")");
  return buf;
}

const char *fl_array_shape_str(const fl_array *a, char *buf, size_t len)
{
  return fl_shape_str(a->ndim, a->shape, buf, len);
}

/* A view of `size` elements of owner's data starting at `data`. */
static fl_status make_view(fl_array *owner, double *data, int ndim, const size_t *shape, fl_array **out)
{
  *out = NULL;
  fl_array *v = calloc(1, sizeof *v);
  if (!v) return fl_fail(FL_ENOMEM, "cannot allocate an array header");
  while (owner->base) owner = owner->base;
  v->refcount = 1;
  v->ndim = ndim;
  v->size = 1;
  for (int k = 0; k < FL_MAXDIM; k++) {
    v->shape[k] = k < ndim ? shape[k] : 1;
    if (k < ndim) v->size *= shape[k];
  }
  v->data = data;
  v->nbytes = 0;
  v->base = fl_array_retain(owner);
  *out = v;
  return FL_OK;
}

fl_status fl_array_row(fl_array *a, size_t i, fl_array **out)
{
  *out = NULL;
  if (a->ndim < 2) return fl_fail(FL_EDIM, "a row view needs at least 2 dimensions, not %d", a->ndim);
  if (i >= a->shape[0])
    return fl_fail(FL_ERANGE, "row index %zu out of range 1..%zu", i + 1, a->shape[0]);
  size_t stride = a->size / (a->shape[0] ? a->shape[0] : 1);
  return make_view(a, a->data + i * stride, a->ndim - 1, a->shape + 1, out);
}

fl_status fl_array_reshape(fl_array *a, int ndim, const size_t *shape, fl_array **out)
{
  *out = NULL;
  size_t size;
  fl_status st = check_shape(ndim, shape, &size);
  if (st) return st;
  if (size != a->size) {
    char b1[128], b2[128];
    return fl_fail(FL_EDIM, "cannot reshape %s (%zu elements) to %s (%zu elements)",
                   fl_array_shape_str(a, b1, sizeof b1), a->size,
                   fl_shape_str(ndim, shape, b2, sizeof b2), size);
  }
  return make_view(a, a->data, ndim, shape, out);
}

/* ------------------------------------------------------------ helpers */

#include <float.h>
#include <limits.h>
#include <cblas.h>
#include "fl_rng.h"

/* Parallel loops are FL_PFOR_IF (fl_core.h): OpenMP is optional at build
 * time, and a loop under its threshold enters no parallel region. */
#define FL_PAR_MIN ((size_t)1 << 15)

#define SHAPE_BUF 200

static size_t prod(const size_t *shape, int from, int to)
{
  size_t p = 1;
  for (int k = from; k < to; k++) p *= shape[k];
  return p;
}

/* ------------------------------------------------------------ constructors */

fl_status fl_array_linspace(double a, double b, size_t n, fl_array **out)
{
  *out = NULL;
  if (n < 1) return fl_fail(FL_EINVAL, "linspace needs at least 1 point, not %zu", n);
  if (!isfinite(a) || !isfinite(b))
    return fl_fail(FL_ENAN, "linspace end points must be finite (got %g and %g)", a, b);
  fl_status st = fl_array_new(1, &n, out);
  if (st) return st;
  double *d = (*out)->data;
  if (n == 1) {
    d[0] = a;
    return FL_OK;
  }
  double step = (b - a) / (double)(n - 1);
  for (size_t i = 0; i < n; i++) d[i] = a + (double)i * step;
  d[n - 1] = b;
  return FL_OK;
}

fl_status fl_array_arange(double start, double stop, double step, fl_array **out)
{
  *out = NULL;
  if (!isfinite(start) || !isfinite(stop) || !isfinite(step))
    return fl_fail(FL_ENAN, "arange arguments must be finite (start %g, stop %g, step %g)", start, stop, step);
  if (step == 0) return fl_fail(FL_EINVAL, "arange step must not be zero");
  double c = ceil((stop - start) / step);
  if (!(c <= 1e9))
    return fl_fail(FL_ERANGE, "arange(%g, %g, %g) would have %.0f elements (more than 1e9)", start, stop,
                   step, c);
  size_t n = c > 0 ? (size_t)c : 0;
  fl_status st = fl_array_new(1, &n, out);
  if (st) return st;
  double *d = (*out)->data;
  for (size_t i = 0; i < n; i++) d[i] = start + (double)i * step;
  return FL_OK;
}

fl_status fl_array_eye(size_t n, size_t m, fl_array **out)
{
  size_t shape[2] = {n, m};
  fl_status st = fl_array_zeros(2, shape, out);
  if (st) return st;
  size_t k = n < m ? n : m;
  for (size_t i = 0; i < k; i++) (*out)->data[i * m + i] = 1.0;
  return FL_OK;
}

fl_status fl_array_meshgrid(int n, const fl_array *const *in, fl_array **out)
{
  if (n < 1 || n > FL_MAXDIM) return fl_fail(FL_EDIM, "meshgrid takes 1 to %d arrays, not %d", FL_MAXDIM, n);
  for (int k = 0; k < n; k++) out[k] = NULL;
  size_t shape[FL_MAXDIM];
  for (int k = 0; k < n; k++) {
    if (in[k]->ndim != 1) {
      char b[SHAPE_BUF];
      return fl_fail(FL_EDIM, "meshgrid needs 1-D arrays, but argument %d has shape %s", k + 1,
                     fl_array_shape_str(in[k], b, sizeof b));
    }
    shape[k] = in[k]->shape[0];
  }
  for (int k = 0; k < n; k++) {
    fl_status st = fl_array_new(n, shape, &out[k]);
    if (st) {
      for (int j = 0; j < k; j++) {
        fl_array_release(out[j]);
        out[j] = NULL;
      }
      return st;
    }
    size_t outer = prod(shape, 0, k), len = shape[k], inner = prod(shape, k + 1, n);
    const double *src = in[k]->data;
    double *d = out[k]->data;
    for (size_t o = 0; o < outer; o++)
      for (size_t i = 0; i < len; i++) {
        double v = src[i];
        for (size_t j = 0; j < inner; j++) *d++ = v;
      }
  }
  return FL_OK;
}

fl_status fl_array_randn(int ndim, const size_t *shape, uint64_t seed, uint64_t stream, fl_array **out)
{
  fl_status st = fl_array_new(ndim, shape, out);
  if (st) return st;
  fl_rng_fill_normal(seed, stream, 0, (*out)->size, (*out)->data);
  return FL_OK;
}

fl_status fl_array_rand(int ndim, const size_t *shape, uint64_t seed, uint64_t stream, fl_array **out)
{
  fl_status st = fl_array_new(ndim, shape, out);
  if (st) return st;
  fl_rng_fill_uniform(seed, stream, 0, (*out)->size, (*out)->data);
  return FL_OK;
}

/* ------------------------------------------------------------ views and copies */

fl_status fl_array_col(const fl_array *a, size_t j, fl_array **out)
{
  *out = NULL;
  char b[SHAPE_BUF];
  if (a->ndim != 2)
    return fl_fail(FL_EDIM, "a column needs a 2-D array, not shape %s", fl_array_shape_str(a, b, sizeof b));
  size_t n = a->shape[0], m = a->shape[1];
  if (j >= m)
    return fl_fail(FL_ERANGE, "column index %zu out of range 1..%zu for shape %s", j + 1, m,
                   fl_array_shape_str(a, b, sizeof b));
  fl_status st = fl_array_new(1, &n, out);
  if (st) return st;
  for (size_t i = 0; i < n; i++) (*out)->data[i] = a->data[i * m + j];
  return FL_OK;
}

/* dst (contiguous, shape[0..nd)) <- src at element strides stride[0..nd). */
static void gather(double *dst, const double *src, int nd, const size_t *shape, const ptrdiff_t *stride)
{
  size_t total = prod(shape, 0, nd);
  if (total == 0) return;
  size_t inner = shape[nd - 1];
  ptrdiff_t is = stride[nd - 1];
  size_t nouter = total / inner;
  size_t idx[FL_MAXDIM] = {0};
  ptrdiff_t off = 0;
  for (size_t o = 0; o < nouter; o++) {
    const double *s = src + off;
    if (is == 1)
      memcpy(dst, s, inner * sizeof(double));
    else
      for (size_t i = 0; i < inner; i++) dst[i] = s[(ptrdiff_t)i * is];
    dst += inner;
    for (int k = nd - 2; k >= 0; k--) {
      off += stride[k];
      if (++idx[k] < shape[k]) break;
      off -= (ptrdiff_t)shape[k] * stride[k];
      idx[k] = 0;
    }
  }
}

static void row_strides(const fl_array *a, ptrdiff_t *stride)
{
  ptrdiff_t s = 1;
  for (int k = a->ndim - 1; k >= 0; k--) {
    stride[k] = s;
    s *= (ptrdiff_t)a->shape[k];
  }
}

fl_status fl_array_slice(const fl_array *a, int n, const fl_range *r, fl_array **out)
{
  *out = NULL;
  char b[SHAPE_BUF];
  if (n < 0 || n > a->ndim)
    return fl_fail(FL_ERANGE, "slice of %d axes for an array of shape %s (%d dimensions)", n,
                   fl_array_shape_str(a, b, sizeof b), a->ndim);
  ptrdiff_t astr[FL_MAXDIM], stride[FL_MAXDIM];
  size_t shape[FL_MAXDIM];
  row_strides(a, astr);
  ptrdiff_t off = 0;
  for (int k = 0; k < a->ndim; k++) {
    if (k >= n) {
      shape[k] = a->shape[k];
      stride[k] = astr[k];
      continue;
    }
    long long start = r[k].start, stop = r[k].stop, step = r[k].step;
    long long ext = (long long)a->shape[k];
    if (step == 0) return fl_fail(FL_EINVAL, "slice step must not be zero (axis %d)", k + 1);
    /* count = ceil(|stop - start| / |step|) when stop lies in the direction of step */
    unsigned long long cnt = 0;
    unsigned long long astep = step > 0 ? (unsigned long long)step : (unsigned long long)(-(step + 1)) + 1;
    unsigned long long dist = 0;
    if (step > 0 && stop > start)
      dist = (unsigned long long)stop - (unsigned long long)start;
    else if (step < 0 && start > stop)
      dist = (unsigned long long)start - (unsigned long long)stop;
    cnt = dist / astep + (dist % astep != 0);
    if (cnt > 0) {
      long long last = start + (long long)(cnt - 1) * step;
      if (start < 0 || start >= ext || last < 0 || last >= ext)
        return fl_fail(FL_ERANGE, "slice %lld:%lld:%lld (0-based) out of range for axis %d of extent %lld",
                       start, stop, step, k + 1, ext);
      off += (ptrdiff_t)start * astr[k];
    }
    shape[k] = (size_t)cnt;
    stride[k] = cnt > 1 ? (ptrdiff_t)step * astr[k] : 0; /* the stride of a single index is unused */
  }
  fl_status st = fl_array_new(a->ndim, shape, out);
  if (st) return st;
  if ((*out)->size) gather((*out)->data, a->data + off, a->ndim, shape, stride);
  return FL_OK;
}

fl_status fl_array_transpose(const fl_array *a, fl_array **out)
{
  int nd = a->ndim;
  size_t shape[FL_MAXDIM];
  ptrdiff_t astr[FL_MAXDIM], stride[FL_MAXDIM];
  row_strides(a, astr);
  for (int k = 0; k < nd; k++) {
    shape[k] = a->shape[nd - 1 - k];
    stride[k] = astr[nd - 1 - k];
  }
  fl_status st = fl_array_new(nd, shape, out);
  if (st) return st;
  if (!a->size) return FL_OK;
  if (nd == 2) {
    /* blocked, so that both the reads and the writes stay in cache */
    size_t n = a->shape[0], m = a->shape[1];
    const size_t B = 32;
    const double *s = a->data;
    double *d = (*out)->data;
    FL_PFOR_IF(a->size > FL_PAR_MIN,
    for (size_t i0 = 0; i0 < n; i0 += B)
      for (size_t j0 = 0; j0 < m; j0 += B) {
        size_t i1 = i0 + B < n ? i0 + B : n, j1 = j0 + B < m ? j0 + B : m;
        for (size_t i = i0; i < i1; i++)
          for (size_t j = j0; j < j1; j++) d[j * n + i] = s[i * m + j];
      });
    return FL_OK;
  }
  gather((*out)->data, a->data, nd, shape, stride);
  return FL_OK;
}

fl_status fl_array_concat(int n, const fl_array *const *in, int axis, fl_array **out)
{
  *out = NULL;
  char b1[SHAPE_BUF], b2[SHAPE_BUF];
  if (n < 1) return fl_fail(FL_EINVAL, "concat needs at least one array");
  int nd = in[0]->ndim;
  if (axis < 0 || axis >= nd)
    return fl_fail(FL_ERANGE, "concat axis %d out of range for %d-D arrays (0-based 0..%d)", axis, nd, nd - 1);
  size_t shape[FL_MAXDIM];
  for (int k = 0; k < nd; k++) shape[k] = in[0]->shape[k];
  shape[axis] = 0;
  for (int i = 0; i < n; i++) {
    const fl_array *x = in[i];
    int ok = x->ndim == nd;
    for (int k = 0; ok && k < nd; k++)
      if (k != axis && x->shape[k] != in[0]->shape[k]) ok = 0;
    if (!ok)
      return fl_fail(FL_EDIM,
                     "concat along axis %d: array %d has shape %s but array 1 has shape %s (all extents "
                     "except along the axis must match)",
                     axis + 1, i + 1, fl_array_shape_str(x, b1, sizeof b1),
                     fl_array_shape_str(in[0], b2, sizeof b2));
    shape[axis] += x->shape[axis];
  }
  fl_status st = fl_array_new(nd, shape, out);
  if (st) return st;
  size_t outer = prod(shape, 0, axis), inner = prod(shape, axis + 1, nd);
  double *d = (*out)->data;
  for (size_t o = 0; o < outer; o++)
    for (int i = 0; i < n; i++) {
      size_t chunk = in[i]->shape[axis] * inner;
      if (chunk) memcpy(d, in[i]->data + o * chunk, chunk * sizeof(double));
      d += chunk;
    }
  return FL_OK;
}

fl_status fl_array_stack(int n, const fl_array *const *in, int axis, fl_array **out)
{
  *out = NULL;
  char b1[SHAPE_BUF], b2[SHAPE_BUF];
  if (n < 1) return fl_fail(FL_EINVAL, "stack needs at least one array");
  int nd = in[0]->ndim;
  if (nd + 1 > FL_MAXDIM)
    return fl_fail(FL_EDIM, "stack of %d-D arrays would exceed %d dimensions", nd, FL_MAXDIM);
  if (axis < 0 || axis > nd)
    return fl_fail(FL_ERANGE, "stack axis %d out of range for %d-D arrays (0-based 0..%d)", axis, nd, nd);
  for (int i = 1; i < n; i++)
    if (!fl_array_same_shape(in[i], in[0]))
      return fl_fail(FL_EDIM, "stack needs arrays of equal shape, but array %d has shape %s and array 1 %s",
                     i + 1, fl_array_shape_str(in[i], b1, sizeof b1), fl_array_shape_str(in[0], b2, sizeof b2));
  size_t shape[FL_MAXDIM];
  for (int k = 0, j = 0; k <= nd; k++) shape[k] = k == axis ? (size_t)n : in[0]->shape[j++];
  fl_status st = fl_array_new(nd + 1, shape, out);
  if (st) return st;
  size_t outer = prod(in[0]->shape, 0, axis), chunk = prod(in[0]->shape, axis, nd);
  double *d = (*out)->data;
  if (chunk)
    for (size_t o = 0; o < outer; o++)
      for (int i = 0; i < n; i++) {
        memcpy(d, in[i]->data + o * chunk, chunk * sizeof(double));
        d += chunk;
      }
  return FL_OK;
}

/* ------------------------------------------------------------ element-wise */

fl_status fl_broadcast_shape(const fl_array *a, const fl_array *b, int *out_ndim, size_t *out_shape)
{
  int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
  for (int k = 0; k < nd; k++) {
    int ka = k - (nd - a->ndim), kb = k - (nd - b->ndim);
    size_t ea = ka >= 0 ? a->shape[ka] : 1, eb = kb >= 0 ? b->shape[kb] : 1;
    if (ea == eb || eb == 1)
      out_shape[k] = ea;
    else if (ea == 1)
      out_shape[k] = eb;
    else {
      char b1[SHAPE_BUF], b2[SHAPE_BUF];
      return fl_fail(FL_EDIM, "operands could not be broadcast together with shapes %s %s",
                     fl_array_shape_str(a, b1, sizeof b1), fl_array_shape_str(b, b2, sizeof b2));
    }
  }
  for (int k = nd; k < FL_MAXDIM; k++) out_shape[k] = 1;
  *out_ndim = nd;
  return FL_OK;
}

#define OP_ADD(x, y) ((x) + (y))
#define OP_SUB(x, y) ((x) - (y))
#define OP_MUL(x, y) ((x) * (y))
#define OP_DIV(x, y) ((x) / (y))
#define OP_POW(x, y) pow((x), (y))
#define DISPATCH(op, BODY)                                                                             \
  switch (op) {                                                                                        \
  case FL_ADD: BODY(OP_ADD); break;                                                                    \
  case FL_SUB: BODY(OP_SUB); break;                                                                    \
  case FL_MUL: BODY(OP_MUL); break;                                                                    \
  case FL_DIV: BODY(OP_DIV); break;                                                                    \
  case FL_POW: BODY(OP_POW); break;                                                                    \
  }

/* z[i] = x[i] op y[i] */
static void binop_same(fl_binop op, size_t n, const double *x, const double *y, double *z)
{
#define BODY(F)                                                                                        \
  FL_PFOR_IF(n > FL_PAR_MIN,                                                                              \
  for (size_t i = 0; i < n; i++) z[i] = F(x[i], y[i]););
  DISPATCH(op, BODY)
#undef BODY
}

/* z[i] = x[i] op s, or s op x[i] */
static void binop_scal(fl_binop op, size_t n, const double *x, double s, int sfirst, double *z)
{
#define BODY(F)                                                                                        \
  if (sfirst) {                                                                                        \
    FL_PFOR_IF(n > FL_PAR_MIN,                                                                            \
    for (size_t i = 0; i < n; i++) z[i] = F(s, x[i]););                                                  \
  } else {                                                                                             \
    FL_PFOR_IF(n > FL_PAR_MIN,                                                                            \
    for (size_t i = 0; i < n; i++) z[i] = F(x[i], s););                                                  \
  }
  DISPATCH(op, BODY)
#undef BODY
}

/* z[i*m + j] = x[i*m + j] op y[j] (yfirst = 0) or y[j] op x[i*m + j] (yfirst = 1), i < rows. */
static void binop_rows(fl_binop op, size_t rows, size_t m, const double *x, const double *y, int yfirst,
                       double *z)
{
  size_t n = rows * m;
#define BODY(F)                                                                                        \
  if (yfirst) {                                                                                        \
    FL_PFOR_IF(n > FL_PAR_MIN,                                                                            \
    for (size_t i = 0; i < rows; i++) {                                                                \
      const double *xi = x + i * m;                                                                    \
      double *zi = z + i * m;                                                                          \
      for (size_t j = 0; j < m; j++) zi[j] = F(y[j], xi[j]);                                           \
    });                                                                                                  \
  } else {                                                                                             \
    FL_PFOR_IF(n > FL_PAR_MIN,                                                                            \
    for (size_t i = 0; i < rows; i++) {                                                                \
      const double *xi = x + i * m;                                                                    \
      double *zi = z + i * m;                                                                          \
      for (size_t j = 0; j < m; j++) zi[j] = F(xi[j], y[j]);                                           \
    });                                                                                                  \
  }
  DISPATCH(op, BODY)
#undef BODY
}

/* General broadcasting: nd axes of extents shape, element strides sa/sb (0 on broadcast axes). */
static void binop_general(fl_binop op, int nd, const size_t *shape, const ptrdiff_t *sa, const ptrdiff_t *sb,
                          const double *x, const double *y, double *z)
{
  size_t inner = shape[nd - 1];
  size_t nouter = prod(shape, 0, nd - 1);
  ptrdiff_t ia = sa[nd - 1], ib = sb[nd - 1];
  size_t n = nouter * inner;
#define BODY(F)                                                                                        \
  FL_PFOR_IF(n > FL_PAR_MIN && nouter > 1,                                                                \
  for (size_t o = 0; o < nouter; o++) {                                                                \
    ptrdiff_t oa = 0, ob = 0;                                                                          \
    size_t r = o;                                                                                      \
    for (int k = nd - 2; k >= 0; k--) {                                                                \
      size_t ik = r % shape[k];                                                                        \
      r /= shape[k];                                                                                   \
      oa += (ptrdiff_t)ik * sa[k];                                                                     \
      ob += (ptrdiff_t)ik * sb[k];                                                                     \
    }                                                                                                  \
    const double *xo = x + oa, *yo = y + ob;                                                           \
    double *zo = z + o * inner;                                                                        \
    if (ia == 1 && ib == 1)                                                                            \
      for (size_t i = 0; i < inner; i++) zo[i] = F(xo[i], yo[i]);                                      \
    else if (ia == 0 && ib == 1)                                                                       \
      for (size_t i = 0; i < inner; i++) zo[i] = F(xo[0], yo[i]);                                      \
    else if (ia == 1 && ib == 0)                                                                       \
      for (size_t i = 0; i < inner; i++) zo[i] = F(xo[i], yo[0]);                                      \
    else                                                                                               \
      for (size_t i = 0; i < inner; i++) zo[i] = F(xo[0], yo[0]);                                      \
  });
  DISPATCH(op, BODY)
#undef BODY
}

/* 1 if x (leading 1s stripped) equals the trailing axes of the out shape, so that x repeats
 * every x->size elements of the output; else 0. */
static int is_trailing(const fl_array *x, int nd, const size_t *shape)
{
  int lead = 0;
  while (lead < x->ndim - 1 && x->shape[lead] == 1) lead++;
  int len = x->ndim - lead;
  if (len > nd) return 0;
  for (int k = 0; k < len; k++)
    if (x->shape[lead + k] != shape[nd - len + k]) return 0;
  return 1;
}

static fl_status check_binop(fl_binop op)
{
  if ((unsigned)op > (unsigned)FL_POW) return fl_fail(FL_EINVAL, "unknown element-wise operation %d", (int)op);
  return FL_OK;
}

fl_status fl_array_binop(fl_binop op, const fl_array *a, const fl_array *b, fl_array **out)
{
  *out = NULL;
  if (check_binop(op)) return FL_EINVAL;
  int nd;
  size_t shape[FL_MAXDIM];
  fl_status st = fl_broadcast_shape(a, b, &nd, shape);
  if (st) return st;
  st = fl_array_new(nd, shape, out);
  if (st) return st;
  fl_array *z = *out;
  size_t n = z->size;
  if (n == 0) return FL_OK;
  if (a->size == n && b->size == n) {
    binop_same(op, n, a->data, b->data, z->data);
  } else if (a->size == n && b->size == 1) {
    binop_scal(op, n, a->data, b->data[0], 0, z->data);
  } else if (b->size == n && a->size == 1) {
    binop_scal(op, n, b->data, a->data[0], 1, z->data);
  } else if (a->size == n && is_trailing(b, nd, shape)) {
    binop_rows(op, n / b->size, b->size, a->data, b->data, 0, z->data);
  } else if (b->size == n && is_trailing(a, nd, shape)) {
    binop_rows(op, n / a->size, a->size, b->data, a->data, 1, z->data);
  } else {
    /* strides of a and b over the out axes, 0 where broadcast */
    ptrdiff_t sa[FL_MAXDIM], sb[FL_MAXDIM], ra[FL_MAXDIM], rb[FL_MAXDIM];
    row_strides(a, ra);
    row_strides(b, rb);
    for (int k = 0; k < nd; k++) {
      int ka = k - (nd - a->ndim), kb = k - (nd - b->ndim);
      sa[k] = (ka >= 0 && a->shape[ka] != 1) ? ra[ka] : 0;
      sb[k] = (kb >= 0 && b->shape[kb] != 1) ? rb[kb] : 0;
    }
    /* merge adjacent axes that are contiguous for both operands, drop extent-1 axes */
    int m = 0;
    size_t cs[FL_MAXDIM];
    ptrdiff_t ca[FL_MAXDIM], cb[FL_MAXDIM];
    for (int k = 0; k < nd; k++) {
      if (shape[k] == 1) continue;
      if (m > 0 && ca[m - 1] == sa[k] * (ptrdiff_t)shape[k] && cb[m - 1] == sb[k] * (ptrdiff_t)shape[k]) {
        cs[m - 1] *= shape[k];
        ca[m - 1] = sa[k];
        cb[m - 1] = sb[k];
        continue;
      }
      cs[m] = shape[k];
      ca[m] = sa[k];
      cb[m] = sb[k];
      m++;
    }
    if (m == 0) { /* cannot happen: n > 1 here */
      cs[0] = 1;
      ca[0] = cb[0] = 0;
      m = 1;
    }
    binop_general(op, m, cs, ca, cb, a->data, b->data, z->data);
  }
  return FL_OK;
}

fl_status fl_array_binop_scalar(fl_binop op, const fl_array *a, double s, int scalar_first, fl_array **out)
{
  *out = NULL;
  if (check_binop(op)) return FL_EINVAL;
  fl_status st = fl_array_new(a->ndim, a->shape, out);
  if (st) return st;
  if (a->size) binop_scal(op, a->size, a->data, s, scalar_first != 0, (*out)->data);
  return FL_OK;
}

fl_status fl_array_map(fl_unop op, const fl_array *a, fl_array **out)
{
  fl_status st = fl_array_new(a->ndim, a->shape, out);
  if (st) return st;
  size_t n = a->size;
  const double *x = a->data;
  double *z = (*out)->data;
#define MAPLOOP(EXPR)                                                                                  \
  do {                                                                                                 \
    FL_PFOR_IF(n > FL_PAR_MIN,                                                                            \
    for (size_t i = 0; i < n; i++) z[i] = EXPR;);                                                        \
  } while (0)
  switch (op) {
  case FL_NEG: MAPLOOP(-x[i]); break;
  case FL_EXP: MAPLOOP(exp(x[i])); break;
  case FL_LOG: MAPLOOP(log(x[i])); break;
  case FL_SQRT: MAPLOOP(sqrt(x[i])); break;
  case FL_ABS: MAPLOOP(fabs(x[i])); break;
  case FL_SIN: MAPLOOP(sin(x[i])); break;
  case FL_COS: MAPLOOP(cos(x[i])); break;
  case FL_TANH: MAPLOOP(tanh(x[i])); break;
  default:
    fl_array_release(*out);
    *out = NULL;
    return fl_fail(FL_EINVAL, "unknown element-wise function %d", (int)op);
  }
#undef MAPLOOP
  return FL_OK;
}

/* ------------------------------------------------------------ reductions */

/* Sums with 4 independent accumulators (faster, and a little more accurate). */
static double sum_seq(const double *x, size_t n)
{
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i];
    s1 += x[i + 1];
    s2 += x[i + 2];
    s3 += x[i + 3];
  }
  for (; i < n; i++) s0 += x[i];
  return (s0 + s1) + (s2 + s3);
}

static double sumsq_seq(const double *x, size_t n, double c)
{
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    double d0 = x[i] - c, d1 = x[i + 1] - c, d2 = x[i + 2] - c, d3 = x[i + 3] - c;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < n; i++) s0 += (x[i] - c) * (x[i] - c);
  return (s0 + s1) + (s2 + s3);
}

/* Sum (sq = 0) or sum of squared deviations from c (sq = 1) over blocks of fixed size, the
 * blocks in parallel and their partial sums added in order: the result does not depend on
 * the number of threads. */
#define SUM_BLOCK ((size_t)1 << 14)
static double sum_all(const double *x, size_t n, int sq, double c)
{
  size_t nb = (n + SUM_BLOCK - 1) / SUM_BLOCK;
  if (nb <= 1) return sq ? sumsq_seq(x, n, c) : sum_seq(x, n);
  double acc = 0;
  enum { GROUP = 256 };
  double part[GROUP];
  for (size_t g0 = 0; g0 < nb; g0 += GROUP) {
    size_t g1 = g0 + GROUP < nb ? g0 + GROUP : nb;
    FL_PFOR_IF(n > FL_PAR_MIN,
    for (size_t b = g0; b < g1; b++) {
      size_t lo = b * SUM_BLOCK, len = lo + SUM_BLOCK <= n ? SUM_BLOCK : n - lo;
      part[b - g0] = sq ? sumsq_seq(x + lo, len, c) : sum_seq(x + lo, len);
    });
    for (size_t b = g0; b < g1; b++) acc += part[b - g0];
  }
  return acc;
}

static const char *redop_name(fl_redop op)
{
  switch (op) {
  case FL_SUM: return "sum";
  case FL_MEAN: return "mean";
  case FL_STD: return "std";
  case FL_MIN: return "min";
  case FL_MAX: return "max";
  case FL_NORM: return "norm";
  case FL_ARGMAX: return "argmax";
  case FL_ARGMIN: return "argmin";
  }
  return "?";
}

/* min/max/argmin/argmax of n >= 1 values at stride s; NaN propagates (the first NaN wins). */
static double extreme(fl_redop op, const double *x, size_t n, ptrdiff_t s, size_t *where)
{
  double best = x[0];
  size_t bi = 0;
  if (best != best) {
    *where = 0;
    return best;
  }
  if (op == FL_MAX || op == FL_ARGMAX) {
    for (size_t i = 1; i < n; i++) {
      double v = x[(ptrdiff_t)i * s];
      if (v > best) {
        best = v;
        bi = i;
      } else if (v != v) {
        best = v;
        bi = i;
        break;
      }
    }
  } else {
    for (size_t i = 1; i < n; i++) {
      double v = x[(ptrdiff_t)i * s];
      if (v < best) {
        best = v;
        bi = i;
      } else if (v != v) {
        best = v;
        bi = i;
        break;
      }
    }
  }
  *where = bi;
  return best;
}

static double norm_all(const double *x, size_t n)
{
  double ss = sum_all(x, n, 1, 0.0);
  if (ss != ss) return ss;
  if (ss > 1e-280 && ss < 1e280) return sqrt(ss);
  /* under- or overflow of the squares: rescale by the largest magnitude */
  double amax = 0;
  for (size_t i = 0; i < n; i++) {
    double v = fabs(x[i]);
    if (v > amax) amax = v;
  }
  if (amax == 0 || isinf(amax)) return amax;
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double v = x[i] / amax;
    s += v * v;
  }
  return amax * sqrt(s);
}

fl_status fl_array_reduce_all(fl_redop op, const fl_array *a, double *out)
{
  size_t n = a->size;
  const double *x = a->data;
  size_t where;
  switch (op) {
  case FL_SUM: *out = sum_all(x, n, 0, 0); return FL_OK;
  case FL_MEAN: *out = n ? sum_all(x, n, 0, 0) / (double)n : NAN; return FL_OK;
  case FL_STD:
    if (!n) {
      *out = NAN;
      return FL_OK;
    }
    {
      double mean = sum_all(x, n, 0, 0) / (double)n;
      *out = sqrt(sum_all(x, n, 1, mean) / (double)n);
    }
    return FL_OK;
  case FL_NORM: *out = norm_all(x, n); return FL_OK;
  case FL_MIN:
  case FL_MAX:
  case FL_ARGMIN:
  case FL_ARGMAX:
    if (!n) {
      char b[SHAPE_BUF];
      return fl_fail(FL_EINVAL, "%s of an empty array (shape %s)", redop_name(op),
                     fl_array_shape_str(a, b, sizeof b));
    }
    {
      double v = extreme(op, x, n, 1, &where);
      *out = (op == FL_MIN || op == FL_MAX) ? v : (double)where;
    }
    return FL_OK;
  }
  return fl_fail(FL_EINVAL, "unknown reduction %d", (int)op);
}

/* One (n, inner) block x reduced along its first axis into z[inner] (scratch: inner doubles,
 * needed by STD and ARG*). Walks x row by row. */
static void reduce_block(fl_redop op, const double *x, size_t n, size_t inner, double *z, double *scratch)
{
  if (inner == 1) {
    size_t w;
    switch (op) {
    case FL_SUM: *z = sum_seq(x, n); break;
    case FL_MEAN: *z = n ? sum_seq(x, n) / (double)n : NAN; break;
    case FL_STD:
      *z = n ? sqrt(sumsq_seq(x, n, sum_seq(x, n) / (double)n) / (double)n) : NAN;
      break;
    case FL_NORM: *z = sqrt(sumsq_seq(x, n, 0.0)); break;
    case FL_MIN:
    case FL_MAX: *z = extreme(op, x, n, 1, &w); break;
    case FL_ARGMIN:
    case FL_ARGMAX:
      extreme(op, x, n, 1, &w);
      *z = (double)w;
      break;
    }
    return;
  }
  switch (op) {
  case FL_SUM:
  case FL_MEAN:
  case FL_STD:
    for (size_t i = 0; i < inner; i++) z[i] = 0;
    for (size_t j = 0; j < n; j++) {
      const double *r = x + j * inner;
      for (size_t i = 0; i < inner; i++) z[i] += r[i];
    }
    if (op == FL_SUM) break;
    for (size_t i = 0; i < inner; i++) z[i] = n ? z[i] / (double)n : NAN;
    if (op == FL_MEAN || !n) break;
    for (size_t i = 0; i < inner; i++) scratch[i] = 0;
    for (size_t j = 0; j < n; j++) {
      const double *r = x + j * inner;
      for (size_t i = 0; i < inner; i++) {
        double d = r[i] - z[i];
        scratch[i] += d * d;
      }
    }
    for (size_t i = 0; i < inner; i++) z[i] = sqrt(scratch[i] / (double)n);
    break;
  case FL_NORM:
    for (size_t i = 0; i < inner; i++) z[i] = 0;
    for (size_t j = 0; j < n; j++) {
      const double *r = x + j * inner;
      for (size_t i = 0; i < inner; i++) z[i] += r[i] * r[i];
    }
    for (size_t i = 0; i < inner; i++) z[i] = sqrt(z[i]);
    break;
  case FL_MIN:
    memcpy(z, x, inner * sizeof(double));
    for (size_t j = 1; j < n; j++) {
      const double *r = x + j * inner;
      for (size_t i = 0; i < inner; i++)
        if (r[i] < z[i] || (r[i] != r[i])) z[i] = z[i] != z[i] ? z[i] : r[i];
    }
    break;
  case FL_MAX:
    memcpy(z, x, inner * sizeof(double));
    for (size_t j = 1; j < n; j++) {
      const double *r = x + j * inner;
      for (size_t i = 0; i < inner; i++)
        if (r[i] > z[i] || (r[i] != r[i])) z[i] = z[i] != z[i] ? z[i] : r[i];
    }
    break;
  case FL_ARGMIN:
  case FL_ARGMAX: {
    int mx = op == FL_ARGMAX;
    memcpy(scratch, x, inner * sizeof(double));
    for (size_t i = 0; i < inner; i++) z[i] = 0;
    for (size_t j = 1; j < n; j++) {
      const double *r = x + j * inner;
      for (size_t i = 0; i < inner; i++) {
        double v = r[i], b = scratch[i];
        if (b != b) continue; /* the first NaN stays */
        if ((mx ? v > b : v < b) || v != v) {
          scratch[i] = v;
          z[i] = (double)j;
        }
      }
    }
    break;
  }
  }
}

fl_status fl_array_reduce(fl_redop op, const fl_array *a, int axis, fl_array **out)
{
  *out = NULL;
  char b[SHAPE_BUF];
  if ((unsigned)op > (unsigned)FL_ARGMIN) return fl_fail(FL_EINVAL, "unknown reduction %d", (int)op);
  if (axis < 0 || axis >= a->ndim)
    return fl_fail(FL_ERANGE, "axis %d out of range for shape %s (0-based 0..%d)", axis,
                   fl_array_shape_str(a, b, sizeof b), a->ndim - 1);
  size_t n = a->shape[axis];
  if (n == 0 && (op == FL_MIN || op == FL_MAX || op == FL_ARGMIN || op == FL_ARGMAX))
    return fl_fail(FL_EINVAL, "%s along axis %d of shape %s: that axis is empty", redop_name(op), axis,
                   fl_array_shape_str(a, b, sizeof b));
  size_t shape[FL_MAXDIM];
  int nd = 0;
  for (int k = 0; k < a->ndim; k++)
    if (k != axis) shape[nd++] = a->shape[k];
  if (nd == 0) shape[nd++] = 1;
  fl_status st = fl_array_new(nd, shape, out);
  if (st) return st;
  size_t outer = prod(a->shape, 0, axis), inner = prod(a->shape, axis + 1, a->ndim);
  if (outer == 0 || inner == 0) return FL_OK;
  double *scratch = NULL;
  size_t sbytes = 0;
  if ((op == FL_STD || op == FL_ARGMIN || op == FL_ARGMAX) && inner > 1) {
    sbytes = (*out)->size * sizeof(double);
    scratch = fl_alloc(sbytes);
    if (!scratch) {
      fl_array_release(*out);
      *out = NULL;
      return fl_fail(FL_ENOMEM, "cannot allocate %zu bytes of scratch for %s", sbytes, redop_name(op));
    }
  }
  const double *x = a->data;
  double *z = (*out)->data;
  FL_PFOR_IF(a->size > FL_PAR_MIN && outer > 1,
  for (size_t o = 0; o < outer; o++)
    reduce_block(op, x + o * n * inner, n, inner, z + o * inner, scratch ? scratch + o * inner : NULL););
  if (scratch) fl_free(scratch, sbytes);
  return FL_OK;
}

/* ------------------------------------------------------------ BLAS */

static int fits_int(size_t v) { return v <= (size_t)INT_MAX; }

fl_status fl_array_matmul(const fl_array *a, const fl_array *b, fl_array **out)
{
  *out = NULL;
  char b1[SHAPE_BUF], b2[SHAPE_BUF];
  if (a->ndim > 2 || b->ndim > 2)
    return fl_fail(FL_EDIM, "takes 1-D and 2-D arrays, not shapes %s and %s",
                   fl_array_shape_str(a, b1, sizeof b1), fl_array_shape_str(b, b2, sizeof b2));
  /* a is (m, k) [1-D: (k)], b is (k2, n) [1-D: (k2)] */
  size_t m = a->ndim == 2 ? a->shape[0] : 1, k = a->shape[a->ndim - 1];
  size_t k2 = b->shape[0], n = b->ndim == 2 ? b->shape[1] : 1;
  if (k != k2)
    return fl_fail(FL_EDIM, "shapes %s and %s are not aligned: %zu (last axis of the first) != %zu "
                            "(first axis of the second)",
                   fl_array_shape_str(a, b1, sizeof b1), fl_array_shape_str(b, b2, sizeof b2), k, k2);
  if (!fits_int(m) || !fits_int(n) || !fits_int(k))
    return fl_fail(FL_ERANGE, "matmul of %s and %s: an extent exceeds the BLAS integer range",
                   fl_array_shape_str(a, b1, sizeof b1), fl_array_shape_str(b, b2, sizeof b2));
  size_t shape[2];
  int nd;
  if (a->ndim == 2 && b->ndim == 2) {
    nd = 2;
    shape[0] = m;
    shape[1] = n;
  } else if (a->ndim == 2) {
    nd = 1;
    shape[0] = m;
  } else if (b->ndim == 2) {
    nd = 1;
    shape[0] = n;
  } else {
    nd = 1;
    shape[0] = 1;
  }
  fl_status st = fl_array_new(nd, shape, out);
  if (st) return st;
  double *c = (*out)->data;
  if ((*out)->size == 0) return FL_OK;
  if (k == 0) {
    memset(c, 0, (*out)->size * sizeof(double));
    return FL_OK;
  }
  if (a->ndim == 2 && b->ndim == 2)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)m, (blasint)n, (blasint)k, 1.0, a->data,
                (blasint)k, b->data, (blasint)n, 0.0, c, (blasint)n);
  else if (a->ndim == 2)
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (blasint)m, (blasint)k, 1.0, a->data, (blasint)k, b->data, 1, 0.0,
                c, 1);
  else if (b->ndim == 2)
    cblas_dgemv(CblasRowMajor, CblasTrans, (blasint)k, (blasint)n, 1.0, b->data, (blasint)n, a->data, 1, 0.0,
                c, 1);
  else
    c[0] = cblas_ddot((blasint)k, a->data, 1, b->data, 1);
  return FL_OK;
}

fl_status fl_array_dot(const fl_array *a, const fl_array *b, double *out)
{
  if (a->size != b->size) {
    char b1[SHAPE_BUF], b2[SHAPE_BUF];
    return fl_fail(FL_EDIM, "dot needs arrays of equal size, not shapes %s (%zu elements) and %s (%zu elements)",
                   fl_array_shape_str(a, b1, sizeof b1), a->size, fl_array_shape_str(b, b2, sizeof b2), b->size);
  }
  double s = 0;
  const size_t chunk = (size_t)1 << 30;
  for (size_t lo = 0; lo < a->size; lo += chunk) {
    size_t len = a->size - lo < chunk ? a->size - lo : chunk;
    s += cblas_ddot((blasint)len, a->data + lo, 1, b->data + lo, 1);
  }
  *out = s;
  return FL_OK;
}
