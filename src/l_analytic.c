/* Lua bindings of lib/fl_analytic: closed-form test fields and potentials,
 * added to module `field` (field.linear, field.vortex, field.plummer, ...).
 * Glue only: option tables are checked here (names, types, shapes); values
 * (positivity, skewness) are validated by lib. */
#include "config.h"
#include "l_util.h"
#include "fl_analytic.h"

#include <stdlib.h>

/* Push option `name` of the table at opt (nil when opt is nil). */
static int push_opt(lua_State *L, int opt, const char *name)
{
  if (lua_isnoneornil(L, opt)) {
    lua_pushnil(L);
    return LUA_TNIL;
  }
  return lua_getfield(L, opt, name);
}

/* Option `name` as an Array (a table or number converted), left on the stack
 * (so the GC keeps it); NULL (and nil on the stack) when absent. */
static fl_array *opt_array(lua_State *L, int opt, const char *name)
{
  int t = push_opt(L, opt, name);
  if (t == LUA_TNIL) return NULL;
  if (t != LUA_TTABLE && t != LUA_TNUMBER && !l_testarray(L, -1))
    luaL_argerror(L, opt, lua_pushfstring(L, "option '%s' must be an array or a table of numbers, not a %s", name,
                                          luaL_typename(L, -1)));
  return l_toarray(L, -1);
}

/* Option `name`: exactly len numbers (a table or 1-D Array) into v; returns
 * 0 when absent (v untouched). */
static int opt_vector(lua_State *L, int opt, const char *name, int len, double *v)
{
  int top = lua_gettop(L);
  fl_array *a = opt_array(L, opt, name);
  if (!a) {
    lua_settop(L, top);
    return 0;
  }
  if (a->ndim != 1 || a->size != (size_t)len)
    luaL_argerror(L, opt, lua_pushfstring(L, "option '%s' must be %d numbers", name, len));
  for (int k = 0; k < len; k++) v[k] = a->data[k];
  lua_settop(L, top);
  return 1;
}

/* The Field box is created before the field, so that nothing leaks if
 * creating the box fails; finish() fills it and returns it. */
#define NEWFIELD(L, box) l_box *box = l_newbox(L, FL_FIELD_MT); int box##_idx = lua_gettop(L)

static int finish(lua_State *L, int idx, l_box *b, fl_status st, fl_field *f, const char *fname)
{
  l_check(L, st, fname);
  b->p = f;
  lua_pushvalue(L, idx);
  return 1;
}

static int opt_dim(lua_State *L, int opt, int def, int lo, int hi)
{
  lua_Integer d = l_optinteger_field(L, opt, "dim", def);
  if (d < lo || d > hi) {
    if (lo == hi) luaL_argerror(L, opt, lua_pushfstring(L, "option 'dim' must be %d", lo));
    if (hi - lo == 1) luaL_argerror(L, opt, lua_pushfstring(L, "option 'dim' must be %d or %d", lo, hi));
    luaL_argerror(L, opt, lua_pushfstring(L, "option 'dim' must be an integer from %d to %d", lo, hi));
  }
  return (int)d;
}

/* ------------------------------------------------------------ vector fields */

static const char *const linear_opts[] = {"A", "b", NULL};

static int an_linear(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  l_checkopts(L, 1, linear_opts);
  fl_array *A = opt_array(L, 1, "A");
  if (!A) luaL_argerror(L, 1, "option 'A' (the matrix) is required");
  if (A->ndim != 2 || A->shape[0] == 0 || A->shape[1] == 0)
    luaL_argerror(L, 1, "option 'A' must be a non-empty matrix (a 2-D array or a table of rows)");
  int m = (int)A->shape[0], d = (int)A->shape[1];
  fl_array *b = opt_array(L, 1, "b");
  if (b && (b->ndim != 1 || b->size != (size_t)m))
    luaL_argerror(L, 1, lua_pushfstring(L, "option 'b' must be a vector of %d numbers (A has %d rows)", m, m));
  NEWFIELD(L, box);
  fl_field *f;
  fl_status st = fl_analytic_linear(m, d, A->data, b ? b->data : NULL, &f);
  return finish(L, box_idx, box, st, f, "field.linear");
}

