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

/* The rule checks the generated validators call; each answers "holds". */
bool rt_rule_utf8(const char *s, size_t len);
bool rt_rule_email(const char *s, size_t len);
bool rt_rule_uuid(const char *s, size_t len);
/* The number of characters (Unicode code points) of UTF-8 text: bytes that do
 * not continue a sequence, so invalid bytes count one each (utf8 rejects them). */
size_t rt_rule_chars(const char *s, size_t len);

#endif
