/* Lua bindings of lib/fl_diffusion: module `diffusion` (schedules) and the
 * type fieldlab.Schedule. Glue only. */
#include "config.h"
#include "l_util.h"
#include "fl_diffusion.h"
#include "fl_sample.h" /* fl_sample_predict: the field converting a prediction */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FL_SCHEDULE_MT "fieldlab.Schedule"
#define FL_GMM_MT "fieldlab.GMM" /* made by l_gmm.c */

static fl_schedule *check_sched(lua_State *L, int idx) { return l_checkobj(L, idx, FL_SCHEDULE_MT); }

/* ------------------------------------------------------------ constructors */

static const char *const vp_opts[] = {"b0", "b1", "t_min", "t_max", NULL};
static const char *const ve_opts[] = {"smin", "smax", "t_min", "t_max", NULL};
static const char *const t_opts[] = {"t_min", "t_max", NULL};

static int make(lua_State *L, fl_schedule_kind kind, const char *fname)
{
  fl_schedule s;
  fl_schedule_default(kind, &s);
  l_checkopts(L, 1, kind == FL_SCHED_VP ? vp_opts : kind == FL_SCHED_VE ? ve_opts : t_opts);
  if (kind == FL_SCHED_VP) {
    s.p0 = l_optnumber_field(L, 1, "b0", s.p0);
    s.p1 = l_optnumber_field(L, 1, "b1", s.p1);
  } else if (kind == FL_SCHED_VE) {
    s.p0 = l_optnumber_field(L, 1, "smin", s.p0);
    s.p1 = l_optnumber_field(L, 1, "smax", s.p1);
  }
  s.t_min = l_optnumber_field(L, 1, "t_min", s.t_min);
  s.t_max = l_optnumber_field(L, 1, "t_max", s.t_max);
  l_check(L, fl_schedule_check(&s), fname);
  l_box *b = l_newbox(L, FL_SCHEDULE_MT);
  fl_schedule *p = malloc(sizeof *p);
  if (!p) return luaL_error(L, "%s: out of memory", fname);
  *p = s;
  b->p = p;
  return 1;
}

static int d_vp(lua_State *L) { return make(L, FL_SCHED_VP, "diffusion.vp"); }
static int d_ve(lua_State *L) { return make(L, FL_SCHED_VE, "diffusion.ve"); }
static int d_edm(lua_State *L) { return make(L, FL_SCHED_EDM, "diffusion.edm"); }
static int d_linear(lua_State *L) { return make(L, FL_SCHED_LINEAR, "diffusion.linear"); }
static int d_cosine(lua_State *L) { return make(L, FL_SCHED_COSINE, "diffusion.cosine"); }

/* ------------------------------------------------------------ methods */

static const char *const fn_names[] = {"alpha", "sigma", "dalpha", "dsigma", "f", "g2", "logsnr", "t_of_logsnr", NULL};

/* s:alpha(t) etc.: upvalue 1 is the fl_schedule_fn. A number gives a number,
 * an Array (or a table of numbers) an Array of the same shape. */
static int m_fn(lua_State *L)
{
  fl_schedule *s = check_sched(L, 1);
  fl_schedule_fn fn = (fl_schedule_fn)lua_tointeger(L, lua_upvalueindex(1));
  if (lua_type(L, 2) == LUA_TNUMBER) {
    lua_pushnumber(L, fl_schedule_eval(s, fn, lua_tonumber(L, 2)));
    return 1;
  }
  if (!lua_istable(L, 2) && !l_testarray(L, 2))
    luaL_typeerror(L, 2, fn == FL_SCHED_T_OF_LOGSNR ? "number or Array (log-SNR values)" : "number or Array (times)");
  fl_array *t = l_toarray(L, 2), *r;
  l_box *b = l_newbox(L, FL_ARRAY_MT);
  l_check(L, fl_array_new(t->ndim, t->shape, &r), fn_names[fn]);
  b->p = r;
  l_gc_account(L, r->nbytes);
  fl_schedule_map(s, fn, t->size, t->data, r->data);
  return 1;
}

