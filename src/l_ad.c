/* Lua bindings of lib/fl_ad: module `ad`, types fieldlab.ad.Var (a node of
 * the state's graph, or a parameter) and fieldlab.ad.Params (a parameter
 * block). Glue only.
 *
 * Each Lua state has one graph (registry key REG_GRAPH). A Var box records
 * the graph's generation when it was made; after ad.reset() an ordinary Var
 * raises "ad: variable from a reset graph". A parameter Var lives in a block
 * outside the graph: it survives resets, and each use puts a node for it into
 * the current graph (cached per generation). */
#include "config.h"
#include "l_util.h"
#include "fl_ad.h"

#include <string.h>

#define VAR_MT "fieldlab.ad.Var"
#define PARAMS_MT "fieldlab.ad.Params"
#define GRAPH_MT "fieldlab.ad.graph"
#define REG_GRAPH "fieldlab.ad.the_graph" /* not GRAPH_MT: that key holds the metatable */
#define REG_PARAMS "fieldlab.ad.default_params"

typedef struct var_box {
  unsigned long gen; /* graph generation of id */
  int id;            /* node id, -1 when none (a parameter not yet used) */
  fl_ad_params *P;   /* a parameter: its block (one reference) and index */
  size_t pk;
} var_box;

/* ------------------------------------------------------------ graph */

static int graph_gc(lua_State *L)
{
  fl_ad_graph **gp = luaL_checkudata(L, 1, GRAPH_MT);
  if (*gp) fl_ad_graph_free(*gp);
  *gp = NULL;
  return 0;
}

static fl_ad_graph *graph(lua_State *L)
{
  lua_getfield(L, LUA_REGISTRYINDEX, REG_GRAPH);
  fl_ad_graph **gp = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (!gp || !*gp) luaL_error(L, "ad: the graph is gone (the Lua state is closing)");
  return *gp;
}

/* Raise the graph's failure (clearing it) when id < 0. */
static void check_id(lua_State *L, fl_ad_graph *g, int id, const char *fname)
{
  if (id >= 0) return;
  fl_status st = fl_ad_status(g);
  fl_ad_clear_error(g);
  l_check(L, st == FL_OK ? FL_EINVAL : st, fname);
}

static var_box *push_var(lua_State *L, fl_ad_graph *g, int id, const char *fname)
{
  check_id(L, g, id, fname);
  var_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->gen = fl_ad_graph_generation(g);
  b->id = id;
  b->P = NULL;
  b->pk = 0;
  luaL_setmetatable(L, VAR_MT);
  return b;
}

/* The node for the value at idx: a Var (a parameter gets its node in the
 * current graph), or a number / Array / table of numbers as a constant (a 1-D
 * array of n numbers is a 1 x n row). */
static int node_of(lua_State *L, int idx, const char *fname)
{
  fl_ad_graph *g = graph(L);
  var_box *b = luaL_testudata(L, idx, VAR_MT);
  if (b) {
    if (b->P) {
      if (b->id < 0 || b->gen != fl_ad_graph_generation(g)) {
        b->id = fl_ad_param(g, b->P, b->pk);
        check_id(L, g, b->id, fname);
        b->gen = fl_ad_graph_generation(g);
      }
      return b->id;
    }
    if (b->gen != fl_ad_graph_generation(g))
      luaL_error(L, "ad: variable from a reset graph (make it again after ad.reset())");
    return b->id;
  }
  if (lua_type(L, idx) == LUA_TNUMBER) {
    int id = fl_ad_scalar(g, lua_tonumber(L, idx));
    check_id(L, g, id, fname);
    return id;
  }
  if (!l_testarray(L, idx) && !lua_istable(L, idx))
    luaL_typeerror(L, idx, "ad variable, Array or number");
  fl_array *a = l_toarray(L, idx);
  if (a->ndim > 2)
    luaL_argerror(L, idx, lua_pushfstring(L, "ad works on 1-D and 2-D arrays, not %d-D", a->ndim));
  size_t r = a->ndim == 2 ? a->shape[0] : 1, c = a->ndim == 2 ? a->shape[1] : a->shape[0];
  int id = fl_ad_const(g, r, c, a->data);
  check_id(L, g, id, fname);
  return id;
}

