/* Lua bindings of lib/fl_decomp (module `decomp`): decomp.helmholtz and its
 * result type fieldlab.Helmholtz (a table of grid fields; printing, energies
 * and saving are in stdlib/fieldlab/decomp.lua), FFTW wisdom and planner
 * settings of lib/fl_fft. Glue only. */
#include "config.h"
#include "l_util.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fl_decomp.h"
#include "fl_fft.h"
#include "fl_grid.h"

#define FL_HELMHOLTZ_MT "fieldlab.Helmholtz"

static const char *const helmholtz_opts[] = {"boundary", NULL};

static void setfield_field(lua_State *L, const char *key, fl_field *f)
{
  if (!f) return;
  l_pushfield(L, f);
  lua_setfield(L, -2, key);
}

static void setfield_number(lua_State *L, const char *key, double x)
{
  lua_pushnumber(L, x);
  lua_setfield(L, -2, key);
}

static int dc_helmholtz(lua_State *L)
{
  fl_field *v = l_checkfield(L, 1);
  fl_grid *g = fl_grid_of(v);
  if (!g)
    luaL_argerror(L, 1, lua_pushfstring(L, "expected a grid field (this one is of kind %s)",
                                        v->ops->kind ? v->ops->kind : "field"));
  l_checkopts(L, 2, helmholtz_opts);
  const char *b = l_optstring_field(L, 2, "boundary", NULL);
  fl_hhd_boundary boundary = FL_HHD_PERIODIC;
  if (b) {
    if (strcmp(b, "periodic") == 0)
      boundary = FL_HHD_PERIODIC;
    else if (strcmp(b, "natural") == 0)
      boundary = FL_HHD_NATURAL;
    else if (strcmp(b, "normal") == 0)
      boundary = FL_HHD_NORMAL;
    else
      luaL_argerror(L, 2, lua_pushfstring(L, "option 'boundary' must be \"periodic\", \"natural\" or \"normal\" (got \"%s\")", b));
  } else {
    for (int k = 0; k < g->s.dim; k++)
      if (!g->s.periodic[k])
        l_error(L, "decomp.helmholtz",
                "axis %d of the grid is not periodic: choose option boundary = \"natural\" (free-space "
                "Green's function, no boundary condition) or \"normal\" (the gradient part carries the "
                "flux through the walls)",
                k + 1);
  }
  fl_hhd r;
  l_check(L, fl_hhd_compute(v, boundary, &r), "decomp.helmholtz");
  lua_createtable(L, 0, 10);
  /* from here each field is pushed (stolen) as soon as possible */
  fl_field *gr = r.gradient, *so = r.solenoidal, *ha = r.harmonic, *phi = r.phi, *psi = r.psi;
  setfield_field(L, "gradient", gr);
  setfield_field(L, "solenoidal", so);
  setfield_field(L, "harmonic", ha);
  if (!ha) { /* periodic: made on first access (stdlib/fieldlab/decomp.lua) */
    lua_createtable(L, 8 * r.dim, 0);
    for (int i = 0; i < 8 * r.dim; i++) {
      lua_pushnumber(L, r.harmonic_coef[i / r.dim][i % r.dim]);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "_harmonic_coef");
  }
  setfield_field(L, "phi", phi);
  setfield_field(L, r.dim == 2 ? "psi" : "A", psi);
  lua_pushstring(L, fl_hhd_boundary_name(r.boundary));
  lua_setfield(L, -2, "boundary");
  lua_pushinteger(L, r.dim);
  lua_setfield(L, -2, "dim");
  lua_createtable(L, 0, 4);
  setfield_number(L, "total", r.e_total);
  setfield_number(L, "gradient", r.e_gradient);
  setfield_number(L, "solenoidal", r.e_solenoidal);
  setfield_number(L, "harmonic", r.e_harmonic);
  lua_setfield(L, -2, "_energy");
  luaL_setmetatable(L, FL_HELMHOLTZ_MT);
  return 1;
}

