/* Lua bindings of lib/fl_check: module `check`. Glue only: the C functions
 * here (check.stats and the hidden check._jacobian, _curl, _circulation,
 * _paths) check arguments, call lib and return plain tables of Arrays;
 * stdlib/fieldlab/check.lua adds the summaries, the battery
 * check.conservativity and the report type fieldlab.CheckReport (whose
 * metatable is registered here so that help() and the docs know it). */
#include "config.h"
#include "l_util.h"
#include "fl_check.h"

#include <math.h>
#include <string.h>

#define FL_REPORT_MT "fieldlab.CheckReport"

/* A new 1-D Array of n doubles, pushed; returns its data. */
static double *push_vec(lua_State *L, size_t n, const char *fname)
{
  fl_array *a;
  size_t shape[1] = {n};
  l_check(L, fl_array_new(1, shape, &a), fname);
  l_pusharray(L, a);
  return a->data;
}

/* Seed and stream from the options at idx (defaults as for array.randn). */
static void opt_seed(lua_State *L, int idx, uint64_t *seed, uint64_t *stream)
{
  lua_Integer s = l_optinteger_field(L, idx, "seed", -1);
  lua_Integer r = l_optinteger_field(L, idx, "stream", -1);
  if (s < -1 || (s == -1 && l_optinteger_field(L, idx, "seed", 0) == -1))
    luaL_argerror(L, idx, "option 'seed' must be a non-negative integer");
  if (r < -1 || (r == -1 && l_optinteger_field(L, idx, "stream", 0) == -1))
    luaL_argerror(L, idx, "option 'stream' must be a non-negative integer");
  if (s == -1) {
    s = l_default_seed(L);
    if (r == -1) r = l_next_stream(L);
  } else if (r == -1) {
    r = 0;
  }
  *seed = (uint64_t)s;
  *stream = (uint64_t)r;
}

/* Points from option `name` of the table at 2, pushed (kept on the stack). */
static const double *opt_points(lua_State *L, const char *name, int d, size_t *n, const char *fname)
{
  int single;
  if (lua_getfield(L, 2, name) == LUA_TNIL)
    luaL_argerror(L, 2, lua_pushfstring(L, "option '%s' is required", name));
  return l_checkpoints(L, lua_gettop(L), d, n, &single, fname);
}

static void setbool(lua_State *L, const char *k, int v) { lua_pushboolean(L, v); lua_setfield(L, -2, k); }
static void setnum(lua_State *L, const char *k, double v) { lua_pushnumber(L, v); lua_setfield(L, -2, k); }
static void setint(lua_State *L, const char *k, lua_Integer v) { lua_pushinteger(L, v); lua_setfield(L, -2, k); }
static void setstr(lua_State *L, const char *k, const char *v) { lua_pushstring(L, v); lua_setfield(L, -2, k); }

/* ------------------------------------------------------------ Jacobian asymmetry */

/* The head of check.<test>(f, opts): the Field at 1, which must be a vector
 * field R^d -> R^d, and the option table at 2 (keys in allowed). */
