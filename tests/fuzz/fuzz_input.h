/* What the fuzz targets share: cutting libFuzzer's bytes into the parts a
 * target needs (NUL-terminated copies, so a parser never reads past them)
 * and the methods of both generated services, the table every request
 * target is driven by. Header-only: each target is one translation unit. */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "user.service.h"
#include "wallet.service.h"

/* The next part of *data up to sep (or the end), as a malloc'd C string;
 * *data and *size move past it and the separator. */
static inline char *fuzz_take(const uint8_t **data, size_t *size, uint8_t sep)
{
    const uint8_t *end = memchr(*data, sep, *size);
    size_t n = end ? (size_t)(end - *data) : *size;
    char *out = malloc(n + 1);
    if (!out)
        abort();
    memcpy(out, *data, n);
    out[n] = '\0';
    *data += n + (end != NULL);
    *size -= n + (end != NULL);
    return out;
}

static const rt_service *const fuzz_services[] = {&user_service__service, &wallet_service__service};

static inline size_t fuzz_method_count(void)
{
    size_t n = 0;
    for (size_t s = 0; s < sizeof fuzz_services / sizeof fuzz_services[0]; s++)
        n += fuzz_services[s]->n_methods;
    return n;
}

/* The i-th method over both services, in table order. */
static inline const rt_method *fuzz_method_at(size_t i)
{
    for (size_t s = 0; s < sizeof fuzz_services / sizeof fuzz_services[0]; s++) {
        if (i < fuzz_services[s]->n_methods)
            return &fuzz_services[s]->methods[i];
        i -= fuzz_services[s]->n_methods;
    }
    return NULL;
}

/* The method whose path is path; else one picked by path's bytes, so
 * every input reaches some method. */
static inline const rt_method *fuzz_method_for(const char *path)
{
    size_t n = fuzz_method_count(), pick = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(fuzz_method_at(i)->path, path) == 0)
            return fuzz_method_at(i);
    for (const char *p = path; *p; p++)
        pick = pick * 31 + (uint8_t)*p;
    return fuzz_method_at(pick % n);
}

#endif
