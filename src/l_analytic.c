#include "config.h"
#include "l_util.h"

void l_open_analytic(lua_State *L)
{
  (void)L;
}
