#include "config.h"
#include "l_util.h"

void l_open_plot(lua_State *L)
{
  lua_newtable(L);
  lua_setfield(L, -2, "plot");
}