static const char *const rotation_opts[] = {"omega", "dim", "axis", NULL};

static int an_rotation(lua_State *L)
{
  l_checkopts(L, 1, rotation_opts);
  double omega = l_optnumber_field(L, 1, "omega", 1.0);
  double axis[3];
  int has_axis = opt_vector(L, 1, "axis", 3, axis);
  int dim = opt_dim(L, 1, has_axis ? 3 : 2, has_axis ? 3 : 2, 3);
  NEWFIELD(L, box);
  fl_field *f;
  fl_status st = fl_analytic_rotation(dim, omega, has_axis ? axis : NULL, &f);
  return finish(L, box_idx, box, st, f, "field.rotation");
}

static const char *const shear_opts[] = {"rate", "dim", NULL};

static int an_shear(lua_State *L)
{
  l_checkopts(L, 1, shear_opts);
  double rate = l_optnumber_field(L, 1, "rate", 1.0);
  int dim = opt_dim(L, 1, 2, 2, 4096);
  NEWFIELD(L, box);
  fl_field *f;
  fl_status st = fl_analytic_shear(dim, rate, &f);
  return finish(L, box_idx, box, st, f, "field.shear");
}

static const char *const vortex_opts[] = {"gamma", "center", "core", NULL};

static int an_vortex(lua_State *L)
{
  l_checkopts(L, 1, vortex_opts);
  double gamma = l_optnumber_field(L, 1, "gamma", 1.0);
  double core = l_optnumber_field(L, 1, "core", 0.0);
  double c[2] = {0, 0};
  opt_vector(L, 1, "center", 2, c);
  NEWFIELD(L, box);
  fl_field *f;
  fl_status st = fl_analytic_vortex(gamma, c, core, &f);
  return finish(L, box_idx, box, st, f, "field.vortex");
}

static const char *const tg_opts[] = {"dim", "u0", "k", NULL};

static int an_taylor_green(lua_State *L)
{
  l_checkopts(L, 1, tg_opts);
  int dim = opt_dim(L, 1, 2, 2, 3);
  double u0 = l_optnumber_field(L, 1, "u0", 1.0);
  double k = l_optnumber_field(L, 1, "k", 1.0);
  NEWFIELD(L, box);
  fl_field *f;
  fl_status st = fl_analytic_taylor_green(dim, u0, k, &f);
  return finish(L, box_idx, box, st, f, "field.taylor_green");
}

static const char *const abc_opts[] = {"A", "B", "C", NULL};

static int an_abc(lua_State *L)
{
  l_checkopts(L, 1, abc_opts);
  double A = l_optnumber_field(L, 1, "A", 1.0);
  double B = l_optnumber_field(L, 1, "B", 1.0);
  double C = l_optnumber_field(L, 1, "C", 1.0);
  NEWFIELD(L, box);
  fl_field *f;
  fl_status st = fl_analytic_abc(A, B, C, &f);
  return finish(L, box_idx, box, st, f, "field.abc");
}

static const char *const gauge_opts[] = {"A", "score", NULL};

static int an_gauge(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  l_checkopts(L, 1, gauge_opts);
  push_opt(L, 1, "score");
  fl_field *s = lua_isnil(L, -1) ? NULL : l_testfield(L, -1);
  if (!s) {
    if (lua_isnil(L, -1)) luaL_argerror(L, 1, "option 'score' (a Field) is required");
    luaL_argerror(L, 1, lua_pushfstring(L, "option 'score' must be a Field, not a %s", luaL_typename(L, -1)));
  }
  fl_array *A = opt_array(L, 1, "A");
  if (!A) luaL_argerror(L, 1, "option 'A' (a skew-symmetric matrix) is required");
  if (A->ndim != 2 || A->shape[0] != A->shape[1])
    luaL_argerror(L, 1, "option 'A' must be a square matrix (a 2-D array or a table of rows)");
  NEWFIELD(L, box);
  fl_field *f;
  fl_status st = fl_analytic_gauge((int)A->shape[0], A->data, s, &f);
  return finish(L, box_idx, box, st, f, "field.gauge");
}

