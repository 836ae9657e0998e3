/* Lua bindings of lib/fl_field: the Field type (evaluation, derivatives,
 * algebra) and module `field` (field.fn, field.compose, field.project).
 * Constructors of particular fields live in l_gmm.c, l_analytic.c, l_grid.c. */
#include "config.h"
#include "l_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ scripted fields */

/* A field whose values come from a Lua function. The function lives on the
 * stack of a dedicated Lua thread (anchored in the registry) and is called
 * there, so the field works from any coroutine and from inside lib loops. */
typedef struct lua_fn {
  lua_State *th; /* thread holding the function at index 1 */
  int ref;       /* registry reference anchoring the thread */
} lua_fn;

static void fn_destroy(void *p)
{
  lua_fn *q = p;
  luaL_unref(q->th, LUA_REGISTRYINDEX, q->ref);
  free(q);
}

static fl_status fn_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  lua_fn *q = f->data;
  lua_State *L = q->th;
  const size_t d = (size_t)f->dim, m = (size_t)f->codim;
  int base = lua_gettop(L);
  if (!lua_checkstack(L, 4)) return fl_fail(FL_ENOMEM, "Lua stack overflow in a scripted field");
  lua_pushvalue(L, 1);
  size_t shape[2] = {n, d};
  fl_array *xa;
  fl_status st = fl_array_from_data(2, shape, x, &xa);
  if (st) { lua_settop(L, base); return st; }
  l_pusharray(L, xa);
  lua_pushnumber(L, t);
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
    l_set_callback_error(L); /* the user's own message, re-raised by l_check */
    lua_settop(L, base);
    return fl_fail(FL_ECALLBACK, "the field's Lua function raised an error");
  }
  l_box *yb = luaL_testudata(L, -1, FL_ARRAY_MT);
  fl_array *ya = yb ? yb->p : NULL;
  if (!ya) {
    const char *tn = luaL_typename(L, -1);
    lua_settop(L, base);
    return fl_fail(FL_EINVAL, "the field's function returned a %s, expected an %zu-by-%zu array", tn, n, m);
  }
  int ok = (ya->ndim == 2 && ya->shape[0] == n && ya->shape[1] == m) ||
           (m == 1 && ya->ndim == 1 && ya->shape[0] == n);
  if (!ok) {
    char b[128];
    fl_array_shape_str(ya, b, sizeof b);
    lua_settop(L, base);
    return fl_fail(FL_EDIM, "the field's function returned an array of shape %s for %zu points, expected (%zu,%zu)",
                   b, n, n, m);
  }
  for (size_t i = 0; i < n * m; i++)
    if (!isfinite(ya->data[i])) {
      lua_settop(L, base);
      return fl_fail(FL_ENAN, "the field's function returned %s at point %zu (component %zu)",
                     isnan(ya->data[i]) ? "NaN" : ya->data[i] > 0 ? "Inf" : "-Inf", i / m + 1, i % m + 1);
    }
  memcpy(out, ya->data, n * m * sizeof(double));
  lua_settop(L, base);
  return FL_OK;
}

static const fl_field_ops fn_ops = {.kind = "lua", .eval = fn_eval, .destroy = fn_destroy};

static const char *const fn_opts[] = {"dim", "codim", "time_dependent", NULL};

static int fld_fn(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TFUNCTION);
  luaL_checktype(L, 2, LUA_TTABLE);
  l_checkopts(L, 2, fn_opts);
  lua_Integer d = l_optinteger_field(L, 2, "dim", 0);
  lua_Integer m = l_optinteger_field(L, 2, "codim", d);
  int tdep = l_optboolean_field(L, 2, "time_dependent", 0);
  if (d < 1 || d > 1000000) luaL_argerror(L, 2, "option 'dim' must be a positive integer");
  if (m < 1 || m > 1000000) luaL_argerror(L, 2, "option 'codim' must be a positive integer");
  l_box *b = l_newbox(L, FL_FIELD_MT);
  lua_fn *q = malloc(sizeof *q);
  if (!q) return luaL_error(L, "field.fn: out of memory");
  q->th = lua_newthread(L);
  q->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, 1);
  lua_xmove(L, q->th, 1);
  fl_field *f;
  l_check(L, fl_field_new(&fn_ops, (int)d, (int)m, tdep, 0, q, &f), "field.fn");
  b->p = f;
  return 1;
}

/* ------------------------------------------------------------ evaluation */

/* Push a new array of the given shape (taking the single-point convention:
 * when single, the leading n = 1 axis is dropped). */
static fl_array *new_result(lua_State *L, int single, size_t n, int nd, const size_t *rest)
{
  size_t shape[FL_MAXDIM];
  int k = 0;
  if (!single) shape[k++] = n;
  for (int i = 0; i < nd; i++) shape[k++] = rest[i];
  if (k == 0) shape[k++] = 1;
  l_box *b = l_newbox(L, FL_ARRAY_MT);
  fl_array *a;
  l_check(L, fl_array_new(k, shape, &a), "field");
  b->p = a;
  l_gc_account(L, a->nbytes);
  return a;
}

