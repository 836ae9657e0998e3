/* Lua bindings of lib/fl_array: module `array`, type fieldlab.Array.
 * Glue only: check arguments, call lib, push results. Indices are 1-based here
 * and 0-based in lib. */
#include "config.h"
#include "l_util.h"

#include <math.h>
#include <string.h>

/* Raise on a failed status, else push the new array r (stealing its reference). */
static int push_result(lua_State *L, fl_status st, fl_array **r, const char *fname)
{
  l_check(L, st, fname);
  l_pusharray(L, *r);
  return 1;
}

/* 1-based index with negatives from the end -> 0-based; raises when out of range. */
static size_t check_index(lua_State *L, int arg, size_t n, const char *what)
{
  int isint;
  lua_Integer i = lua_tointegerx(L, arg, &isint);
  if (!isint) luaL_typeerror(L, arg, "integer index");
  lua_Integer j = i < 0 ? (lua_Integer)n + i : i - 1;
  if (j < 0 || (size_t)j >= n) {
    if (n == 0) luaL_argerror(L, arg, lua_pushfstring(L, "%s %I out of range (empty axis)", what, i));
    luaL_argerror(L, arg, lua_pushfstring(L, "%s %I out of range 1..%I (or -%I..-1)", what, i,
                                          (lua_Integer)n, (lua_Integer)n));
  }
  return (size_t)j;
}

/* An optional 1-based axis (negative from the end) -> 0-based, or -1 when absent. */
static int opt_axis(lua_State *L, int arg, int ndim)
{
  if (lua_isnoneornil(L, arg)) return -1;
  return (int)check_index(L, arg, (size_t)ndim, "axis");
}

/* ------------------------------------------------------------ constructors */

static int arr_zeros(lua_State *L)
{
  size_t shape[FL_MAXDIM];
  int nd = l_checkshape(L, 1, shape);
  fl_array *r;
  return push_result(L, fl_array_zeros(nd, shape, &r), &r, "array.zeros");
}

static int arr_ones(lua_State *L)
{
  size_t shape[FL_MAXDIM];
  int nd = l_checkshape(L, 1, shape);
  fl_array *r;
  return push_result(L, fl_array_full(nd, shape, 1.0, &r), &r, "array.ones");
}

static int arr_full(lua_State *L)
{
  size_t shape[FL_MAXDIM];
  int nd = l_checkshape(L, 1, shape);
  double v = luaL_checknumber(L, 2);
  fl_array *r;
  return push_result(L, fl_array_full(nd, shape, v, &r), &r, "array.full");
}

static int arr_from(lua_State *L)
{
  fl_array *a = l_testarray(L, 1), *r;
  if (a) /* an Array: a copy, never an alias */
    return push_result(L, fl_array_copy(a, &r), &r, "array.from");
  luaL_checktype(L, 1, LUA_TTABLE);
  l_toarray(L, 1); /* replaces the table by the new array */
  lua_settop(L, 1);
  return 1;
}

static int arr_linspace(lua_State *L)
{
  double a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2);
  lua_Integer n = luaL_checkinteger(L, 3);
  luaL_argcheck(L, n >= 1, 3, "number of points must be at least 1");
  fl_array *r;
  return push_result(L, fl_array_linspace(a, b, (size_t)n, &r), &r, "array.linspace");
}

static int arr_arange(lua_State *L)
{
  double start = 0, stop, step = 1;
  if (lua_isnoneornil(L, 2)) {
    stop = luaL_checknumber(L, 1);
  } else {
    start = luaL_checknumber(L, 1);
    stop = luaL_checknumber(L, 2);
    step = luaL_optnumber(L, 3, 1.0);
  }
  luaL_argcheck(L, step != 0, 3, "step must not be zero");
  fl_array *r;
  return push_result(L, fl_array_arange(start, stop, step, &r), &r, "array.arange");
}

