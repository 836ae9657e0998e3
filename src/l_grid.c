/* Lua bindings of lib/fl_grid: field.grid, field.sample, field.grid_from (in
 * module `field`) and the grid-only methods and properties of fieldlab.Field
 * (g:partial, g:grid_div, ..., g.n, g.box, g.values). Glue only. Axes are
 * 1-based here and 0-based in lib. */
#include "config.h"
#include "l_util.h"

#include <math.h>
#include <string.h>

#include "fl_grid.h"

/* ------------------------------------------------------------ option parsing */

static fl_interp check_interp(lua_State *L, int arg, const char *s)
{
  if (strcmp(s, "linear") == 0) return FL_INTERP_LINEAR;
  if (strcmp(s, "cubic") == 0) return FL_INTERP_CUBIC;
  luaL_argerror(L, arg, lua_pushfstring(L, "option 'interp' must be \"linear\" or \"cubic\" (got \"%s\")", s));
  return FL_INTERP_LINEAR;
}

static fl_interp opt_interp(lua_State *L, int arg, fl_interp def)
{
  if (lua_isnoneornil(L, arg)) return def;
  lua_getfield(L, arg, "interp");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return def;
  }
  if (lua_type(L, -1) != LUA_TSTRING) luaL_argerror(L, arg, "option 'interp' must be \"linear\" or \"cubic\"");
  fl_interp r = check_interp(L, arg, lua_tostring(L, -1));
  lua_pop(L, 1);
  return r;
}

/* Option 'periodic' of the table at arg: a boolean for every axis, or a list
 * of d booleans. */
static void opt_periodic(lua_State *L, int arg, int d, int *periodic)
{
  for (int k = 0; k < d; k++) periodic[k] = 0;
  if (lua_isnoneornil(L, arg)) return;
  int t = lua_getfield(L, arg, "periodic");
  if (t == LUA_TBOOLEAN) {
    for (int k = 0; k < d; k++) periodic[k] = lua_toboolean(L, -1);
  } else if (t == LUA_TTABLE) {
    if ((int)lua_rawlen(L, -1) != d)
      luaL_argerror(L, arg, lua_pushfstring(L, "option 'periodic' must be a boolean or a list of %d booleans", d));
    for (int k = 0; k < d; k++) {
      if (lua_rawgeti(L, -1, k + 1) != LUA_TBOOLEAN)
        luaL_argerror(L, arg, lua_pushfstring(L, "option 'periodic' must be a boolean or a list of %d booleans", d));
      periodic[k] = lua_toboolean(L, -1);
      lua_pop(L, 1);
    }
  } else if (t != LUA_TNIL) {
    luaL_argerror(L, arg, lua_pushfstring(L, "option 'periodic' must be a boolean or a list of %d booleans", d));
  }
  lua_pop(L, 1);
}

static int is_number_pair(lua_State *L, int idx)
{
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx) || lua_rawlen(L, idx) != 2) return 0;
  int ok = lua_rawgeti(L, idx, 1) == LUA_TNUMBER;
  ok = (lua_rawgeti(L, idx, 2) == LUA_TNUMBER) && ok;
  lua_pop(L, 2);
  return ok;
}

/* Box of d axes from the value at idx: a list of d pairs {a, b}, or one pair
 * for every axis (when one_pair_ok). Returns d when d_in is 0 (from the list). */
static int parse_box(lua_State *L, int idx, int arg, int d_in, int one_pair_ok, double *lo, double *hi)
{
  idx = lua_absindex(L, idx);
  const char *msg = "option 'box' must be a list of {a, b} pairs, one per axis";
  if (!lua_istable(L, idx)) luaL_argerror(L, arg, msg);
  if (one_pair_ok && is_number_pair(L, idx)) {
    lua_rawgeti(L, idx, 1);
    lua_rawgeti(L, idx, 2);
    int d = d_in ? d_in : 1;
    for (int k = 0; k < d; k++) {
      lo[k] = lua_tonumber(L, -2);
      hi[k] = lua_tonumber(L, -1);
    }
    lua_pop(L, 2);
    return d;
  }
  int d = (int)lua_rawlen(L, idx);
  if (d < 1 || d > FL_GRID_MAXDIM)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s (1 to %d axes, got %d)", msg, FL_GRID_MAXDIM, d));
  if (d_in && d != d_in)
    luaL_argerror(L, arg, lua_pushfstring(L, "option 'box' has %d axes, option 'n' %d", d, d_in));
  for (int k = 0; k < d; k++) {
    lua_rawgeti(L, idx, k + 1);
    if (!is_number_pair(L, -1)) luaL_argerror(L, arg, msg);
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    lo[k] = lua_tonumber(L, -2);
    hi[k] = lua_tonumber(L, -1);
    lua_pop(L, 3);
  }
  return d;
}

