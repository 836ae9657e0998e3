/* Bindings of lib/fl_optim: module optim (optimizers over an ad.Params block,
 * clipping, EMA, learning-rate schedules, batch draws) and the (Lua-filled)
 * module loss. The training loop itself is stdlib/fieldlab/train.lua. */
#include "config.h"
#include <string.h>
#include <unistd.h>
#include "l_util.h"
#include "fl_ad.h"
#include "fl_optim.h"

#define OPTIM_MT "fieldlab.Optimizer"
#define PARAMS_MT "fieldlab.ad.Params"

typedef struct opt_box {
  fl_optim *o;
  fl_ad_params *P;
} opt_box;

static const char *const kind_names[] = {"sgd", "adam", "adamw"};

static opt_box *checkopt(lua_State *L, int idx)
{
  opt_box *b = luaL_checkudata(L, idx, OPTIM_MT);
  if (!b->o) luaL_argerror(L, idx, "closed optimizer");
  return b;
}

static int opt_gc(lua_State *L)
{
  opt_box *b = luaL_checkudata(L, 1, OPTIM_MT);
  fl_optim_free(b->o);
  if (b->P) fl_ad_params_release(b->P);
  b->o = NULL;
  b->P = NULL;
  return 0;
}

static const char *const adam_opts[] = {"lr", "betas", "eps", "weight_decay", NULL};
static const char *const sgd_opts[] = {"lr", "momentum", "weight_decay", NULL};

static int make(lua_State *L, fl_optim_kind kind, const char *fname)
{
  fl_ad_params *P = l_checkobj(L, 1, PARAMS_MT);
  l_checkopts(L, 2, kind == FL_OPTIM_SGD ? sgd_opts : adam_opts);
  fl_optim_config c = fl_optim_defaults();
  if (kind == FL_OPTIM_ADAMW) c.weight_decay = 1e-2;
  c.lr = l_optnumber_field(L, 2, "lr", c.lr);
  c.weight_decay = l_optnumber_field(L, 2, "weight_decay", c.weight_decay);
  c.eps = l_optnumber_field(L, 2, "eps", c.eps);
  c.momentum = l_optnumber_field(L, 2, "momentum", c.momentum);
  if (lua_istable(L, 2)) {
    if (lua_getfield(L, 2, "betas") != LUA_TNIL) {
      if (!lua_istable(L, -1) || lua_rawlen(L, -1) != 2) return l_error(L, fname, "option 'betas' must be a table {beta1, beta2}");
      lua_rawgeti(L, -1, 1);
      lua_rawgeti(L, -2, 2);
      if (!lua_isnumber(L, -2) || !lua_isnumber(L, -1)) return l_error(L, fname, "option 'betas' must hold two numbers");
      c.beta1 = lua_tonumber(L, -2);
      c.beta2 = lua_tonumber(L, -1);
      lua_pop(L, 2);
    }
    lua_pop(L, 1);
  }
  opt_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->o = NULL;
  b->P = NULL;
  luaL_setmetatable(L, OPTIM_MT);
  l_check(L, fl_optim_new(&b->o, kind, P->n, &c), fname);
  b->P = fl_ad_params_retain(P);
  l_gc_account(L, P->n * sizeof(double) * (kind == FL_OPTIM_SGD ? 1 : 2));
  return 1;
}

static int optim_adam(lua_State *L) { return make(L, FL_OPTIM_ADAM, "optim.adam"); }
static int optim_adamw(lua_State *L) { return make(L, FL_OPTIM_ADAMW, "optim.adamw"); }
static int optim_sgd(lua_State *L) { return make(L, FL_OPTIM_SGD, "optim.sgd"); }

static void check_size(lua_State *L, opt_box *b, const char *fname)
{
  if (b->P->n != b->o->n)
    l_error(L, fname, "the parameter block has %d values, the optimizer was made for %d", (int)b->P->n, (int)b->o->n);
}

/* opt:step([lr]) */
static int m_step(lua_State *L)
{
  opt_box *b = checkopt(L, 1);
  double lr = luaL_optnumber(L, 2, 0);
  if (!lua_isnoneornil(L, 2) && !(lr > 0)) luaL_argerror(L, 2, "learning rate must be positive");
  check_size(L, b, "Optimizer:step");
  l_check(L, fl_optim_step(b->o, b->P->x, b->P->g, lr), "Optimizer:step");
  return 0;
}

static int m_zero_grad(lua_State *L)
{
  opt_box *b = checkopt(L, 1);
  fl_ad_params_zero_grad(b->P);
  return 0;
}