static var_box *check_var(lua_State *L, int idx)
{
  return luaL_checkudata(L, idx, VAR_MT);
}

/* ------------------------------------------------------------ constructors */

static int leaf_from(lua_State *L, int rg, const char *fname)
{
  fl_ad_graph *g = graph(L);
  if (lua_type(L, 1) == LUA_TNUMBER) {
    double v = lua_tonumber(L, 1);
    push_var(L, g, fl_ad_leaf(g, 1, 1, &v, rg), fname);
    return 1;
  }
  if (!l_testarray(L, 1) && !lua_istable(L, 1)) luaL_typeerror(L, 1, "Array, table or number");
  fl_array *a = l_toarray(L, 1);
  if (a->ndim > 2) luaL_argerror(L, 1, lua_pushfstring(L, "ad works on 1-D and 2-D arrays, not %d-D", a->ndim));
  size_t r = a->ndim == 2 ? a->shape[0] : 1, c = a->ndim == 2 ? a->shape[1] : a->shape[0];
  push_var(L, g, fl_ad_leaf(g, r, c, a->data, rg), fname);
  return 1;
}

static const char *const var_opts[] = {"requires_grad", NULL};

static int ad_var(lua_State *L)
{
  l_checkopts(L, 2, var_opts);
  int rg = l_optboolean_field(L, 2, "requires_grad", 1);
  lua_settop(L, 1);
  return leaf_from(L, rg, "ad.var");
}

static int ad_const(lua_State *L)
{
  lua_settop(L, 1);
  return leaf_from(L, 0, "ad.const");
}

static int params_gc(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, PARAMS_MT);
  if (b->p) fl_ad_params_release(b->p);
  b->p = NULL;
  return 0;
}

static fl_ad_params *push_params(lua_State *L)
{
  l_box *b = l_newbox(L, PARAMS_MT);
  fl_ad_params *P;
  l_check(L, fl_ad_params_new(&P), "ad.params");
  b->p = P;
  return P;
}

static int ad_params(lua_State *L)
{
  push_params(L);
  return 1;
}

static int ad_param(lua_State *L)
{
  fl_ad_params *P;
  if (lua_isnoneornil(L, 2)) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, REG_PARAMS) == LUA_TNIL) {
      lua_pop(L, 1);
      push_params(L);
      lua_pushvalue(L, -1);
      lua_setfield(L, LUA_REGISTRYINDEX, REG_PARAMS);
    }
    P = l_checkobj(L, -1, PARAMS_MT);
    lua_pop(L, 1);
  } else {
    P = l_checkobj(L, 2, PARAMS_MT);
  }
  fl_array *a;
  if (lua_type(L, 1) == LUA_TNUMBER || !(a = l_testarray(L, 1))) {
    if (!lua_istable(L, 1) && lua_type(L, 1) != LUA_TNUMBER) luaL_typeerror(L, 1, "Array, table or number");
    a = l_toarray(L, 1);
  }
  if (a->ndim > 2) luaL_argerror(L, 1, lua_pushfstring(L, "ad works on 1-D and 2-D arrays, not %d-D", a->ndim));
  size_t r = a->ndim == 2 ? a->shape[0] : 1, c = a->ndim == 2 ? a->shape[1] : a->shape[0], k;
  var_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->P = NULL;
  b->id = -1;
  b->gen = 0;
  luaL_setmetatable(L, VAR_MT);
  l_check(L, fl_ad_params_add(P, r, c, a->data, &k), "ad.param");
  b->P = fl_ad_params_retain(P);
  b->pk = k;
  return 1;
}

/* ------------------------------------------------------------ ops */

typedef int (*unop_fn)(fl_ad_graph *, int);

