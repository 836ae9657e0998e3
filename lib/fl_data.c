#include "config.h"
#include "fl_data.h"