static fl_field *check_vector_field(lua_State *L, const char *fname, const char *const *allowed)
{
  fl_field *f = l_checkfield(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  l_checkopts(L, 2, allowed);
  if (f->codim != f->dim)
    l_error(L, fname, "needs a vector field (R^d -> R^d), not R^%d -> R^%d", f->dim, f->codim);
  return f;
}

static const char *const jac_opts[] = {"points", "t", "coords", "method", "probes", "seed", "stream",
                                       "quantiles", "bootstrap", "level", NULL};

static int c_jacobian(lua_State *L)
{
  const char *fname = "check.jacobian";
  fl_field *f = check_vector_field(L, fname, jac_opts);
  double t = l_optnumber_field(L, 2, "t", 0);
  const char *method = l_optstring_field(L, 2, "method", "jacobian");
  int probes_m = strcmp(method, "probes") == 0;
  if (!probes_m && strcmp(method, "jacobian") != 0)
    luaL_argerror(L, 2, lua_pushfstring(L, "option 'method' must be \"jacobian\" or \"probes\", not \"%s\"", method));
  lua_Integer probes = l_optinteger_field(L, 2, "probes", 16);
  if (probes < 1 || probes > 1000000) luaL_argerror(L, 2, "option 'probes' must be an integer from 1 to 1e6");
  uint64_t seed = 0, stream = 0;
  if (probes_m) opt_seed(L, 2, &seed, &stream);
  /* coords: a list of 1-based coordinate indices */
  int k = 0, coords[4096];
  if (lua_getfield(L, 2, "coords") != LUA_TNIL) {
    if (!lua_istable(L, -1)) luaL_argerror(L, 2, "option 'coords' must be a list of coordinate indices");
    size_t nk = lua_rawlen(L, -1);
    if (nk < 1 || nk > 4096 || (int)nk > f->dim)
      luaL_argerror(L, 2, lua_pushfstring(L, "option 'coords' must list 1 to %d coordinates", f->dim));
    for (size_t i = 0; i < nk; i++) {
      lua_rawgeti(L, -1, (lua_Integer)i + 1);
      int isint;
      lua_Integer c = lua_tointegerx(L, -1, &isint);
      if (!isint) luaL_argerror(L, 2, "option 'coords' must be a list of integers");
      coords[k++] = (int)c - 1;
      lua_pop(L, 1);
    }
    if (probes_m) luaL_argerror(L, 2, "option 'coords' works with method \"jacobian\" only");
  }
  lua_pop(L, 1);
  size_t n;
  const double *x = opt_points(L, "points", f->dim, &n, fname);
  lua_newtable(L);
  int res = lua_gettop(L);
  double *asym = push_vec(L, n, fname);
  lua_setfield(L, res, "asym");
  double *nasym = push_vec(L, n, fname);
  lua_setfield(L, res, "nasym");
  int exact = 0;
  if (probes_m) {
    double *se = push_vec(L, n, fname);
    lua_setfield(L, res, "asym_se");
    l_check(L, fl_check_jacobian_probes(f, n, x, t, (int)probes, seed, stream, asym, nasym, se), fname);
    setint(L, "probes", probes);
  } else {
    double *j2 = push_vec(L, n, fname);
    lua_setfield(L, res, "jnorm2");
    l_check(L, fl_check_jacobian(f, n, x, t, k, coords, asym, nasym, j2, &exact), fname);
  }
  setbool(L, "exact", exact);
  setstr(L, "method", probes_m ? "probes" : "jacobian");
  setnum(L, "t", t);
  setint(L, "n", (lua_Integer)n);
  return 1;
}

/* ------------------------------------------------------------ curl */

static const char *const curl_opts[] = {"points", "t", "quantiles", "bootstrap", "level", "seed", "stream", NULL};

static int c_curl(lua_State *L)
{
  const char *fname = "check.curl";
  fl_field *f = check_vector_field(L, fname, curl_opts);
  if (f->dim != 2 && f->dim != 3)
    l_error(L, fname, "curl is defined in 2-D and 3-D, not %d-D (use check.jacobian: NAsym works in any dimension)",
            f->dim);
  double t = l_optnumber_field(L, 2, "t", 0);
  size_t n;
  const double *x = opt_points(L, "points", f->dim, &n, fname);
  lua_newtable(L);
  int res = lua_gettop(L);
  fl_array *c;
  size_t shape[2] = {n, 3};
  l_check(L, fl_array_new(f->dim == 2 ? 1 : 2, shape, &c), fname);
  l_pusharray(L, c);
  lua_setfield(L, res, "curl");
  int exact = 0;
  l_check(L, fl_field_curl(f, n, x, t, c->data, &exact), fname);
  double *mag = push_vec(L, n, fname);
  for (size_t i = 0; i < n; i++)
    mag[i] = f->dim == 2 ? fabs(c->data[i]) : sqrt(c->data[3 * i] * c->data[3 * i] + c->data[3 * i + 1] * c->data[3 * i + 1] +
                                                   c->data[3 * i + 2] * c->data[3 * i + 2]);
  lua_setfield(L, res, "magnitude");
  setbool(L, "exact", exact);
  setnum(L, "t", t);
  setint(L, "n", (lua_Integer)n);
  return 1;
}

/* ------------------------------------------------------------ circulation */

static const char *const circ_opts[] = {"centers", "radii", "planes", "loops", "nodes", "seed", "stream", "t",
                                        "quantiles", "bootstrap", "level", NULL};

static int c_circulation(lua_State *L)
{
  const char *fname = "check.circulation";
  fl_field *f = check_vector_field(L, fname, circ_opts);
  const int d = f->dim;
  if (d < 2) l_error(L, fname, "loops need dimension 2 or more, not %d", d);
  double t = l_optnumber_field(L, 2, "t", 0);
  lua_Integer nodes = l_optinteger_field(L, 2, "nodes", 64);
  if (nodes < 2 || nodes > 1 << 20) luaL_argerror(L, 2, "option 'nodes' must be an integer from 2 to 2^20");
  lua_Integer loops = l_optinteger_field(L, 2, "loops", 1);
  if (loops < 1 || loops > 1 << 20) luaL_argerror(L, 2, "option 'loops' must be a positive integer");
  if (d == 2 && loops != 1) luaL_argerror(L, 2, "option 'loops' must be 1 in 2-D (the one plane is the x1-x2 plane)");
  uint64_t seed, stream;
  opt_seed(L, 2, &seed, &stream);
  size_t nc;
  const double *c = opt_points(L, "centers", d, &nc, fname);
  /* radii: a number or a list of R numbers */
  size_t R = 1;
  double *rad;
  if (lua_getfield(L, 2, "radii") == LUA_TNIL) {
    luaL_argerror(L, 2, "option 'radii' is required (a number or a list of numbers)");
  }
  if (lua_type(L, -1) == LUA_TNUMBER) {
    rad = push_vec(L, 1, fname);
    rad[0] = lua_tonumber(L, -2);
  } else {
    if (!lua_istable(L, -1) && !l_testarray(L, -1)) luaL_argerror(L, 2, "option 'radii' must be a number or a list of numbers");
    fl_array *ra = l_toarray(L, lua_gettop(L));
    if (ra->ndim != 1 || ra->size < 1) luaL_argerror(L, 2, "option 'radii' must be a number or a non-empty list of numbers");
    R = ra->size;
    rad = ra->data;
  }
  for (size_t r = 0; r < R; r++)
    if (!(rad[r] > 0) || !isfinite(rad[r]))
      l_error(L, fname, "loops of radius %f: every radius must be positive and finite", rad[r]);
  const size_t L_ = nc * R * (size_t)loops;
  lua_newtable(L);
  int res = lua_gettop(L);
  /* planes */
  fl_array *U, *W, *C, *rho;
  size_t shape[2] = {L_, (size_t)d};
  l_check(L, fl_array_new(2, shape, &U), fname);
  l_pusharray(L, U);
  lua_setfield(L, res, "u");
  l_check(L, fl_array_new(2, shape, &W), fname);
  l_pusharray(L, W);
  lua_setfield(L, res, "w");
  l_check(L, fl_array_new(2, shape, &C), fname);
  l_pusharray(L, C);
  lua_setfield(L, res, "centers");
  l_check(L, fl_array_new(1, shape, &rho), fname);
  l_pusharray(L, rho);
  lua_setfield(L, res, "radius");
  double *cidx = push_vec(L, L_, fname);
  lua_setfield(L, res, "center_index");
  for (size_t i = 0; i < nc; i++)
    for (size_t r = 0; r < R; r++)
      for (size_t j = 0; j < (size_t)loops; j++) {
        size_t l = (i * R + r) * (size_t)loops + j;
        memcpy(C->data + l * (size_t)d, c + i * (size_t)d, sizeof(double) * (size_t)d);
        rho->data[l] = rad[r];
        cidx[l] = (double)(i + 1);
      }
  if (lua_getfield(L, 2, "planes") != LUA_TNIL) {
    fl_array *pa = l_toarray(L, lua_gettop(L));
    int shared = pa->ndim == 2 && pa->shape[0] == 2 && (int)pa->shape[1] == d;
    int per = pa->ndim == 3 && pa->shape[0] == nc && pa->shape[1] == 2 && (int)pa->shape[2] == d;
    if (!shared && !per)
      luaL_argerror(L, 2, lua_pushfstring(L, "option 'planes' must be a 2-by-%d array {u, w} or an n-by-2-by-%d array (one per centre)", d, d));
    if (loops != 1) luaL_argerror(L, 2, "option 'loops' must be 1 when 'planes' is given");
    for (size_t l = 0; l < L_; l++) {
      size_t i = (size_t)cidx[l] - 1;
      const double *p = per ? pa->data + i * 2 * (size_t)d : pa->data;
      memcpy(U->data + l * (size_t)d, p, sizeof(double) * (size_t)d);
      memcpy(W->data + l * (size_t)d, p + d, sizeof(double) * (size_t)d);
    }
    l_check(L, fl_check_orthonormalise(d, L_, U->data, W->data), fname);
  } else if (d == 2) {
    for (size_t l = 0; l < L_; l++) {
      U->data[2 * l] = 1, U->data[2 * l + 1] = 0;
      W->data[2 * l] = 0, W->data[2 * l + 1] = 1;
    }
  } else {
    l_check(L, fl_check_random_planes(d, L_, seed, stream, U->data, W->data), fname);
  }
  lua_pop(L, 1);
  fl_check_circ_out out;
  const char *names[7] = {"gamma", "per_area", "relative", "vmean", "halving", "floor", "small_loop"};
  double **ptr[7] = {&out.gamma, &out.per_area, &out.relative, &out.vmean, &out.halving, &out.floor, &out.small_loop};
  for (int k = 0; k < 7; k++) {
    *ptr[k] = push_vec(L, L_, fname);
    lua_setfield(L, res, names[k]);
  }
  int exact = 0;
  l_check(L, fl_check_circulation(f, L_, C->data, rho->data, U->data, W->data, (int)nodes, t, &out, &exact), fname);
  lua_settop(L, res);
  setbool(L, "exact", exact);
  setint(L, "nodes", nodes);
  setint(L, "loops", loops);
  setnum(L, "t", t);
  setint(L, "n", (lua_Integer)L_);
  return 1;
}

/* ------------------------------------------------------------ path independence */

static const char *const path_opts[] = {"pairs", "paths", "nodes", "vertices", "spread", "seed", "stream", "t",
                                        "quantiles", "bootstrap", "level", NULL};

static fl_check_path_kind path_kind(lua_State *L, int i)
{
  const char *s = lua_tostring(L, -1);
  if (lua_type(L, -1) == LUA_TSTRING) {
    if (strcmp(s, "segment") == 0) return FL_PATH_SEGMENT;
    if (strcmp(s, "arc") == 0) return FL_PATH_ARC;
    if (strcmp(s, "polyline") == 0) return FL_PATH_POLYLINE;
  }
  luaL_argerror(L, 2, lua_pushfstring(L, "option 'paths': path %d must be \"segment\", \"arc\" or \"polyline\"", i));
  return FL_PATH_SEGMENT;
}

static int c_paths(lua_State *L)
{
  const char *fname = "check.path_independence";
  fl_field *f = check_vector_field(L, fname, path_opts);
  const int d = f->dim;
  if (d < 2) l_error(L, fname, "paths need dimension 2 or more, not %d", d);
  double t = l_optnumber_field(L, 2, "t", 0);
  lua_Integer nodes = l_optinteger_field(L, 2, "nodes", 32);
  if (nodes < 1 || nodes > 256) luaL_argerror(L, 2, "option 'nodes' must be an integer from 1 to 256");
  lua_Integer nvert = l_optinteger_field(L, 2, "vertices", 3);
  if (nvert < 1 || nvert > 1000) luaL_argerror(L, 2, "option 'vertices' must be an integer from 1 to 1000");
  double spread = l_optnumber_field(L, 2, "spread", 0.25);
  if (!(spread >= 0) || !isfinite(spread)) luaL_argerror(L, 2, "option 'spread' must be a finite number >= 0");
  uint64_t seed, stream;
  opt_seed(L, 2, &seed, &stream);
  fl_check_path p[2] = {{FL_PATH_SEGMENT, 0, NULL}, {FL_PATH_ARC, 0, NULL}};
  if (lua_getfield(L, 2, "paths") != LUA_TNIL) {
    if (!lua_istable(L, -1) || lua_rawlen(L, -1) != 2)
      luaL_argerror(L, 2, "option 'paths' must be a list of two path kinds, e.g. {\"segment\", \"arc\"}");
    for (int j = 0; j < 2; j++) {
      lua_rawgeti(L, -1, j + 1);
      p[j].kind = path_kind(L, j + 1);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  /* pairs: {a = points, b = points} */
  if (lua_getfield(L, 2, "pairs") != LUA_TTABLE)
    luaL_argerror(L, 2, "option 'pairs' is required: a table {a = points, b = points} of start and end points");
  int pt = lua_gettop(L);
  size_t na, nb;
  int single;
  lua_getfield(L, pt, "a");
  if (lua_isnil(L, -1)) luaL_argerror(L, 2, "option 'pairs' must be a table {a = points, b = points}");
  const double *a = l_checkpoints(L, lua_gettop(L), d, &na, &single, fname);
  lua_getfield(L, pt, "b");
  if (lua_isnil(L, -1)) luaL_argerror(L, 2, "option 'pairs' must be a table {a = points, b = points}");
  const double *b = l_checkpoints(L, lua_gettop(L), d, &nb, &single, fname);
  if (na != nb) l_error(L, fname, "pairs.a has %d points and pairs.b %d: they must match", (int)na, (int)nb);
  for (size_t l = 0; l < na; l++) {
    double s = 0;
    for (int i = 0; i < d; i++) s += (b[l * d + i] - a[l * d + i]) * (b[l * d + i] - a[l * d + i]);
    if (!(s > 0)) l_error(L, fname, "pair %d has equal endpoints: a path needs two distinct points", (int)l + 1);
  }
  lua_newtable(L);
  int res = lua_gettop(L);
  size_t shape[2] = {na, (size_t)d};
  fl_array *W;
  l_check(L, fl_array_new(2, shape, &W), fname);
  l_pusharray(L, W);
  lua_setfield(L, res, "w");
  l_check(L, fl_check_path_normals(d, na, a, b, seed, stream, W->data), fname);
  for (int j = 0; j < 2; j++) {
    if (p[j].kind != FL_PATH_POLYLINE) continue;
    size_t vs[3] = {na, (size_t)nvert, (size_t)d};
    fl_array *V;
    l_check(L, fl_array_new(3, vs, &V), fname);
    l_pusharray(L, V);
    lua_setfield(L, res, j == 0 ? "vertices1" : "vertices2");
    /* after the normals (na * d numbers); path 2 after path 1 */
    uint64_t start = (uint64_t)na * (uint64_t)d * (1 + (uint64_t)j * (uint64_t)nvert);
    l_check(L, fl_check_random_vertices(d, na, a, b, (int)nvert, spread, seed, stream, start, V->data), fname);
    p[j].nvert = (int)nvert;
    p[j].vert = V->data;
  }
  fl_check_path_out out;
  const char *names[7] = {"i1", "i2", "diff", "relative", "vmean", "floor", "halving"};
  double **ptr[7] = {&out.i1, &out.i2, &out.diff, &out.relative, &out.vmean, &out.floor, &out.halving};
  for (int k = 0; k < 7; k++) {
    *ptr[k] = push_vec(L, na, fname);
    lua_setfield(L, res, names[k]);
  }
  l_check(L, fl_check_paths(f, na, a, b, W->data, &p[0], &p[1], (int)nodes, t, &out), fname);
  const char *kn[3] = {"segment", "arc", "polyline"};
  lua_createtable(L, 2, 0);
  for (int j = 0; j < 2; j++) {
    lua_pushstring(L, kn[p[j].kind]);
    lua_rawseti(L, -2, j + 1);
  }
  lua_setfield(L, res, "paths");
  setint(L, "nodes", nodes);
  setnum(L, "t", t);
  setint(L, "n", (lua_Integer)na);
  return 1;
}

/* ------------------------------------------------------------ statistics */

static const char *const stats_opts[] = {"quantiles", "bootstrap", "level", "seed", "stream", NULL};

static int c_stats(lua_State *L)
{
  const char *fname = "check.stats";
  fl_array *v = l_toarray(L, 1);
  l_checkopts(L, 2, stats_opts);
  lua_Integer B = l_optinteger_field(L, 2, "bootstrap", 1000);
  if (B < 0 || B > 100000000) luaL_argerror(L, 2, "option 'bootstrap' must be an integer >= 0");
  double level = l_optnumber_field(L, 2, "level", 0.95);
  if (!(level > 0 && level < 1)) luaL_argerror(L, 2, "option 'level' must be in (0, 1)");
  uint64_t seed, stream;
  /* default: a fixed stream, so that the same values give the same interval */
  lua_Integer s = l_optinteger_field(L, 2, "seed", 0), r = l_optinteger_field(L, 2, "stream", 0);
  if (s < 0 || r < 0) luaL_argerror(L, 2, "options 'seed' and 'stream' must be non-negative integers");
  seed = (uint64_t)s;
  stream = (uint64_t)r;
  double q[64], qo[64];
  int nq = 0;
  if (lua_istable(L, 2) && lua_getfield(L, 2, "quantiles") != LUA_TNIL) {
    if (!lua_istable(L, -1) || lua_rawlen(L, -1) > 64)
      luaL_argerror(L, 2, "option 'quantiles' must be a list of at most 64 numbers in [0, 1]");
    nq = (int)lua_rawlen(L, -1);
    for (int i = 0; i < nq; i++) {
      lua_rawgeti(L, -1, i + 1);
      int isnum;
      q[i] = lua_tonumberx(L, -1, &isnum);
      if (!isnum || !(q[i] >= 0 && q[i] <= 1))
        luaL_argerror(L, 2, "option 'quantiles' must be a list of at most 64 numbers in [0, 1]");
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  } else {
    const double dq[5] = {0.05, 0.25, 0.5, 0.75, 0.95};
    nq = 5;
    memcpy(q, dq, sizeof dq);
  }
  fl_check_summary r_;
  l_check(L, fl_check_stats(v->size, v->data, nq, q, qo, (size_t)B, level, seed, stream, &r_), fname);
  lua_newtable(L);
  setint(L, "n", (lua_Integer)r_.n);
  setint(L, "nan", (lua_Integer)r_.nnan);
  setnum(L, "mean", r_.mean);
  setnum(L, "sd", r_.sd);
  setnum(L, "se", r_.se);
  setnum(L, "median", r_.median);
  setnum(L, "min", r_.min);
  setnum(L, "max", r_.max);
  setnum(L, "ci_lo", r_.ci_lo);
  setnum(L, "ci_hi", r_.ci_hi);
  setnum(L, "level", level);
  setint(L, "bootstrap", B);
  lua_createtable(L, nq, 0);
  for (int i = 0; i < nq; i++) {
    lua_pushnumber(L, q[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "q");
  lua_createtable(L, nq, 0);
  for (int i = 0; i < nq; i++) {
    lua_pushnumber(L, qo[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "quantiles");
  return 1;
}

static const luaL_Reg check_fns[] = {
  {"stats", c_stats},
  {"_jacobian", c_jacobian},
  {"_curl", c_curl},
  {"_circulation", c_circulation},
  {"_paths", c_paths},
  {NULL, NULL},
};

static const luaL_Reg report_meta[] = {{NULL, NULL}};
static const luaL_Reg report_methods[] = {{NULL, NULL}};
static const char *const report_props[] = {"verdict", "rows", "times", "field", "npoints", "tests", "results",
                                           "notes", "conservative", NULL};

void l_open_check(lua_State *L)
{
  l_newclass(L, FL_REPORT_MT, report_meta, report_methods, report_props);
  l_newmodule(L, "check", check_fns);
}
