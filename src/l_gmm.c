/* Lua bindings of lib/fl_gmm: field.gmm, field.gaussian and the type
 * fieldlab.GMM (densities, scores, sampling, fields). Glue only. */
#include "config.h"
#include "l_util.h"
#include "fl_gmm.h"

#include <string.h>

#define FL_GMM_MT "fieldlab.GMM"

static fl_gmm *check_gmm(lua_State *L, int idx) { return l_checkobj(L, idx, FL_GMM_MT); }

/* A new array of the given shape on the stack top (boxed first, so an error frees it). */
static fl_array *push_new(lua_State *L, int nd, const size_t *shape, const char *fname)
{
  l_box *b = l_newbox(L, FL_ARRAY_MT);
  fl_array *a;
  l_check(L, fl_array_new(nd, shape, &a), fname);
  b->p = a;
  l_gc_account(L, a->nbytes);
  return a;
}

/* Option `name` of the table at opt as an Array left on the stack top, or NULL (nothing pushed) when absent. */
static fl_array *opt_array(lua_State *L, int opt, const char *name)
{
  int t = lua_getfield(L, opt, name);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return NULL;
  }
  if (t != LUA_TTABLE && t != LUA_TNUMBER && !l_testarray(L, -1))
    luaL_argerror(L, opt, lua_pushfstring(L, "option '%s' must be an array, a table or a number, not a %s", name,
                                          luaL_typename(L, -1)));
  return l_toarray(L, -1);
}

static const char *shp(const fl_array *a, char *buf, size_t n) { return fl_array_shape_str(a, buf, n); }

/* Read covariances for k components in R^d from option `name`; sets *kind and
 * returns the data (valid while the stack value lives), or NULL for identity. */
static const double *read_covs(lua_State *L, int opt, const char *name, int k, int d, int single,
                               fl_gmm_cov *kind, const char *fname)
{
  int isnum = 0;
  lua_getfield(L, opt, name);
  isnum = lua_type(L, -1) == LUA_TNUMBER;
  lua_pop(L, 1);
  fl_array *c = opt_array(L, opt, name);
  char b[128];
  if (!c) {
    *kind = FL_GMM_COV_IDENTITY;
    return NULL;
  }
  if (isnum) { /* one variance for every component: k copies */
    size_t kk = (size_t)k;
    fl_array *r = push_new(L, 1, &kk, fname);
    for (size_t j = 0; j < kk; j++) r->data[j] = c->data[0];
    *kind = FL_GMM_COV_ISO;
    return r->data;
  }
  size_t K = (size_t)k, D = (size_t)d;
  if (single) { /* field.gaussian: cov is d-by-d, d variances, or a number */
    if (c->ndim == 2 && c->shape[0] == D && c->shape[1] == D) { *kind = FL_GMM_COV_FULL; return c->data; }
    if (c->ndim == 1 && c->shape[0] == D) { *kind = FL_GMM_COV_DIAG; return c->data; }
    l_error(L, fname, "option '%s' must be a %d-by-%d matrix, %d variances or a number (got shape %s)", name, d, d, d,
            shp(c, b, sizeof b));
  }
  if (c->ndim == 3 && c->shape[0] == K && c->shape[1] == D && c->shape[2] == D) { *kind = FL_GMM_COV_FULL; return c->data; }
  if (c->ndim == 1 && c->shape[0] == K) { *kind = FL_GMM_COV_ISO; return c->data; }
  if (c->ndim == 2) {
    int diag = c->shape[0] == K && c->shape[1] == D, shared = c->shape[0] == D && c->shape[1] == D;
    if (diag && shared && K > 1)
      l_error(L, fname,
              "option 'covs' of shape %s is ambiguous for %d components in R^%d: give %d-by-%d-by-%d full matrices, "
              "or one shared matrix as option 'cov'", shp(c, b, sizeof b), k, d, k, d, d);
    if (diag) { *kind = FL_GMM_COV_DIAG; return c->data; }
    if (shared) { *kind = FL_GMM_COV_SHARED; return c->data; }
  }
  l_error(L, fname, "option 'covs' has shape %s; for %d components in R^%d give %dx%dx%d (full), %dx%d (diagonals), "
          "%d numbers (isotropic), a %dx%d matrix (shared) or a number", shp(c, b, sizeof b), k, d, k, d, d, k, d, k, d, d);
  return NULL;
}

static const char *const gmm_opts[] = {"means", "covs", "cov", "weights", NULL};

