/* Lua bindings of lib/fl_metric: module `metric` (distances between samples,
 * each with its standard error). Glue only: check arguments, call lib, push
 * results. */
#include "config.h"
#include "l_util.h"
#include "fl_metric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Samples at idx: an n-by-d Array (or nested table), or a 1-D Array / flat
 * table of n numbers (n samples in R^1). The value at idx is replaced by an
 * Array (so the GC owns the data). */
static fl_array *check_samples(lua_State *L, int idx, size_t *n, int *d)
{
  if (!l_testarray(L, idx) && !lua_istable(L, idx))
    luaL_typeerror(L, idx, "samples (an n-by-d array)");
  fl_array *a = l_toarray(L, idx);
  if (a->ndim == 1) {
    *n = a->shape[0];
    *d = 1;
  } else if (a->ndim == 2) {
    *n = a->shape[0];
    *d = (int)a->shape[1];
  } else {
    luaL_argerror(L, idx, lua_pushfstring(L, "samples must be an n-by-d array, not %d-D", a->ndim));
  }
  if (*d < 1) luaL_argerror(L, idx, "samples have dimension 0");
  return a;
}

/* The arguments of a two-sample binding f(x, y[, opts]): x at 1 and y at 2,
 * of the same dimension, and the option table at 3 (nil or keys in allowed). */
static void check_pair(lua_State *L, const char *fname, const char *const *allowed, fl_array **x, size_t *n,
                       fl_array **y, size_t *m, int *d)
{
  lua_settop(L, 3);
  int dx, dy;
  *x = check_samples(L, 1, n, &dx);
  *y = check_samples(L, 2, m, &dy);
  if (dx != dy) l_error(L, fname, "samples have dimension %d (x) and %d (y)", dx, dy);
  *d = dx;
  l_checkopts(L, 3, allowed);
}

/* Return an estimate and its standard error. */
static int push_estimate(lua_State *L, double v, double se)
{
  lua_pushnumber(L, v);
  lua_pushnumber(L, se);
  return 2;
}

/* Seed and stream from option `seed` of the table at idx: (seed, 0) when
 * given, else the default seed and a fresh stream. */
static void opt_seed(lua_State *L, int idx, uint64_t *seed, uint64_t *stream)
{
  lua_Integer s = l_optinteger_field(L, idx, "seed", -1);
  if (s < -1 || (s == -1 && l_optinteger_field(L, idx, "seed", 0) == -1))
    luaL_argerror(L, idx, "option 'seed' must be a non-negative integer");
  if (s == -1) {
    *seed = (uint64_t)l_default_seed(L);
    *stream = (uint64_t)l_next_stream(L);
  } else {
    *seed = (uint64_t)s;
    *stream = 0;
  }
}

/* Push option `name` of the table at idx (nil when there is no table); returns its type. */
static int opt_get(lua_State *L, int idx, const char *name)
{
  if (lua_isnoneornil(L, idx)) {
    lua_pushnil(L);
    return LUA_TNIL;
  }
  return lua_getfield(L, idx, name);
}

/* A positive integer option (def when absent). */
static size_t opt_count(lua_State *L, int idx, const char *name, lua_Integer def, lua_Integer min)
{
  lua_Integer v = l_optinteger_field(L, idx, name, def);
  if (v < min)
    luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be an integer >= %I", name, min));
  return (size_t)v;
}

/* Bandwidths from option `bandwidth` of the table at idx: a number, a list of
 * numbers, or "median" (the default). Returns nh; h is a userdata-backed
 * buffer left on the stack. */