static int arr_eye(lua_State *L)
{
  lua_Integer n = luaL_checkinteger(L, 1);
  lua_Integer m = luaL_optinteger(L, 2, n);
  luaL_argcheck(L, n >= 0, 1, "size must be non-negative");
  luaL_argcheck(L, m >= 0, 2, "size must be non-negative");
  fl_array *r;
  return push_result(L, fl_array_eye((size_t)n, (size_t)m, &r), &r, "array.eye");
}

static int arr_meshgrid(lua_State *L)
{
  int n = lua_gettop(L);
  luaL_argcheck(L, n >= 1 && n <= FL_MAXDIM, 1, "meshgrid takes 1 to 8 arrays");
  const fl_array *in[FL_MAXDIM];
  fl_array *out[FL_MAXDIM];
  for (int k = 0; k < n; k++) {
    in[k] = l_toarray(L, k + 1);
    if (in[k]->ndim != 1) luaL_argerror(L, k + 1, "meshgrid needs 1-D arrays");
  }
  luaL_checkstack(L, n, "meshgrid");
  l_box *boxes[FL_MAXDIM];
  for (int k = 0; k < n; k++) boxes[k] = l_newbox(L, FL_ARRAY_MT);
  l_check(L, fl_array_meshgrid(n, in, out), "array.meshgrid");
  for (int k = 0; k < n; k++) boxes[k]->p = out[k];
  return n;
}

static const char *const rand_opts[] = {"seed", "stream", NULL};

static int random_array(lua_State *L, int normal, const char *fname)
{
  size_t shape[FL_MAXDIM];
  int nd = l_checkshape(L, 1, shape);
  l_checkopts(L, 2, rand_opts);
  /* -1 marks an absent option; given values must be non-negative. */
  lua_Integer seed = l_optinteger_field(L, 2, "seed", -1);
  lua_Integer stream = l_optinteger_field(L, 2, "stream", -1);
  if (seed < -1 || (seed == -1 && l_optinteger_field(L, 2, "seed", 0) == -1))
    luaL_argerror(L, 2, "option 'seed' must be a non-negative integer");
  if (stream < -1 || (stream == -1 && l_optinteger_field(L, 2, "stream", 0) == -1))
    luaL_argerror(L, 2, "option 'stream' must be a non-negative integer");
  if (seed == -1) {
    seed = l_default_seed(L);
    if (stream == -1) stream = l_next_stream(L);
  } else if (stream == -1) {
    stream = 0;
  }
  fl_array *r;
  fl_status st = normal ? fl_array_randn(nd, shape, (uint64_t)seed, (uint64_t)stream, &r)
                        : fl_array_rand(nd, shape, (uint64_t)seed, (uint64_t)stream, &r);
  return push_result(L, st, &r, fname);
}

static int arr_randn(lua_State *L) { return random_array(L, 1, "array.randn"); }
static int arr_rand(lua_State *L) { return random_array(L, 0, "array.rand"); }

/* ------------------------------------------------------------ joins */

/* Arrays of the list at arg 1, converted in place on the stack top. */
static int list_arrays(lua_State *L, int arg, const fl_array ***out, const char *fname)
{
  luaL_checktype(L, arg, LUA_TTABLE);
  int n = (int)lua_rawlen(L, arg);
  if (n < 1) luaL_argerror(L, arg, "need a non-empty list of arrays");
  luaL_checkstack(L, n + 2, fname);
  const fl_array **v = lua_newuserdatauv(L, sizeof *v * (size_t)n, 0);
  int base = lua_gettop(L);
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, arg, i + 1);
    if (!l_testarray(L, -1) && !lua_istable(L, -1))
      luaL_argerror(L, arg, lua_pushfstring(L, "list item %d is a %s, expected an array", i + 1, luaL_typename(L, -1)));
    v[i] = l_toarray(L, base + 1 + i);
  }
  *out = v;
  return n;
}

