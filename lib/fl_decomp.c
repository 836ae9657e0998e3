#include "config.h"
#include "fl_decomp.h"