/* The geometry from an option table at arg (fields n, box, periodic). */
static void parse_spec(lua_State *L, int arg, fl_grid_spec *s)
{
  memset(s, 0, sizeof *s);
  const char *nmsg = "option 'n' must be 1 to 3 positive integers";
  int t = lua_getfield(L, arg, "n");
  int d = 0;
  if (t == LUA_TNUMBER) {
    int isint;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < 0) luaL_argerror(L, arg, nmsg);
    /* one count for every axis: the dimension comes from the box (else 1) */
    d = 1;
    if (lua_getfield(L, arg, "box") == LUA_TTABLE && !is_number_pair(L, -1)) {
      d = (int)lua_rawlen(L, -1);
      if (d < 1 || d > FL_GRID_MAXDIM) luaL_argerror(L, arg, nmsg);
    }
    lua_pop(L, 1);
    for (int k = 0; k < d; k++) s->n[k] = (size_t)v;
  } else if (t == LUA_TTABLE) {
    d = (int)lua_rawlen(L, -1);
    if (d < 1 || d > FL_GRID_MAXDIM) luaL_argerror(L, arg, nmsg);
    for (int k = 0; k < d; k++) {
      lua_rawgeti(L, -1, k + 1);
      int isint;
      lua_Integer v = lua_tointegerx(L, -1, &isint);
      if (!isint || v < 0) luaL_argerror(L, arg, nmsg);
      s->n[k] = (size_t)v;
      lua_pop(L, 1);
    }
  } else {
    luaL_argerror(L, arg, t == LUA_TNIL ? "option 'n' (nodes per axis) is required" : nmsg);
  }
  lua_pop(L, 1);
  s->dim = d;
  if (lua_getfield(L, arg, "box") == LUA_TNIL) {
    for (int k = 0; k < d; k++) {
      s->lo[k] = 0;
      s->hi[k] = 1;
    }
  } else {
    parse_box(L, -1, arg, d, 1, s->lo, s->hi);
  }
  lua_pop(L, 1);
  opt_periodic(L, arg, d, s->periodic);
}

static fl_grid_method opt_method(lua_State *L, int arg, int *order)
{
  static const char *const allowed[] = {"order", "method", NULL};
  l_checkopts(L, arg, allowed);
  lua_Integer o = l_optinteger_field(L, arg, "order", 2);
  if (o != 2 && o != 4) luaL_argerror(L, arg, "option 'order' must be 2 or 4");
  *order = (int)o;
  const char *m = l_optstring_field(L, arg, "method", "fd");
  if (strcmp(m, "fd") == 0) return FL_GRID_FD;
  if (strcmp(m, "spectral") == 0) return FL_GRID_SPECTRAL;
  luaL_argerror(L, arg, lua_pushfstring(L, "option 'method' must be \"fd\" or \"spectral\" (got \"%s\")", m));
  return FL_GRID_FD;
}

/* ------------------------------------------------------------ constructors */

static const char *const grid_opts[] = {"n", "box", "periodic", "components", "interp", "values", NULL};