static int join(lua_State *L, int stack)
{
  const char *fname = stack ? "array.stack" : "array.concat";
  const fl_array **v;
  lua_Integer axis = luaL_optinteger(L, 2, 1);
  lua_settop(L, 2);
  int n = list_arrays(L, 1, &v, fname);
  int maxaxis = v[0]->ndim + (stack ? 1 : 0);
  if (axis < 0) axis += maxaxis + 1;
  if (axis < 1 || axis > maxaxis)
    luaL_argerror(L, 2, lua_pushfstring(L, "axis must be 1..%d", maxaxis));
  fl_array *r;
  fl_status st = stack ? fl_array_stack(n, (const fl_array *const *)v, (int)axis - 1, &r)
                       : fl_array_concat(n, (const fl_array *const *)v, (int)axis - 1, &r);
  return push_result(L, st, &r, fname);
}

static int arr_concat(lua_State *L) { return join(L, 0); }
static int arr_stack(lua_State *L) { return join(L, 1); }

/* ------------------------------------------------------------ linear algebra */

static int matmul(lua_State *L, const char *fname)
{
  fl_array *a = l_toarray(L, 1), *b = l_toarray(L, 2), *r;
  return push_result(L, fl_array_matmul(a, b, &r), &r, fname);
}

static int arr_matmul(lua_State *L) { return matmul(L, "array.matmul"); }

static int arr_solve(lua_State *L)
{
  fl_array *A = l_toarray(L, 1), *B = l_toarray(L, 2), *r;
  return push_result(L, fl_array_solve(A, B, &r), &r, "array.solve");
}

static int arr_cholesky(lua_State *L)
{
  fl_array *A = l_toarray(L, 1), *r;
  return push_result(L, fl_array_cholesky(A, &r), &r, "array.cholesky");
}

static int arr_eigh(lua_State *L)
{
  fl_array *A = l_toarray(L, 1);
  l_box *bw = l_newbox(L, FL_ARRAY_MT), *bv = l_newbox(L, FL_ARRAY_MT);
  fl_array *w, *V;
  l_check(L, fl_array_eigh(A, &w, &V), "array.eigh");
  bw->p = w;
  bv->p = V;
  return 2;
}

static int arr_svd(lua_State *L)
{
  fl_array *A = l_toarray(L, 1);
  l_box *bu = l_newbox(L, FL_ARRAY_MT), *bs = l_newbox(L, FL_ARRAY_MT), *bv = l_newbox(L, FL_ARRAY_MT);
  fl_array *U, *S, *Vt;
  l_check(L, fl_array_svd(A, &U, &S, &Vt), "array.svd");
  bu->p = U;
  bs->p = S;
  bv->p = Vt;
  return 3;
}

static const char *const lstsq_opts[] = {"rcond", NULL};

static int arr_lstsq(lua_State *L)
{
  fl_array *A = l_toarray(L, 1), *B = l_toarray(L, 2);
  l_checkopts(L, 3, lstsq_opts);
  double rcond = l_optnumber_field(L, 3, "rcond", -1.0);
  l_box *bx = l_newbox(L, FL_ARRAY_MT);
  lua_pushnil(L); /* rank goes here */
  l_box *bs = l_newbox(L, FL_ARRAY_MT);
  fl_array *x, *sv;
  int rank;
  l_check(L, fl_array_lstsq(A, B, rcond, &x, &rank, &sv), "array.lstsq");
  bx->p = x;
  bs->p = sv;
  lua_pushinteger(L, rank);
  lua_replace(L, -3);
  return 3;
}

static int arr_det(lua_State *L)
{
  fl_array *A = l_toarray(L, 1);
  double d;
  l_check(L, fl_array_det(A, &d), "array.det");
  lua_pushnumber(L, d);
  return 1;
}

static int arr_logdet(lua_State *L)
{
  fl_array *A = l_toarray(L, 1);
  double sign, logabs;
  l_check(L, fl_array_logdet(A, &sign, &logabs), "array.logdet");
  lua_pushnumber(L, sign);
  lua_pushnumber(L, logabs);
  return 2;
}

/* ------------------------------------------------------------ I/O */

static const char *const io_opts[] = {"format", "header", NULL};

