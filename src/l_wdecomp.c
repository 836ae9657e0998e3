/* Lua bindings of lib/fl_wdecomp: decomp.weighted (into module decomp) and
 * the result type fieldlab.WeightedDecomp (a table; printing, :energies()
 * and :save() are in stdlib/fieldlab/decomp_weighted.lua). Glue only. */
#include "config.h"
#include "l_util.h"

#include <string.h>

#include "fl_gmm.h"
#include "fl_grid.h"
#include "fl_wdecomp.h"

#define FL_WDECOMP_MT "fieldlab.WeightedDecomp"
#define FL_GMM_MT "fieldlab.GMM"

static const char *const FNAME = "decomp.weighted";

static const char *const grid_opts[] = {"tol", "maxiter", "method", "t", NULL};
static const char *const sample_opts[] = {"basis", "degree", "features", "scale", "seed", "stream",
                                          "ridge", "holdout", "t", NULL};

/* Set field k of the table at idx to the value on top (popped). */
static void setf(lua_State *L, int idx, const char *k) { lua_setfield(L, idx, k); }

/* Push the energies table of e. */
static void push_energies(lua_State *L, const fl_wdecomp_energies *e, int with_se)
{
  lua_createtable(L, 0, 10);
  int t = lua_gettop(L);
  lua_pushnumber(L, e->total), setf(L, t, "total");
  lua_pushnumber(L, e->gradient), setf(L, t, "gradient");
  lua_pushnumber(L, e->gauge), setf(L, t, "gauge");
  lua_pushnumber(L, e->cross), setf(L, t, "cross");
  lua_pushinteger(L, (lua_Integer)e->n), setf(L, t, "n");
  if (with_se) {
    lua_pushnumber(L, e->total_se), setf(L, t, "total_se");
    lua_pushnumber(L, e->gradient_se), setf(L, t, "gradient_se");
    lua_pushnumber(L, e->gauge_se), setf(L, t, "gauge_se");
    lua_pushnumber(L, e->cross_se), setf(L, t, "cross_se");
  }
}

static lua_Integer opt_int(lua_State *L, int opt, const char *name, lua_Integer def, lua_Integer min)
{
  if (lua_isnoneornil(L, opt)) return def;
  int t = lua_getfield(L, opt, name);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return def;
  }
  int isint;
  lua_Integer v = lua_tointegerx(L, -1, &isint);
  if (!isint || v < min)
    luaL_argerror(L, opt, lua_pushfstring(L, "option '%s' must be an integer >= %d", name, (int)min));
  lua_pop(L, 1);
  return v;
}

static double opt_num(lua_State *L, int opt, const char *name, double def)
{
  if (lua_isnoneornil(L, opt)) return def;
  int t = lua_getfield(L, opt, name);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return def;
  }
  int isnum;
  double v = lua_tonumberx(L, -1, &isnum);
  if (!isnum) luaL_argerror(L, opt, lua_pushfstring(L, "option '%s' must be a number", name));
  lua_pop(L, 1);
  return v;
}

/* The result table on top gets the metatable and the common fields. */
static void finish(lua_State *L, int res, const char *kind)
{
  luaL_setmetatable(L, FL_WDECOMP_MT);
  lua_pushstring(L, kind), setf(L, res, "kind");
}

static int weighted_grid(lua_State *L, fl_field *f, fl_field *pf, const fl_gmm *gmm)
{
  l_checkopts(L, 3, grid_opts);
  fl_grid *g = fl_grid_of(f);
  if (!g)
    return l_error(L, FNAME,
                   "with a density (a Field or a GMM) the field must be a vector grid field (kind \"grid\"), not kind "
                   "\"%s\"; to decompose from samples pass an n-by-d Array of samples of p",
                   f->ops->kind);
  fl_wdecomp_grid_opts o;
  o.tol = opt_num(L, 3, "tol", 1e-10);
  if (!(o.tol > 0)) luaL_argerror(L, 3, "option 'tol' must be positive");
  o.maxiter = (int)opt_int(L, 3, "maxiter", 1000, 1);
  const char *m = l_optstring_field(L, 3, "method", "fd");
  if (strcmp(m, "fd") == 0)
    o.method = FL_WDECOMP_FD;
  else if (strcmp(m, "spectral") == 0)
    o.method = FL_WDECOMP_SPECTRAL;
  else
    luaL_argerror(L, 3, lua_pushfstring(L, "option 'method' must be \"fd\" or \"spectral\" (got \"%s\")", m));
  double t = opt_num(L, 3, "t", 0);
  /* the node densities, boxed first so that an error frees them */
  l_box *b = l_newbox(L, FL_ARRAY_MT);
  int pidx = lua_gettop(L);
  fl_array *pa;
  l_check(L, fl_array_new(g->s.dim, g->s.n, &pa), FNAME);
  b->p = pa;
  l_gc_account(L, pa->nbytes);
  l_check(L, fl_wdecomp_density_nodes(&g->s, pf, gmm, t, pa->data), FNAME);
  fl_wdecomp_grid_result r;
  l_check(L, fl_wdecomp_grid(f, pa->data, &o, &r), FNAME);
  lua_createtable(L, 0, 12);
  int res = lua_gettop(L);
  l_pushfield(L, r.phi), setf(L, res, "phi");
  l_pushfield(L, r.gradient), setf(L, res, "gradient");
  l_pushfield(L, r.gauge), setf(L, res, "gauge");
  lua_pushvalue(L, pidx), setf(L, res, "density");
  lua_pushinteger(L, r.iterations), setf(L, res, "iterations");
  lua_pushnumber(L, r.residual), setf(L, res, "residual");
  lua_pushnumber(L, o.tol), setf(L, res, "tol");
  lua_pushstring(L, m), setf(L, res, "method");
  lua_pushnumber(L, r.e.cross), setf(L, res, "orthogonality");
  push_energies(L, &r.e, 0), setf(L, res, "_energies");
  finish(L, res, "grid");
  return 1;
}