static int fld_grid(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  l_checkopts(L, 1, grid_opts);
  fl_grid_spec s;
  parse_spec(L, 1, &s);
  fl_interp interp = opt_interp(L, 1, FL_INTERP_LINEAR);
  fl_array *values = NULL;
  if (lua_getfield(L, 1, "values") != LUA_TNIL) {
    values = l_testarray(L, -1);
    if (!values) luaL_argerror(L, 1, "option 'values' must be an Array");
  }
  /* components: given, else from the values' shape, else d (a vector field) */
  lua_Integer m = s.dim;
  if (values) m = values->ndim == s.dim + 1 ? (lua_Integer)values->shape[s.dim] : 1;
  if (lua_getfield(L, 1, "components") != LUA_TNIL) {
    int isint;
    m = lua_tointegerx(L, -1, &isint);
    if (!isint || m < 1 || m > 1 << 20) luaL_argerror(L, 1, "option 'components' must be a positive integer");
  }
  lua_pop(L, 1);
  fl_field *g;
  l_check(L, fl_grid_new(&s, (int)m, interp, values, &g), "field.grid");
  lua_pop(L, 1); /* values */
  l_pushfield(L, g);
  return 1;
}

static const char *const sample_opts[] = {"t", NULL};
static const char *const sample_spec_opts[] = {"n", "box", "periodic", "interp", NULL};

static int fld_sample(lua_State *L)
{
  fl_field *f = l_checkfield(L, 1);
  l_checkopts(L, 3, sample_opts);
  double t = l_optnumber_field(L, 3, "t", 0.0);
  fl_grid_spec s;
  fl_interp interp;
  fl_field *gf = l_testfield(L, 2);
  if (gf) {
    fl_grid *g = fl_grid_of(gf);
    if (!g) luaL_argerror(L, 2, "expected a grid field or a grid table {n = ..., box = ...}");
    s = g->s;
    interp = g->interp;
  } else {
    if (!lua_istable(L, 2)) luaL_typeerror(L, 2, "grid field or grid table");
    l_checkopts(L, 2, sample_spec_opts);
    parse_spec(L, 2, &s);
    interp = opt_interp(L, 2, FL_INTERP_LINEAR);
  }
  fl_field *r;
  l_check(L, fl_grid_sample(f, &s, interp, t, &r), "field.sample");
  l_pushfield(L, r);
  return 1;
}

static const char *const from_opts[] = {"periodic", "interp", NULL};

static int fld_grid_from(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1);
  double lo[FL_GRID_MAXDIM], hi[FL_GRID_MAXDIM];
  int d = parse_box(L, 2, 2, 0, 0, lo, hi);
  l_checkopts(L, 3, from_opts);
  int periodic[FL_GRID_MAXDIM];
  opt_periodic(L, 3, d, periodic);
  fl_interp interp = opt_interp(L, 3, FL_INTERP_LINEAR);
  fl_field *g;
  l_check(L, fl_grid_from_array(a, d, lo, hi, periodic, interp, &g), "field.grid_from");
  l_pushfield(L, g);
  return 1;
}

/* ------------------------------------------------------------ grid methods */

static fl_grid *check_grid(lua_State *L, const char *fname, fl_field **fp)
{
  fl_field *f = l_checkfield(L, 1);
  fl_grid *g = fl_grid_of(f);
  if (!g) l_error(L, fname, "not a grid field (this one is of kind %s)", f->ops->kind ? f->ops->kind : "field");
  if (fp) *fp = f;
  return g;
}

static int g_partial(lua_State *L)
{
  fl_field *f, *r;
  fl_grid *g = check_grid(L, "g:partial", &f);
  lua_Integer axis = luaL_checkinteger(L, 2);
  if (axis < 1 || axis > g->s.dim)
    luaL_argerror(L, 2, lua_pushfstring(L, "axis %I out of range 1..%d", axis, g->s.dim));
  int order;
  fl_grid_method method = opt_method(L, 3, &order);
  l_check(L, fl_grid_partial(f, (int)axis - 1, order, method, &r), "g:partial");
  l_pushfield(L, r);
  return 1;
}

typedef fl_status (*grid_opfn)(fl_field *, int, fl_grid_method, fl_field **);

static int grid_op(lua_State *L, grid_opfn op, const char *fname)
{
  fl_field *f, *r;
  check_grid(L, fname, &f);
  int order;
  fl_grid_method method = opt_method(L, 2, &order);
  l_check(L, op(f, order, method, &r), fname);
  l_pushfield(L, r);
  return 1;
}

