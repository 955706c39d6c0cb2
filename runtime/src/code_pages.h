/* Dropping the library pages a daemon mapped but does not use, so its RSS
 * is what it runs rather than what the kernel read around it (issue 24). */
#ifndef RT_CODE_PAGES_H
#define RT_CODE_PAGES_H

#include <stdbool.h>
#include <stddef.h>

/* Unmaps from this process the pages of every library code mapping (r-x,
 * private, of a file) and marks them MADV_RANDOM so mostly the pages run
 * come back. Safe at any time, from any thread. Returns the kB of the
 * mappings dropped. */
size_t rt_code_pages_trim(void);

#endif
