#include "config.h"
#include "fl_gmm.h"
