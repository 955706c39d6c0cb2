/* Lowercase hex text of bytes: trace and span ids (trace.c) as W3C and
 * OTLP's JSON write them (otlp_export.c). */
#ifndef RT_HEX_H
#define RT_HEX_H

#include <stddef.h>
#include <stdint.h>

/* 2n characters and a NUL into out. */
void rt_hex(const uint8_t *bytes, size_t n, char *out);

#endif
