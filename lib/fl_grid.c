#include "config.h"
#include "fl_grid.h"
