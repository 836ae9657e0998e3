#include "config.h"
#include "l_util.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#define REG_SETTINGS "fieldlab.settings"
#define REG_CLASSES "fieldlab.classes"

#define REG_CALLBACK_ERROR "fieldlab.callback_error"

void l_set_callback_error(lua_State *L)
{
  lua_setfield(L, LUA_REGISTRYINDEX, REG_CALLBACK_ERROR);
}

void l_check(lua_State *L, fl_status st, const char *fname)
{
  if (st == FL_OK) return;
  if (st == FL_ECALLBACK) {
    /* a Lua callback failed inside a lib loop: re-raise the user's own error */
    if (lua_getfield(L, LUA_REGISTRYINDEX, REG_CALLBACK_ERROR) != LUA_TNIL) {
      lua_pushnil(L);
      lua_setfield(L, LUA_REGISTRYINDEX, REG_CALLBACK_ERROR);
      lua_error(L);
    }
    lua_pop(L, 1);
  }
  const char *d = fl_last_detail();
  if (st == FL_EINTR) fl_interrupt_clear();
  if (d && *d)
    luaL_error(L, "%s: %s", fname, d);
  else
    luaL_error(L, "%s: %s", fname, fl_strerror(st));
}

int l_error(lua_State *L, const char *fname, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  luaL_where(L, 1);
  lua_pushfstring(L, "%s: ", fname);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_concat(L, 3);
  return lua_error(L);
}

l_box *l_newbox(lua_State *L, const char *tname)
{
  l_box *b = lua_newuserdatauv(L, sizeof *b, 1);
  b->p = NULL;
  luaL_setmetatable(L, tname);
  return b;
}

void *l_checkobj(lua_State *L, int idx, const char *tname)
{
  l_box *b = luaL_checkudata(L, idx, tname);
  if (!b->p) luaL_argerror(L, idx, "object is closed");
  return b->p;
}

/* ------------------------------------------------------------ arrays */

void l_pusharray(lua_State *L, fl_array *a)
{
  l_box *b = l_newbox(L, FL_ARRAY_MT);
  b->p = a;
  if (a && !a->base) l_gc_account(L, a->nbytes);
}

fl_array *l_checkarray(lua_State *L, int idx)
{
  return l_checkobj(L, idx, FL_ARRAY_MT);
}

fl_array *l_testarray(lua_State *L, int idx)
{
  l_box *b = luaL_testudata(L, idx, FL_ARRAY_MT);
  if (!b) return NULL;
  if (!b->p) luaL_argerror(L, idx, "object is closed");
  return b->p;
}

/* Shape of a nested table (depth-first along first elements). */
static int table_shape(lua_State *L, int idx, size_t *shape, int depth)
{
  if (depth >= FL_MAXDIM) return -1;
  size_t n = lua_rawlen(L, idx);
  shape[depth] = n;
  if (n == 0) return depth + 1;
  lua_rawgeti(L, idx, 1);
  int nd;
  if (lua_istable(L, -1))
    nd = table_shape(L, lua_gettop(L), shape, depth + 1);
  else
    nd = depth + 1;
  lua_pop(L, 1);
  return nd;
}

/* Fill data from a nested table of the given shape; returns 0 or raises. */
static void table_fill(lua_State *L, int idx, int argn, int ndim, const size_t *shape, int depth,
                       double **dst)
{
  size_t n = lua_rawlen(L, idx);
  if (n != shape[depth] || lua_rawlen(L, idx) != n)
    luaL_argerror(L, argn, lua_pushfstring(L, "table is not rectangular (a row of length %d, expected %d)",
                                           (int)n, (int)shape[depth]));
  for (size_t i = 1; i <= n; i++) {
    int t = lua_rawgeti(L, idx, (lua_Integer)i);
    if (depth + 1 < ndim) {
      if (t != LUA_TTABLE)
        luaL_argerror(L, argn, "table is not rectangular (a number where a row was expected)");
      table_fill(L, lua_gettop(L), argn, ndim, shape, depth + 1, dst);
    } else {
      int isnum;
      double v = lua_tonumberx(L, -1, &isnum);
      if (!isnum)
        luaL_argerror(L, argn, lua_pushfstring(L, "table entry is a %s, expected a number", luaL_typename(L, -1)));
      *(*dst)++ = v;
    }
    lua_pop(L, 1);
  }
}

