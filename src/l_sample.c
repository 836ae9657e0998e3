/* Lua bindings of lib/fl_sample: module `sample` (sample.ode, .sde,
 * .loglik, .flowchef, .cfg, .grid). Argument checks, the Lua cost of
 * FlowChef through lua_pcall, results as Arrays plus an info table. The
 * progress bar is integrate's (stdlib/fieldlab/integrate.lua). */
#include "config.h"
#include "l_util.h"
#include "fl_sample.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CORE lua_upvalueindex(1)
#define SCHED_MT "fieldlab.Schedule"

/* ------------------------------------------------------------ progress, observer */

typedef struct cb_ctx {
  l_progress prog; /* first: the ctx is also l_progress_cb's */
  /* FlowChef's Lua cost: stack index of the function */
  int cost;
} cb_ctx;

static void init_observe(lua_State *L, fl_observe *obs, cb_ctx *c, size_t every)
{
  memset(obs, 0, sizeof *obs);
  memset(c, 0, sizeof *c);
  obs->every = every;
  obs->store = every > 0;
  obs->progress = l_progress_cb;
  obs->ctx = c;
  l_progress_init(L, &c->prog, CORE, "integrate"); /* integrate._progress */
}

/* ------------------------------------------------------------ options */

static void opt_schedule(lua_State *L, fl_schedule *s)
{
  lua_getfield(L, 1, "schedule");
  if (lua_isnil(L, -1)) {
    fl_schedule_default(FL_SCHED_VP, s);
  } else {
    fl_schedule *p = luaL_testudata(L, -1, SCHED_MT);
    if (!p || !((l_box *)(void *)p)->p)
      luaL_argerror(L, 1, lua_pushfstring(L, "option 'schedule' must be a Schedule (diffusion.vp() ...), not a %s",
                                          luaL_typename(L, -1)));
    *s = *(fl_schedule *)((l_box *)(void *)p)->p;
  }
  lua_pop(L, 1);
}

static fl_param opt_kind(lua_State *L)
{
  const char *k = l_optstring_field(L, 1, "kind", "velocity");
  fl_param p;
  if (fl_param_from_name(k, &p))
    luaL_argerror(L, 1, lua_pushfstring(L, "unknown kind '%s' (valid: velocity, score, eps, x0)", k));
  return p;
}

static size_t opt_count(lua_State *L, const char *name, size_t def, int allow_zero)
{
  lua_getfield(L, 1, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return def;
  }
  int isint;
  lua_Integer v = lua_tointegerx(L, -1, &isint);
  if (!isint || v < (allow_zero ? 0 : 1))
    luaL_argerror(L, 1, lua_pushfstring(L, "option '%s' must be a %s integer", name, allow_zero ? "non-negative" : "positive"));
  lua_pop(L, 1);
  return (size_t)v;
}

static uint64_t opt_seed(lua_State *L, uint64_t *stream)
{
  lua_getfield(L, 1, "seed");
  uint64_t seed;
  if (lua_isnil(L, -1)) {
    seed = (uint64_t)l_default_seed(L);
    *stream = (uint64_t)l_next_stream(L) << 8;
  } else {
    int isint;
    lua_Integer s = lua_tointegerx(L, -1, &isint);
    if (!isint || s < 0) luaL_argerror(L, 1, "option 'seed' must be a non-negative integer");
    seed = (uint64_t)s;
    *stream = 0;
  }
  lua_pop(L, 1);
  return seed;
}

/* The initial state: option x_T (copied) or n prior draws; pushed as an n-by-d Array. */
static fl_array *initial_state(lua_State *L, const fl_schedule *s, double t_max, int d, uint64_t seed,
                               uint64_t stream, const char *xname, const char *fname)
{
  fl_array *x;
  if (lua_getfield(L, 1, xname) != LUA_TNIL) {
    int idx = lua_gettop(L), single;
    size_t n;
    const double *p = l_checkpoints(L, idx, d, &n, &single, fname);
    size_t shape[2] = {n, (size_t)d};
    lua_getfield(L, 1, "n");
    if (!lua_isnil(L, -1) && (lua_tointeger(L, -1) != (lua_Integer)n))
      luaL_argerror(L, 1, lua_pushfstring(L, "option 'n' (%s) disagrees with the %d points of '%s'",
                                          luaL_tolstring(L, -1, NULL), (int)n, xname));
    lua_pop(L, 1);
    l_check(L, fl_array_from_data(2, shape, p, &x), fname);
    lua_pop(L, 1);
  } else {
    lua_pop(L, 1);
    size_t n = opt_count(L, "n", 0, 0);
    if (n == 0) luaL_argerror(L, 1, lua_pushfstring(L, "option 'n' (the number of samples) or '%s' is required", xname));
    size_t shape[2] = {n, (size_t)d};
    l_check(L, fl_array_new(2, shape, &x), fname);
    fl_sample_prior(s, t_max, n, (size_t)d, seed, stream, x->data);
  }
  l_pusharray(L, x);
  return x;
}