static const char *file_format(lua_State *L, const char *path, int optarg, const char *fname)
{
  const char *fmt = l_optstring_field(L, optarg, "format", NULL);
  if (!fmt) {
    const char *dot = strrchr(path, '.');
    if (dot && strcmp(dot, ".npy") == 0) fmt = "npy";
    else if (dot && (strcmp(dot, ".csv") == 0 || strcmp(dot, ".txt") == 0)) fmt = "csv";
    else
      l_error(L, fname, "cannot tell the format of '%s' from its extension (use .npy or .csv, or {format=\"npy\"|\"csv\"})", path);
  }
  if (strcmp(fmt, "npy") != 0 && strcmp(fmt, "csv") != 0)
    luaL_argerror(L, optarg, lua_pushfstring(L, "option 'format' must be \"npy\" or \"csv\", not \"%s\"", fmt));
  return fmt;
}

static int arr_load(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  l_checkopts(L, 2, io_opts);
  const char *fmt = file_format(L, path, 2, "array.load");
  fl_array *r;
  if (fmt[0] == 'n') {
    if (!lua_isnoneornil(L, 2)) {
      lua_getfield(L, 2, "header");
      if (!lua_isnil(L, -1)) luaL_argerror(L, 2, "option 'header' applies to CSV files only");
      lua_pop(L, 1);
    }
    l_box *b = l_newbox(L, FL_ARRAY_MT);
    l_check(L, fl_array_load_npy(path, &r), "array.load");
    b->p = r;
    l_gc_account(L, r->nbytes);
    return 1;
  }
  int header = -1;
  if (!lua_isnoneornil(L, 2)) {
    lua_getfield(L, 2, "header");
    if (lua_isboolean(L, -1)) header = lua_toboolean(L, -1);
    else if (!lua_isnil(L, -1)) luaL_argerror(L, 2, "option 'header' must be a boolean");
    lua_pop(L, 1);
  }
  l_box *b = l_newbox(L, FL_ARRAY_MT);
  char **names = NULL;
  size_t nnames = 0;
  l_check(L, fl_array_load_csv(path, header, &names, &nnames, &r), "array.load");
  b->p = r;
  if (names) {
    lua_createtable(L, (int)nnames, 0);
    for (size_t i = 0; i < nnames; i++) {
      lua_pushstring(L, names[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    fl_csv_names_free(names, nnames);
  } else {
    lua_pushnil(L);
  }
  return 2;
}

static int save_impl(lua_State *L, int patharg, int arrarg, int optarg, const char *fname)
{
  const char *path = luaL_checkstring(L, patharg);
  fl_array *a = l_toarray(L, arrarg);
  l_checkopts(L, optarg, io_opts);
  const char *fmt = file_format(L, path, optarg, fname);
  const char *header = l_optstring_field(L, optarg, "header", NULL);
  if (fmt[0] == 'n') {
    if (header) luaL_argerror(L, optarg, "option 'header' applies to CSV files only");
    l_check(L, fl_array_save_npy(path, a), fname);
  } else {
    l_check(L, fl_array_save_csv(path, a, header), fname);
  }
  return 0;
}

static int arr_save(lua_State *L) { return save_impl(L, 1, 2, 3, "array.save"); }
static int m_save(lua_State *L) { l_checkarray(L, 1); return save_impl(L, 2, 1, 3, "save"); }

static int arr_is_array(lua_State *L)
{
  lua_pushboolean(L, luaL_testudata(L, 1, FL_ARRAY_MT) != NULL);
  return 1;
}

/* ------------------------------------------------------------ methods */

static int m_gc(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, FL_ARRAY_MT);
  if (b->p) {
    fl_array_release(b->p);
    b->p = NULL;
  }
  return 0;
}

static int m_tostring(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, FL_ARRAY_MT);
  if (!b->p) {
    lua_pushliteral(L, "fieldlab.Array (closed)");
  } else {
    char buf[160];
    lua_pushfstring(L, "fieldlab.Array%s", fl_array_shape_str(b->p, buf, sizeof buf));
  }
  return 1;
}

static int m_len(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1);
  lua_pushinteger(L, (lua_Integer)a->shape[0]);
  return 1;
}