fl_array *l_toarray(lua_State *L, int idx)
{
  idx = lua_absindex(L, idx);
  fl_array *a = l_testarray(L, idx);
  if (a) return a;
  size_t shape[FL_MAXDIM];
  int ndim;
  fl_array *out = NULL;
  if (lua_type(L, idx) == LUA_TNUMBER) {
    shape[0] = 1;
    l_check(L, fl_array_full(1, shape, lua_tonumber(L, idx), &out), "array");
  } else if (lua_istable(L, idx)) {
    ndim = table_shape(L, idx, shape, 0);
    if (ndim < 0) luaL_argerror(L, idx, "table nested deeper than 8 levels");
    l_box *b = l_newbox(L, FL_ARRAY_MT); /* anchor first: a raise below frees it */
    l_check(L, fl_array_new(ndim, shape, &out), "array.from");
    b->p = out;
    double *dst = out->data;
    table_fill(L, idx, idx, ndim, shape, 0, &dst);
    lua_replace(L, idx);
    return out;
  } else {
    luaL_typeerror(L, idx, "fieldlab.Array, table or number");
  }
  l_pusharray(L, out);
  lua_replace(L, idx);
  return out;
}

int l_checkshape(lua_State *L, int idx, size_t *shape)
{
  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_Integer n;
    if (!lua_isinteger(L, idx) && floor(lua_tonumber(L, idx)) != lua_tonumber(L, idx))
      luaL_argerror(L, idx, "shape must be a non-negative integer or a table of them");
    n = (lua_Integer)lua_tonumber(L, idx);
    if (n < 0) luaL_argerror(L, idx, "shape must be a non-negative integer or a table of them");
    shape[0] = (size_t)n;
    return 1;
  }
  if (!lua_istable(L, idx)) luaL_typeerror(L, idx, "shape (integer or table of integers)");
  size_t nd = lua_rawlen(L, idx);
  if (nd < 1 || nd > FL_MAXDIM)
    luaL_argerror(L, idx, lua_pushfstring(L, "shape must have 1 to %d extents, not %d", FL_MAXDIM, (int)nd));
  for (size_t k = 0; k < nd; k++) {
    lua_rawgeti(L, idx, (lua_Integer)k + 1);
    int isint;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < 0)
      luaL_argerror(L, idx, lua_pushfstring(L, "shape extent %d must be a non-negative integer", (int)k + 1));
    shape[k] = (size_t)v;
    lua_pop(L, 1);
  }
  return (int)nd;
}

void l_setattr(lua_State *L, int idx, const char *key)
{
  idx = lua_absindex(L, idx);
  if (lua_getiuservalue(L, idx, 1) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, idx, 1);
  }
  lua_insert(L, -2);     /* attrs, value */
  lua_setfield(L, -2, key);
  lua_pop(L, 1);
}

int l_getattr(lua_State *L, int idx, const char *key)
{
  if (lua_getiuservalue(L, idx, 1) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return LUA_TNIL;
  }
  int t = lua_getfield(L, -1, key);
  lua_remove(L, -2);
  return t;
}

/* ------------------------------------------------------------ fields */

void l_pushfield(lua_State *L, fl_field *f)
{
  l_box *b = l_newbox(L, FL_FIELD_MT);
  b->p = f;
}

fl_field *l_checkfield(lua_State *L, int idx)
{
  return l_checkobj(L, idx, FL_FIELD_MT);
}