/* info table: counters, grid, trajectory. */
static void push_info(lua_State *L, const char *solver, const fl_run *r, size_t n, size_t d, const double *grid,
                      size_t steps, int interrupted)
{
  lua_newtable(L);
  lua_pushstring(L, solver);
  lua_setfield(L, -2, "solver");
  l_setinteger(L, "steps", r->steps);
  l_setinteger(L, "nfe", r->evals);
  l_setnumber(L, "t", r->t);
  lua_pushboolean(L, interrupted);
  lua_setfield(L, -2, "interrupted");
  if (grid) {
    size_t len = steps + 1;
    fl_array *g;
    l_check(L, fl_array_from_data(1, &len, grid, &g), "sample");
    l_pusharray(L, g);
    lua_setfield(L, -2, "grid");
  }
  if (r->nrec) {
    l_push_run_records(L, r, 0, n, d, 0, "sample");
    lua_setfield(L, -2, "trajectory");
    l_push_run_times(L, r, "sample");
    lua_setfield(L, -2, "times");
  }
}

/* After a run: FL_OK / FL_EINTR return (x, info); others raise (records of a
 * failed run are kept in sample.partial). */
static int finish(lua_State *L, fl_status st, fl_run *r, int xi, const char *fname, const char *solver, size_t n,
                  size_t d, const double *grid, size_t steps, cb_ctx *c)
{
  l_progress_end(&c->prog);
  if (st == FL_OK || st == FL_EINTR) {
    int intr = st == FL_EINTR;
    if (intr) l_run_interrupted(L, r, fname);
    lua_pushvalue(L, xi);
    push_info(L, solver, r, n, d, grid, steps, intr);
    fl_run_free(r);
    return 2;
  }
  if (st != FL_ECALLBACK) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", fl_last_detail());
    if (r->nrec) {
      push_info(L, solver, r, n, d, grid, steps, 0);
      lua_getfield(L, CORE, "sample");
      lua_insert(L, -2);
      lua_setfield(L, -2, "partial");
      lua_pop(L, 1);
      size_t nrec = r->nrec;
      fl_run_free(r);
      return luaL_error(L, "%s: %s (the %d records so far are in sample.partial)", fname, msg, (int)nrec);
    }
    fl_run_free(r);
    return luaL_error(L, "%s: %s", fname, msg[0] ? msg : fl_strerror(st));
  }
  fl_run_free(r);
  l_check(L, st, fname);
  return 0;
}

/* ------------------------------------------------------------ sample.ode / sample.sde */

static const char *const ode_opts[] = {"field", "kind", "schedule", "n", "solver", "steps", "grid", "t_max",
                                       "t_min", "rho", "eta", "rtol", "atol", "seed", "x_T", "record", NULL};
static const char *const sde_opts[] = {"field", "kind", "schedule", "n", "solver", "steps", "grid", "t_max",
                                       "t_min", "rho", "snr", "corrector_steps", "S_churn", "S_noise", "S_tmin",
                                       "S_tmax", "seed", "x_T", "record", NULL};

