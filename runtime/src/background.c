/* The registry of background tasks (background.h): filled at program load,
 * before main, read by the fiber thread when it starts. */
#include "background.h"

#include <stdio.h>
#include <stdlib.h>

static const rt_task_def *registered[RT_MAX_TASKS];
static size_t n_registered;

void rt_background_register(const rt_task_def *def)
{
    if (n_registered == RT_MAX_TASKS) {
        fprintf(stderr, "more than %d background tasks registered\n", RT_MAX_TASKS);
        abort(); /* a build mistake, found at the first start */
    }
    registered[n_registered++] = def;
}

size_t rt_background_count(void)
{
    return n_registered;
}

const rt_task_def *rt_background_get(size_t i)
{
    return i < n_registered ? registered[i] : NULL;
}
