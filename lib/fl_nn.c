#include "config.h"
#include "fl_nn.h"
