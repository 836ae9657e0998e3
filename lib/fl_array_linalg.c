#include "config.h"
#include "fl_array.h"