static int run_sampler(lua_State *L, int sde)
{
  const char *fname = sde ? "sample.sde" : "sample.ode";
  fl_field *f = l_opts_square_field(L, fname, sde ? sde_opts : ode_opts, "field", " (a prediction)");
  fl_schedule s;
  opt_schedule(L, &s);
  fl_param kind = opt_kind(L);
  const char *sname = l_optstring_field(L, 1, "solver", sde ? "euler_maruyama" : "heun");
  fl_sampler solver;
  if (fl_sampler_from_name(sname, &solver) || fl_sampler_is_sde(solver) != sde)
    luaL_argerror(L, 1, lua_pushfstring(L, "unknown solver '%s' (valid: %s)", sname,
                                        sde ? "euler_maruyama, ddpm, pc, edm"
                                            : "euler, heun, rk4, rk45, ddim, dpm2, dpm++1, dpm++2m"));
  fl_sample_opts o;
  fl_sample_opts_default(&o, solver, kind, &s);
  const char *gname = l_optstring_field(L, 1, "grid", solver == FL_SAMP_DPM2 || solver == FL_SAMP_DPMPP2M ||
                                                             solver == FL_SAMP_DPMPP1 ? "logsnr"
                                                         : solver == FL_SAMP_EDM ? "edm" : "t");
  if (fl_tgrid_from_name(gname, &o.grid))
    luaL_argerror(L, 1, lua_pushfstring(L, "unknown grid '%s' (valid: t, logsnr, edm)", gname));
  lua_getfield(L, 1, "steps");
  int has_steps = !lua_isnil(L, -1);
  lua_pop(L, 1);
  if (solver == FL_SAMP_RK45) {
    if (has_steps) return l_error(L, fname, "rk45 is adaptive: give rtol=/atol=, not steps=");
    o.steps = 0;
  } else {
    lua_getfield(L, 1, "steps");
    int isint;
    lua_Integer k = lua_tointegerx(L, -1, &isint);
    if (!has_steps) luaL_argerror(L, 1, "option 'steps' (a positive integer) is required");
    if (!isint || k <= 0) luaL_argerror(L, 1, "option 'steps' must be a positive integer");
    lua_pop(L, 1);
    o.steps = (size_t)k;
  }
  o.t_max = l_optnumber_field(L, 1, "t_max", s.t_max);
  o.t_min = l_optnumber_field(L, 1, "t_min", s.t_min);
  if (!(o.t_max > o.t_min)) {
    char b[160];
    snprintf(b, sizeof b, "t runs from t_max down to t_min: t_max (%g) must be greater than t_min (%g)", o.t_max, o.t_min);
    return l_error(L, fname, "%s", b);
  }
  o.rho = l_optnumber_field(L, 1, "rho", 7);
  if (!sde) {
    o.eta = l_optnumber_field(L, 1, "eta", 0);
    if (o.eta != 0 && solver != FL_SAMP_DDIM) return l_error(L, fname, "option 'eta' applies to solver 'ddim' only");
    if (!(o.eta >= 0 && o.eta <= 1)) luaL_argerror(L, 1, "option 'eta' must be in [0, 1]");
    o.rtol = l_optnumber_field(L, 1, "rtol", 1e-5);
    o.atol = l_optnumber_field(L, 1, "atol", 1e-7);
  } else {
    o.snr = l_optnumber_field(L, 1, "snr", 0.16);
    o.corrector_steps = opt_count(L, "corrector_steps", 1, 1);
    o.s_churn = l_optnumber_field(L, 1, "S_churn", 0);
    o.s_noise = l_optnumber_field(L, 1, "S_noise", 1);
    o.s_tmin = l_optnumber_field(L, 1, "S_tmin", 0);
    o.s_tmax = l_optnumber_field(L, 1, "S_tmax", INFINITY);
  }
  o.seed = opt_seed(L, &o.stream);
  size_t every = opt_count(L, "record", 0, 0);
  fl_array *x = initial_state(L, &s, o.t_max, f->dim, o.seed, o.stream, "x_T", fname);
  int xi = lua_gettop(L);
  /* the grid, for the info table */
  double *grid = NULL;
  if (o.steps) {
    grid = lua_newuserdatauv(L, (o.steps + 1) * sizeof(double), 0);
    l_check(L, fl_sample_grid(&s, o.grid, o.steps, o.t_max, o.t_min, o.rho, grid), fname);
  }
  fl_observe obs;
  cb_ctx c;
  init_observe(L, &obs, &c, every);
  fl_run r = {0};
  fl_status st = fl_sample_run(f, &o, x->shape[0], x->data, &obs, &r);
  return finish(L, st, &r, xi, fname, sname, x->shape[0], (size_t)f->dim, grid, o.steps, &c);
}