static int opt_bandwidths(lua_State *L, int idx, const char *fname, fl_array *x, size_t n, fl_array *y,
                          size_t m, int d, double **h)
{
  int t = opt_get(L, idx, "bandwidth");
  int nh = 1;
  if (t == LUA_TTABLE) nh = (int)lua_rawlen(L, -1);
  if (nh < 1) luaL_argerror(L, idx, "option 'bandwidth' must not be an empty list");
  *h = lua_newuserdatauv(L, sizeof **h * (size_t)nh, 0);
  lua_insert(L, -2);  /* keep the buffer under the option value */
  if (t == LUA_TNIL || (t == LUA_TSTRING && strcmp(lua_tostring(L, -1), "median") == 0)) {
    uint64_t seed, stream;
    opt_seed(L, idx, &seed, &stream);
    l_check(L, fl_metric_median_distance(n, x->data, m, y->data, d, 1000, seed, stream, *h), fname);
  } else if (t == LUA_TNUMBER) {
    (*h)[0] = lua_tonumber(L, -1);
  } else if (t == LUA_TTABLE) {
    for (int k = 0; k < nh; k++) {
      if (lua_rawgeti(L, -1, k + 1) != LUA_TNUMBER)
        luaL_argerror(L, idx, "option 'bandwidth' must list numbers");
      (*h)[k] = lua_tonumber(L, -1);
      lua_pop(L, 1);
    }
  } else {
    luaL_argerror(L, idx, "option 'bandwidth' must be a number, a list of numbers or \"median\"");
  }
  for (int k = 0; k < nh; k++)
    if (!((*h)[k] > 0) || !isfinite((*h)[k]))
      luaL_argerror(L, idx, lua_pushfstring(L, "bandwidth %d must be a positive finite number, not %f", k + 1, (*h)[k]));
  lua_pop(L, 1);
  return nh;
}

static void push_list(lua_State *L, int n, const double *v)
{
  lua_createtable(L, n, 0);
  for (int k = 0; k < n; k++) {
    lua_pushnumber(L, v[k]);
    lua_rawseti(L, -2, k + 1);
  }
}

/* ------------------------------------------------------------ kernel statistics */

static const char *const mmd_opts[] = {"bandwidth", "seed", NULL};

static int m_mmd(lua_State *L)
{
  fl_array *x, *y;
  size_t n, m;
  int d;
  check_pair(L, "metric.mmd", mmd_opts, &x, &n, &y, &m, &d);
  if (n < 2 || m < 2) l_error(L, "metric.mmd", "need at least 2 points in each sample, got %d and %d", (int)n, (int)m);
  double *h;
  int nh = opt_bandwidths(L, 3, "metric.mmd", x, n, y, m, d, &h);
  double v, se;
  l_check(L, fl_metric_kernel_stat(FL_KERNEL_RBF, n, x->data, m, y->data, d, nh, h, &v, &se), "metric.mmd");
  lua_pushnumber(L, v);
  lua_pushnumber(L, se);
  lua_createtable(L, 0, 3);
  push_list(L, nh, h);
  lua_setfield(L, -2, "bandwidth");
  lua_pushinteger(L, (lua_Integer)n);
  lua_setfield(L, -2, "n");
  lua_pushinteger(L, (lua_Integer)m);
  lua_setfield(L, -2, "m");
  return 3;
}

static const char *const no_opts[] = {NULL};

static int m_energy(lua_State *L)
{
  fl_array *x, *y;
  size_t n, m;
  int d;
  check_pair(L, "metric.energy_distance", no_opts, &x, &n, &y, &m, &d);
  double v, se;
  l_check(L, fl_metric_kernel_stat(FL_KERNEL_ENERGY, n, x->data, m, y->data, d, 0, NULL, &v, &se),
          "metric.energy_distance");
  return push_estimate(L, v, se);
}

static const char *const two_sample_opts[] = {"test", "permutations", "bandwidth", "seed", NULL};