static int f_eval(lua_State *L)
{
  fl_field *f = l_checkfield(L, 1);
  size_t n;
  int single;
  const double *x = l_checkpoints(L, 2, f->dim, &n, &single, "eval");
  double t = l_opttime(L, 3, 0.0);
  size_t m = (size_t)f->codim;
  fl_array *r = new_result(L, single, n, 1, &m);
  l_check(L, fl_field_eval(f, n, x, t, r->data), "eval");
  return 1;
}

static int f_call(lua_State *L) { return f_eval(L); }

static void push_exact(lua_State *L, int exact)
{
  lua_pushboolean(L, exact);
  l_setattr(L, -2, "exact");
}

/* A derivative that also says whether it is exact: fl_field_jacobian,
 * _hessian, _div, _laplacian, _curl. */
typedef fl_status (*deriv_op)(fl_field *, size_t, const double *, double, double *, int *);

/* jacobian (codim x dim per point, by_codim) and hessian (dim x dim). */
static int matrix_result(lua_State *L, deriv_op op, int by_codim, const char *name)
{
  fl_field *f = l_checkfield(L, 1);
  size_t n;
  int single, exact;
  const double *x = l_checkpoints(L, 2, f->dim, &n, &single, name);
  double t = l_opttime(L, 3, 0.0);
  size_t rest[2] = {(size_t)(by_codim ? f->codim : f->dim), (size_t)f->dim};
  fl_array *r = new_result(L, single, n, 2, rest);
  l_check(L, op(f, n, x, t, r->data, &exact), name);
  push_exact(L, exact);
  return 1;
}

static int f_jacobian(lua_State *L) { return matrix_result(L, fl_field_jacobian, 1, "jacobian"); }
static int f_hessian(lua_State *L) { return matrix_result(L, fl_field_hessian, 0, "hessian"); }

/* div, laplacian and 2-D curl: one number per point. */
static int scalar_result(lua_State *L, deriv_op op, const char *name)
{
  fl_field *f = l_checkfield(L, 1);
  size_t n;
  int single, exact;
  const double *x = l_checkpoints(L, 2, f->dim, &n, &single, name);
  double t = l_opttime(L, 3, 0.0);
  fl_array *r = new_result(L, 0, n, 0, NULL);
  l_check(L, op(f, n, x, t, r->data, &exact), name);
  if (single) {
    lua_pushnumber(L, r->data[0]);
    return 1;
  }
  push_exact(L, exact);
  return 1;
}

static int f_div(lua_State *L) { return scalar_result(L, fl_field_div, "div"); }
static int f_laplacian(lua_State *L) { return scalar_result(L, fl_field_laplacian, "laplacian"); }

static int f_curl(lua_State *L)
{
  fl_field *f = l_checkfield(L, 1);
  if (f->dim == 3 && f->codim == 3) {
    size_t n;
    int single, exact;
    const double *x = l_checkpoints(L, 2, 3, &n, &single, "curl");
    double t = l_opttime(L, 3, 0.0);
    size_t three = 3;
    fl_array *r = new_result(L, single, n, 1, &three);
    l_check(L, fl_field_curl(f, n, x, t, r->data, &exact), "curl");
    push_exact(L, exact);
    return 1;
  }
  return scalar_result(L, fl_field_curl, "curl");
}

static int f_grad(lua_State *L)
{
  fl_field *f = l_checkfield(L, 1), *g;
  l_check(L, fl_field_gradient(f, &g), "grad");
  l_pushfield(L, g);
  return 1;
}

/* ------------------------------------------------------------ algebra */

static int lincomb(lua_State *L, double a, fl_field *f, double b, fl_field *g, const char *name)
{
  l_box *box = l_newbox(L, FL_FIELD_MT);
  fl_field *r;
  l_check(L, fl_field_lincomb(a, f, b, g, &r), name);
  box->p = r;
  return 1;
}

static int f_add(lua_State *L)
{
  return lincomb(L, 1, l_checkfield(L, 1), 1, l_checkfield(L, 2), "field addition");
}

static int f_sub(lua_State *L)
{
  return lincomb(L, 1, l_checkfield(L, 1), -1, l_checkfield(L, 2), "field subtraction");
}

static int f_mul(lua_State *L)
{
  if (lua_type(L, 1) == LUA_TNUMBER) return lincomb(L, lua_tonumber(L, 1), l_checkfield(L, 2), 0, NULL, "c * f");
  if (lua_type(L, 2) == LUA_TNUMBER) return lincomb(L, lua_tonumber(L, 2), l_checkfield(L, 1), 0, NULL, "f * c");
  return l_error(L, "field multiplication", "a field can be multiplied by a number only (got %s and %s)",
                 luaL_typename(L, 1), luaL_typename(L, 2));
}