static fl_param check_param(lua_State *L, int arg)
{
  const char *nm = luaL_checkstring(L, arg);
  fl_param p;
  if (fl_param_from_name(nm, &p))
    luaL_argerror(L, arg, lua_pushfstring(L, "unknown parametrisation '%s' (valid: eps, x0, score, velocity)", nm));
  return p;
}

static int m_convert(lua_State *L)
{
  const char *fname = "Schedule:convert";
  fl_schedule *s = check_sched(L, 1);
  fl_array *v = l_toarray(L, 2), *x = l_toarray(L, 3), *r;
  double t = luaL_checknumber(L, 4);
  fl_param from = check_param(L, 5), to = check_param(L, 6);
  if (!fl_array_same_shape(v, x)) {
    char b1[128], b2[128];
    l_error(L, fname, "value of shape %s and x of shape %s differ", fl_array_shape_str(v, b1, sizeof b1),
            fl_array_shape_str(x, b2, sizeof b2));
  }
  l_box *b = l_newbox(L, FL_ARRAY_MT);
  l_check(L, fl_array_new(v->ndim, v->shape, &r), fname);
  b->p = r;
  l_gc_account(L, r->nbytes);
  l_check(L, fl_schedule_convert(s, t, from, to, v->size, v->data, x->data, r->data), fname);
  return 1;
}

/* s:score(f [, {from = ...}]) and s:velocity, s:eps, s:x0: upvalue 1 is the
 * target fl_param. The field's own parametrisation is its `param` property
 * (networks record one) unless `from` is given. */
static const char *const target_names[] = {"eps", "x0", "score", "velocity"};
static const char *const target_opts[] = {"from", NULL};

static int m_target(lua_State *L)
{
  fl_param to = (fl_param)lua_tointeger(L, lua_upvalueindex(1));
  char fname[32];
  snprintf(fname, sizeof fname, "Schedule:%s", target_names[to]);
  fl_schedule *s = check_sched(L, 1);
  fl_field *f = l_checkfield(L, 2);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  l_checkopts(L, 3, target_opts);
  const char *from = l_optstring_field(L, 3, "from", NULL), *how = "option 'from'";
  if (!from) {
    lua_getfield(L, 2, "param");
    from = lua_tostring(L, -1);
    how = "the field's recorded parametrisation";
    if (!from)
      return l_error(L, fname,
                     "the field (kind %s) records no parametrisation (networks do: model.param); say what it "
                     "predicts with {from = \"eps\"|\"x0\"|\"score\"|\"velocity\"}",
                     f->ops->kind);
  }
  fl_param p;
  if (fl_param_from_name(from, &p))
    return l_error(L, fname, "%s is '%s', not a parametrisation (valid: eps, x0, score, velocity)", how, from);
  if (p == to && f->dim == f->codim) { /* nothing to convert: the field itself */
    lua_pushvalue(L, 2);
    return 1;
  }
  fl_field *r;
  l_check(L, fl_sample_predict(f, p, to, s, &r), fname);
  l_pushfield(L, r);
  return 1;
}

/* at(t): the noised mixture at t. Upvalues: the schedule and the GMM userdata. */
static int noised_at(lua_State *L)
{
  fl_schedule *s = check_sched(L, lua_upvalueindex(1));
  fl_gmm *g = l_checkobj(L, lua_upvalueindex(2), FL_GMM_MT);
  double t = luaL_checknumber(L, 1);
  l_box *b = l_newbox(L, FL_GMM_MT);
  fl_gmm *gt;
  l_check(L, fl_schedule_noised_gmm(s, g, t, &gt), "at");
  b->p = gt;
  return 1;
}

static int m_noised(lua_State *L)
{
  const char *fname = "Schedule:noised";
  fl_schedule *s = check_sched(L, 1);
  fl_gmm *g = l_checkobj(L, 2, FL_GMM_MT);
  static const struct { const char *key; fl_noised_what what; } parts[] = {
    {"logp", FL_NOISED_LOGP}, {"score", FL_NOISED_SCORE}, {"velocity", FL_NOISED_VELOCITY}};
  lua_createtable(L, 0, 4);
  for (int i = 0; i < 3; i++) {
    fl_field *f;
    l_check(L, fl_schedule_noised_field(s, g, parts[i].what, &f), fname);
    l_pushfield(L, f);
    lua_setfield(L, -2, parts[i].key);
  }
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, noised_at, 2);
  lua_setfield(L, -2, "at");
  return 1;
}