fl_field *l_testfield(lua_State *L, int idx)
{
  l_box *b = luaL_testudata(L, idx, FL_FIELD_MT);
  if (!b) return NULL;
  if (!b->p) luaL_argerror(L, idx, "object is closed");
  return b->p;
}

const double *l_checkpoints(lua_State *L, int idx, int d, size_t *n, int *single, const char *fname)
{
  idx = lua_absindex(L, idx);
  *single = 0;
  if (lua_istable(L, idx)) {
    lua_rawgeti(L, idx, 1);
    *single = lua_type(L, -1) == LUA_TNUMBER;
    lua_pop(L, 1);
  } else if (!l_testarray(L, idx)) {
    luaL_typeerror(L, idx, "points (an n-by-d array, or a table)");
  }
  fl_array *a = l_toarray(L, idx);
  if (a->ndim == 1) {
    *single = 1;
    if ((int)a->shape[0] != d)
      l_error(L, fname, "a point has %d coordinates, the field takes %d", (int)a->shape[0], d);
    *n = 1;
    return a->data;
  }
  if (a->ndim != 2)
    l_error(L, fname, "points must be an n-by-%d array, not %d-D", d, a->ndim);
  if ((int)a->shape[1] != d)
    l_error(L, fname, "points have dimension %d, the field takes %d (an n-by-%d array)", (int)a->shape[1], d, d);
  *n = a->shape[0];
  return a->data;
}

double l_opttime(lua_State *L, int idx, double def)
{
  if (lua_isnoneornil(L, idx)) return def;
  int isnum;
  double t = lua_tonumberx(L, idx, &isnum);
  if (!isnum) luaL_typeerror(L, idx, "time (number)");
  return t;
}

/* ------------------------------------------------------------ options */

void l_checkopts(lua_State *L, int idx, const char *const *allowed)
{
  idx = lua_absindex(L, idx);
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      luaL_argerror(L, idx, "option names must be strings");
    }
    const char *k = lua_tostring(L, -1);
    int ok = 0;
    for (const char *const *a = allowed; *a; a++)
      if (strcmp(*a, k) == 0) { ok = 1; break; }
    if (!ok) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      luaL_addstring(&b, "unknown option '");
      luaL_addstring(&b, k);
      luaL_addstring(&b, "'");
      if (*allowed) {
        luaL_addstring(&b, " (valid: ");
        for (const char *const *a = allowed; *a; a++) {
          if (a != allowed) luaL_addstring(&b, ", ");
          luaL_addstring(&b, *a);
        }
        luaL_addstring(&b, ")");
      } else {
        luaL_addstring(&b, " (this function takes no options)");
      }
      luaL_pushresult(&b);
      luaL_argerror(L, idx, lua_tostring(L, -1));
    }
  }
}

/* Pushes option `name` of the table at idx (nil when idx holds no table). */
static int getfield(lua_State *L, int idx, const char *name)
{
  if (lua_isnoneornil(L, idx)) { lua_pushnil(L); return LUA_TNIL; }
  return lua_getfield(L, idx, name);
}

static void field_error(lua_State *L, int idx, const char *name, const char *what)
{
  luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be %s", name, what));
}

lua_Integer l_optinteger_field(lua_State *L, int idx, const char *name, lua_Integer def)
{
  idx = lua_absindex(L, idx);
  if (getfield(L, idx, name) == LUA_TNIL) { lua_pop(L, 1); return def; }
  int isint;
  lua_Integer v = lua_tointegerx(L, -1, &isint);
  if (!isint) field_error(L, idx, name, "an integer");
  lua_pop(L, 1);
  return v;
}

lua_Number l_optnumber_field(lua_State *L, int idx, const char *name, lua_Number def)
{
  idx = lua_absindex(L, idx);
  if (getfield(L, idx, name) == LUA_TNIL) { lua_pop(L, 1); return def; }
  int isnum;
  lua_Number v = lua_tonumberx(L, -1, &isnum);
  if (!isnum) field_error(L, idx, name, "a number");
  lua_pop(L, 1);
  return v;
}

