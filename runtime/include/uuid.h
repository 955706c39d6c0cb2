/* Random (version 4) UUIDs for new rows and request ids, and the canonical
 * lowercase form ids are stored and compared in. */
#ifndef RT_UUID_H
#define RT_UUID_H

#include "arena.h"

#define RT_UUID_STRLEN 36

/* Writes a lowercase v4 UUID and a terminating NUL into out[37]. */
void rt_uuid_v4(char out[RT_UUID_STRLEN + 1]);
/* An arena copy of s with A-F folded to a-f (ids arrive in either case). */
const char *rt_uuid_lower(rt_arena *arena, const char *s);

#endif
