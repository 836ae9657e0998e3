#include "config.h"
#include "fl_metric.h"