static int m_two_sample(lua_State *L)
{
  const char *fname = "metric.two_sample";
  fl_array *x, *y;
  size_t n, m;
  int d;
  check_pair(L, fname, two_sample_opts, &x, &n, &y, &m, &d);
  const char *test = l_optstring_field(L, 3, "test", "mmd");
  fl_metric_kernel kind;
  if (strcmp(test, "mmd") == 0) kind = FL_KERNEL_RBF;
  else if (strcmp(test, "energy") == 0) kind = FL_KERNEL_ENERGY;
  else return luaL_argerror(L, 3, lua_pushfstring(L, "option 'test' must be \"mmd\" or \"energy\", not \"%s\"", test));
  size_t nperm = opt_count(L, 3, "permutations", 200, 1);
  if (n < 2 || m < 2) l_error(L, fname, "need at least 2 points in each sample, got %d and %d", (int)n, (int)m);
  double *h = NULL;
  int nh = 0;
  if (kind == FL_KERNEL_RBF) nh = opt_bandwidths(L, 3, fname, x, n, y, m, d, &h);
  else if (opt_get(L, 3, "bandwidth") != LUA_TNIL)
    luaL_argerror(L, 3, "option 'bandwidth' is for test = \"mmd\"");
  uint64_t seed, stream;
  opt_seed(L, 3, &seed, &stream);
  double stat, p;
  l_check(L, fl_metric_permutation_test(kind, n, x->data, m, y->data, d, nh, h, nperm, seed, stream, &stat, &p), fname);
  lua_pushnumber(L, p);
  lua_pushnumber(L, stat);
  return 2;
}

/* ------------------------------------------------------------ transport */

static const char *const sliced_opts[] = {"projections", "seed", NULL};

static int m_sliced_w2(lua_State *L)
{
  fl_array *x, *y;
  size_t n, m;
  int d;
  check_pair(L, "metric.sliced_w2", sliced_opts, &x, &n, &y, &m, &d);
  size_t P = opt_count(L, 3, "projections", 128, 1);
  uint64_t seed, stream;
  opt_seed(L, 3, &seed, &stream);
  double v, se;
  l_check(L, fl_metric_sliced_w2(n, x->data, m, y->data, d, P, seed, stream, &v, &se, NULL), "metric.sliced_w2");
  return push_estimate(L, v, se);
}

/* A mean at idx: d numbers (or one number for d = 1). */
static fl_array *check_vector(lua_State *L, int idx)
{
  if (!l_testarray(L, idx) && !lua_istable(L, idx) && !lua_isnumber(L, idx))
    luaL_typeerror(L, idx, "mean (a list of numbers)");
  fl_array *a = l_toarray(L, idx);
  if (a->ndim != 1 || a->size < 1) luaL_argerror(L, idx, "a mean must be a non-empty list of numbers");
  return a;
}

static fl_array *check_matrix(lua_State *L, int idx, size_t d)
{
  if (!l_testarray(L, idx) && !lua_istable(L, idx) && !lua_isnumber(L, idx))
    luaL_typeerror(L, idx, "covariance (a d-by-d matrix)");
  fl_array *a = l_toarray(L, idx);
  if (!(a->ndim == 2 && a->shape[0] == d && a->shape[1] == d) && !(d == 1 && a->size == 1)) {
    char buf[64];
    luaL_argerror(L, idx, lua_pushfstring(L, "covariance has shape %s, the mean has %d entries (need %d-by-%d)",
                                          fl_array_shape_str(a, buf, sizeof buf), (int)d, (int)d, (int)d));
  }
  return a;
}

static int m_w2_gaussian(lua_State *L)
{
  lua_settop(L, 4);
  fl_array *m1 = check_vector(L, 1), *m2 = check_vector(L, 3);
  if (m1->size != m2->size)
    l_error(L, "metric.w2_gaussian", "means have %d and %d entries", (int)m1->size, (int)m2->size);
  size_t d = m1->size;
  fl_array *S1 = check_matrix(L, 2, d), *S2 = check_matrix(L, 4, d);
  double w;
  l_check(L, fl_metric_w2_gaussian((int)d, m1->data, S1->data, m2->data, S2->data, &w), "metric.w2_gaussian");
  lua_pushnumber(L, w);
  lua_pushnumber(L, 0.0);
  return 2;
}

static const char *const fit_opts[] = {"bootstrap", "seed", NULL};

