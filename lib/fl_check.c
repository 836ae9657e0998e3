#include "config.h"
#include "fl_check.h"
