/* Lua bindings of lib/fl_plot: the C half of module `plot`. The figure
 * objects, option defaults and field sampling are Lua
 * (stdlib/fieldlab/plot.lua); this file renders a figure description and
 * bins histograms. */
#include "config.h"
#include "l_util.h"

#include <string.h>
#include "fl_plot.h"

#define FIGURE_MT "fieldlab.plot.figure (internal)"

static int fig_gc(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, FIGURE_MT);
  fl_plot_figure_free(b->p);
  b->p = NULL;
  return 0;
}

/* Optional string field k of the table at idx (kept alive by the table). */
static const char *opt_str(lua_State *L, int idx, const char *k, const char *what)
{
  const char *s = NULL;
  lua_getfield(L, idx, k);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) l_error(L, "plot", "%s '%s' must be a string", what, k);
    s = lua_tostring(L, -1);
  }
  lua_pop(L, 1);
  return s;
}

static int opt_bool(lua_State *L, int idx, const char *k)
{
  lua_getfield(L, idx, k);
  int v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

static double opt_num(lua_State *L, int idx, const char *k, double def)
{
  lua_getfield(L, idx, k);
  double v = lua_isnil(L, -1) ? def : luaL_checknumber(L, -1);
  lua_pop(L, 1);
  return v;
}

/* A pair {a, b} at field k into out (left alone when nil). */
static void opt_pair(lua_State *L, int idx, const char *k, double *out)
{
  lua_getfield(L, idx, k);
  if (!lua_isnil(L, -1)) {
    if (!lua_istable(L, -1)) l_error(L, "plot", "option '%s' must be a pair {lo, hi}", k);
    for (int i = 0; i < 2; i++) {
      lua_rawgeti(L, -1, i + 1);
      if (!lua_isnumber(L, -1)) l_error(L, "plot", "option '%s' must be a pair of numbers {lo, hi}", k);
      out[i] = lua_tonumber(L, -1);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

/* Push field k of the table at idx converted to an Array; its data (size *n). */
static const double *get_array(lua_State *L, int idx, const char *k, size_t *n, int required)
{
  lua_getfield(L, idx, k);
  if (lua_isnil(L, -1)) {
    if (required) l_error(L, "plot", "layer lacks '%s'", k);
    *n = 0;
    return NULL;
  }
  fl_array *a = l_toarray(L, lua_gettop(L));
  *n = a->size;
  return a->data;
}

static const struct { const char *name; fl_plot_kind kind; } kinds[] = {
  {"points", FL_PLOT_POINTS}, {"line", FL_PLOT_LINE}, {"arrows", FL_PLOT_ARROWS},
  {"image", FL_PLOT_IMAGE}, {"bars", FL_PLOT_BARS},
};

static void add_layer(lua_State *L, fl_plot_figure *f, int k, int li)
{
  int top = lua_gettop(L);
  fl_plot_layer_spec s;
  memset(&s, 0, sizeof s);
  const char *kind = opt_str(L, li, "kind", "layer");
  int found = 0;
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (kind && !strcmp(kind, kinds[i].name)) { s.kind = kinds[i].kind; found = 1; }
  if (!found) l_error(L, "plot", "unknown layer kind '%s'", kind ? kind : "nil");
  s.label = opt_str(L, li, "label", "layer");
  s.color = (int)opt_num(L, li, "color", 0) - 1; /* 1-based; 0: next */
  s.size = opt_num(L, li, "size", 0);
  if (s.kind == FL_PLOT_IMAGE) {
    size_t m;
    lua_getfield(L, li, "z");
    fl_array *z = l_toarray(L, lua_gettop(L));
    (void)m;
    if (z->ndim != 2) l_error(L, "plot", "an image needs a 2-D array of values");
    s.ny = z->shape[0];
    s.nx = z->shape[1];
    s.z = z->data;
    lua_getfield(L, li, "extent");
    for (int i = 0; i < 4; i++) {
      lua_rawgeti(L, -1, i + 1);
      s.extent[i] = luaL_checknumber(L, -1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    opt_pair(L, li, "zrange", s.zrange);
  } else {
    size_t nx, ny, nu = 0, nv = 0;
    s.x = get_array(L, li, "x", &nx, 1);
    s.y = get_array(L, li, "y", &ny, 1);
    s.n = ny;
    if (s.kind == FL_PLOT_BARS ? nx != ny + 1 : nx != ny)
      l_error(L, "plot", "%s: x has %d values and y %d", kind, (int)nx, (int)ny);
    if (s.kind == FL_PLOT_ARROWS) {
      s.u = get_array(L, li, "u", &nu, 1);
      s.v = get_array(L, li, "v", &nv, 1);
      if (nu != ny || nv != ny) l_error(L, "plot", "arrows: %d points but %d and %d vector components",
                                         (int)ny, (int)nu, (int)nv);
    }
  }
  l_check(L, fl_plot_add(f, k, &s), "plot");
  lua_settop(L, top);
}

/* plot._render(spec, path): spec = {rows, cols, width, height, panels = {...}}
 * with panels[k] = {title, xlabel, ylabel, logx, logy, xlim, ylim, equal,
 * layers = {{kind, x, y, u, v, z, extent, zrange, label, color, size}, ...}}. */
static int plot_render(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  const char *path = luaL_checkstring(L, 2);
  const char *fname = luaL_optstring(L, 3, "plot.save");
  int rows = (int)opt_num(L, 1, "rows", 1), cols = (int)opt_num(L, 1, "cols", 1);
  int width = (int)opt_num(L, 1, "width", 800), height = (int)opt_num(L, 1, "height", 600);
  l_box *box = lua_newuserdatauv(L, sizeof *box, 0);
  box->p = NULL;
  if (luaL_newmetatable(L, FIGURE_MT)) {
    lua_pushcfunction(L, fig_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  fl_plot_figure *f;
  l_check(L, fl_plot_figure_new(rows, cols, width, height, &f), fname);
  box->p = f;
  lua_getfield(L, 1, "panels");
  int pi = lua_gettop(L);
  if (lua_istable(L, pi)) {
    for (int k = 0; k < rows * cols; k++) {
      if (lua_rawgeti(L, pi, k + 1) != LUA_TTABLE) { lua_pop(L, 1); continue; }
      int p = lua_gettop(L);
      fl_plot_panel_spec ps;
      memset(&ps, 0, sizeof ps);
      ps.title = opt_str(L, p, "title", "option");
      ps.xlabel = opt_str(L, p, "xlabel", "option");
      ps.ylabel = opt_str(L, p, "ylabel", "option");
      ps.logx = opt_bool(L, p, "logx");
      ps.logy = opt_bool(L, p, "logy");
      ps.equal = opt_bool(L, p, "equal");
      opt_pair(L, p, "xlim", ps.xlim);
      opt_pair(L, p, "ylim", ps.ylim);
      l_check(L, fl_plot_panel_set(f, k, &ps), fname);
      lua_getfield(L, p, "layers");
      if (lua_istable(L, -1)) {
        int ls = lua_gettop(L);
        lua_Integer nl = luaL_len(L, ls);
        for (lua_Integer i = 1; i <= nl; i++) {
          lua_rawgeti(L, ls, i);
          add_layer(L, f, k, lua_gettop(L));
          lua_pop(L, 1);
        }
      }
      lua_settop(L, pi);
    }
  }
  l_check(L, fl_plot_save(f, path), fname);
  fl_plot_figure_free(f);
  box->p = NULL;
  lua_pushstring(L, path);
  return 1;
}

/* plot._histogram(x, bins, lo, hi) -> counts (Array), used */
static int plot_histogram(lua_State *L)
{
  fl_array *x = l_toarray(L, 1);
  lua_Integer nb = luaL_checkinteger(L, 2);
  double lo = luaL_checknumber(L, 3), hi = luaL_checknumber(L, 4);
  if (nb < 1 || nb > 100000000) luaL_argerror(L, 2, "bins must be 1 to 1e8");
  size_t shape[1] = {(size_t)nb}, used;
  fl_array *c;
  l_check(L, fl_array_new(1, shape, &c), "plot.hist");
  l_pusharray(L, c);
  l_check(L, fl_plot_histogram(x->size, x->data, (size_t)nb, lo, hi, c->data, &used), "plot.hist");
  lua_pushinteger(L, (lua_Integer)used);
  return 2;
}

/* plot._histogram2d(xy (n,2), nx, ny, {xlo, xhi, ylo, yhi}) -> counts (ny, nx), used */
static int plot_histogram2d(lua_State *L)
{
  fl_array *x = l_toarray(L, 1);
  if (x->ndim != 2 || x->shape[1] != 2) luaL_argerror(L, 1, "points must be an n-by-2 array");
  lua_Integer nx = luaL_checkinteger(L, 2), ny = luaL_checkinteger(L, 3);
  if (nx < 1 || ny < 1 || nx > 100000 || ny > 100000) luaL_argerror(L, 2, "bins must be 1 to 1e5 per axis");
  luaL_checktype(L, 4, LUA_TTABLE);
  double r[4];
  for (int i = 0; i < 4; i++) {
    lua_rawgeti(L, 4, i + 1);
    r[i] = luaL_checknumber(L, -1);
    lua_pop(L, 1);
  }
  size_t shape[2] = {(size_t)ny, (size_t)nx}, used;
  fl_array *c;
  l_check(L, fl_array_new(2, shape, &c), "plot.hist2d");
  l_pusharray(L, c);
  l_check(L, fl_plot_histogram2d(x->shape[0], x->data, (size_t)nx, (size_t)ny, r, c->data, &used), "plot.hist2d");
  lua_pushinteger(L, (lua_Integer)used);
  return 2;
}

/* plot.viridis(t) -> r, g, b */
static int plot_viridis(lua_State *L)
{
  double rgb[3];
  fl_plot_viridis(luaL_checknumber(L, 1), rgb);
  for (int i = 0; i < 3; i++) lua_pushnumber(L, rgb[i]);
  return 3;
}

/* plot._device(path) -> device name, or raises naming the allowed extensions */
static int plot_device(lua_State *L)
{
  const char *dev;
  l_check(L, fl_plot_device_for(luaL_checkstring(L, 1), &dev), luaL_optstring(L, 2, "plot.save"));
  lua_pushstring(L, dev);
  lua_pushboolean(L, fl_plot_device_available(dev));
  return 2;
}

void l_open_plot(lua_State *L)
{
  static const luaL_Reg fns[] = {
    {"_render", plot_render},       {"_histogram", plot_histogram}, {"_histogram2d", plot_histogram2d},
    {"_device", plot_device},       {"viridis", plot_viridis},      {NULL, NULL},
  };
  l_newmodule(L, "plot", fns);
}
