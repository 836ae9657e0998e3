/* Lua bindings of lib/fl_ode: module `integrate` (integrate.ode, .sde,
 * .symplectic, .variational). Argument checks, observers and progress
 * through lua_pcall, results as tables (their printing and the progress bar
 * live in stdlib/fieldlab/integrate.lua). */
#include "config.h"
#include "l_util.h"
#include "fl_ode.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MODULE lua_upvalueindex(1)

/* ------------------------------------------------------------ callbacks */

typedef struct cb_ctx {
  l_progress prog; /* first: the ctx is also l_progress_cb's */
  lua_State *L;
  int observer;   /* stack index of the user's observer, 0: none */
  int single;     /* one point: parts are passed as 1-D arrays */
  size_t n, d;
  int nparts;
  /* the call in flight */
  double t;
  const double *const *parts;
} cb_ctx;

static fl_array *part_array(const cb_ctx *c, const double *data)
{
  size_t shape[2] = {c->n, c->d};
  fl_array *a;
  if (c->single) {
    if (fl_array_from_data(1, shape + 1, data, &a)) return NULL;
  } else if (fl_array_from_data(2, shape, data, &a)) {
    return NULL;
  }
  return a;
}

/* Runs protected: builds the arrays and calls observer(t, x [, p]). */
static int observer_call(lua_State *L)
{
  cb_ctx *c = lua_touserdata(L, 1);
  lua_pushvalue(L, 2);
  lua_pushnumber(L, c->t);
  for (int k = 0; k < c->nparts; k++) {
    fl_array *a = part_array(c, c->parts[k]);
    if (!a) return luaL_error(L, "no memory for the observer's arguments");
    l_pusharray(L, a);
  }
  lua_call(L, 1 + c->nparts, 0);
  return 0;
}

static int observer_cb(void *ctx, double t, int nparts, const double *const *parts)
{
  cb_ctx *c = ctx;
  lua_State *L = c->L;
  (void)nparts;
  if (!c->observer) return 0;
  c->t = t;
  c->parts = parts;
  lua_pushcfunction(L, observer_call);
  lua_pushlightuserdata(L, c);
  lua_pushvalue(L, c->observer);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    l_set_callback_error(L);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------ options */

/* A copy of the points in option `name` (n-by-d, or one point), pushed as an Array. */
static fl_array *opt_points(lua_State *L, const char *name, int d, size_t *n, int *single, const char *fname)
{
  if (lua_getfield(L, 1, name) == LUA_TNIL)
    luaL_argerror(L, 1, lua_pushfstring(L, "option '%s' (the initial points) is required", name));
  int idx = lua_gettop(L);
  const double *x = l_checkpoints(L, idx, d, n, single, fname);
  size_t shape[2] = {*n, (size_t)d};
  fl_array *a;
  l_check(L, fl_array_from_data(2, shape, x, &a), fname);
  lua_pop(L, 1);
  l_pusharray(L, a);
  return a;
}

static double opt_required_number(lua_State *L, const char *name)
{
  if (lua_getfield(L, 1, name) != LUA_TNUMBER)
    luaL_argerror(L, 1, lua_pushfstring(L, "option '%s' must be a number%s", name,
                                        lua_isnil(L, -1) ? " (it is required)" : ""));
  double v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return v;
}

/* steps: nil (-> 0) or a positive integer */
static size_t opt_steps(lua_State *L, int required)
{
  lua_getfield(L, 1, "steps");
  if (lua_isnil(L, -1)) {
    if (required) luaL_argerror(L, 1, "option 'steps' (a positive integer) is required");
    lua_pop(L, 1);
    return 0;
  }
  int isint;
  lua_Integer s = lua_tointegerx(L, -1, &isint);
  if (!isint || s <= 0) luaL_argerror(L, 1, "option 'steps' must be a positive integer");
  lua_pop(L, 1);
  return (size_t)s;
}

/* record = k (every k steps) or a list of times (Array or table); observer = function.
 * Fills obs and c (for n points of dimension d, nparts parts each); the times
 * Array (if any) stays on the stack. */
static void opt_observe(lua_State *L, fl_observe *obs, cb_ctx *c, size_t n, size_t d, int single, int nparts)
{
  memset(obs, 0, sizeof *obs);
  int t = lua_getfield(L, 1, "record");
  if (t == LUA_TNUMBER) {
    int isint;
    lua_Integer k = lua_tointegerx(L, -1, &isint);
    if (!isint || k <= 0) luaL_argerror(L, 1, "option 'record' must be a positive integer (every k steps) or a list of times");
    obs->every = (size_t)k;
    obs->store = 1;
    lua_pop(L, 1);
  } else if (t == LUA_TTABLE || l_testarray(L, -1)) {
    fl_array *a = l_toarray(L, -1);
    if (a->ndim != 1 || a->size == 0) luaL_argerror(L, 1, "option 'record' must be a non-empty list of times");
    obs->times = a->data;
    obs->ntimes = a->size;
    obs->store = 1; /* the Array stays on the stack */
  } else if (t != LUA_TNIL) {
    luaL_argerror(L, 1, "option 'record' must be a positive integer (every k steps) or a list of times");
  } else {
    lua_pop(L, 1);
  }
  t = lua_getfield(L, 1, "observer");
  if (t == LUA_TFUNCTION) {
    c->observer = lua_gettop(L); /* stays on the stack */
    obs->observer = observer_cb;
    if (!obs->every && !obs->ntimes) obs->every = 1; /* without record: every step, nothing stored */
  } else if (t != LUA_TNIL) {
    luaL_argerror(L, 1, "option 'observer' must be a function(t, x)");
  } else {
    lua_pop(L, 1);
  }
  obs->progress = l_progress_cb;
  obs->ctx = c;
  c->L = L;
  l_progress_init(L, &c->prog, MODULE, NULL);
  c->n = n;
  c->d = d;
  c->single = single;
  c->nparts = nparts;
}

/* ------------------------------------------------------------ results */


/* A new result table (kind, method) with the metatable integrate._Result. */
static void new_result(lua_State *L, const char *kind, const char *method)
{
  lua_newtable(L);
  if (lua_getfield(L, MODULE, "_Result") == LUA_TTABLE)
    lua_setmetatable(L, -2);
  else
    lua_pop(L, 1);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, method);
  lua_setfield(L, -2, "method");
}

