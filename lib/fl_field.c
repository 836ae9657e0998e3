#include "config.h"
#include "fl_field.h"