static void push_shape(lua_State *L, const fl_array *a)
{
  lua_createtable(L, a->ndim, 0);
  for (int k = 0; k < a->ndim; k++) {
    lua_pushinteger(L, (lua_Integer)a->shape[k]);
    lua_rawseti(L, -2, k + 1);
  }
}

static int m_index(lua_State *L)
{
  /* Methods are found on a closed array too (close() stays idempotent; the
   * method itself then reports the closed object). */
  l_box *box = luaL_checkudata(L, 1, FL_ARRAY_MT);
  if (lua_type(L, 2) == LUA_TSTRING && box->p == NULL) {
    if (l_getmethod(L) != LUA_TNIL) return 1;
  }
  fl_array *a = l_checkarray(L, 1);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    size_t i = check_index(L, 2, a->shape[0], "index");
    if (a->ndim == 1) {
      lua_pushnumber(L, a->data[i]);
      return 1;
    }
    fl_array *r;
    return push_result(L, fl_array_row(a, i, &r), &r, "index");
  }
  const char *k = lua_tostring(L, 2);
  if (k) {
    if (strcmp(k, "shape") == 0) { push_shape(L, a); return 1; }
    if (strcmp(k, "ndim") == 0) { lua_pushinteger(L, a->ndim); return 1; }
    if (strcmp(k, "size") == 0) { lua_pushinteger(L, (lua_Integer)a->size); return 1; }
  }
  if (l_getmethod(L) == LUA_TNIL && k)
    l_getattr(L, 1, k); /* attributes set by the library, e.g. J.exact */
  return 1;
}

/* Fill `n` doubles at dst from the value at idx (a number or an array of `shape`). */
static void assign(lua_State *L, int idx, double *dst, int ndim, const size_t *shape, size_t n, const char *fname)
{
  if (lua_type(L, idx) == LUA_TNUMBER) {
    double v = lua_tonumber(L, idx);
    for (size_t i = 0; i < n; i++) dst[i] = v;
    return;
  }
  fl_array *v = l_toarray(L, idx);
  if (v->ndim != ndim || memcmp(v->shape, shape, sizeof(size_t) * (size_t)ndim) != 0) {
    char b1[160], b2[160];
    l_error(L, fname, "cannot assign an array of shape %s to a row of shape %s",
            fl_array_shape_str(v, b1, sizeof b1), fl_shape_str(ndim, shape, b2, sizeof b2));
  }
  memmove(dst, v->data, n * sizeof(double));
}

static int m_newindex(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1);
  if (lua_type(L, 2) != LUA_TNUMBER)
    return l_error(L, "fieldlab.Array", "cannot set field '%s' (only integer indices can be assigned)",
                   luaL_tolstring(L, 2, NULL));
  size_t i = check_index(L, 2, a->shape[0], "index");
  size_t stride = a->size / a->shape[0];
  if (a->ndim == 1 && lua_type(L, 3) != LUA_TNUMBER) luaL_typeerror(L, 3, "number");
  assign(L, 3, a->data + i * stride, a->ndim - 1, a->shape + 1, stride, "index assignment");
  return 0;
}

/* Flat offset of the multi-index at args first..first+ndim-1. */
static size_t flat_index(lua_State *L, const fl_array *a, int first, const char *fname)
{
  int given = lua_gettop(L) - first + 1;
  if (given < a->ndim)
    l_error(L, fname, "need %d indices for a %d-D array, got %d", a->ndim, a->ndim, given < 0 ? 0 : given);
  size_t off = 0;
  for (int k = 0; k < a->ndim; k++) off = off * a->shape[k] + check_index(L, first + k, a->shape[k], "index");
  return off;
}

static int m_get(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1);
  if (lua_gettop(L) - 1 > a->ndim)
    l_error(L, "get", "need %d indices for a %d-D array, got %d", a->ndim, a->ndim, lua_gettop(L) - 1);
  lua_pushnumber(L, a->data[flat_index(L, a, 2, "get")]);
  return 1;
}

static int m_set(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1);
  int n = lua_gettop(L);
  if (n - 2 != a->ndim)
    l_error(L, "set", "need %d indices and a value for a %d-D array, got %d arguments", a->ndim, a->ndim, n - 1);
  double v = luaL_checknumber(L, n);
  lua_settop(L, n - 1);
  a->data[flat_index(L, a, 2, "set")] = v;
  return 0;
}

