/* Lua bindings of lib/fl_data: module `data` (toy data sets, manifold data).
 * Glue only. data.toy_density is Lua, in stdlib/fieldlab/data.lua. */
#include "config.h"
#include "l_util.h"

#include <limits.h>
#include <stdint.h>

#include "fl_data.h"

/* Argument arg: a non-negative integer sample count. */
static size_t check_count(lua_State *L, int arg)
{
  int isint;
  lua_Integer n = lua_tointegerx(L, arg, &isint);
  if (!isint) {
    if (lua_type(L, arg) == LUA_TNUMBER)
      luaL_argerror(L, arg, lua_pushfstring(L, "number of samples must be a non-negative integer (got %s)",
                                            luaL_tolstring(L, arg, NULL)));
    luaL_typeerror(L, arg, "integer");
  }
  if (n < 0)
    luaL_argerror(L, arg, lua_pushfstring(L, "number of samples must be a non-negative integer (got %I)", n));
  return (size_t)n;
}

/* Option `name` of the table at idx: -1 when absent, else a non-negative integer. */
static lua_Integer opt_nonneg(lua_State *L, int idx, const char *name)
{
  if (lua_isnoneornil(L, idx)) return -1;
  lua_getfield(L, idx, name);
  int absent = lua_isnil(L, -1);
  lua_pop(L, 1);
  if (absent) return -1;
  lua_Integer v = l_optinteger_field(L, idx, name, 0);
  if (v < 0) luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be a non-negative integer", name));
  return v;
}

/* seed and stream from the options at idx: without a seed the default seed and
 * a fresh stream (like array.randn); with a seed, stream 0 unless given. */
static void seed_stream(lua_State *L, int idx, uint64_t *seed, uint64_t *stream)
{
  lua_Integer s = opt_nonneg(L, idx, "seed"), st = opt_nonneg(L, idx, "stream");
  if (s < 0) {
    s = l_default_seed(L);
    if (st < 0) st = l_next_stream(L);
  } else if (st < 0) {
    st = 0;
  }
  *seed = (uint64_t)s;
  *stream = (uint64_t)st;
}

static const char *const toy_opts[] = {"seed", "stream", NULL};

static int data_toy(lua_State *L)
{
  const char *name = luaL_checkstring(L, 1);
  size_t n = check_count(L, 2);
  l_checkopts(L, 3, toy_opts);
  uint64_t seed, stream;
  seed_stream(L, 3, &seed, &stream);
  fl_array *r;
  l_check(L, fl_data_toy(name, n, seed, stream, &r), "data.toy");
  l_pusharray(L, r);
  return 1;
}

static int data_names(lua_State *L)
{
  int n = fl_data_toy_count();
  lua_createtable(L, n, 0);
  for (int k = 0; k < n; k++) {
    lua_pushstring(L, fl_data_toy_name(k));
    lua_rawseti(L, -2, k + 1);
  }
  return 1;
}

/* Argument arg: a manifold name (raises "fname: unknown manifold ..." otherwise). */
static const char *check_manifold(lua_State *L, int arg, const char *fname)
{
  const char *name = luaL_checkstring(L, arg);
  if (fl_data_manifold_dim(name) < 0) {
    char list[128];
    l_error(L, fname, "unknown manifold '%s' (valid: %s)", name, fl_data_manifold_list(list, sizeof list));
  }
  return name;
}

static const char *const manifold_opts[] = {"dim", "noise", "radius", "seed", "stream", NULL};

static int data_manifold(lua_State *L)
{
  const char *name = check_manifold(L, 1, "data.manifold");
  size_t n = check_count(L, 2);
  l_checkopts(L, 3, manifold_opts);
  lua_Integer dim = l_optinteger_field(L, 3, "dim", fl_data_manifold_ambient(name));
  if (dim < 1 || dim > INT_MAX) luaL_argerror(L, 3, "option 'dim' must be a positive integer");
  double noise = l_optnumber_field(L, 3, "noise", 0.0);
  double radius = l_optnumber_field(L, 3, "radius", 1.0);
  uint64_t seed, stream;
  seed_stream(L, 3, &seed, &stream);
  fl_array *r;
  l_check(L, fl_data_manifold(name, n, (int)dim, noise, radius, seed, stream, &r), "data.manifold");
  l_pusharray(L, r);
  return 1;
}

static int data_manifold_dim(lua_State *L)
{
  const char *name = check_manifold(L, 1, "data.manifold_dim");
  lua_pushinteger(L, fl_data_manifold_dim(name));
  return 1;
}

static const luaL_Reg data_fns[] = {
  {"toy", data_toy},
  {"names", data_names},
  {"manifold", data_manifold},
  {"manifold_dim", data_manifold_dim},
  {NULL, NULL},
};

void l_open_data(lua_State *L)
{
  l_newmodule(L, "data", data_fns);
}
