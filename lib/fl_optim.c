#include "config.h"
#include "fl_optim.h"