/* decomp._potential(g, which): spectral phi (0) or psi / A (1) of a periodic part. */
static int dc_potential(lua_State *L)
{
  fl_field *g = l_checkfield(L, 1);
  lua_Integer which = luaL_checkinteger(L, 2);
  fl_field *out;
  l_check(L, fl_hhd_potential(g, (int)which, &out), "decomp.helmholtz");
  l_pushfield(L, out);
  return 1;
}

/* decomp._harmonic(like, coef): the harmonic grid of a periodic split on
 * like's grid (m components) from the 8 m coefficients of fl_hhd.harmonic_coef,
 * mask-major. */
static int dc_harmonic(lua_State *L)
{
  fl_field *like = l_checkfield(L, 1);
  fl_grid *g = fl_grid_of(like);
  luaL_checktype(L, 2, LUA_TTABLE);
  int m = g ? g->m : 0;
  if (m < 1 || m > 3 || lua_rawlen(L, 2) != (lua_Unsigned)(8 * m))
    luaL_argerror(L, 2, "8 m coefficients of a grid of m = 1 to 3 components");
  double c[8][3] = {{0}};
  for (int i = 0; i < 8 * m; i++) {
    lua_rawgeti(L, 2, i + 1);
    c[i / m][i % m] = luaL_checknumber(L, -1);
    lua_pop(L, 1);
  }
  fl_field *out;
  l_check(L, fl_hhd_harmonic(like, (const double(*)[3])c, &out), "decomp.helmholtz");
  l_pushfield(L, out);
  return 1;
}

/* decomp._fft_roundtrip(g): the bare r2c + c2r of a periodic vector grid (benchmarks). */
static int dc_fft_roundtrip(lua_State *L)
{
  fl_field *g = l_checkfield(L, 1);
  fl_array *a;
  l_check(L, fl_hhd_fft_roundtrip(g, &a), "decomp._fft_roundtrip");
  l_pusharray(L, a);
  return 1;
}

static int dc_save_wisdom(lua_State *L)
{
  l_check(L, fl_fft_wisdom_export(luaL_checkstring(L, 1)), "decomp.save_wisdom");
  return 0;
}

static int dc_load_wisdom(lua_State *L)
{
  l_check(L, fl_fft_wisdom_import(luaL_checkstring(L, 1)), "decomp.load_wisdom");
  return 0;
}

static const char *const rigor_names[] = {"estimate", "measure", "patient", NULL};

static int dc_planner(lua_State *L)
{
  fl_fft_rigor old = fl_fft_get_rigor();
  if (!lua_isnoneornil(L, 1)) {
    int r = luaL_checkoption(L, 1, NULL, rigor_names);
    l_check(L, fl_fft_set_rigor((fl_fft_rigor)r), "decomp.planner");
  }
  lua_pushstring(L, rigor_names[old]);
  return 1;
}

static const luaL_Reg decomp_fns[] = {
  {"helmholtz", dc_helmholtz},
  {"save_wisdom", dc_save_wisdom},
  {"load_wisdom", dc_load_wisdom},
  {"planner", dc_planner},
  {"_potential", dc_potential},
  {"_fft_roundtrip", dc_fft_roundtrip},
  {"_harmonic", dc_harmonic},
  {NULL, NULL}
};

static const luaL_Reg helmholtz_meta[] = {{NULL, NULL}};
static const luaL_Reg helmholtz_methods[] = {{NULL, NULL}}; /* energies, save: stdlib */
static const char *const helmholtz_props[] = {"gradient", "solenoidal", "harmonic", "phi", "psi", "A",
                                              "boundary", "dim", NULL};

void l_open_decomp(lua_State *L)
{
  lua_newtable(L);
  luaL_setfuncs(L, decomp_fns, 0);
  lua_setfield(L, -2, "decomp");
  l_newclass(L, FL_HELMHOLTZ_MT, helmholtz_meta, helmholtz_methods, helmholtz_props);
}
