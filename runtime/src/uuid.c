/* v4 UUIDs from the kernel's CSPRNG: ids must not be guessable, and
 * getrandom never blocks once the pool is initialised at boot. Each thread
 * draws 16 ids' worth at a time: a getrandom(2) per id was one system call
 * per served call (every call without an x-request-id gets one). */
#include "uuid.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static void random_bytes(uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("getrandom");
            abort(); /* no safe fallback for id generation */
        }
        got += (size_t)n;
    }
}

/* 16 fresh bytes from this thread's pool; each byte is handed out once
 * and wiped, so no two ids share randomness. */
static void next_16(uint8_t b[16])
{
    static _Thread_local uint8_t pool[256];
    static _Thread_local size_t used = sizeof pool;
    if (used == sizeof pool) {
        random_bytes(pool, sizeof pool);
        used = 0;
    }
    memcpy(b, pool + used, 16);
    memset(pool + used, 0, 16);
    used += 16;
}

void rt_uuid_v4(char out[RT_UUID_STRLEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    next_16(b);
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 0x0F];
    }
    *p = '\0';
}

const char *rt_uuid_lower(rt_arena *arena, const char *s)
{
    char *copy = rt_arena_strdup(arena, s ? s : "");
    for (char *p = copy; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    return copy;
}
