/* Error messages for the caller's buffer: the parsers of settings, policies
 * and certificate files all report "what is wrong" this one way. */
#ifndef RT_ERROR_TEXT_H
#define RT_ERROR_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Formats the message into error[size] and returns false, so a check reads
 * `return rt_error_text(error, size, "...", ...);`. */
bool rt_error_text(char *error, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