static const struct { const char *name; unop_fn f; } unops[] = {
  {"square", fl_ad_square}, {"sqrt", fl_ad_sqrt}, {"exp", fl_ad_exp}, {"log", fl_ad_log},
  {"sin", fl_ad_sin}, {"cos", fl_ad_cos}, {"tanh", fl_ad_tanh}, {"sigmoid", fl_ad_sigmoid},
  {"softplus", fl_ad_softplus}, {"silu", fl_ad_silu}, {"relu", fl_ad_relu}, {"gelu", fl_ad_gelu},
  {NULL, NULL}
};

static int m_unop(lua_State *L)
{
  check_var(L, 1);
  unop_fn f = unops[lua_tointeger(L, lua_upvalueindex(1))].f;
  int a = node_of(L, 1, "ad");
  fl_ad_graph *g = graph(L);
  push_var(L, g, f(g, a), "ad");
  return 1;
}

typedef int (*binop_fn)(fl_ad_graph *, int, int);

/* a op b; numbers on either side go through affine (no constant node). */
static int arith(lua_State *L, int op)
{
  fl_ad_graph *g = graph(L);
  static const binop_fn fns[] = {fl_ad_add, fl_ad_sub, fl_ad_mul, fl_ad_div};
  int na = lua_type(L, 1) == LUA_TNUMBER, nb = lua_type(L, 2) == LUA_TNUMBER;
  int id;
  if (nb && !(op == 3 && lua_tonumber(L, 2) == 0)) {
    double s = lua_tonumber(L, 2);
    int a = node_of(L, 1, "ad");
    id = op == 0 ? fl_ad_affine(g, a, 1, s) : op == 1 ? fl_ad_affine(g, a, 1, -s)
       : op == 2 ? fl_ad_affine(g, a, s, 0) : fl_ad_affine(g, a, 1 / s, 0);
  } else if (na && op != 3) {
    double s = lua_tonumber(L, 1);
    int b = node_of(L, 2, "ad");
    id = op == 0 ? fl_ad_affine(g, b, 1, s) : op == 1 ? fl_ad_affine(g, b, -1, s) : fl_ad_affine(g, b, s, 0);
  } else {
    int a = node_of(L, 1, "ad"), b = node_of(L, 2, "ad");
    id = fns[op](g, a, b);
  }
  push_var(L, g, id, "ad");
  return 1;
}

static int m_add(lua_State *L) { return arith(L, 0); }
static int m_sub(lua_State *L) { return arith(L, 1); }
static int m_mul(lua_State *L) { return arith(L, 2); }
static int m_div(lua_State *L) { return arith(L, 3); }

static int m_unm(lua_State *L)
{
  fl_ad_graph *g = graph(L);
  int a = node_of(L, 1, "ad");
  push_var(L, g, fl_ad_neg(g, a), "ad");
  return 1;
}

static int m_matmul(lua_State *L)
{
  check_var(L, 1);
  fl_ad_graph *g = graph(L);
  int a = node_of(L, 1, "ad"), b = node_of(L, 2, "ad");
  push_var(L, g, fl_ad_matmul(g, a, b, 0, 0), "ad");
  return 1;
}

static int m_dense(lua_State *L)
{
  check_var(L, 1);
  fl_ad_graph *g = graph(L);
  int x = node_of(L, 1, "ad"), w = node_of(L, 2, "ad"), b = node_of(L, 3, "ad");
  push_var(L, g, fl_ad_dense(g, x, w, b), "ad");
  return 1;
}

static int m_t(lua_State *L)
{
  check_var(L, 1);
  fl_ad_graph *g = graph(L);
  int a = node_of(L, 1, "ad");
  push_var(L, g, fl_ad_transpose(g, a), "ad");
  return 1;
}

/* 1-based axis (1: over rows, 2: over columns, negative from the end) or nil. */
static int opt_axis(lua_State *L, int arg)
{
  if (lua_isnoneornil(L, arg)) return FL_AD_ALL;
  lua_Integer ax = luaL_checkinteger(L, arg);
  if (ax < 0) ax += 3;
  if (ax != 1 && ax != 2) luaL_argerror(L, arg, "axis must be 1 (over rows) or 2 (over columns)");
  return (int)ax - 1;
}