static void push_vec(lua_State *L, const double *v, size_t n, const char *fname)
{
  size_t shape[1] = {n};
  fl_array *a;
  l_check(L, fl_array_new(1, shape, &a), fname);
  if (n) memcpy(a->data, v, n * sizeof(double));
  l_pusharray(L, a);
}

/* opt:state() -> {kind, step, m, v} */
static int m_state(lua_State *L)
{
  opt_box *b = checkopt(L, 1);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, kind_names[b->o->kind]);
  lua_setfield(L, -2, "kind");
  lua_pushinteger(L, (lua_Integer)b->o->step);
  lua_setfield(L, -2, "step");
  push_vec(L, b->o->m, b->o->n, "Optimizer:state");
  lua_setfield(L, -2, "m");
  if (b->o->v) {
    push_vec(L, b->o->v, b->o->n, "Optimizer:state");
    lua_setfield(L, -2, "v");
  }
  return 1;
}

static void load_vec(lua_State *L, int t, const char *k, double *dst, size_t n)
{
  lua_getfield(L, t, k);
  fl_array *a = l_testarray(L, -1);
  if (!a || a->size != n)
    l_error(L, "Optimizer:load", "state '%s' must be an Array of %d numbers", k, (int)n);
  memcpy(dst, a->data, n * sizeof(double));
  lua_pop(L, 1);
}

/* opt:load(state) */
static int m_load(lua_State *L)
{
  opt_box *b = checkopt(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_getfield(L, 2, "kind");
  const char *k = lua_tostring(L, -1);
  if (!k || strcmp(k, kind_names[b->o->kind]))
    return l_error(L, "Optimizer:load", "state of a '%s' optimizer, this one is '%s'", k ? k : "?",
                   kind_names[b->o->kind]);
  lua_pop(L, 1);
  lua_getfield(L, 2, "step");
  if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
    return l_error(L, "Optimizer:load", "state 'step' must be an integer >= 0");
  uint64_t step = (uint64_t)lua_tointeger(L, -1);
  lua_pop(L, 1);
  load_vec(L, 2, "m", b->o->m, b->o->n);
  if (b->o->v) load_vec(L, 2, "v", b->o->v, b->o->n);
  b->o->step = step;
  return 0;
}

static int opt_index(lua_State *L)
{
  if (l_getmethod(L) != LUA_TNIL) return 1;
  opt_box *b = checkopt(L, 1);
  const char *k = lua_tostring(L, 2);
  if (!k) return 0;
  if (!strcmp(k, "lr")) lua_pushnumber(L, b->o->cfg.lr);
  else if (!strcmp(k, "steps")) lua_pushinteger(L, (lua_Integer)b->o->step);
  else if (!strcmp(k, "kind")) lua_pushstring(L, kind_names[b->o->kind]);
  else if (!strcmp(k, "size")) lua_pushinteger(L, (lua_Integer)b->o->n);
  else if (!strcmp(k, "params")) {
    l_box *pb = l_newbox(L, PARAMS_MT);
    pb->p = fl_ad_params_retain(b->P);
  } else lua_pushnil(L);
  return 1;
}

static int opt_newindex(lua_State *L)
{
  opt_box *b = checkopt(L, 1);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "lr")) return l_error(L, "Optimizer", "cannot set '%s' (only lr)", k);
  double lr = luaL_checknumber(L, 3);
  if (!(lr > 0) || lr != lr || lr > 1e300) return l_error(L, "Optimizer", "learning rate must be positive and finite, not %g", lr);
  b->o->cfg.lr = lr;
  return 0;
}

static int opt_tostring(lua_State *L)
{
  opt_box *b = checkopt(L, 1);
  lua_pushfstring(L, "Optimizer(%s, lr %f, %d parameters, %d steps)", kind_names[b->o->kind], b->o->cfg.lr,
                  (int)b->o->n, (int)b->o->step);
  return 1;
}

/* optim.clip_grad(P, maxnorm) -> norm before clipping */
static int optim_clip_grad(lua_State *L)
{
  fl_ad_params *P = l_checkobj(L, 1, PARAMS_MT);
  double mx = luaL_checknumber(L, 2);
  if (!(mx > 0)) luaL_argerror(L, 2, "the maximal norm must be positive");
  lua_pushnumber(L, fl_optim_clip(P->g, P->n, mx));
  return 1;
}

