/* Error messages for the caller's buffer (error_text.h). */
#include "error_text.h"

#include <stdarg.h>
#include <stdio.h>

bool rt_error_text(char *error, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error, size, fmt, ap);
    va_end(ap);
    return false;
}