static int reduce(lua_State *L, int mean)
{
  check_var(L, 1);
  int axis = opt_axis(L, 2);
  fl_ad_graph *g = graph(L);
  int a = node_of(L, 1, "ad");
  push_var(L, g, mean ? fl_ad_mean(g, a, axis) : fl_ad_sum(g, a, axis), "ad");
  return 1;
}

static int m_sum(lua_State *L) { return reduce(L, 0); }
static int m_mean(lua_State *L) { return reduce(L, 1); }

static size_t check_extent(lua_State *L, int arg)
{
  lua_Integer n = luaL_checkinteger(L, arg);
  if (n < 0) luaL_argerror(L, arg, "extent must be non-negative");
  return (size_t)n;
}

/* ad.reshape / ad.expand (x, rows, cols): op makes the new node. */
static int shape_op(lua_State *L, int (*op)(fl_ad_graph *g, int a, size_t rows, size_t cols))
{
  check_var(L, 1);
  size_t r = check_extent(L, 2), c = check_extent(L, 3);
  fl_ad_graph *g = graph(L);
  int a = node_of(L, 1, "ad");
  push_var(L, g, op(g, a, r, c), "ad");
  return 1;
}

static int m_reshape(lua_State *L) { return shape_op(L, fl_ad_reshape); }
static int m_expand(lua_State *L) { return shape_op(L, fl_ad_expand); }

static int m_cols(lua_State *L)
{
  check_var(L, 1);
  fl_ad_graph *g = graph(L);
  int a = node_of(L, 1, "ad");
  size_t r, c;
  fl_ad_shape(g, a, &r, &c);
  lua_Integer i = luaL_checkinteger(L, 2), j = luaL_optinteger(L, 3, i);
  if (i < 0) i += (lua_Integer)c + 1;
  if (j < 0) j += (lua_Integer)c + 1;
  if (i < 1 || i > (lua_Integer)c || j < i || j > (lua_Integer)c)
    l_error(L, "ad", "cols: columns %d..%d out of range for %d columns", (int)luaL_checkinteger(L, 2),
            (int)luaL_optinteger(L, 3, luaL_checkinteger(L, 2)), (int)c);
  push_var(L, g, fl_ad_cols(g, a, (size_t)i - 1, (size_t)j), "ad");
  return 1;
}

static int m_detach(lua_State *L)
{
  check_var(L, 1);
  fl_ad_graph *g = graph(L);
  int a = node_of(L, 1, "ad");
  size_t r, c;
  fl_ad_shape(g, a, &r, &c);
  push_var(L, g, fl_ad_const(g, r, c, fl_ad_value(g, a)), "ad");
  return 1;
}

static int m_item(lua_State *L)
{
  check_var(L, 1);
  fl_ad_graph *g = graph(L);
  int a = node_of(L, 1, "ad");
  size_t r, c;
  fl_ad_shape(g, a, &r, &c);
  if (r != 1 || c != 1) l_error(L, "ad", "item: needs a (1,1) variable, not (%d,%d)", (int)r, (int)c);
  lua_pushnumber(L, fl_ad_value(g, a)[0]);
  return 1;
}

static int m_zero_grad(lua_State *L)
{
  var_box *b = check_var(L, 1);
  if (b->P) {
    size_t m = b->P->t[b->pk].rows * b->P->t[b->pk].cols;
    memset(fl_ad_params_grad(b->P, b->pk), 0, m * sizeof(double));
    return 0;
  }
  int a = node_of(L, 1, "ad");
  fl_ad_zero_leaf_grad(graph(L), a);
  return 0;
}

static int m_set(lua_State *L)
{
  var_box *b = check_var(L, 1);
  if (!b->P) l_error(L, "ad", "set: only a parameter (ad.param) can be assigned; make a new ad.var instead");
  fl_array *a = l_toarray(L, 2);
  const fl_ad_tensor *t = &b->P->t[b->pk];
  if (a->size != t->rows * t->cols)
    l_error(L, "ad", "set: %d values for a (%d,%d) parameter", (int)a->size, (int)t->rows, (int)t->cols);
  memcpy(fl_ad_params_value(b->P, b->pk), a->data, a->size * sizeof(double));
  return 0;
}