static int s_ode(lua_State *L) { return run_sampler(L, 0); }
static int s_sde(lua_State *L) { return run_sampler(L, 1); }

/* ------------------------------------------------------------ sample.grid */

static const char *const grid_opts[] = {"schedule", "steps", "grid", "t_max", "t_min", "rho", NULL};

static int s_grid(lua_State *L)
{
  const char *fname = "sample.grid";
  luaL_checktype(L, 1, LUA_TTABLE);
  l_checkopts(L, 1, grid_opts);
  fl_schedule s;
  opt_schedule(L, &s);
  size_t steps = opt_count(L, "steps", 0, 1);
  if (!steps) luaL_argerror(L, 1, "option 'steps' (a positive integer) is required");
  const char *gname = l_optstring_field(L, 1, "grid", "t");
  fl_tgrid g;
  if (fl_tgrid_from_name(gname, &g)) luaL_argerror(L, 1, lua_pushfstring(L, "unknown grid '%s' (valid: t, logsnr, edm)", gname));
  double tmax = l_optnumber_field(L, 1, "t_max", s.t_max), tmin = l_optnumber_field(L, 1, "t_min", s.t_min);
  double rho = l_optnumber_field(L, 1, "rho", 7);
  size_t len = steps + 1;
  fl_array *a;
  l_check(L, fl_array_new(1, &len, &a), fname);
  l_pusharray(L, a);
  l_check(L, fl_sample_grid(&s, g, steps, tmax, tmin, rho, a->data), fname);
  return 1;
}

/* ------------------------------------------------------------ sample.loglik */

static const char *const ll_opts[] = {"field", "kind", "schedule", "x", "method", "probes", "nprobes", "seed",
                                      "steps", "rtol", "atol", "t_min", "t_max", "prior", NULL};

static int s_loglik(lua_State *L)
{
  const char *fname = "sample.loglik";
  fl_field *f = l_opts_square_field(L, fname, ll_opts, "field", " (a prediction)");
  fl_loglik_opts o = {0};
  opt_schedule(L, &o.sched);
  o.kind = opt_kind(L);
  const char *m = l_optstring_field(L, 1, "method", "exact");
  if (!strcmp(m, "hutchinson")) o.hutchinson = 1;
  else if (strcmp(m, "exact")) luaL_argerror(L, 1, lua_pushfstring(L, "unknown method '%s' (valid: exact, hutchinson)", m));
  const char *p = l_optstring_field(L, 1, "probes", "rademacher");
  if (!strcmp(p, "gaussian")) o.gaussian = 1;
  else if (strcmp(p, "rademacher")) luaL_argerror(L, 1, lua_pushfstring(L, "unknown probes '%s' (valid: rademacher, gaussian)", p));
  o.nprobes = opt_count(L, "nprobes", o.hutchinson ? 8 : 1, 0);
  if (o.hutchinson && o.nprobes == 0) luaL_argerror(L, 1, "option 'nprobes' must be a positive integer");
  o.seed = opt_seed(L, &o.stream);
  lua_getfield(L, 1, "steps");
  lua_getfield(L, 1, "rtol");
  if (!lua_isnil(L, -1) && !lua_isnil(L, -2)) return l_error(L, fname, "give either steps= (RK4) or rtol= (adaptive), not both");
  lua_pop(L, 2);
  o.steps = opt_count(L, "steps", 0, 1);
  o.rtol = l_optnumber_field(L, 1, "rtol", 1e-8);
  o.atol = l_optnumber_field(L, 1, "atol", 1e-10);
  o.t_min = l_optnumber_field(L, 1, "t_min", o.sched.t_min);
  o.t_max = l_optnumber_field(L, 1, "t_max", o.sched.t_max);
  if (!(o.t_max > o.t_min)) {
    char b[160];
    snprintf(b, sizeof b, "the likelihood integrates from t_min up to t_max: t_max (%g) must be greater than t_min (%g)",
             o.t_max, o.t_min);
    return l_error(L, fname, "%s", b);
  }
  o.prior = l_optfield(L, 1, "prior", 1);
  if (lua_getfield(L, 1, "x") == LUA_TNIL) luaL_argerror(L, 1, "option 'x' (the points) is required");
  int xi = lua_gettop(L), single;
  size_t n;
  const double *x = l_checkpoints(L, xi, f->dim, &n, &single, fname);
  fl_array *lp, *se = NULL;
  l_check(L, fl_array_new(1, &n, &lp), fname);
  l_pusharray(L, lp);
  if (o.hutchinson) {
    l_check(L, fl_array_new(1, &n, &se), fname);
    l_pusharray(L, se);
  }
  int exact = 0;
  size_t evals = 0;
  l_check(L, fl_sample_loglik(f, &o, n, x, lp->data, se ? se->data : NULL, NULL, &exact, &evals), fname);
  if (single) {
    lua_pushnumber(L, lp->data[0]);
    if (se) lua_pushnumber(L, se->data[0]);
    return se ? 2 : 1;
  }
  lua_pushboolean(L, exact);
  l_setattr(L, xi + 1, "exact");
  return se ? 2 : 1;
}

