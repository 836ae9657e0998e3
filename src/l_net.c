/* Lua bindings of lib/fl_nn: module `net` (networks as fields) and the
 * network methods and properties of fieldlab.Field. Glue only.
 *
 * A network field's box keeps in its attribute table "params" (an
 * ad.Params block holding the network's tensors, made on first use of
 * model:params() by stdlib/fieldlab/net.lua through net._bind) and "vars"
 * (the parameter Vars, in layer order W1, b1, W2, b2, ...). net.gradient(E)
 * shares E's network and copies those attributes. */
#include "config.h"
#include "l_util.h"
#include "fl_nn.h"

#include <stdlib.h>
#include <string.h>

#define PARAMS_MT "fieldlab.ad.Params"

static fl_nn *check_net(lua_State *L, int idx, const char *fname, fl_nn_kind *kind)
{
  fl_field *f = l_checkfield(L, idx);
  fl_nn *nn = fl_nn_of(f, kind);
  if (!nn) l_error(L, fname, "not a network (a %s field)", f->ops->kind);
  return nn;
}

static const char *const arch_opts[] = {"dim", "out", "hidden", "act", "time", "init", "seed", "param", NULL};

/* Read the architecture options of the table at idx. */
static void read_arch(lua_State *L, int idx, fl_nn_kind kind, fl_nn_arch *a, const char *fname)
{
  memset(a, 0, sizeof *a);
  a->kind = kind;
  lua_Integer d = l_optinteger_field(L, idx, "dim", -1);
  if (d < 1) l_error(L, fname, "option 'dim' (a positive integer) is required");
  a->dim = (int)d;
  lua_Integer o = l_optinteger_field(L, idx, "out", d);
  if (kind == FL_NN_MLP) {
    if (o < 1) l_error(L, fname, "option 'out' must be positive, not %d", (int)o);
    a->out = (int)o;
  } else if (lua_getfield(L, idx, "out"), !lua_isnil(L, -1)) {
    l_error(L, fname, "option 'out' is fixed for a %s", kind == FL_NN_POTENTIAL ? "potential (1)" : "divfree network");
  } else lua_pop(L, 1);
  if (lua_getfield(L, idx, "hidden") == LUA_TTABLE) {
    lua_Integer nh = luaL_len(L, -1);
    if (nh > FL_NN_MAXLAYERS) l_error(L, fname, "%d hidden layers (at most %d)", (int)nh, FL_NN_MAXLAYERS);
    a->nhidden = (int)nh;
    for (int i = 0; i < nh; i++) {
      lua_geti(L, -1, i + 1);
      int isnum;
      lua_Integer w = lua_tointegerx(L, -1, &isnum);
      if (!isnum || w < 1) l_error(L, fname, "hidden[%d] must be a positive integer", i + 1);
      a->hidden[i] = (int)w;
      lua_pop(L, 1);
    }
  } else if (lua_isnil(L, -1)) {
    a->nhidden = 2;
    a->hidden[0] = a->hidden[1] = 64;
  } else {
    l_error(L, fname, "option 'hidden' must be a table of widths, not a %s", luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  const char *act = l_optstring_field(L, idx, "act", "silu");
  if (fl_nn_act_parse(act, &a->act))
    l_error(L, fname, "unknown activation '%s' (silu, tanh, relu, gelu, softplus, sigmoid)", act);
  const char *tm = l_optstring_field(L, idx, "time", "none");
  if (fl_nn_time_parse(tm, &a->time))
    l_error(L, fname, "unknown time embedding '%s' (none, concat, fourier, sinusoidal)", tm);
  const char *pa = l_optstring_field(L, idx, "param", "velocity");
  if (strlen(pa) >= sizeof a->param) l_error(L, fname, "unknown parametrisation '%s'", pa);
  strcpy(a->param, pa);
  fl_status st = fl_nn_arch_check(a);
  l_check(L, st, fname);
}

static int make_net(lua_State *L, fl_nn_kind kind, const char *fname)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  l_checkopts(L, 1, arch_opts);
  fl_nn_arch a;
  read_arch(L, 1, kind, &a, fname);
  const char *in = l_optstring_field(L, 1, "init", "default");
  fl_nn_init init;
  if (!strcmp(in, "default")) init = FL_INIT_DEFAULT;
  else if (!strcmp(in, "xavier")) init = FL_INIT_XAVIER;
  else if (!strcmp(in, "kaiming")) init = FL_INIT_KAIMING;
  else return l_error(L, fname, "unknown init '%s' (default, xavier, kaiming)", in);
  lua_Integer seed = l_optinteger_field(L, 1, "seed", l_default_seed(L));
  fl_nn *nn;
  l_check(L, fl_nn_new(&a, init, (uint64_t)seed, &nn), fname);
  fl_field *f;
  fl_status st = fl_nn_field(nn, kind, &f);
  fl_nn_release(nn);
  l_check(L, st, fname);
  l_pushfield(L, f);
  return 1;
}

static int net_mlp(lua_State *L) { return make_net(L, FL_NN_MLP, "net.mlp"); }
static int net_potential(lua_State *L) { return make_net(L, FL_NN_POTENTIAL, "net.potential"); }
static int net_divfree(lua_State *L) { return make_net(L, FL_NN_DIVFREE, "net.divfree"); }

static void copy_attr(lua_State *L, int from, int to, const char *key)
{
  l_getattr(L, from, key);
  l_setattr(L, to, key);
}

static int net_gradient(lua_State *L)
{
  fl_nn_kind k;
  fl_nn *nn = check_net(L, 1, "net.gradient", &k);
  if (k != FL_NN_POTENTIAL)
    return l_error(L, "net.gradient", "needs a potential (net.potential), not a network of kind %s", fl_nn_kind_name(k));
  fl_field *f;
  l_check(L, fl_nn_field(nn, FL_NN_GRADIENT, &f), "net.gradient");
  l_pushfield(L, f);
  copy_attr(L, 1, -1, "params");
  copy_attr(L, 1, -1, "vars");
  return 1;
}

static void push_kind_field(lua_State *L, fl_nn *nn, fl_nn_kind k, const char *fname)
{
  fl_field *f;
  fl_status st = fl_nn_field(nn, k, &f);
  fl_nn_release(nn);
  l_check(L, st, fname);
  l_pushfield(L, f);
}

static int net_load(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  fl_nn *nn;
  fl_nn_kind k;
  l_check(L, fl_nn_load(path, NULL, &nn, &k), "net.load");
  push_kind_field(L, nn, k, "net.load");
  return 1;
}

/* "2:64,64:2:tanh" -> dim 2, hidden {64, 64}, out 2, act tanh. */
static void parse_arch_string(lua_State *L, const char *s, fl_nn_arch *a, const char *fname)
{
  char buf[512], *parts[5];
  int np = 0;
  if (strlen(s) >= sizeof buf) l_error(L, fname, "architecture string too long");
  strcpy(buf, s);
  for (char *p = buf, *q; np < 5; p = q + 1) {
    parts[np++] = p;
    if (!(q = strchr(p, ':'))) break;
    *q = 0;
  }
  if (np < 3 || np > 4 || strchr(parts[np - 1], ':'))
    l_error(L, fname, "architecture '%s' is not DIM:HIDDEN,...:OUT[:ACT] (e.g. \"2:64,64:2:tanh\")", s);
  memset(a, 0, sizeof *a);
  char *end;
  a->dim = (int)strtol(parts[0], &end, 10);
  if (*end || a->dim < 1) l_error(L, fname, "architecture '%s': bad input dimension '%s'", s, parts[0]);
  a->out = (int)strtol(parts[2], &end, 10);
  if (*end || a->out < 1) l_error(L, fname, "architecture '%s': bad output width '%s'", s, parts[2]);
  if (*parts[1])
    for (char *p = parts[1];;) {
      if (a->nhidden >= FL_NN_MAXLAYERS) l_error(L, fname, "architecture '%s': too many layers", s);
      long w = strtol(p, &end, 10);
      if (end == p || w < 1 || (*end && *end != ',')) l_error(L, fname, "architecture '%s': bad hidden widths '%s'", s, parts[1]);
      a->hidden[a->nhidden++] = (int)w;
      if (!*end) break;
      p = end + 1;
    }
  a->act = FL_ACT_SILU;
  if (np == 4 && fl_nn_act_parse(parts[3], &a->act))
    l_error(L, fname, "unknown activation '%s' (silu, tanh, relu, gelu, softplus, sigmoid)", parts[3]);
}

static const char *const import_opts[] = {"arch", "kind", "param", NULL};

static int net_import_torch(lua_State *L)
{
  const char *fname = "net.import_torch";
  const char *path = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  l_checkopts(L, 2, import_opts);
  const char *ks = l_optstring_field(L, 2, "kind", "mlp");
  fl_nn_kind kind;
  if (!strcmp(ks, "mlp")) kind = FL_NN_MLP;
  else if (!strcmp(ks, "potential")) kind = FL_NN_POTENTIAL;
  else if (!strcmp(ks, "gradient_net")) kind = FL_NN_GRADIENT;
  else if (!strcmp(ks, "divfree")) kind = FL_NN_DIVFREE;
  else return l_error(L, fname, "unknown kind '%s' (mlp, potential, gradient_net, divfree)", ks);
  fl_nn_arch a;
  lua_getfield(L, 2, "arch");
  if (lua_type(L, -1) == LUA_TSTRING) {
    parse_arch_string(L, lua_tostring(L, -1), &a, fname);
    a.kind = kind == FL_NN_GRADIENT ? FL_NN_POTENTIAL : kind;
    snprintf(a.param, sizeof a.param, "%s", l_optstring_field(L, 2, "param", "velocity"));
    l_check(L, fl_nn_arch_check(&a), fname);
  } else if (lua_istable(L, -1)) {
    int t = lua_gettop(L);
    l_checkopts(L, t, arch_opts);
    read_arch(L, t, kind == FL_NN_GRADIENT ? FL_NN_POTENTIAL : kind, &a, fname);
  } else {
    return l_error(L, fname, "option 'arch' (a string like \"2:64,64:2:tanh\" or a table) is required");
  }
  lua_pop(L, 1);
  fl_nn *nn;
  l_check(L, fl_nn_load(path, &a, &nn, NULL), fname);
  push_kind_field(L, nn, kind, fname);
  return 1;
}

static int net_read_tensors(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  size_t n;
  char **names;
  fl_array **arrays;
  l_check(L, fl_nn_read_tensors(path, &n, &names, &arrays), "net.read_tensors");
  lua_createtable(L, 0, (int)n);
  for (size_t i = 0; i < n; i++) {
    l_pusharray(L, arrays[i]);
    lua_setfield(L, -2, names[i]);
    free(names[i]);
  }
  free(names);
  free(arrays);
  return 1;
}

/* net._tensors(model) -> {W1, b1, ...} Arrays (copies of the current values) */
static int net_tensors(lua_State *L)
{
  fl_nn *nn = check_net(L, 1, "net._tensors", NULL);
  fl_ad_params *P = nn->P;
  lua_createtable(L, (int)P->count, 0);
  for (size_t k = 0; k < P->count; k++) {
    size_t sh[2] = {P->t[k].rows, P->t[k].cols};
    fl_array *a;
    l_check(L, fl_array_from_data(2, sh, fl_ad_params_value(P, k), &a), "net");
    l_pusharray(L, a);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
  return 1;
}

/* net._bind(model, P, vars): the network reads its tensors from block P */
static int net_bind(lua_State *L)
{
  fl_nn *nn = check_net(L, 1, "net._bind", NULL);
  fl_ad_params *P = l_checkobj(L, 2, PARAMS_MT);
  luaL_checktype(L, 3, LUA_TTABLE);
  l_check(L, fl_nn_set_params(nn, P), "net");
  lua_pushvalue(L, 2);
  l_setattr(L, 1, "params");
  lua_pushvalue(L, 3);
  l_setattr(L, 1, "vars");
  return 0;
}

/* net._bound(model) -> P, vars (nil when not bound yet) */
static int net_bound(lua_State *L)
{
  check_net(L, 1, luaL_optstring(L, 2, "net._bound"), NULL);
  l_getattr(L, 1, "params");
  l_getattr(L, 1, "vars");
  return 2;
}

/* net._dsm(model, schedule, target, sigma2, t_min, t_max, batch) -> a
 * workspace for the fused training step (lib fl_nn_dsm), or nil when the
 * network is not one it handles (net.train then runs the graph). */
#define DSM_MT "fieldlab.net.dsm"
#define SCHEDULE_MT "fieldlab.Schedule"

static int dsm_gc(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, DSM_MT);
  fl_nn_dsm_free(b->p);
  b->p = NULL;
  return 0;
}

static int net_dsm(lua_State *L)
{
  fl_nn *nn = check_net(L, 1, "net._dsm", NULL);
  const fl_schedule *s = l_checkobj(L, 2, SCHEDULE_MT);
  fl_param target;
  if (fl_param_from_name(luaL_checkstring(L, 3), &target)) return l_error(L, "net._dsm", "unknown target");
  int sigma2 = lua_toboolean(L, 4);
  double tmin = luaL_checknumber(L, 5), tmax = luaL_checknumber(L, 6);
  lua_Integer batch = luaL_checkinteger(L, 7);
  if (batch < 2) return 0;
  fl_nn_dsm *w;
  if (fl_nn_dsm_new(nn, s, target, sigma2, tmin, tmax, (size_t)batch, &w) != FL_OK) return 0;
  l_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->p = w;
  if (luaL_newmetatable(L, DSM_MT)) {
    lua_pushcfunction(L, dsm_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return 1;
}

/* net._dsm_free(w): give the workspace's memory back now (also its __gc) */

/* net._dsm_step(w, data, seed, stream) -> loss: the gradient is in the
 * network's parameter block (zeroed first) */
static int net_dsm_step(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, DSM_MT);
  fl_array *a = l_checkarray(L, 2);
  lua_Integer seed = luaL_checkinteger(L, 3), stream = luaL_checkinteger(L, 4);
  if (!b->p) return l_error(L, "net.train", "the training workspace is closed");
  if (a->ndim != 2) return l_error(L, "net.train", "data must be a 2-D Array (points x dim), not %d-D", a->ndim);
  double v;
  l_check(L, fl_nn_dsm_step(b->p, a->data, a->shape[0], (uint64_t)seed, (uint64_t)stream, &v), "net.train");
  lua_pushnumber(L, v);
  return 1;
}

/* ------------------------------------------------------------ methods */

static int m_save(lua_State *L)
{
  fl_nn_kind k;
  fl_nn *nn = check_net(L, 1, "model:save", &k);
  l_check(L, fl_nn_save(nn, k, luaL_checkstring(L, 2)), "model:save");
  return 0;
}

/* model:jvp(x, v [, t]) / model:vjp(x, u [, t]) on the base network */
static int products(lua_State *L, int vjp)
{
  const char *fname = vjp ? "model:vjp" : "model:jvp";
  fl_nn *nn = check_net(L, 1, fname, NULL);
  int d = nn->a.dim, m = nn->a.out, single;
  size_t n, nv;
  const double *x = l_checkpoints(L, 2, d, &n, &single, fname);
  fl_array *v = l_toarray(L, 3);
  nv = v->size;
  size_t want = n * (size_t)(vjp ? m : d);
  if (nv != want)
    return l_error(L, fname, "%s has %d numbers, %d points need %d", vjp ? "u" : "v", (int)nv, (int)n, (int)want);
  double t = l_opttime(L, 4, 0);
  size_t sh[2] = {n, (size_t)(vjp ? d : m)};
  fl_array *out;
  l_check(L, fl_array_new(single ? 1 : 2, single ? sh + 1 : sh, &out), fname);
  fl_status st = vjp ? fl_nn_vjp(nn, n, x, t, v->data, out->data) : fl_nn_jvp(nn, n, x, t, v->data, out->data);
  if (st) fl_array_release(out);
  l_check(L, st, fname);
  l_pusharray(L, out);
  return 1;
}

static int m_jvp(lua_State *L) { return products(L, 0); }
static int m_vjp(lua_State *L) { return products(L, 1); }

static void push_arch(lua_State *L, const fl_nn *nn, fl_nn_kind k)
{
  lua_createtable(L, 0, 8);
  lua_pushstring(L, fl_nn_kind_name(k));
  lua_setfield(L, -2, "kind");
  lua_pushinteger(L, nn->a.dim);
  lua_setfield(L, -2, "dim");
  lua_pushinteger(L, nn->a.out);
  lua_setfield(L, -2, "out");
  lua_createtable(L, nn->a.nhidden, 0);
  for (int i = 0; i < nn->a.nhidden; i++) {
    lua_pushinteger(L, nn->a.hidden[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "hidden");
  lua_pushstring(L, fl_nn_act_name(nn->a.act));
  lua_setfield(L, -2, "act");
  lua_pushstring(L, fl_nn_time_name(nn->a.time));
  lua_setfield(L, -2, "time");
  lua_pushstring(L, nn->a.param);
  lua_setfield(L, -2, "param");
}

/* The properties of networks (nil on other fields), by key. */
static int net_prop(lua_State *L)
{
  l_box *box = luaL_checkudata(L, 1, FL_FIELD_MT);
  const char *k = luaL_checkstring(L, 2);
  fl_nn_kind kind;
  fl_nn *nn = box->p ? fl_nn_of(box->p, &kind) : NULL;
  if (!nn) lua_pushnil(L);
  else if (strcmp(k, "nparams") == 0) lua_pushinteger(L, (lua_Integer)fl_nn_nparams(nn));
  else if (strcmp(k, "arch") == 0) push_arch(L, nn, kind);
  else lua_pushstring(L, nn->a.param);
  return 1;
}

static const luaL_Reg net_fns[] = {
  {"mlp", net_mlp},
  {"potential", net_potential},
  {"divfree", net_divfree},
  {"gradient", net_gradient},
  {"load", net_load},
  {"import_torch", net_import_torch},
  {"read_tensors", net_read_tensors},
  {"_tensors", net_tensors},
  {"_bind", net_bind},
  {"_bound", net_bound},
  {"_dsm", net_dsm},
  {"_dsm_step", net_dsm_step},
  {"_dsm_free", dsm_gc},
  {NULL, NULL}
};

static const luaL_Reg net_methods[] = {
  {"save", m_save},
  {"jvp", m_jvp},
  {"vjp", m_vjp},
  {NULL, NULL}
};

static const luaL_Reg net_getters[] = {
  {"nparams", net_prop}, {"arch", net_prop}, {"param", net_prop}, {NULL, NULL}
};

void l_open_net(lua_State *L)
{
  l_newmodule(L, "net", net_fns);
  l_extendclass(L, FL_FIELD_MT, net_methods, net_getters);
}