static int m_w2_gaussian_fit(lua_State *L)
{
  fl_array *x, *y;
  size_t n, m;
  int d;
  check_pair(L, "metric.w2_gaussian_fit", fit_opts, &x, &n, &y, &m, &d);
  size_t B = opt_count(L, 3, "bootstrap", 200, 0);
  uint64_t seed, stream;
  opt_seed(L, 3, &seed, &stream);
  double v, se;
  l_check(L, fl_metric_w2_gaussian_fit(n, x->data, m, y->data, d, B, seed, stream, &v, &se),
          "metric.w2_gaussian_fit");
  return push_estimate(L, v, se);
}

/* ------------------------------------------------------------ histograms, likelihood */

static const char *const kl_opts[] = {"bins", "range", "smoothing", "bootstrap", "seed", NULL};

static double range_number(lua_State *L, int idx)
{
  if (!lua_isnumber(L, -1)) luaL_argerror(L, idx, "option 'range' must hold numbers");
  double v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return v;
}

static int m_kl_hist(lua_State *L)
{
  const char *fname = "metric.kl_hist";
  fl_array *x, *y;
  size_t n, m;
  int d;
  check_pair(L, fname, kl_opts, &x, &n, &y, &m, &d);
  if (d > 2) l_error(L, fname, "histograms are 1-D or 2-D, the samples have dimension %d", d);
  size_t bins[2] = {d == 1 ? 50 : 20, 20};
  double lo[2], hi[2];
  int t = opt_get(L, 3, "bins");
  if (t == LUA_TNUMBER) {
    lua_Integer b = lua_tointeger(L, -1);
    if (!lua_isinteger(L, -1) || b < 1) luaL_argerror(L, 3, "option 'bins' must be a positive integer or a list of them");
    bins[0] = bins[1] = (size_t)b;
  } else if (t == LUA_TTABLE) {
    if ((int)lua_rawlen(L, -1) != d) luaL_argerror(L, 3, lua_pushfstring(L, "option 'bins' must list %d integers", d));
    for (int k = 0; k < d; k++) {
      lua_rawgeti(L, -1, k + 1);
      lua_Integer b = lua_tointeger(L, -1);
      if (!lua_isinteger(L, -1) || b < 1) luaL_argerror(L, 3, "option 'bins' must be a positive integer or a list of them");
      bins[k] = (size_t)b;
      lua_pop(L, 1);
    }
  } else if (t != LUA_TNIL) {
    luaL_argerror(L, 3, "option 'bins' must be a positive integer or a list of them");
  }
  lua_pop(L, 1);
  t = opt_get(L, 3, "range");
  if (t == LUA_TNIL) { /* the pooled range per axis */
    for (int k = 0; k < d; k++) {
      lo[k] = INFINITY;
      hi[k] = -INFINITY;
      for (size_t i = 0; i < n + m; i++) {
        double v = i < n ? x->data[i * (size_t)d + (size_t)k] : y->data[(i - n) * (size_t)d + (size_t)k];
        if (v < lo[k]) lo[k] = v;
        if (v > hi[k]) hi[k] = v;
      }
      if (lo[k] == hi[k]) { lo[k] -= 0.5; hi[k] += 0.5; }
    }
  } else if (t == LUA_TTABLE) {
    const char *msg = d == 1 ? "option 'range' must be {lo, hi}" : "option 'range' must be {{lo1, hi1}, {lo2, hi2}}";
    if (lua_rawlen(L, -1) != 2) luaL_argerror(L, 3, msg);
    if (d == 1) {
      lua_rawgeti(L, -1, 1);
      lo[0] = range_number(L, 3);
      lua_rawgeti(L, -1, 2);
      hi[0] = range_number(L, 3);
    } else {
      for (int k = 0; k < 2; k++) {
        if (lua_rawgeti(L, -1, k + 1) != LUA_TTABLE || lua_rawlen(L, -1) != 2) luaL_argerror(L, 3, msg);
        lua_rawgeti(L, -1, 1);
        lo[k] = range_number(L, 3);
        lua_rawgeti(L, -1, 2);
        hi[k] = range_number(L, 3);
        lua_pop(L, 1);
      }
    }
  } else {
    luaL_argerror(L, 3, "option 'range' must be a table");
  }
  lua_pop(L, 1);
  double alpha = l_optnumber_field(L, 3, "smoothing", 0.5);
  size_t B = opt_count(L, 3, "bootstrap", 200, 0);
  uint64_t seed, stream;
  opt_seed(L, 3, &seed, &stream);
  double v, se;
  l_check(L, fl_metric_kl_hist(n, x->data, m, y->data, d, bins, lo, hi, alpha, B, seed, stream, &v, &se), fname);
  return push_estimate(L, v, se);
}