/* ------------------------------------------------------------ potentials */

static const char *const plummer_opts[] = {"M", "b", "G", "dim", NULL};
static const char *const hernquist_opts[] = {"M", "a", "G", "dim", NULL};
static const char *const nfw_opts[] = {"M", "rs", "G", "dim", NULL};

static int potential(lua_State *L, fl_potential_kind kind, const char *const *opts, const char *scale,
                     const char *fname)
{
  l_checkopts(L, 1, opts);
  double M = l_optnumber_field(L, 1, "M", 1.0);
  double s = l_optnumber_field(L, 1, scale, 1.0);
  double G = l_optnumber_field(L, 1, "G", 1.0);
  int dim = opt_dim(L, 1, 3, 1, 1 << 20);
  NEWFIELD(L, box);
  fl_field *f;
  fl_status st = fl_analytic_potential(kind, dim, G, M, s, &f);
  return finish(L, box_idx, box, st, f, fname);
}

static int an_plummer(lua_State *L) { return potential(L, FL_POT_PLUMMER, plummer_opts, "b", "field.plummer"); }
static int an_hernquist(lua_State *L) { return potential(L, FL_POT_HERNQUIST, hernquist_opts, "a", "field.hernquist"); }
static int an_isochrone(lua_State *L) { return potential(L, FL_POT_ISOCHRONE, plummer_opts, "b", "field.isochrone"); }
static int an_nfw(lua_State *L) { return potential(L, FL_POT_NFW, nfw_opts, "rs", "field.nfw"); }

static const char *const harmonic_opts[] = {"omega", "dim", NULL};

static int an_harmonic(lua_State *L)
{
  l_checkopts(L, 1, harmonic_opts);
  int t = push_opt(L, 1, "omega");
  int dim;
  const double *w;
  double w1 = 1;
  if (t == LUA_TNIL || t == LUA_TNUMBER) {
    if (t == LUA_TNUMBER) w1 = lua_tonumber(L, -1);
    dim = opt_dim(L, 1, 3, 1, 1 << 20);
    double *v = lua_newuserdatauv(L, sizeof(double) * (size_t)dim, 0);
    for (int k = 0; k < dim; k++) v[k] = w1;
    w = v;
  } else {
    fl_array *a = opt_array(L, 1, "omega");
    if (a->ndim != 1 || a->size == 0)
      luaL_argerror(L, 1, "option 'omega' must be a number or a list of frequencies, one per axis");
    dim = (int)a->size;
    if (opt_dim(L, 1, dim, 1, 1 << 20) != dim)
      luaL_argerror(L, 1, lua_pushfstring(L, "option 'dim' is %d but 'omega' has %d frequencies",
                                          (int)l_optinteger_field(L, 1, "dim", 0), dim));
    w = a->data;
  }
  NEWFIELD(L, box);
  fl_field *f;
  fl_status st = fl_analytic_harmonic(dim, w, &f);
  return finish(L, box_idx, box, st, f, "field.harmonic");
}

static const luaL_Reg analytic_fns[] = {
    {"linear", an_linear},
    {"rotation", an_rotation},
    {"shear", an_shear},
    {"vortex", an_vortex},
    {"taylor_green", an_taylor_green},
    {"abc", an_abc},
    {"gauge", an_gauge},
    {"plummer", an_plummer},
    {"hernquist", an_hernquist},
    {"isochrone", an_isochrone},
    {"nfw", an_nfw},
    {"harmonic", an_harmonic},
    {NULL, NULL},
};

void l_open_analytic(lua_State *L)
{
  l_addfuncs(L, "field", analytic_fns);
}
