/* Field violations collected by the generated validators. The server turns
 * them into one readable INVALID_ARGUMENT message (and, with google.rpc
 * details, a BadRequest), so a caller learns every bad field at once. */
#ifndef RT_VIOLATIONS_H
#define RT_VIOLATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RT_MAX_VIOLATIONS 16

typedef struct {
    const char *field;       /* path, e.g. "email" or "address.city" */
    const char *description; /* the rule, e.g. "must be at most 254 bytes" */
} rt_violation;

typedef struct {
    size_t count;
    rt_violation items[RT_MAX_VIOLATIONS];
} rt_violations;

/* Both strings must outlive the violations (generated code passes literals). */
void rt_violations_add(rt_violations *v, const char *field, const char *description);

#endif
