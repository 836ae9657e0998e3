#include "config.h"
#include "fl_ad.h"