static int gmm_new(lua_State *L)
{
  const char *fname = "field.gmm";
  luaL_checktype(L, 1, LUA_TTABLE);
  l_checkopts(L, 1, gmm_opts);
  lua_settop(L, 1);
  char b[128];
  fl_array *m = opt_array(L, 1, "means");
  if (!m) luaL_argerror(L, 1, "option 'means' is required (a K-by-d array)");
  if (m->ndim != 2 || m->shape[0] < 1 || m->shape[1] < 1)
    l_error(L, fname, "option 'means' must be a K-by-d array (one row per component), not of shape %s", shp(m, b, sizeof b));
  if (m->shape[0] > 100000000 || m->shape[1] > 100000) l_error(L, fname, "too many components or dimensions");
  int k = (int)m->shape[0], d = (int)m->shape[1];
  lua_getfield(L, 1, "covs");
  lua_getfield(L, 1, "cov");
  int has_covs = !lua_isnil(L, -2), has_cov = !lua_isnil(L, -1);
  lua_pop(L, 2);
  if (has_covs && has_cov) luaL_argerror(L, 1, "give option 'covs' or option 'cov', not both");
  fl_gmm_cov kind;
  const double *covs;
  if (has_cov) {
    covs = read_covs(L, 1, "cov", 1, d, 1, &kind, fname);
    if (kind == FL_GMM_COV_FULL) kind = FL_GMM_COV_SHARED;
    else if (kind == FL_GMM_COV_ISO) { /* a number: one copy suffices for every component */
      double v = covs[0];
      size_t kk = (size_t)k;
      fl_array *r = push_new(L, 1, &kk, fname);
      for (size_t j = 0; j < kk; j++) r->data[j] = v;
      covs = r->data;
    } else if (kind == FL_GMM_COV_DIAG) { /* d variances shared: repeat them */
      size_t sh[2] = {(size_t)k, (size_t)d};
      const double *v = covs;
      fl_array *r = push_new(L, 2, sh, fname);
      for (size_t j = 0; j < sh[0]; j++) memcpy(r->data + j * sh[1], v, sizeof(double) * sh[1]);
      covs = r->data;
    }
  } else {
    covs = read_covs(L, 1, "covs", k, d, 0, &kind, fname);
  }
  const double *w = NULL;
  fl_array *wa = opt_array(L, 1, "weights");
  if (wa) {
    if (wa->ndim != 1 || (int)wa->shape[0] != k)
      l_error(L, fname, "option 'weights' must hold %d numbers (one per component), not shape %s", k, shp(wa, b, sizeof b));
    w = wa->data;
  }
  l_box *box = l_newbox(L, FL_GMM_MT);
  fl_gmm *g;
  l_check(L, fl_gmm_new(d, k, w, m->data, covs, kind, &g), fname);
  box->p = g;
  l_gc_account(L, g->nbytes);
  return 1;
}

static const char *const gauss_opts[] = {"mean", "cov", NULL};

static int gaussian_new(lua_State *L)
{
  const char *fname = "field.gaussian";
  luaL_checktype(L, 1, LUA_TTABLE);
  l_checkopts(L, 1, gauss_opts);
  lua_settop(L, 1);
  char b[128];
  fl_array *m = opt_array(L, 1, "mean");
  if (!m) luaL_argerror(L, 1, "option 'mean' is required (d numbers)");
  if (m->ndim != 1 || m->shape[0] < 1 || m->shape[0] > 100000)
    l_error(L, fname, "option 'mean' must be a vector of d numbers, not of shape %s", shp(m, b, sizeof b));
  int d = (int)m->shape[0];
  fl_gmm_cov kind;
  const double *covs = read_covs(L, 1, "cov", 1, d, 1, &kind, fname);
  l_box *box = l_newbox(L, FL_GMM_MT);
  fl_gmm *g;
  l_check(L, fl_gmm_new(d, 1, NULL, m->data, covs, kind, &g), fname);
  box->p = g;
  l_gc_account(L, g->nbytes);
  return 1;
}

/* ------------------------------------------------------------ methods */

/* log_density and density: n numbers, or one number for a single point. */
static int density_impl(lua_State *L, int expd, const char *fname)
{
  fl_gmm *g = check_gmm(L, 1);
  size_t n;
  int single;
  const double *x = l_checkpoints(L, 2, g->d, &n, &single, fname);
  fl_array *r = push_new(L, 1, &n, fname);
  l_check(L, expd ? fl_gmm_density(g, n, x, r->data) : fl_gmm_log_density(g, n, x, r->data), fname);
  if (single) lua_pushnumber(L, r->data[0]);
  return 1;
}

static int m_log_density(lua_State *L) { return density_impl(L, 0, "GMM:log_density"); }
static int m_density(lua_State *L) { return density_impl(L, 1, "GMM:density"); }

static int m_score(lua_State *L)
{
  const char *fname = "GMM:score";
  fl_gmm *g = check_gmm(L, 1);
  size_t n;
  int single;
  const double *x = l_checkpoints(L, 2, g->d, &n, &single, fname);
  size_t shape[2] = {n, (size_t)g->d};
  fl_array *r = single ? push_new(L, 1, shape + 1, fname) : push_new(L, 2, shape, fname);
  l_check(L, fl_gmm_score(g, n, x, r->data, NULL), fname);
  return 1;
}

