#include "config.h"
#include "l_util.h"

void l_open_optim(lua_State *L)
{
  lua_newtable(L);
  lua_setfield(L, -2, "optim");
  lua_newtable(L);
  lua_setfield(L, -2, "loss");
}