void l_push_run_records(lua_State *L, const fl_run *r, size_t off, size_t n, size_t d, int single,
                        const char *fname)
{
  size_t shape[3] = {r->nrec, n, d}, sh1[2] = {r->nrec, d};
  fl_array *a;
  l_check(L, single ? fl_array_new(2, sh1, &a) : fl_array_new(3, shape, &a), fname);
  for (size_t k = 0; k < r->nrec; k++) memcpy(a->data + k * n * d, r->rec + k * r->reclen + off, n * d * sizeof(double));
  l_pusharray(L, a);
}

void l_push_run_times(lua_State *L, const fl_run *r, const char *fname)
{
  fl_array *a;
  size_t nr = r->nrec;
  l_check(L, fl_array_from_data(1, &nr, r->rec_t, &a), fname);
  l_pusharray(L, a);
}

/* Counters, time and recorded trajectory (first part) into the table on top. */
static void fill_common(lua_State *L, const fl_run *r, const fl_observe *obs, size_t n, size_t d, int single)
{
  l_setnumber(L, "t", r->t);
  l_setinteger(L, "steps", r->steps);
  l_setinteger(L, "rejected", r->rejected);
  l_setinteger(L, "evals", r->evals);
  l_setinteger(L, "n", n);
  l_setinteger(L, "dim", d);
  if (obs->store) {
    l_push_run_records(L, r, 0, n, d, single, "integrate");
    lua_setfield(L, -2, "trajectory");
    l_push_run_times(L, r, "integrate");
    lua_setfield(L, -2, "times");
  }
}

void l_run_interrupted(lua_State *L, const fl_run *r, const char *fname)
{
  fl_interrupt_clear();
  if (lua_gethook(L)) lua_sethook(L, NULL, 0, 0); /* the interrupt is consumed: we return what was done */
  fprintf(stderr, "fieldlab: warning: %s interrupted at t = %g after %zu steps; returning the state so far\n", fname,
          r->t, r->steps);
}

