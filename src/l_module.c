/* Entry point of the loadable module fieldlab/core.so for a stock lua5.4. */
#include "config.h"
#include "l_util.h"

LUALIB_API int luaopen_fieldlab_core(lua_State *L);

LUALIB_API int luaopen_fieldlab_core(lua_State *L)
{
  return fl_lua_open_core(L);
}
