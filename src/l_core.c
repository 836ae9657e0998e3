/* The C core of the Lua API: module `fieldlab.core`, holding every C module,
 * the embedded files, the class metatables and the runtime settings. */
#include "config.h"
#include "l_util.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int core_version(lua_State *L)
{
  lua_pushstring(L, fl_version());
  return 1;
}

static int core_threads(lua_State *L)
{
  lua_pushinteger(L, fl_get_threads());
  return 1;
}

static int core_set_threads(lua_State *L)
{
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 1 && n <= 1024, 1, "thread count must be 1 to 1024");
  fl_set_threads((int)n);
  return 0;
}

static int core_seed(lua_State *L)
{
  lua_pushinteger(L, l_default_seed(L));
  return 1;
}

static int core_set_seed(lua_State *L)
{
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 0, 1, "seed must be a non-negative integer");
  l_set_default_seed(L, n);
  return 0;
}

static int core_quiet(lua_State *L)
{
  lua_pushboolean(L, l_quiet(L));
  return 1;
}

static int core_set_quiet(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TBOOLEAN);
  l_set_quiet(L, lua_toboolean(L, 1));
  return 0;
}

static int core_collect(lua_State *L)
{
  lua_gc(L, LUA_GCCOLLECT);
  return 0;
}

static int core_mem_in_use(lua_State *L)
{
  lua_pushinteger(L, (lua_Integer)fl_mem_in_use());
  return 1;
}

static int core_clock(lua_State *L)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec);
  return 1;
}

/* fieldlab.mkdir(path): create a directory and its parents (mkdir -p);
   an existing directory is fine, an existing file of that name is an error. */
static int core_mkdir(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  size_t len = strlen(path);
  luaL_argcheck(L, len > 0, 1, "empty path");
  char *buf = lua_newuserdatauv(L, len + 1, 0);
  memcpy(buf, path, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char c = buf[i];
    buf[i] = '\0';
    struct stat sb;
    if (stat(buf, &sb) != 0) {
      if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return l_error(L, "fieldlab.mkdir", "cannot create directory '%s': %s", buf, strerror(errno));
    } else if (!S_ISDIR(sb.st_mode)) {
      return l_error(L, "fieldlab.mkdir", "'%s' exists and is not a directory", buf);
    }
    buf[i] = c;
  }
  lua_pushstring(L, path);
  return 1;
}

static const luaL_Reg core_fns[] = {
  {"mkdir", core_mkdir},
  {"clock", core_clock},
  {"version", core_version},
  {"threads", core_threads},
  {"set_threads", core_set_threads},
  {"seed", core_seed},
  {"set_seed", core_set_seed},
  {"quiet", core_quiet},
  {"set_quiet", core_set_quiet},
  {"collect", core_collect},
  {"mem_in_use", core_mem_in_use},
  {NULL, NULL}
};

int fl_lua_open_core(lua_State *L)
{
  luaL_checkversion(L);
  lua_newtable(L);
  luaL_setfuncs(L, core_fns, 0);

  lua_newtable(L);
  for (const fl_embedded_file *f = fl_embedded; f->name; f++) {
    lua_pushlstring(L, f->data, f->len);
    lua_setfield(L, -2, f->name);
  }
  lua_setfield(L, -2, "embedded");

  l_open_array(L);
  l_open_field(L);
  l_open_gmm(L);
  l_open_analytic(L);
  l_open_grid(L);
  l_open_diffusion(L);
  l_open_data(L);
#ifdef FL_HAVE_FLINT
  l_open_cmf(L);
#endif
  l_open_decomp(L);
  l_open_wdecomp(L);
  l_open_integrate(L);
  l_open_metric(L);
  l_open_check(L);
  l_open_ad(L);
  l_open_sample(L);
  l_open_net(L);
  l_open_plot(L);
  l_open_optim(L);

  lua_getfield(L, LUA_REGISTRYINDEX, "fieldlab.classes");
  lua_setfield(L, -2, "classes");
  return 1;
}