/* ------------------------------------------------------------ sample.flowchef */

typedef struct fc_ctx {
  lua_State *L;
  int fn; /* stack index of the cost function */
} fc_ctx;

typedef struct fc_call {
  size_t n, d;
  const double *x;
  double *grad, *Lv;
} fc_call;

static int fc_protected(lua_State *L)
{
  fc_call *c = lua_touserdata(L, 1);
  lua_pushvalue(L, 2);
  size_t shape[2] = {c->n, c->d};
  fl_array *a;
  if (fl_array_from_data(2, shape, c->x, &a)) return luaL_error(L, "no memory for the cost's argument");
  l_pusharray(L, a);
  lua_call(L, 1, 2);
  fl_array *g = l_testarray(L, -1);
  if (!g || g->size != c->n * c->d)
    return luaL_error(L, "sample.flowchef: the cost must return (L, grad) with grad an Array of %d by %d numbers",
                      (int)c->n, (int)c->d);
  memcpy(c->grad, g->data, g->size * sizeof(double));
  if (c->Lv) {
    fl_array *la = l_testarray(L, -2);
    if (la && la->size == c->n) memcpy(c->Lv, la->data, c->n * sizeof(double));
    else if (lua_isnumber(L, -2)) for (size_t i = 0; i < c->n; i++) c->Lv[i] = lua_tonumber(L, -2) / (double)c->n;
  }
  return 0;
}

static int fc_cost(void *ctx, size_t n, size_t d, const double *x, double *grad, double *Lv)
{
  fc_ctx *c = ctx;
  lua_State *L = c->L;
  fc_call call = {n, d, x, grad, Lv};
  lua_pushcfunction(L, fc_protected);
  lua_pushlightuserdata(L, &call);
  lua_pushvalue(L, c->fn);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    l_set_callback_error(L);
    return -1;
  }
  for (size_t q = 0; q < n * d; q++)
    if (!isfinite(grad[q])) {
      lua_pushfstring(L, "sample.flowchef: the cost's gradient is not finite (particle %d)", (int)(q / d) + 1);
      l_set_callback_error(L);
      return -1;
    }
  return 0;
}

static const char *const fc_opts[] = {"field", "cost", "n", "steps", "lr", "iters", "steer_steps", "t_max",
                                      "seed", "x_T", "record", "skip", NULL};
static const char *const cost_opts[] = {"A", "y", "noise", NULL};