int l_optboolean_field(lua_State *L, int idx, const char *name, int def)
{
  idx = lua_absindex(L, idx);
  if (getfield(L, idx, name) == LUA_TNIL) { lua_pop(L, 1); return def; }
  if (!lua_isboolean(L, -1)) field_error(L, idx, name, "a boolean");
  int v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

const char *l_optstring_field(lua_State *L, int idx, const char *name, const char *def)
{
  idx = lua_absindex(L, idx);
  if (getfield(L, idx, name) == LUA_TNIL) { lua_pop(L, 1); return def; }
  if (lua_type(L, -1) != LUA_TSTRING) field_error(L, idx, name, "a string");
  /* The string stays alive: it is referenced by the option table. */
  const char *s = lua_tostring(L, -1);
  lua_pop(L, 1);
  return s;
}

/* ------------------------------------------------------------ memory, settings */

void l_gc_account(lua_State *L, size_t bytes)
{
  if (bytes >= 65536) lua_gc(L, LUA_GCSTEP, (int)(bytes / 1024 > 1 << 20 ? 1 << 20 : bytes / 1024));
}

static void settings(lua_State *L)
{
  if (lua_getfield(L, LUA_REGISTRYINDEX, REG_SETTINGS) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_SETTINGS);
  }
}

static lua_Integer get_int_setting(lua_State *L, const char *name, lua_Integer def)
{
  settings(L);
  lua_getfield(L, -1, name);
  lua_Integer v = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : def;
  lua_pop(L, 2);
  return v;
}

