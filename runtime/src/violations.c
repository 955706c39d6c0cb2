/* Field violations collected by the generated validators (violations.h). */
#include "violations.h"

void rt_violations_add(rt_violations *v, const char *field, const char *description)
{
    if (v->count >= RT_MAX_VIOLATIONS)
        return;
    v->items[v->count].field = field;
    v->items[v->count].description = description;
    v->count++;
}