/* The final states x (an n-by-d Array at stack index xi): as is, or 1-D for one point. */
static void set_points(lua_State *L, int xi, const char *key, int single)
{
  if (single) {
    fl_array *a = l_checkarray(L, xi), *v;
    l_check(L, fl_array_reshape(a, 1, &a->shape[1], &v), "integrate");
    l_pusharray(L, v);
  } else {
    lua_pushvalue(L, xi);
  }
  lua_setfield(L, -2, key);
}

/* After a run that returned st: FL_OK and FL_EINTR return the result table
 * (built by fill, which is called with the table on top); FL_ENAN and
 * FL_ENOTCONV raise, leaving what was recorded in integrate.partial;
 * others raise. Frees the run in every case. */
typedef void (*fill_fn)(lua_State *L, fl_run *r, void *ud, int complete);

static int finish(lua_State *L, fl_status st, fl_run *r, const char *fname, const char *kind, const char *method,
                  const fl_observe *obs, fill_fn fill, void *ud, cb_ctx *c)
{
  l_progress_end(&c->prog);
  if (st == FL_OK || st == FL_EINTR) {
    int intr = st == FL_EINTR;
    if (intr) l_run_interrupted(L, r, fname);
    new_result(L, kind, method);
    fill(L, r, ud, 1);
    lua_pushboolean(L, intr);
    lua_setfield(L, -2, "interrupted");
    fl_run_free(r);
    return 1;
  }
  if ((st == FL_ENAN || st == FL_ENOTCONV) && obs->store) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", fl_last_detail());
    new_result(L, kind, method);
    fill(L, r, ud, st == FL_ENOTCONV);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "interrupted");
    lua_setfield(L, MODULE, "partial");
    size_t nrec = r->nrec;
    fl_run_free(r);
    return luaL_error(L, "%s: %s (the %d records so far are in integrate.partial)", fname, msg, (int)nrec);
  }
  fl_run_free(r);
  l_check(L, st, fname);
  return 0;
}

/* ------------------------------------------------------------ integrate.ode */

typedef struct ode_ud {
  int xi, single;
  size_t n, d;
  const fl_observe *obs;
} ode_ud;

static void ode_fill(lua_State *L, fl_run *r, void *p, int complete)
{
  ode_ud *u = p;
  fill_common(L, r, u->obs, u->n, u->d, u->single);
  if (complete) set_points(L, u->xi, "x", u->single);
}

/* Option x0 (the initial points of a field on R^d), pushed as an Array, into u. */
static fl_array *ode_points(lua_State *L, ode_ud *u, int d, const char *fname)
{
  fl_array *x = opt_points(L, "x0", d, &u->n, &u->single, fname);
  u->xi = lua_gettop(L);
  u->d = (size_t)d;
  return x;
}

/* ode and sde: the points (x0, into u) and then record/observer (into obs,
 * c, with u->obs = obs) for a run of one part per point. Returns x0's copy. */
static fl_array *ode_setup(lua_State *L, ode_ud *u, fl_observe *obs, cb_ctx *c, int d, const char *fname)
{
  fl_array *x = ode_points(L, u, d, fname);
  opt_observe(L, obs, c, u->n, u->d, u->single, 1);
  u->obs = obs;
  return x;
}

static const char *const ode_opts[] = {"field", "x0", "t0", "t1", "method", "steps", "rtol", "atol", "h0",
                                       "hmin", "hmax", "max_steps", "record", "observer", NULL};