static void set_int_setting(lua_State *L, const char *name, lua_Integer v)
{
  settings(L);
  lua_pushinteger(L, v);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

lua_Integer l_default_seed(lua_State *L) { return get_int_setting(L, "seed", 0); }
void l_set_default_seed(lua_State *L, lua_Integer seed)
{
  set_int_setting(L, "seed", seed);
  set_int_setting(L, "stream", 0); /* a new seed restarts the stream sequence */
}
int l_quiet(lua_State *L) { return get_int_setting(L, "quiet", 0) != 0; }
void l_set_quiet(lua_State *L, int quiet) { set_int_setting(L, "quiet", quiet != 0); }

lua_Integer l_next_stream(lua_State *L)
{
  lua_Integer s = get_int_setting(L, "stream", 0) + 1;
  set_int_setting(L, "stream", s);
  return s;
}

/* ------------------------------------------------------------ registration */

void l_newmodule(lua_State *L, const char *name, const luaL_Reg *fns)
{
  lua_newtable(L);
  luaL_setfuncs(L, fns, 0);
  lua_setfield(L, -2, name);
}

void l_extendclass(lua_State *L, const char *tname, const luaL_Reg *methods, const luaL_Reg *getters)
{
  luaL_getmetatable(L, tname);
  if (methods) {
    lua_getfield(L, -1, "__methods");
    luaL_setfuncs(L, methods, 0);
    lua_pop(L, 1);
  }
  if (getters) {
    if (lua_getfield(L, -1, "__getters") != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setfield(L, -3, "__getters");
    }
    luaL_setfuncs(L, getters, 0);
    lua_pop(L, 1);
    lua_getfield(L, -1, "__properties");
    for (const luaL_Reg *g = getters; g->name; g++) {
      lua_pushstring(L, g->name);
      lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

int l_getproperty(lua_State *L)
{
  if (lua_type(L, 2) != LUA_TSTRING || !lua_getmetatable(L, 1)) return 0;
  if (lua_getfield(L, -1, "__getters") != LUA_TTABLE) {
    lua_pop(L, 2);
    return 0;
  }
  lua_pushvalue(L, 2);
  if (lua_rawget(L, -2) != LUA_TFUNCTION) {
    lua_pop(L, 3);
    return 0;
  }
  lua_replace(L, -3);
  lua_pop(L, 1);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_call(L, 2, 1);
  return 1;
}

int l_getmethod(lua_State *L)
{
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "__methods");
  lua_pushvalue(L, 2);
  return lua_rawget(L, -2);
}

void l_addfuncs(lua_State *L, const char *name, const luaL_Reg *fns)
{
  if (lua_getfield(L, -1, name) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, name);
  }
  luaL_setfuncs(L, fns, 0);
  lua_pop(L, 1);
}

void l_newclass(lua_State *L, const char *tname, const luaL_Reg *meta, const luaL_Reg *methods,
                const char *const *props)
{
  luaL_newmetatable(L, tname);
  luaL_setfuncs(L, meta, 0);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  if (lua_getfield(L, -2, "__index") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__index");
  } else {
    lua_pop(L, 1);
  }
  lua_setfield(L, -2, "__methods");
  lua_newtable(L);
  for (int i = 0; props && props[i]; i++) {
    lua_pushstring(L, props[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "__properties");
  if (lua_getfield(L, LUA_REGISTRYINDEX, REG_CLASSES) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_CLASSES);
  }
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, tname);
  lua_pop(L, 2);
}

/* ------------------------------------------------------------ options, results, progress */

fl_field *l_optfield(lua_State *L, int idx, const char *name, int opt)
{
  lua_getfield(L, idx, name);
  fl_field *f = l_testfield(L, -1);
  if (!f && !(opt && lua_isnil(L, -1)))
    luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be a Field, not a %s", name, luaL_typename(L, -1)));
  lua_pop(L, 1); /* the option table keeps the field alive */
  return f;
}

fl_field *l_opts_square_field(lua_State *L, const char *fname, const char *const *allowed, const char *name,
                              const char *hint)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  l_checkopts(L, 1, allowed);
  fl_field *f = l_optfield(L, 1, name, 0);
  if (f->dim != f->codim)
    l_error(L, fname, "the %s must map R^d to R^d%s, not R^%d to R^%d", name, hint, f->dim, f->codim);
  return f;
}

void l_setnumber(lua_State *L, const char *k, double v)
{
  lua_pushnumber(L, v);
  lua_setfield(L, -2, k);
}

void l_setinteger(lua_State *L, const char *k, size_t v)
{
  lua_pushinteger(L, (lua_Integer)v);
  lua_setfield(L, -2, k);
}

double l_now(void)
{
  struct timespec ts;
  timespec_get(&ts, TIME_UTC);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void l_progress_init(lua_State *L, l_progress *p, int table, const char *sub)
{
  p->L = L;
  p->quiet = l_quiet(L);
  p->shown = 0;
  p->start = p->last = l_now();
  p->table = table;
  p->sub = sub;
}

static int progress_call(l_progress *p, double frac, int done)
{
  lua_State *L = p->L;
  int pops = 1;
  if (p->sub) {
    if (lua_getfield(L, p->table, p->sub) != LUA_TTABLE) {
      lua_pop(L, 1);
      return 0;
    }
    pops = 2;
  }
  if (lua_getfield(L, p->sub ? -1 : p->table, "_progress") != LUA_TFUNCTION) {
    lua_pop(L, pops);
    return 0;
  }
  if (p->sub) lua_remove(L, -2);
  lua_pushnumber(L, frac);
  lua_pushnumber(L, l_now() - p->start);
  lua_pushboolean(L, done);
  if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
    l_set_callback_error(L);
    return -1;
  }
  return 0;
}

int l_progress_cb(void *ctx, double frac)
{
  l_progress *p = ctx;
  if (p->quiet) return 0;
  double t = l_now();
  if (t - p->start < 1.0 || t - p->last < 0.2) return 0;
  p->last = t;
  p->shown = 1;
  return progress_call(p, frac, 0);
}

void l_progress_end(l_progress *p)
{
  if (p->shown) progress_call(p, 1, 1);
}
