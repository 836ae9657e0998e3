#include "config.h"
#include "l_util.h"

void l_open_grid(lua_State *L)
{
  (void)L;
}