static int i_ode(lua_State *L)
{
  const char *fname = "integrate.ode";
  fl_field *v = l_opts_square_field(L, fname, ode_opts, "field", " (a velocity)");
  fl_ode_opts o = {0};
  o.steps = opt_steps(L, 0);
  const char *mname = l_optstring_field(L, 1, "method", o.steps ? "rk4" : "dopri5");
  o.method = fl_ode_step_type_find(mname);
  if (!o.method)
    luaL_argerror(L, 1, lua_pushfstring(L, "unknown method '%s' (valid: %s)", mname, fl_ode_step_type_names()));
  if (!o.steps && !o.method->e)
    return l_error(L, fname, "method '%s' takes fixed steps: give steps= (only dopri5 is adaptive)", mname);
  o.t0 = l_optnumber_field(L, 1, "t0", 0);
  o.t1 = opt_required_number(L, "t1");
  o.rtol = l_optnumber_field(L, 1, "rtol", 1e-6);
  o.atol = l_optnumber_field(L, 1, "atol", 1e-9);
  o.h0 = l_optnumber_field(L, 1, "h0", 0);
  o.hmin = l_optnumber_field(L, 1, "hmin", 0);
  o.hmax = l_optnumber_field(L, 1, "hmax", 0);
  lua_Integer ms = l_optinteger_field(L, 1, "max_steps", 100000);
  if (ms <= 0) luaL_argerror(L, 1, "option 'max_steps' must be a positive integer");
  o.max_steps = (size_t)ms;
  if (o.steps) {
    lua_getfield(L, 1, "rtol");
    lua_getfield(L, 1, "atol");
    int tol = !lua_isnil(L, -1) || !lua_isnil(L, -2);
    lua_pop(L, 2);
    if (tol) return l_error(L, fname, "rtol and atol apply to adaptive steps: give either steps= or rtol=/atol=");
  }
  ode_ud u = {0};
  fl_observe obs;
  cb_ctx c = {0};
  fl_array *x = ode_setup(L, &u, &obs, &c, v->dim, fname);
  fl_run r = {0};
  fl_status st = fl_ode_run(v, u.n, x->data, &o, &obs, &r);
  return finish(L, st, &r, fname, "ode", mname, &obs, ode_fill, &u, &c);
}

/* ------------------------------------------------------------ integrate.sde */

static const char *const sde_opts[] = {"drift", "diffusion", "x0", "t0", "t1", "steps", "method", "seed",
                                       "stream", "record", "observer", NULL};

static int i_sde(lua_State *L)
{
  const char *fname = "integrate.sde";
  fl_field *a = l_opts_square_field(L, fname, sde_opts, "drift", "");
  fl_field *g = NULL;
  double sigma = 0;
  int t = lua_getfield(L, 1, "diffusion");
  if (t == LUA_TNUMBER) {
    sigma = lua_tonumber(L, -1);
  } else if (!(g = l_testfield(L, -1))) {
    luaL_argerror(L, 1, "option 'diffusion' must be a number or a Field (the diagonal of g)");
  }
  lua_pop(L, 1);
  fl_sde_opts o = {0};
  o.steps = opt_steps(L, 1);
  const char *mname = l_optstring_field(L, 1, "method", "euler_maruyama");
  if (strcmp(mname, "euler_maruyama") == 0) o.method = FL_SDE_EULER_MARUYAMA;
  else if (strcmp(mname, "milstein") == 0) o.method = FL_SDE_MILSTEIN;
  else luaL_argerror(L, 1, lua_pushfstring(L, "unknown method '%s' (valid: euler_maruyama, milstein)", mname));
  o.t0 = l_optnumber_field(L, 1, "t0", 0);
  o.t1 = opt_required_number(L, "t1");
  lua_getfield(L, 1, "seed");
  int has_seed = !lua_isnil(L, -1);
  lua_pop(L, 1);
  lua_Integer seed = l_optinteger_field(L, 1, "seed", l_default_seed(L));
  lua_Integer stream = l_optinteger_field(L, 1, "stream", -1);
  if (seed < 0) luaL_argerror(L, 1, "option 'seed' must be a non-negative integer");
  if (stream < -1) luaL_argerror(L, 1, "option 'stream' must be a non-negative integer");
  if (stream == -1) stream = has_seed ? 0 : l_next_stream(L);
  o.seed = (uint64_t)seed;
  o.stream = (uint64_t)stream;
  ode_ud u = {0};
  fl_observe obs;
  cb_ctx c = {0};
  fl_array *x = ode_setup(L, &u, &obs, &c, a->dim, fname);
  fl_run r = {0};
  fl_status st = fl_sde_run(a, g, sigma, u.n, x->data, &o, &obs, &r);
  return finish(L, st, &r, fname, "sde", mname, &obs, ode_fill, &u, &c);
}

/* ------------------------------------------------------------ integrate.symplectic */

typedef struct symp_ud {
  int qi, pi, single;
  size_t n, d;
  const fl_observe *obs;
  fl_field *pot;
  double E0, L0[3], t0;
  fl_status dst; /* a failure of the diagnostics */
} symp_ud;

