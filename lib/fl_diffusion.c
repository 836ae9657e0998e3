#include "config.h"
#include "fl_diffusion.h"