static int ad_concat_cols(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  int n = (int)lua_rawlen(L, 1);
  if (n < 1) luaL_argerror(L, 1, "need a non-empty list of variables");
  luaL_checkstack(L, n + 2, "ad.concat_cols");
  int *ids = lua_newuserdatauv(L, sizeof(int) * (size_t)n, 0);
  int base = lua_gettop(L);
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, 1, i + 1);
    ids[i] = node_of(L, base + 1 + i, "ad");
  }
  fl_ad_graph *g = graph(L);
  push_var(L, g, fl_ad_concat_cols(g, n, ids), "ad");
  return 1;
}

/* ------------------------------------------------------------ differentiation */

static int ad_backward(lua_State *L)
{
  check_var(L, 1);
  fl_ad_graph *g = graph(L);
  int y = node_of(L, 1, "ad");
  l_check(L, fl_ad_backward(g, y), "ad");
  return 0;
}

static const char *const grad_opts[] = {"create_graph", "seed", NULL};

static int ad_grad(lua_State *L)
{
  check_var(L, 1);
  l_checkopts(L, 3, grad_opts);
  int cg = l_optboolean_field(L, 3, "create_graph", 0);
  fl_ad_graph *g = graph(L);
  int y = node_of(L, 1, "ad"), seed = -1;
  if (!lua_isnoneornil(L, 3)) {
    lua_getfield(L, 3, "seed");
    if (!lua_isnil(L, -1)) seed = node_of(L, lua_gettop(L), "ad");
    lua_pop(L, 1);
  }
  int single = luaL_testudata(L, 2, VAR_MT) != NULL;
  if (!single && !lua_istable(L, 2)) luaL_typeerror(L, 2, "ad variable or list of them");
  int n = single ? 1 : (int)lua_rawlen(L, 2);
  if (n < 1) luaL_argerror(L, 2, "need a variable or a non-empty list of them");
  luaL_checkstack(L, n + 4, "ad.grad");
  int *xs = lua_newuserdatauv(L, sizeof(int) * 2 * (size_t)n, 0), *out = xs + n;
  if (single) {
    xs[0] = node_of(L, 2, "ad");
  } else {
    for (int i = 0; i < n; i++) {
      lua_rawgeti(L, 2, i + 1);
      if (!luaL_testudata(L, -1, VAR_MT))
        luaL_argerror(L, 2, lua_pushfstring(L, "list item %d is a %s, expected an ad variable", i + 1,
                                            luaL_typename(L, -1)));
      xs[i] = node_of(L, -1, "ad");
      lua_pop(L, 1);
    }
  }
  l_check(L, fl_ad_grad(g, y, seed, n, xs, cg, out), "ad");
  if (single) {
    push_var(L, g, out[0], "ad");
    return 1;
  }
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    push_var(L, g, out[i], "ad");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static const char *const reset_opts[] = {"release", NULL};

static int ad_reset(lua_State *L)
{
  l_checkopts(L, 1, reset_opts);
  fl_ad_graph_reset(graph(L), l_optboolean_field(L, 1, "release", 0));
  return 0;
}

static int ad_is_var(lua_State *L)
{
  lua_pushboolean(L, luaL_testudata(L, 1, VAR_MT) != NULL);
  return 1;
}

static int ad_stats(lua_State *L)
{
  fl_ad_graph *g = graph(L);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)fl_ad_graph_nodes(g));
  lua_setfield(L, -2, "nodes");
  lua_pushinteger(L, (lua_Integer)fl_ad_graph_bytes(g));
  lua_setfield(L, -2, "bytes");
  lua_pushinteger(L, (lua_Integer)fl_ad_graph_generation(g));
  lua_setfield(L, -2, "generation");
  return 1;
}

/* ------------------------------------------------------------ Var metamethods */