static int m_row(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1), *r;
  if (a->ndim < 2) l_error(L, "row", "a 1-D array has no rows (use a[i] for an element)");
  size_t i = check_index(L, 2, a->shape[0], "row");
  return push_result(L, fl_array_row(a, i, &r), &r, "row");
}

static int m_col(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1), *r;
  if (a->ndim != 2) l_error(L, "col", "needs a 2-D array, not %d-D", a->ndim);
  size_t j = check_index(L, 2, a->shape[1], "column");
  return push_result(L, fl_array_col(a, j, &r), &r, "col");
}

/* Normalise a 1-based, possibly negative, inclusive bound to 0-based. */
static long long bound(lua_State *L, lua_Integer i, size_t n, int axis)
{
  long long j = i < 0 ? (long long)n + i : i - 1;
  if (j < 0 || (size_t)j >= n)
    luaL_argerror(L, 2, lua_pushfstring(L, "slice bound %I out of range 1..%I on axis %d", i, (lua_Integer)n, axis));
  return j;
}

static int m_slice(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  int n = (int)lua_rawlen(L, 2);
  if (n > a->ndim)
    luaL_argerror(L, 2, lua_pushfstring(L, "%d ranges for a %d-D array", n, a->ndim));
  fl_range r[FL_MAXDIM];
  for (int k = 0; k < n; k++) {
    size_t ext = a->shape[k];
    int t = lua_rawgeti(L, 2, k + 1);
    if (t == LUA_TNUMBER) {
      if (!lua_isinteger(L, -1)) luaL_argerror(L, 2, "slice index must be an integer");
      long long j = bound(L, lua_tointeger(L, -1), ext, k + 1);
      r[k] = (fl_range){j, j + 1, 1};
    } else if (t == LUA_TBOOLEAN && lua_toboolean(L, -1)) {
      r[k] = (fl_range){0, (long long)ext, 1};
    } else if (t == LUA_TTABLE) {
      int cnt = (int)lua_rawlen(L, -1);
      lua_Integer v[3] = {1, -1, 1};
      if (cnt > 3) luaL_argerror(L, 2, "a range is {first, last [, step]}");
      for (int q = 0; q < cnt; q++) {
        lua_rawgeti(L, -1 - q, q + 1);
        int isint;
        v[q] = lua_tointegerx(L, -1, &isint);
        if (!isint) luaL_argerror(L, 2, "range bounds must be integers");
      }
      lua_pop(L, cnt);
      if (v[2] == 0) luaL_argerror(L, 2, "range step must not be zero");
      if (ext == 0) {
        r[k] = (fl_range){0, 0, 1};
      } else {
        long long s = bound(L, v[0], ext, k + 1), e = bound(L, v[1], ext, k + 1);
        if (v[2] > 0) r[k] = (fl_range){s, s <= e ? e + 1 : s, v[2]};
        else r[k] = (fl_range){s, s >= e ? e - 1 : s, v[2]};
      }
    } else {
      luaL_argerror(L, 2, "each range is an integer, {first, last [, step]}, {} or true");
    }
    lua_pop(L, 1);
  }
  fl_array *out;
  return push_result(L, fl_array_slice(a, n, r, &out), &out, "slice");
}