/* optim.grad_norm(P) -> norm */
static int optim_grad_norm(lua_State *L)
{
  fl_ad_params *P = l_checkobj(L, 1, PARAMS_MT);
  lua_pushnumber(L, fl_optim_norm(P->g, P->n));
  return 1;
}

/* optim.ema_update(a, P, decay): a = decay a + (1 - decay) P.value, in place */
static int optim_ema_update(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1);
  fl_ad_params *P = l_checkobj(L, 2, PARAMS_MT);
  double d = luaL_checknumber(L, 3);
  if (!(d >= 0 && d < 1)) luaL_argerror(L, 3, "the decay must be in [0, 1)");
  if (a->size != P->n) return l_error(L, "optim.ema_update", "the average has %d values, the block %d", (int)a->size, (int)P->n);
  fl_optim_ema(a->data, P->x, P->n, d);
  return 0;
}

static const char *const lr_opts[] = {"lr", "warmup", "steps", "cosine", "min_lr", NULL};

/* optim.lr_at(step, {lr=, warmup=, steps=, cosine=, min_lr=}) -> number; step 1-based */
static int optim_lr_at(lua_State *L)
{
  lua_Integer s = luaL_checkinteger(L, 1);
  if (s < 1) luaL_argerror(L, 1, "steps count from 1");
  l_checkopts(L, 2, lr_opts);
  double lr = l_optnumber_field(L, 2, "lr", 1e-3);
  lua_Integer w = l_optinteger_field(L, 2, "warmup", 0), n = l_optinteger_field(L, 2, "steps", 0);
  if (w < 0 || n < 0) return l_error(L, "optim.lr_at", "warmup and steps must be >= 0");
  int cos = l_optboolean_field(L, 2, "cosine", 0);
  if (cos && n == 0) return l_error(L, "optim.lr_at", "a cosine schedule needs option 'steps'");
  lua_pushnumber(L, fl_optim_lr(lr, (uint64_t)(s - 1), (uint64_t)w, (uint64_t)n, cos,
                                l_optnumber_field(L, 2, "min_lr", 0)));
  return 1;
}

/* optim._batch(data, b, seed, stream) -> b x d Array of rows drawn from data */
static int optim_batch(lua_State *L)
{
  fl_array *a = l_checkarray(L, 1);
  lua_Integer b = luaL_checkinteger(L, 2), seed = luaL_checkinteger(L, 3), stream = luaL_checkinteger(L, 4);
  if (a->ndim != 2) return l_error(L, "net.train", "data must be a 2-D Array (points x dim), not %d-D", a->ndim);
  if (b < 1) return l_error(L, "net.train", "batch must be >= 1");
  size_t shape[2] = {(size_t)b, a->shape[1]};
  fl_array *out;
  l_check(L, fl_array_new(2, shape, &out), "net.train");
  fl_status st = fl_optim_sample_rows(a->data, a->shape[0], a->shape[1], (size_t)b, (uint64_t)seed, (uint64_t)stream, out->data);
  if (st) fl_array_release(out);
  l_check(L, st, "net.train");
  l_pusharray(L, out);
  return 1;
}

/* optim._isatty() -> whether stderr is a terminal (for the progress bar) */
static int optim_isatty(lua_State *L)
{
  lua_pushboolean(L, isatty(2));
  return 1;
}

static const luaL_Reg optim_fns[] = {
  {"_isatty", optim_isatty},
  {"adam", optim_adam},
  {"adamw", optim_adamw},
  {"sgd", optim_sgd},
  {"clip_grad", optim_clip_grad},
  {"grad_norm", optim_grad_norm},
  {"ema_update", optim_ema_update},
  {"lr_at", optim_lr_at},
  {"_batch", optim_batch},
  {NULL, NULL}
};

static const luaL_Reg opt_meta[] = {
  {"__gc", opt_gc}, {"__close", opt_gc}, {"__index", opt_index}, {"__newindex", opt_newindex},
  {"__tostring", opt_tostring}, {NULL, NULL}
};
static const luaL_Reg opt_methods[] = {
  {"step", m_step}, {"zero_grad", m_zero_grad}, {"state", m_state}, {"load", m_load}, {"close", opt_gc}, {NULL, NULL}
};
static const char *const opt_props[] = {"lr", "steps", "kind", "size", "params", NULL};

void l_open_optim(lua_State *L)
{
  l_newclass(L, OPTIM_MT, opt_meta, opt_methods, opt_props);
  l_newmodule(L, "optim", optim_fns);
  lua_newtable(L);
  lua_setfield(L, -2, "loss");
}