static fl_array *copy_array(lua_State *L, size_t r, size_t c, const double *src)
{
  size_t shape[2] = {r, c};
  fl_array *a;
  l_check(L, fl_array_from_data(2, shape, src, &a), "ad");
  l_pusharray(L, a);
  return a;
}

static int var_index(lua_State *L)
{
  var_box *b = check_var(L, 1);
  const char *k = lua_tostring(L, 2);
  if (k && lua_type(L, 2) == LUA_TSTRING) {
    int prop = !strcmp(k, "value") || !strcmp(k, "grad") || !strcmp(k, "shape") || !strcmp(k, "requires_grad");
    if (prop) {
      fl_ad_graph *g = graph(L);
      if (b->P) {
        const fl_ad_tensor *t = &b->P->t[b->pk];
        if (!strcmp(k, "value")) copy_array(L, t->rows, t->cols, fl_ad_params_value(b->P, b->pk));
        else if (!strcmp(k, "grad")) copy_array(L, t->rows, t->cols, fl_ad_params_grad(b->P, b->pk));
        else if (!strcmp(k, "requires_grad")) lua_pushboolean(L, 1);
        else {
          lua_createtable(L, 2, 0);
          lua_pushinteger(L, (lua_Integer)t->rows);
          lua_rawseti(L, -2, 1);
          lua_pushinteger(L, (lua_Integer)t->cols);
          lua_rawseti(L, -2, 2);
        }
        return 1;
      }
      int id = node_of(L, 1, "ad");
      size_t r, c;
      fl_ad_shape(g, id, &r, &c);
      if (!strcmp(k, "value")) {
        copy_array(L, r, c, fl_ad_value(g, id));
      } else if (!strcmp(k, "grad")) {
        const double *gr = fl_ad_leaf_grad(g, id);
        if (gr) copy_array(L, r, c, gr);
        else lua_pushnil(L);
      } else if (!strcmp(k, "requires_grad")) {
        lua_pushboolean(L, fl_ad_requires_grad(g, id));
      } else {
        lua_createtable(L, 2, 0);
        lua_pushinteger(L, (lua_Integer)r);
        lua_rawseti(L, -2, 1);
        lua_pushinteger(L, (lua_Integer)c);
        lua_rawseti(L, -2, 2);
      }
      return 1;
    }
  }
  l_getmethod(L);
  return 1;
}

static int var_gc(lua_State *L)
{
  var_box *b = check_var(L, 1);
  if (b->P) fl_ad_params_release(b->P);
  b->P = NULL;
  return 0;
}

static int var_tostring(lua_State *L)
{
  var_box *b = check_var(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, REG_GRAPH);
  fl_ad_graph **gp = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (b->P) {
    const fl_ad_tensor *t = &b->P->t[b->pk];
    lua_pushfstring(L, "fieldlab.ad.Var(%d,%d) parameter", (int)t->rows, (int)t->cols);
  } else if (!gp || !*gp || b->gen != fl_ad_graph_generation(*gp)) {
    lua_pushliteral(L, "fieldlab.ad.Var (from a reset graph)");
  } else {
    size_t r = 0, c = 0;
    fl_ad_shape(*gp, b->id, &r, &c);
    lua_pushfstring(L, "fieldlab.ad.Var(%d,%d)%s", (int)r, (int)c,
                    fl_ad_requires_grad(*gp, b->id) ? " requires_grad" : "");
  }
  return 1;
}

/* ------------------------------------------------------------ Params */

static int params_index(lua_State *L)
{
  l_box *box = luaL_checkudata(L, 1, PARAMS_MT);
  const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  if (k && box->p) {
    fl_ad_params *P = box->p;
    if (!strcmp(k, "size")) { lua_pushinteger(L, (lua_Integer)P->n); return 1; }
    if (!strcmp(k, "count")) { lua_pushinteger(L, (lua_Integer)P->count); return 1; }
    if (!strcmp(k, "value") || !strcmp(k, "grad")) {
      size_t n = P->n;
      fl_array *a;
      l_check(L, fl_array_from_data(1, &n, k[0] == 'v' ? P->x : P->g, &a), "ad");
      l_pusharray(L, a);
      return 1;
    }
  }
  l_getmethod(L);
  return 1;
}

