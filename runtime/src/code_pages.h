/* Dropping the library pages a daemon mapped but does not use, so its RSS
 * is what it runs rather than what the kernel read around it (issue 24). */
#ifndef RT_CODE_PAGES_H
#define RT_CODE_PAGES_H

#include <stdbool.h>
#include <stddef.h>

/* Unmaps from this process the pages of every file mapping it never wrote
 * (code, read-only data) and marks them MADV_RANDOM so only the pages used
 * come back. Safe at any time, from any thread. Returns the kB dropped. */
size_t rt_code_pages_trim(void);

#endif