static int s_flowchef(lua_State *L)
{
  const char *fname = "sample.flowchef";
  luaL_checktype(L, 1, LUA_TTABLE);
  l_checkopts(L, 1, fc_opts);
  fl_field *v = l_optfield(L, 1, "field", 0);
  if (v->dim != v->codim)
    return l_error(L, fname, "the field must be a velocity R^d -> R^d, not R^%d -> R^%d", v->dim, v->codim);
  const size_t d = (size_t)v->dim;
  fl_flowchef_opts o = {0};
  o.steps = opt_count(L, "steps", 0, 1);
  if (!o.steps) luaL_argerror(L, 1, "option 'steps' (a positive integer) is required");
  o.t_max = l_optnumber_field(L, 1, "t_max", 1);
  o.lr = l_optnumber_field(L, 1, "lr", 0.1);
  o.iters = opt_count(L, "iters", 1, 1);
  o.steer_steps = opt_count(L, "steer_steps", o.steps - 1, 0);
  lua_getfield(L, 1, "skip");
  if (!lua_isnil(L, -1) && !lua_isboolean(L, -1)) luaL_argerror(L, 1, "option 'skip' must be a boolean");
  o.exact_grad = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
  lua_pop(L, 1);
  /* the cost */
  fl_cost_fn costf;
  void *cctx;
  fc_ctx fc = {L, 0};
  fl_cost_linear lin = {0};
  int t = lua_getfield(L, 1, "cost");
  if (t == LUA_TFUNCTION) {
    fc.fn = lua_gettop(L);
    costf = fc_cost;
    cctx = &fc;
  } else if (t == LUA_TTABLE) {
    int ci = lua_gettop(L);
    l_checkopts(L, ci, cost_opts);
    lua_getfield(L, ci, "A");
    fl_array *A = lua_isnil(L, -1) ? NULL : l_toarray(L, -1);
    if (!A) luaL_argerror(L, 1, "the cost table needs A (an m-by-d matrix)");
    if (A->ndim == 1 && A->size == d) {
      lin.m = 1;
    } else if (A->ndim == 2 && A->shape[1] == d) {
      lin.m = A->shape[0];
    } else {
      return l_error(L, fname, "the measurement matrix A must have %d columns", (int)d);
    }
    lua_getfield(L, ci, "y");
    fl_array *y = lua_isnil(L, -1) ? NULL : l_toarray(L, -1);
    if (!y || y->size != lin.m)
      return l_error(L, fname, "the measurement y must have %d numbers (the rows of A)", (int)lin.m);
    lin.A = A->data;
    lin.y = y->data;
    lin.d = d;
    lin.noise = 1;
    lua_getfield(L, ci, "noise");
    if (!lua_isnil(L, -1)) {
      if (!lua_isnumber(L, -1) || !(lua_tonumber(L, -1) > 0)) luaL_argerror(L, 1, "the cost's noise must be a positive number");
      lin.noise = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    costf = fl_cost_linear_fn;
    cctx = &lin;
  } else {
    return luaL_argerror(L, 1, "option 'cost' must be a function(x0hat) -> L, grad or a table {A =, y =, noise =}");
  }
  uint64_t stream;
  uint64_t seed = opt_seed(L, &stream);
  fl_schedule lin_s;
  fl_schedule_default(FL_SCHED_LINEAR, &lin_s);
  size_t every = opt_count(L, "record", 0, 0);
  fl_array *x = initial_state(L, &lin_s, o.t_max, (int)d, seed, stream, "x_T", fname);
  int xi = lua_gettop(L);
  size_t n = x->shape[0];
  fl_array *Lv;
  l_check(L, fl_array_new(1, &n, &Lv), fname);
  l_pusharray(L, Lv);
  int li = lua_gettop(L);
  fl_observe obs;
  cb_ctx c;
  init_observe(L, &obs, &c, every);
  fl_run r = {0};
  fl_status st = fl_sample_flowchef(v, &o, costf, cctx, n, x->data, Lv->data, &obs, &r);
  int nret = finish(L, st, &r, xi, fname, "flowchef", n, d, NULL, o.steps, &c);
  lua_pushvalue(L, li);
  lua_setfield(L, -2, "cost");
  return nret;
}

/* ------------------------------------------------------------ sample.cfg */

static int s_cfg(lua_State *L)
{
  fl_field *c = l_checkfield(L, 1), *u = l_checkfield(L, 2);
  double w = luaL_checknumber(L, 3);
  fl_field *out;
  l_check(L, fl_field_lincomb(w, c, 1 - w, u, &out), "sample.cfg");
  l_pushfield(L, out);
  return 1;
}

static const luaL_Reg sample_fns[] = {
  {"ode", s_ode},           {"sde", s_sde}, {"loglik", s_loglik}, {"flowchef", s_flowchef},
  {"cfg", s_cfg},           {"grid", s_grid}, {NULL, NULL}};

void l_open_sample(lua_State *L)
{
  lua_newtable(L);
  lua_pushvalue(L, -2);             /* the core table */
  luaL_setfuncs(L, sample_fns, 1);  /* upvalue 1: the core (for integrate._progress and sample.partial) */
  lua_setfield(L, -2, "sample");
}