static int m_gc(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, FL_SCHEDULE_MT);
  free(b->p);
  b->p = NULL;
  return 0;
}

static int m_tostring(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, FL_SCHEDULE_MT);
  fl_schedule *s = b->p;
  if (!s) {
    lua_pushliteral(L, "fieldlab.Schedule (closed)");
    return 1;
  }
  char buf[200];
  if (s->kind == FL_SCHED_VP)
    snprintf(buf, sizeof buf, "fieldlab.Schedule(vp, b0=%g, b1=%g, t in [%g, %g])", s->p0, s->p1, s->t_min, s->t_max);
  else if (s->kind == FL_SCHED_VE)
    snprintf(buf, sizeof buf, "fieldlab.Schedule(ve, smin=%g, smax=%g, t in [%g, %g])", s->p0, s->p1, s->t_min, s->t_max);
  else
    snprintf(buf, sizeof buf, "fieldlab.Schedule(%s, t in [%g, %g])", fl_schedule_name(s), s->t_min, s->t_max);
  lua_pushstring(L, buf);
  return 1;
}

static int m_index(lua_State *L)
{
  l_box *box = luaL_checkudata(L, 1, FL_SCHEDULE_MT);
  if (l_getmethod(L) != LUA_TNIL) return 1;
  const char *k = lua_tostring(L, 2);
  if (!k) return 1;
  static const char *const props[] = {"name", "t_min", "t_max", "b0", "b1", "smin", "smax", NULL};
  int which = -1;
  for (int i = 0; props[i]; i++)
    if (!strcmp(k, props[i])) which = i;
  if (which < 0) return 1;
  if (!box->p) luaL_argerror(L, 1, "object is closed");
  fl_schedule *s = box->p;
  switch (which) {
  case 0: lua_pushstring(L, fl_schedule_name(s)); break;
  case 1: lua_pushnumber(L, s->t_min); break;
  case 2: lua_pushnumber(L, s->t_max); break;
  case 3: case 4:
    if (s->kind == FL_SCHED_VP) lua_pushnumber(L, which == 3 ? s->p0 : s->p1);
    else lua_pushnil(L);
    break;
  default:
    if (s->kind == FL_SCHED_VE) lua_pushnumber(L, which == 5 ? s->p0 : s->p1);
    else lua_pushnil(L);
    break;
  }
  return 1;
}

static const luaL_Reg sched_meta[] = {
  {"__gc", m_gc},
  {"__close", m_gc},
  {"__tostring", m_tostring},
  {"__index", m_index},
  {NULL, NULL}
};

static const luaL_Reg sched_methods[] = {
  {"convert", m_convert},
  {"noised", m_noised},
  {"close", m_gc},
  {NULL, NULL}
};

static const char *const sched_props[] = {"name", "t_min", "t_max", "b0", "b1", "smin", "smax", NULL};

static const luaL_Reg diffusion_fns[] = {
  {"vp", d_vp},
  {"ve", d_ve},
  {"edm", d_edm},
  {"linear", d_linear},
  {"cosine", d_cosine},
  {NULL, NULL}
};

void l_open_diffusion(lua_State *L)
{
  l_newclass(L, FL_SCHEDULE_MT, sched_meta, sched_methods, sched_props);
  luaL_getmetatable(L, FL_SCHEDULE_MT);
  lua_getfield(L, -1, "__methods");
  for (int i = 0; fn_names[i]; i++) {
    lua_pushinteger(L, i);
    lua_pushcclosure(L, m_fn, 1);
    lua_setfield(L, -2, fn_names[i]);
  }
  for (int i = 0; i < 4; i++) {
    lua_pushinteger(L, i);
    lua_pushcclosure(L, m_target, 1);
    lua_setfield(L, -2, target_names[i]);
  }
  lua_pop(L, 2);
  l_newmodule(L, "diffusion", diffusion_fns);
}
