/* Array parameters for generated query functions: a C array becomes the
 * PostgreSQL array literal text that a `$n::type[]` placeholder reads, so
 * `WHERE id = ANY(@ids::text[])` takes a list without hand-built SQL. */
#ifndef RT_DB_ARRAY_H
#define RT_DB_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* {"a","b\"c"}: every element quoted and escaped; a NULL element is SQL NULL. */
const char *rt_db_param_text_array(rt_arena *arena, const char *const *items, size_t n);
/* {1,-2,3} */
const char *rt_db_param_int32_array(rt_arena *arena, const int32_t *items, size_t n);
const char *rt_db_param_int64_array(rt_arena *arena, const int64_t *items, size_t n);

#endif
