/* The string rules the generated validators call (and the logger, for UTF-8).
 * They are strict on purpose: whatever passes is stored as-is and later
 * echoed to other clients. */
#ifndef RT_RULES_H
#define RT_RULES_H

#include <stdbool.h>
#include <stddef.h>

/* The rule checks the generated validators call; each answers "holds". */
bool rt_rule_utf8(const char *s, size_t len);
bool rt_rule_email(const char *s, size_t len);
bool rt_rule_uuid(const char *s, size_t len);
/* The number of characters (Unicode code points) of UTF-8 text: bytes that do
 * not continue a sequence, so invalid bytes count one each (utf8 rejects them). */
size_t rt_rule_chars(const char *s, size_t len);

#endif