static int f_div_op(lua_State *L)
{
  fl_field *f = l_checkfield(L, 1);
  double c = luaL_checknumber(L, 2);
  if (c == 0) return l_error(L, "field division", "division by zero");
  return lincomb(L, 1 / c, f, 0, NULL, "f / c");
}

static int f_unm(lua_State *L) { return lincomb(L, -1, l_checkfield(L, 1), 0, NULL, "-f"); }

static int fld_compose(lua_State *L)
{
  fl_field *f = l_checkfield(L, 1), *g = l_checkfield(L, 2), *r;
  l_box *box = l_newbox(L, FL_FIELD_MT);
  l_check(L, fl_field_compose(f, g, &r), "field.compose");
  box->p = r;
  return 1;
}

static int fld_project(lua_State *L)
{
  fl_field *f = l_checkfield(L, 1), *r;
  int comp[64], k = 0;
  if (lua_type(L, 2) == LUA_TNUMBER) {
    comp[k++] = (int)luaL_checkinteger(L, 2) - 1;
  } else {
    luaL_checktype(L, 2, LUA_TTABLE);
    k = (int)lua_rawlen(L, 2);
    if (k < 1 || k > 64) luaL_argerror(L, 2, "need 1 to 64 component indices");
    for (int i = 0; i < k; i++) {
      lua_rawgeti(L, 2, i + 1);
      int isint;
      lua_Integer c = lua_tointegerx(L, -1, &isint);
      if (!isint) luaL_argerror(L, 2, "component indices must be integers");
      comp[i] = (int)c - 1;
      lua_pop(L, 1);
    }
  }
  l_box *box = l_newbox(L, FL_FIELD_MT);
  l_check(L, fl_field_project(f, k, comp, &r), "field.project");
  box->p = r;
  return 1;
}

static int fld_is_field(lua_State *L)
{
  lua_pushboolean(L, luaL_testudata(L, 1, FL_FIELD_MT) != NULL);
  return 1;
}

/* ------------------------------------------------------------ the type */

static int f_gc(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, FL_FIELD_MT);
  if (b->p) {
    fl_field_release(b->p);
    b->p = NULL;
  }
  return 0;
}

static int f_tostring(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, FL_FIELD_MT);
  fl_field *f = b->p;
  if (!f) {
    lua_pushliteral(L, "fieldlab.Field (closed)");
  } else if (f->codim == 1) {
    lua_pushfstring(L, "fieldlab.Field(%s: R^%d -> R%s)", f->ops->kind ? f->ops->kind : "field", f->dim,
                    f->time_dependent ? ", time-dependent" : "");
  } else {
    lua_pushfstring(L, "fieldlab.Field(%s: R^%d -> R^%d%s)", f->ops->kind ? f->ops->kind : "field", f->dim,
                    f->codim, f->time_dependent ? ", time-dependent" : "");
  }
  return 1;
}

static int f_index(lua_State *L)
{
  l_box *box = luaL_checkudata(L, 1, FL_FIELD_MT);
  const char *k = lua_tostring(L, 2);
  if (k && box->p) {
    fl_field *f = box->p;
    if (strcmp(k, "dim") == 0) { lua_pushinteger(L, f->dim); return 1; }
    if (strcmp(k, "codim") == 0) { lua_pushinteger(L, f->codim); return 1; }
    if (strcmp(k, "time_dependent") == 0) { lua_pushboolean(L, f->time_dependent); return 1; }
    if (strcmp(k, "kind") == 0) { lua_pushstring(L, f->ops->kind ? f->ops->kind : "field"); return 1; }
    if (l_getproperty(L)) return 1; /* grid, network, ... properties (l_extendclass) */
  }
  if (l_getmethod(L) == LUA_TNIL && k) l_getattr(L, 1, k);
  return 1;
}

static const luaL_Reg field_fns[] = {
  {"fn", fld_fn},
  {"compose", fld_compose},
  {"project", fld_project},
  {"is_field", fld_is_field},
  {NULL, NULL}
};

static const luaL_Reg field_meta[] = {
  {"__gc", f_gc},
  {"__close", f_gc},
  {"__tostring", f_tostring},
  {"__index", f_index},
  {"__call", f_call},
  {"__add", f_add},
  {"__sub", f_sub},
  {"__mul", f_mul},
  {"__div", f_div_op},
  {"__unm", f_unm},
  {NULL, NULL}
};

static const luaL_Reg field_methods[] = {
  {"eval", f_eval},
  {"jacobian", f_jacobian},
  {"hessian", f_hessian},
  {"div", f_div},
  {"curl", f_curl},
  {"laplacian", f_laplacian},
  {"grad", f_grad},
  {"close", f_gc},
  {NULL, NULL}
};

static const char *const field_props[] = {"dim", "codim", "time_dependent", "kind", NULL};

void l_open_field(lua_State *L)
{
  l_newclass(L, FL_FIELD_MT, field_meta, field_methods, field_props);
  l_newmodule(L, "field", field_fns);
}
