#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
static void stub(void **s){(void)s;}
int main(void){const struct CMUnitTest ts[]={cmocka_unit_test(stub)};return cmocka_run_group_tests(ts,NULL,NULL);}