static int params_tostring(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, PARAMS_MT);
  if (!b->p) lua_pushliteral(L, "fieldlab.ad.Params (closed)");
  else {
    fl_ad_params *P = b->p;
    lua_pushfstring(L, "fieldlab.ad.Params(%d tensors, %d values)", (int)P->count, (int)P->n);
  }
  return 1;
}

static int params_zero_grad(lua_State *L)
{
  fl_ad_params_zero_grad(l_checkobj(L, 1, PARAMS_MT));
  return 0;
}

static int params_set(lua_State *L)
{
  fl_ad_params *P = l_checkobj(L, 1, PARAMS_MT);
  fl_array *a = l_toarray(L, 2);
  if (a->size != P->n) l_error(L, "ad", "set: %d values for a block of %d", (int)a->size, (int)P->n);
  memcpy(P->x, a->data, P->n * sizeof(double));
  return 0;
}

static int params_param(lua_State *L)
{
  l_checkobj(L, 1, PARAMS_MT);
  lua_settop(L, 2);
  lua_insert(L, 1); /* (array, block) */
  return ad_param(L);
}

/* ------------------------------------------------------------ registration */

static const luaL_Reg ad_fns[] = {
  {"var", ad_var},
  {"const", ad_const},
  {"param", ad_param},
  {"params", ad_params},
  {"concat_cols", ad_concat_cols},
  {"backward", ad_backward},
  {"grad", ad_grad},
  {"reset", ad_reset},
  {"is_var", ad_is_var},
  {"stats", ad_stats},
  {NULL, NULL}
};

static const luaL_Reg var_meta[] = {
  {"__index", var_index},
  {"__gc", var_gc},
  {"__tostring", var_tostring},
  {"__add", m_add},
  {"__sub", m_sub},
  {"__mul", m_mul},
  {"__div", m_div},
  {"__unm", m_unm},
  {NULL, NULL}
};

static const luaL_Reg var_methods[] = {
  {"matmul", m_matmul},
  {"dense", m_dense},
  {"t", m_t},
  {"sum", m_sum},
  {"mean", m_mean},
  {"reshape", m_reshape},
  {"expand", m_expand},
  {"cols", m_cols},
  {"detach", m_detach},
  {"item", m_item},
  {"zero_grad", m_zero_grad},
  {"set", m_set},
  {NULL, NULL}
};

static const char *const var_props[] = {"value", "grad", "shape", "requires_grad", NULL};

static const luaL_Reg params_meta[] = {
  {"__index", params_index},
  {"__gc", params_gc},
  {"__close", params_gc},
  {"__tostring", params_tostring},
  {NULL, NULL}
};

static const luaL_Reg params_methods[] = {
  {"param", params_param},
  {"zero_grad", params_zero_grad},
  {"set", params_set},
  {"close", params_gc},
  {NULL, NULL}
};

static const char *const params_props[] = {"size", "count", "value", "grad", NULL};


void l_open_ad(lua_State *L)
{
  /* the state's graph, freed when the state closes */
  luaL_newmetatable(L, GRAPH_MT);
  lua_pushcfunction(L, graph_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  fl_ad_graph **gp = lua_newuserdatauv(L, sizeof *gp, 0);
  *gp = NULL;
  luaL_setmetatable(L, GRAPH_MT);
  l_check(L, fl_ad_graph_new(gp), "ad");
  lua_setfield(L, LUA_REGISTRYINDEX, REG_GRAPH);

  l_newclass(L, VAR_MT, var_meta, var_methods, var_props);
  luaL_getmetatable(L, VAR_MT);
  lua_getfield(L, -1, "__methods");
  for (int i = 0; unops[i].name; i++) {
    lua_pushinteger(L, i);
    lua_pushcclosure(L, m_unop, 1);
    lua_setfield(L, -2, unops[i].name);
  }
  lua_pop(L, 2);
  l_newclass(L, PARAMS_MT, params_meta, params_methods, params_props);
  l_newmodule(L, "ad", ad_fns);
}