static void symp_fill(lua_State *L, fl_run *r, void *p, int complete)
{
  symp_ud *u = p;
  const size_t n = u->n, d = u->d, nd = n * d;
  fill_common(L, r, u->obs, n, d, u->single);
  if (u->obs->store) {
    l_push_run_records(L, r, nd, n, d, u->single, "integrate");
    lua_setfield(L, -2, "trajectory_p");
  }
  if (complete) {
    set_points(L, u->qi, "q", u->single);
    set_points(L, u->pi, "p", u->single);
  }
  if (!u->pot) return;
  /* energy and angular momentum at each record, or at the start and the end */
  size_t nrec = u->obs->store ? r->nrec : (complete ? 2 : 1);
  size_t nl = d == 3 ? 3 : d == 2 ? 1 : 0;
  size_t sh[2] = {nrec, nl};
  fl_array *E, *Lm = NULL;
  if (fl_array_new(1, &nrec, &E) || (nl && fl_array_new(nl == 1 ? 1 : 2, sh, &Lm))) {
    fl_array_release(E);
    u->dst = FL_ENOMEM;
    return;
  }
  for (size_t k = 0; k < nrec && !u->dst; k++) {
    const double *q, *pp;
    double t;
    if (u->obs->store) {
      q = r->rec + k * r->reclen;
      pp = q + nd;
      t = r->rec_t[k];
    } else if (k == 0) {
      E->data[0] = u->E0;
      for (size_t j = 0; j < nl; j++) Lm->data[j] = u->L0[j];
      continue;
    } else {
      q = l_checkarray(L, u->qi)->data;
      pp = l_checkarray(L, u->pi)->data;
      t = r->t;
    }
    double Lv[3];
    u->dst = fl_symp_diagnostics(u->pot, n, q, pp, t, &E->data[k], Lv);
    for (size_t j = 0; j < nl; j++) Lm->data[k * nl + j] = Lv[j];
  }
  l_pusharray(L, E);
  lua_setfield(L, -2, "energy");
  if (Lm) {
    l_pusharray(L, Lm);
    lua_setfield(L, -2, "angular_momentum");
  }
}

static const char *const symp_opts[] = {"force", "q0", "p0", "t0", "t1", "steps", "method", "potential",
                                        "record", "observer", NULL};

static int i_symplectic(lua_State *L)
{
  const char *fname = "integrate.symplectic";
  fl_field *f = l_opts_square_field(L, fname, symp_opts, "force", " (the acceleration -grad Phi)");
  fl_field *pot = l_optfield(L, 1, "potential", 1);
  if (pot && (pot->codim != 1 || pot->dim != f->dim))
    return l_error(L, fname, "the potential must be a scalar field on R^%d, not R^%d to R^%d", f->dim, pot->dim,
                   pot->codim);
  size_t steps = opt_steps(L, 1);
  const char *mname = l_optstring_field(L, 1, "method", "leapfrog");
  fl_symp_method m = FL_SYMP_LEAPFROG;
  if (strcmp(mname, "leapfrog") == 0) m = FL_SYMP_LEAPFROG;
  else if (strcmp(mname, "yoshida4") == 0) m = FL_SYMP_YOSHIDA4;
  else luaL_argerror(L, 1, lua_pushfstring(L, "unknown method '%s' (valid: leapfrog, yoshida4)", mname));
  double t0 = l_optnumber_field(L, 1, "t0", 0), t1 = opt_required_number(L, "t1");
  symp_ud u = {0};
  size_t n, n2;
  int single2;
  fl_array *q = opt_points(L, "q0", f->dim, &n, &u.single, fname);
  u.qi = lua_gettop(L);
  fl_array *p = opt_points(L, "p0", f->dim, &n2, &single2, fname);
  u.pi = lua_gettop(L);
  if (n2 != n || single2 != u.single)
    return l_error(L, fname, "q0 and p0 must have the same shape (%d and %d points)", (int)n, (int)n2);
  u.n = n;
  u.d = (size_t)f->dim;
  u.pot = pot;
  u.t0 = t0;
  if (pot) l_check(L, fl_symp_diagnostics(pot, n, q->data, p->data, t0, &u.E0, u.L0), fname);
  fl_observe obs;
  cb_ctx c = {0};
  opt_observe(L, &obs, &c, n, u.d, u.single, 2);
  u.obs = &obs;
  fl_run r = {0};
  fl_status st = fl_symp_run(f, m, n, q->data, p->data, t0, t1, steps, &obs, &r);
  int ret = finish(L, st, &r, fname, "symplectic", mname, &obs, symp_fill, &u, &c);
  l_check(L, u.dst, fname);
  return ret;
}

