/* PostgreSQL array literals for array parameters (db_array.h). The literal is
 * sized first and written once into the arena, so a long list costs one
 * allocation. */
#include "db_array.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Bytes one element takes inside the literal, quotes and escapes included. */
static size_t quoted_len(const char *s)
{
    if (!s)
        return 4; /* NULL */
    size_t n = 2;
    for (; *s; s++)
        n += (*s == '"' || *s == '\\') ? 2 : 1;
    return n;
}

static char *put_quoted(char *p, const char *s)
{
    if (!s)
        return memcpy(p, "NULL", 4), p + 4;
    *p++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            *p++ = '\\';
        *p++ = *s;
    }
    *p++ = '"';
    return p;
}

const char *rt_db_param_text_array(rt_arena *arena, const char *const *items, size_t n)
{
    size_t len = 2 + (n > 0 ? n - 1 : 0) + 1; /* braces, commas, terminator */
    for (size_t i = 0; i < n; i++)
        len += quoted_len(items[i]);
    char *out = rt_arena_alloc(arena, len);
    char *p = out;
    *p++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            *p++ = ',';
        p = put_quoted(p, items[i]);
    }
    *p++ = '}';
    *p = '\0';
    return out;
}

/* Integers: at most 20 digits and a sign each, plus a comma. */
#define INT_ARRAY(name, type, fmt)                                            \
    const char *name(rt_arena *arena, const type *items, size_t n)             \
    {                                                                          \
        char *out = rt_arena_alloc(arena, 3 + n * 22);                         \
        char *p = out;                                                         \
        *p++ = '{';                                                            \
        for (size_t i = 0; i < n; i++)                                         \
            p += sprintf(p, i > 0 ? ",%" fmt : "%" fmt, items[i]);             \
        *p++ = '}';                                                            \
        *p = '\0';                                                             \
        return out;                                                            \
    }

INT_ARRAY(rt_db_param_int32_array, int32_t, PRId32)
INT_ARRAY(rt_db_param_int64_array, int64_t, PRId64)