static int weighted_samples(lua_State *L, fl_field *f)
{
  l_checkopts(L, 3, sample_opts);
  size_t n;
  int single;
  const double *x = l_checkpoints(L, 2, f->dim, &n, &single, FNAME);
  if (single || n < 2) return l_error(L, FNAME, "need at least 2 samples of p (an n-by-%d array)", f->dim);
  fl_wdecomp_sample_opts o;
  memset(&o, 0, sizeof o);
  const char *basis = l_optstring_field(L, 3, "basis", "poly");
  if (strcmp(basis, "poly") == 0)
    o.basis = FL_WBASIS_POLY;
  else if (strcmp(basis, "fourier") == 0)
    o.basis = FL_WBASIS_FOURIER;
  else
    luaL_argerror(L, 3, lua_pushfstring(L, "option 'basis' must be \"poly\" or \"fourier\" (got \"%s\")", basis));
  o.degree = (int)opt_int(L, 3, "degree", 3, 1);
  o.features = (size_t)opt_int(L, 3, "features", 100, 1);
  o.scale = opt_num(L, 3, "scale", 0);
  if (!lua_isnoneornil(L, 3) && lua_getfield(L, 3, "scale") != LUA_TNIL && !(o.scale > 0))
    luaL_argerror(L, 3, "option 'scale' must be positive");
  lua_settop(L, 3);
  o.ridge = opt_num(L, 3, "ridge", o.basis == FL_WBASIS_FOURIER ? 1e-6 : 0.0);
  o.holdout = opt_num(L, 3, "holdout", 0);
  o.t = opt_num(L, 3, "t", 0);
  lua_Integer seed = opt_int(L, 3, "seed", -1, 0), stream = opt_int(L, 3, "stream", -1, 0);
  if (o.basis == FL_WBASIS_FOURIER) {
    if (seed < 0) {
      seed = l_default_seed(L);
      if (stream < 0) stream = l_next_stream(L);
    }
    if (stream < 0) stream = 0;
  }
  o.seed = (uint64_t)(seed < 0 ? 0 : seed);
  o.stream = (uint64_t)(stream < 0 ? 0 : stream);
  fl_wdecomp_sample_result r;
  l_check(L, fl_wdecomp_samples(f, n, x, &o, &r), FNAME);
  lua_createtable(L, 0, 16);
  int res = lua_gettop(L);
  l_pushfield(L, r.phi), setf(L, res, "phi");
  l_pushfield(L, r.gradient), setf(L, res, "gradient");
  l_pushfield(L, r.gauge), setf(L, res, "gauge");
  l_pusharray(L, r.coef), setf(L, res, "coefficients");
  if (o.basis == FL_WBASIS_POLY) {
    l_pusharray(L, r.basis), setf(L, res, "exponents");
    lua_pushinteger(L, o.degree), setf(L, res, "degree");
  } else {
    l_pusharray(L, r.basis), setf(L, res, "frequencies");
    l_pusharray(L, r.phases), setf(L, res, "phases");
  }
  lua_pushstring(L, basis), setf(L, res, "basis");
  lua_pushvalue(L, 2), setf(L, res, "samples");
  lua_createtable(L, 0, 3);
  l_pusharray(L, r.values_v), setf(L, -2, "v");
  l_pusharray(L, r.values_gradient), setf(L, -2, "gradient");
  l_pusharray(L, r.values_phi), setf(L, -2, "phi");
  setf(L, res, "values");
  lua_pushinteger(L, (lua_Integer)r.nfit), setf(L, res, "nfit");
  lua_pushinteger(L, r.rank), setf(L, res, "rank");
  lua_pushnumber(L, r.fit_residual), setf(L, res, "residual");
  lua_pushnumber(L, r.e.cross), setf(L, res, "orthogonality");
  lua_pushnumber(L, r.e.cross_se), setf(L, res, "orthogonality_se");
  push_energies(L, &r.e, 1), setf(L, res, "_energies");
  finish(L, res, "samples");
  return 1;
}

static int weighted(lua_State *L)
{
  fl_field *f = l_checkfield(L, 1);
  fl_field *pf = l_testfield(L, 2);
  if (pf) return weighted_grid(L, f, pf, NULL);
  if (luaL_testudata(L, 2, FL_GMM_MT)) return weighted_grid(L, f, NULL, l_checkobj(L, 2, FL_GMM_MT));
  if (l_testarray(L, 2) || lua_istable(L, 2)) return weighted_samples(L, f);
  return luaL_typeerror(L, 2, "density (a Field or a GMM) or samples (an n-by-d Array)");
}

static const luaL_Reg wd_meta[] = {{NULL, NULL}};
static const luaL_Reg wd_methods[] = {{NULL, NULL}};
static const char *const wd_props[] = {"kind", "phi", "gradient", "gauge", "orthogonality", "residual", "iterations",
                                       "tol", "method", "density", "coefficients", "basis", "degree", "exponents",
                                       "frequencies", "phases", "samples", "values", "nfit", "rank",
                                       "orthogonality_se", NULL};

void l_open_wdecomp(lua_State *L)
{
  l_newclass(L, FL_WDECOMP_MT, wd_meta, wd_methods, wd_props);
  static const luaL_Reg fns[] = {{"weighted", weighted}, {NULL, NULL}};
  l_addfuncs(L, "decomp", fns);
}