/* ------------------------------------------------------------ integrate.variational */

typedef struct var_ud {
  ode_ud o;
  int Yi, exact;
} var_ud;

static void var_fill(lua_State *L, fl_run *r, void *p, int complete)
{
  var_ud *u = p;
  ode_fill(L, r, &u->o, complete);
  if (!complete) return;
  if (u->o.single) {
    fl_array *Y = l_checkarray(L, u->Yi), *v;
    l_check(L, fl_array_reshape(Y, 2, &Y->shape[1], &v), "integrate.variational");
    l_pusharray(L, v);
  } else {
    lua_pushvalue(L, u->Yi);
  }
  lua_pushboolean(L, u->exact);
  l_setattr(L, -2, "exact");
  lua_setfield(L, -2, "Y");
}

static const char *const var_opts[] = {"field", "x0", "Y0", "t0", "t1", "steps", "method", "record", "observer", NULL};

static int i_variational(lua_State *L)
{
  const char *fname = "integrate.variational";
  fl_field *v = l_opts_square_field(L, fname, var_opts, "field", "");
  size_t steps = opt_steps(L, 1);
  const char *mname = l_optstring_field(L, 1, "method", "rk4");
  const fl_ode_step_type *T = fl_ode_step_type_find(mname);
  if (!T) luaL_argerror(L, 1, lua_pushfstring(L, "unknown method '%s' (valid: %s)", mname, fl_ode_step_type_names()));
  double t0 = l_optnumber_field(L, 1, "t0", 0), t1 = opt_required_number(L, "t1");
  var_ud u = {0};
  fl_array *x = ode_points(L, &u.o, v->dim, fname);
  const size_t n = u.o.n, d = u.o.d;
  size_t shape[3] = {n, d, d};
  fl_array *Y;
  l_check(L, fl_array_new(3, shape, &Y), fname);
  l_pusharray(L, Y);
  u.Yi = lua_gettop(L);
  if (lua_getfield(L, 1, "Y0") == LUA_TNIL) {
    for (size_t i = 0; i < n; i++)
      for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++) Y->data[(i * d + a) * d + b] = a == b;
    lua_pop(L, 1);
  } else {
    fl_array *Y0 = l_toarray(L, -1);
    if (Y0->ndim == 2 && Y0->shape[0] == d && Y0->shape[1] == d) {
      for (size_t i = 0; i < n; i++) memcpy(Y->data + i * d * d, Y0->data, d * d * sizeof(double));
    } else if (Y0->ndim == 3 && Y0->shape[0] == n && Y0->shape[1] == d && Y0->shape[2] == d) {
      memcpy(Y->data, Y0->data, n * d * d * sizeof(double));
    } else {
      char b[64];
      return l_error(L, fname, "Y0 must be a %d-by-%d matrix or an (%d,%d,%d) array, not of shape %s", (int)d, (int)d,
                     (int)n, (int)d, (int)d, fl_array_shape_str(Y0, b, sizeof b));
    }
    lua_pop(L, 1);
  }
  fl_observe obs;
  cb_ctx c = {0};
  opt_observe(L, &obs, &c, n, d, u.o.single, 1);
  u.o.obs = &obs;
  fl_run r = {0};
  fl_status st = fl_var_run(v, T, n, x->data, Y->data, t0, t1, steps, &obs, &r, &u.exact);
  return finish(L, st, &r, fname, "variational", mname, &obs, var_fill, &u, &c);
}

/* ------------------------------------------------------------ registration */

static const luaL_Reg integrate_fns[] = {
  {"ode", i_ode},
  {"sde", i_sde},
  {"symplectic", i_symplectic},
  {"variational", i_variational},
  {NULL, NULL}
};

void l_open_integrate(lua_State *L)
{
  lua_newtable(L);
  lua_pushvalue(L, -1);
  luaL_setfuncs(L, integrate_fns, 1); /* each function sees the module table as upvalue 1 */
  lua_setfield(L, -2, "integrate");
}
