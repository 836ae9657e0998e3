#include "config.h"
#include "fl_wdecomp.h"