static const char *const sample_opts[] = {"seed", "stream", NULL};

static int m_sample(lua_State *L)
{
  const char *fname = "GMM:sample";
  fl_gmm *g = check_gmm(L, 1);
  int isint;
  lua_Integer n = lua_tointegerx(L, 2, &isint);
  if (!isint || n < 0) luaL_argerror(L, 2, "number of samples must be a non-negative integer");
  l_checkopts(L, 3, sample_opts);
  /* the defaults of array.randn: -1 marks an absent option */
  lua_Integer seed = l_optinteger_field(L, 3, "seed", -1);
  lua_Integer stream = l_optinteger_field(L, 3, "stream", -1);
  if (seed < -1 || (seed == -1 && l_optinteger_field(L, 3, "seed", 0) == -1))
    luaL_argerror(L, 3, "option 'seed' must be a non-negative integer");
  if (stream < -1 || (stream == -1 && l_optinteger_field(L, 3, "stream", 0) == -1))
    luaL_argerror(L, 3, "option 'stream' must be a non-negative integer");
  if (seed == -1) {
    seed = l_default_seed(L);
    if (stream == -1) stream = l_next_stream(L);
  } else if (stream == -1) {
    stream = 0;
  }
  size_t shape[2] = {(size_t)n, (size_t)g->d};
  fl_array *r = push_new(L, 2, shape, fname);
  l_check(L, fl_gmm_sample(g, (size_t)n, (uint64_t)seed, (uint64_t)stream, r->data), fname);
  return 1;
}

/* GMM:logp and GMM:score_field: push the field that make builds on the mixture. */
static int push_gmm_field(lua_State *L, fl_status (*make)(fl_gmm *, fl_field **), const char *fname)
{
  fl_gmm *g = check_gmm(L, 1);
  fl_field *f;
  l_check(L, make(g, &f), fname);
  l_pushfield(L, f);
  return 1;
}

static int m_logp(lua_State *L) { return push_gmm_field(L, fl_gmm_logp_field, "GMM:logp"); }
static int m_score_field(lua_State *L) { return push_gmm_field(L, fl_gmm_score_field, "GMM:score_field"); }

static int m_gc(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, FL_GMM_MT);
  if (b->p) {
    fl_gmm_release(b->p);
    b->p = NULL;
  }
  return 0;
}

static int m_tostring(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, FL_GMM_MT);
  if (!b->p) {
    lua_pushliteral(L, "fieldlab.GMM (closed)");
  } else {
    fl_gmm *g = b->p;
    lua_pushfstring(L, "fieldlab.GMM(k=%d, dim=%d)", g->k, g->d);
  }
  return 1;
}

static void push_copy(lua_State *L, int nd, const size_t *shape, const double *data)
{
  fl_array *a = push_new(L, nd, shape, "GMM");
  memcpy(a->data, data, sizeof(double) * a->size);
}

static int m_index(lua_State *L)
{
  l_box *box = luaL_checkudata(L, 1, FL_GMM_MT);
  if (l_getmethod(L) != LUA_TNIL) return 1;
  const char *k = lua_tostring(L, 2);
  if (!k) return 1; /* nil */
  int isprop = !strcmp(k, "dim") || !strcmp(k, "k") || !strcmp(k, "weights") || !strcmp(k, "means") || !strcmp(k, "covs");
  if (!isprop) return 1;
  if (!box->p) luaL_argerror(L, 1, "object is closed");
  fl_gmm *g = box->p;
  size_t K = (size_t)g->k, D = (size_t)g->d, s3[3] = {K, D, D};
  if (!strcmp(k, "dim")) lua_pushinteger(L, g->d);
  else if (!strcmp(k, "k")) lua_pushinteger(L, g->k);
  else if (!strcmp(k, "weights")) push_copy(L, 1, s3, g->weights);
  else if (!strcmp(k, "means")) push_copy(L, 2, s3, g->means);
  else push_copy(L, 3, s3, g->covs);
  return 1;
}

static const luaL_Reg gmm_meta[] = {
  {"__gc", m_gc},
  {"__close", m_gc},
  {"__tostring", m_tostring},
  {"__index", m_index},
  {NULL, NULL}
};

static const luaL_Reg gmm_methods[] = {
  {"log_density", m_log_density},
  {"density", m_density},
  {"score", m_score},
  {"sample", m_sample},
  {"logp", m_logp},
  {"score_field", m_score_field},
  {"close", m_gc},
  {NULL, NULL}
};

static const char *const gmm_props[] = {"dim", "k", "weights", "means", "covs", NULL};

static const luaL_Reg gmm_fns[] = {
  {"gmm", gmm_new},
  {"gaussian", gaussian_new},
  {NULL, NULL}
};

void l_open_gmm(lua_State *L)
{
  l_newclass(L, FL_GMM_MT, gmm_meta, gmm_methods, gmm_props);
  l_addfuncs(L, "field", gmm_fns);
}
