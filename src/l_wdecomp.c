#include "config.h"
#include "l_util.h"

void l_open_wdecomp(lua_State *L)
{
  (void)L;
}