static const char *const loglik_opts[] = {"t", NULL};

static int m_mean_loglik(lua_State *L)
{
  lua_settop(L, 3);
  const char *fname = "metric.mean_loglik";
  size_t n;
  int d;
  fl_array *x = check_samples(L, 1, &n, &d);
  l_checkopts(L, 3, loglik_opts);
  double t = l_optnumber_field(L, 3, "t", 0.0);
  if (n < 1) l_error(L, fname, "no samples");
  l_check(L, fl_metric_check_sample("x", n, d, x->data), fname);
  fl_field *f = l_testfield(L, 2);
  double mean, se;
  if (f) {
    if (f->codim != 1)
      l_error(L, fname, "the field must be scalar (log p), it has %d components", f->codim);
    if (f->dim != d) l_error(L, fname, "samples have dimension %d, the field takes %d", d, f->dim);
    fl_array *v;
    l_check(L, fl_array_new(1, &n, &v), fname);
    l_pusharray(L, v);
    l_check(L, fl_field_eval(f, n, x->data, t, v->data), fname);
    l_check(L, fl_metric_mean_se(n, v->data, &mean, &se), fname);
  } else {
    /* a log-density: a function of the n-by-d samples, or an object with a
     * log_density method (a GMM) */
    int self = 0;
    if (lua_isfunction(L, 2)) {
      lua_pushvalue(L, 2);
    } else if (!lua_isnoneornil(L, 2) && luaL_getmetafield(L, 2, "__index") != LUA_TNIL) {
      lua_pop(L, 1);
      if (lua_getfield(L, 2, "log_density") != LUA_TFUNCTION)
        luaL_argerror(L, 2, "a density must be a scalar Field, a function, or have a log_density method");
      lua_pushvalue(L, 2);
      self = 1;
    } else if (lua_istable(L, 2)) {
      if (lua_getfield(L, 2, "log_density") != LUA_TFUNCTION)
        luaL_argerror(L, 2, "a density must be a scalar Field, a function, or have a log_density method");
      lua_pushvalue(L, 2);
      self = 1;
    } else {
      return luaL_typeerror(L, 2, "density (a scalar Field, a function, or an object with log_density)");
    }
    if (x->ndim == 1) { /* pass n-by-1 samples */
      fl_array *r;
      size_t shape[2] = {n, 1};
      l_check(L, fl_array_reshape(x, 2, shape, &r), fname);
      l_pusharray(L, r);
    } else {
      lua_pushvalue(L, 1);
    }
    lua_call(L, 1 + self, 1);
    fl_array *v = l_testarray(L, -1);
    if (!v && n == 1 && lua_isnumber(L, -1)) {
      double lp = lua_tonumber(L, -1);
      l_check(L, fl_metric_mean_se(1, &lp, &mean, &se), fname);
    } else {
      if (!v || v->size != n)
        l_error(L, fname, "the log-density must return an array of %d numbers", (int)n);
      l_check(L, fl_metric_mean_se(n, v->data, &mean, &se), fname);
    }
  }
  lua_pushnumber(L, mean);
  lua_pushnumber(L, se);
  return 2;
}

static const luaL_Reg fns[] = {
  {"mmd", m_mmd},
  {"energy_distance", m_energy},
  {"two_sample", m_two_sample},
  {"sliced_w2", m_sliced_w2},
  {"w2_gaussian", m_w2_gaussian},
  {"w2_gaussian_fit", m_w2_gaussian_fit},
  {"kl_hist", m_kl_hist},
  {"mean_loglik", m_mean_loglik},
  {NULL, NULL},
};

void l_open_metric(lua_State *L)
{
  l_newmodule(L, "metric", fns);
}
