#include "config.h"
#include "fl_ode.h"