static int m_reshape(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1), *r;
  size_t shape[FL_MAXDIM];
  int nd = 0, infer = -1;
  lua_Integer vals[FL_MAXDIM];
  if (lua_istable(L, 2)) {
    nd = (int)lua_rawlen(L, 2);
    if (nd < 1 || nd > FL_MAXDIM) luaL_argerror(L, 2, "shape must have 1 to 8 extents");
    for (int k = 0; k < nd; k++) {
      lua_rawgeti(L, 2, k + 1);
      int isint;
      vals[k] = lua_tointegerx(L, -1, &isint);
      if (!isint) luaL_argerror(L, 2, "extents must be integers");
      lua_pop(L, 1);
    }
  } else {
    nd = lua_gettop(L) - 1;
    if (nd < 1 || nd > FL_MAXDIM) luaL_argerror(L, 2, "shape must have 1 to 8 extents");
    for (int k = 0; k < nd; k++) vals[k] = luaL_checkinteger(L, k + 2);
  }
  size_t known = 1;
  for (int k = 0; k < nd; k++) {
    if (vals[k] == -1) {
      if (infer >= 0) luaL_argerror(L, 2, "only one extent may be -1");
      infer = k;
    } else if (vals[k] < 0) {
      luaL_argerror(L, 2, "extents must be non-negative (or -1 to infer one)");
    } else {
      shape[k] = (size_t)vals[k];
      known *= shape[k];
    }
  }
  if (infer >= 0) {
    if (known == 0 || a->size % known != 0)
      l_error(L, "reshape", "cannot infer an extent: %d elements do not divide into blocks of %d",
              (int)a->size, (int)known);
    shape[infer] = a->size / known;
  }
  return push_result(L, fl_array_reshape(a, nd, shape, &r), &r, "reshape");
}

static int m_copy(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1), *r;
  return push_result(L, fl_array_copy(a, &r), &r, "copy");
}

static void totable(lua_State *L, const fl_array *a, int depth, const double **src)
{
  luaL_checkstack(L, 2, "totable");
  lua_createtable(L, (int)a->shape[depth], 0);
  for (size_t i = 0; i < a->shape[depth]; i++) {
    if (depth + 1 == a->ndim) lua_pushnumber(L, *(*src)++);
    else totable(L, a, depth + 1, src);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static int m_totable(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1);
  const double *src = a->data;
  totable(L, a, 0, &src);
  return 1;
}

static int m_t(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1), *r;
  return push_result(L, fl_array_transpose(a, &r), &r, "t");
}

static int m_dot(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1), *b = l_toarray(L, 2);
  double d;
  l_check(L, fl_array_dot(a, b, &d), "dot");
  lua_pushnumber(L, d);
  return 1;
}

static int m_matmul(lua_State *L)
{
  l_checkarray(L, 1);
  return matmul(L, "matmul");
}

/* Element-wise maps and reductions share one C function each; the operation
 * and its name are upvalues. */
static int m_map(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1), *r;
  fl_status st = fl_array_map((fl_unop)lua_tointeger(L, lua_upvalueindex(1)), a, &r);
  return push_result(L, st, &r, lua_tostring(L, lua_upvalueindex(2)));
}

static int m_reduce(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1);
  fl_redop op = (fl_redop)lua_tointeger(L, lua_upvalueindex(1));
  const char *name = lua_tostring(L, lua_upvalueindex(2));
  int axis = opt_axis(L, 2, a->ndim);
  int arg = op == FL_ARGMAX || op == FL_ARGMIN;
  if (axis < 0) {
    double v;
    l_check(L, fl_array_reduce_all(op, a, &v), name);
    if (arg) lua_pushinteger(L, (lua_Integer)v + 1);
    else lua_pushnumber(L, v);
    return 1;
  }
  fl_array *r;
  l_check(L, fl_array_reduce(op, a, axis, &r), name);
  if (arg)
    for (size_t i = 0; i < r->size; i++) r->data[i] += 1;
  l_pusharray(L, r);
  return 1;
}

static int m_binop(lua_State *L)
{
  fl_binop op = (fl_binop)lua_tointeger(L, lua_upvalueindex(1));
  const char *name = lua_tostring(L, lua_upvalueindex(2));
  fl_array *r;
  fl_status st;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    st = fl_array_binop_scalar(op, l_toarray(L, 2), lua_tonumber(L, 1), 1, &r);
  } else if (lua_type(L, 2) == LUA_TNUMBER) {
    st = fl_array_binop_scalar(op, l_toarray(L, 1), lua_tonumber(L, 2), 0, &r);
  } else {
    fl_array *a = l_toarray(L, 1), *b = l_toarray(L, 2);
    st = fl_array_binop(op, a, b, &r);
  }
  return push_result(L, st, &r, name);
}

