/* The keys page tokens are made with (page_token.h): derived from the lines
 * of PAGE_TOKEN_SECRET_FILE (the current secret, then optionally the
 * previous one), re-read when the file changes, or one random key of this
 * process when no file is configured. The parser is pure, so it is unit
 * tested and fuzzed (tests/fuzz/fuzz_page_token.c). */
#ifndef RT_PAGE_TOKEN_KEYS_H
#define RT_PAGE_TOKEN_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RT_PAGE_TOKEN_KEY_BYTES 32
/* A secret line: at least this many printable characters (e.g. the 44 of
 * `openssl rand -base64 32`). */
#define RT_PAGE_TOKEN_SECRET_MIN 32
#define RT_PAGE_TOKEN_SECRET_MAX 1024
/* A secret file is a few lines; anything bigger is not one. */
#define RT_PAGE_TOKEN_FILE_MAX 4096

typedef struct {
    uint8_t keys[2][RT_PAGE_TOKEN_KEY_BYTES]; /* [0] makes tokens; every one opens them */
    size_t n_keys;
    int ttl_seconds;
} rt_page_token_keys;

/* Keys from a secret file's text (len bytes, not NUL-terminated): one or
 * two secret lines, blank lines and '#' comments ignored. False with error
 * set when the text is not that. */
bool rt_page_token_keys_parse(const char *text, size_t len, int ttl_seconds, rt_page_token_keys *out,
                              char *error, size_t error_size);

/* The process's keys: read from secret_file (NULL: a random key, with a
 * warning that tokens then work on this process only) and re-read every
 * reload_seconds when it changed; a file that became invalid keeps the
 * previous keys and is logged. False with error set when the file is
 * invalid at start. Starts a thread: call it after the signal mask. */
bool rt_page_token_keys_start(const char *secret_file, int ttl_seconds, int reload_seconds, char *error,
                              size_t error_size);
void rt_page_token_keys_stop(void);
/* A copy of the keys in force (page_token.c takes one per call). */
void rt_page_token_keys_current(rt_page_token_keys *out);

#endif
