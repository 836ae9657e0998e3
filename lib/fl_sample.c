#include "config.h"
#include "fl_sample.h"