static int m_unm(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1), *r;
  return push_result(L, fl_array_map(FL_NEG, a, &r), &r, "unary minus");
}

static const luaL_Reg array_fns[] = {
  {"zeros", arr_zeros},
  {"ones", arr_ones},
  {"full", arr_full},
  {"from", arr_from},
  {"linspace", arr_linspace},
  {"arange", arr_arange},
  {"eye", arr_eye},
  {"meshgrid", arr_meshgrid},
  {"randn", arr_randn},
  {"rand", arr_rand},
  {"matmul", arr_matmul},
  {"concat", arr_concat},
  {"stack", arr_stack},
  {"solve", arr_solve},
  {"cholesky", arr_cholesky},
  {"eigh", arr_eigh},
  {"svd", arr_svd},
  {"lstsq", arr_lstsq},
  {"det", arr_det},
  {"logdet", arr_logdet},
  {"load", arr_load},
  {"save", arr_save},
  {"is_array", arr_is_array},
  {NULL, NULL}
};

static const luaL_Reg array_meta[] = {
  {"__gc", m_gc},
  {"__close", m_gc},
  {"__tostring", m_tostring},
  {"__len", m_len},
  {"__index", m_index},
  {"__newindex", m_newindex},
  {"__unm", m_unm},
  {NULL, NULL}
};

static const luaL_Reg array_methods[] = {
  {"get", m_get},
  {"set", m_set},
  {"row", m_row},
  {"col", m_col},
  {"slice", m_slice},
  {"reshape", m_reshape},
  {"copy", m_copy},
  {"totable", m_totable},
  {"matmul", m_matmul},
  {"t", m_t},
  {"dot", m_dot},
  {"save", m_save},
  {"close", m_gc},
  {NULL, NULL}
};

static const char *const array_props[] = {"shape", "ndim", "size", NULL};

static const struct { const char *name; int op; } maps[] = {
  {"exp", FL_EXP}, {"log", FL_LOG}, {"sqrt", FL_SQRT}, {"abs", FL_ABS},
  {"sin", FL_SIN}, {"cos", FL_COS}, {"tanh", FL_TANH}, {NULL, 0}
};
static const struct { const char *name; int op; } reductions[] = {
  {"sum", FL_SUM}, {"mean", FL_MEAN}, {"std", FL_STD}, {"min", FL_MIN}, {"max", FL_MAX},
  {"norm", FL_NORM}, {"argmax", FL_ARGMAX}, {"argmin", FL_ARGMIN}, {NULL, 0}
};
static const struct { const char *name; const char *label; int op; } arith[] = {
  {"__add", "addition", FL_ADD}, {"__sub", "subtraction", FL_SUB}, {"__mul", "multiplication", FL_MUL},
  {"__div", "division", FL_DIV}, {"__pow", "power", FL_POW}, {NULL, NULL, 0}
};

void l_open_array(lua_State *L)
{
  l_newclass(L, FL_ARRAY_MT, array_meta, array_methods, array_props);
  luaL_getmetatable(L, FL_ARRAY_MT);
  lua_getfield(L, -1, "__methods");
  for (int i = 0; maps[i].name; i++) {
    lua_pushinteger(L, maps[i].op);
    lua_pushstring(L, maps[i].name);
    lua_pushcclosure(L, m_map, 2);
    lua_setfield(L, -2, maps[i].name);
  }
  for (int i = 0; reductions[i].name; i++) {
    lua_pushinteger(L, reductions[i].op);
    lua_pushstring(L, reductions[i].name);
    lua_pushcclosure(L, m_reduce, 2);
    lua_setfield(L, -2, reductions[i].name);
  }
  lua_pop(L, 1);
  for (int i = 0; arith[i].name; i++) {
    lua_pushinteger(L, arith[i].op);
    lua_pushstring(L, arith[i].label);
    lua_pushcclosure(L, m_binop, 2);
    lua_setfield(L, -2, arith[i].name);
  }
  lua_pop(L, 1);
  l_newmodule(L, "array", array_fns);
}
