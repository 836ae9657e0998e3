#include "config.h"
#include "fl_plot.h"
