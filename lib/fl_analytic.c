#include "config.h"
#include "fl_analytic.h"