static int g_div(lua_State *L) { return grid_op(L, fl_grid_div, "g:grid_div"); }
static int g_curl(lua_State *L) { return grid_op(L, fl_grid_curl, "g:grid_curl"); }
static int g_grad(lua_State *L) { return grid_op(L, fl_grid_grad, "g:grid_grad"); }
static int g_laplacian(lua_State *L) { return grid_op(L, fl_grid_laplacian, "g:grid_laplacian"); }

static int g_coords(lua_State *L)
{
  fl_grid *g = check_grid(L, "g:coords", NULL);
  lua_createtable(L, g->s.dim, 0);
  for (int k = 0; k < g->s.dim; k++) {
    fl_array *c;
    l_check(L, fl_grid_coords(&g->s, k, &c), "g:coords");
    l_pusharray(L, c);
    lua_rawseti(L, -2, k + 1);
  }
  return 1;
}

static int g_points(lua_State *L)
{
  fl_grid *g = check_grid(L, "g:points", NULL);
  fl_array *p;
  l_check(L, fl_grid_points(&g->s, &p), "g:points");
  l_pusharray(L, p);
  return 1;
}

/* The properties of grid fields (nil on other fields), by key. */
static int grid_prop(lua_State *L)
{
  l_box *box = luaL_checkudata(L, 1, FL_FIELD_MT);
  const char *k = lua_tostring(L, 2);
  fl_grid *g = k && box->p ? fl_grid_of(box->p) : NULL;
  if (g) {
    int d = g->s.dim;
    if (strcmp(k, "n") == 0) {
      lua_createtable(L, d, 0);
      for (int i = 0; i < d; i++) {
        lua_pushinteger(L, (lua_Integer)g->s.n[i]);
        lua_rawseti(L, -2, i + 1);
      }
      return 1;
    }
    if (strcmp(k, "box") == 0) {
      lua_createtable(L, d, 0);
      for (int i = 0; i < d; i++) {
        lua_createtable(L, 2, 0);
        lua_pushnumber(L, g->s.lo[i]);
        lua_rawseti(L, -2, 1);
        lua_pushnumber(L, g->s.hi[i]);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, i + 1);
      }
      return 1;
    }
    if (strcmp(k, "periodic") == 0) {
      lua_createtable(L, d, 0);
      for (int i = 0; i < d; i++) {
        lua_pushboolean(L, g->s.periodic[i]);
        lua_rawseti(L, -2, i + 1);
      }
      return 1;
    }
    if (strcmp(k, "values") == 0) {
      l_pusharray(L, fl_array_retain(g->values));
      return 1;
    }
    if (strcmp(k, "interp") == 0) {
      lua_pushstring(L, g->interp == FL_INTERP_CUBIC ? "cubic" : "linear");
      return 1;
    }
  }
  lua_pushnil(L);
  return 1;
}

static const luaL_Reg grid_fns[] = {
  {"grid", fld_grid},
  {"sample", fld_sample},
  {"grid_from", fld_grid_from},
  {NULL, NULL}
};

static const luaL_Reg grid_methods[] = {
  {"partial", g_partial},
  {"grid_div", g_div},
  {"grid_curl", g_curl},
  {"grid_grad", g_grad},
  {"grid_laplacian", g_laplacian},
  {"coords", g_coords},
  {"points", g_points},
  {NULL, NULL}
};

static const luaL_Reg grid_getters[] = {
  {"n", grid_prop}, {"box", grid_prop}, {"periodic", grid_prop}, {"values", grid_prop}, {"interp", grid_prop},
  {NULL, NULL}
};

void l_open_grid(lua_State *L)
{
  /* module functions into core.field */
  lua_getfield(L, -1, "field");
  luaL_setfuncs(L, grid_fns, 0);
  lua_pop(L, 1);
  /* methods and properties of the Field type (made by l_open_field, which runs first) */
  l_extendclass(L, FL_FIELD_MT, grid_methods, grid_getters);
}
