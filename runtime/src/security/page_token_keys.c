/* The page-token keys in force (page_token_keys.h). Each key is
 * HMAC-SHA256(secret line, "page-token/v2"), so a secret of any length and
 * alphabet gives an AES-256 key, and the secret itself is never used as
 * one. Calls copy the keys under a lock; the reload ticker swaps them. */
#include "page_token_keys.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_text.h"
#include "file_watch.h"
#include "log.h"

static const char KEY_LABEL[] = "page-token/v2";

static void derive(const char *secret, size_t len, uint8_t key[RT_PAGE_TOKEN_KEY_BYTES])
{
    unsigned int n = 0;
    if (!HMAC(EVP_sha256(), secret, (int)len, (const uint8_t *)KEY_LABEL, sizeof KEY_LABEL - 1, key, &n))
        abort();
}

bool rt_page_token_keys_parse(const char *text, size_t len, int ttl_seconds, rt_page_token_keys *out,
                              char *error, size_t size)
{
    memset(out, 0, sizeof *out);
    out->ttl_seconds = ttl_seconds;
    if (len > RT_PAGE_TOKEN_FILE_MAX)
        return rt_error_text(error, size, "over %d bytes: not a secret file", RT_PAGE_TOKEN_FILE_MAX);
    int line_no = 0;
    for (size_t at = 0; at < len;) {
        const char *line = text + at;
        const char *nl = memchr(line, '\n', len - at);
        size_t n = nl ? (size_t)(nl - line) : len - at;
        at += n + (nl != NULL);
        line_no++;
        while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        if (n == 0 || line[0] == '#')
            continue;
        for (size_t i = 0; i < n; i++)
            if (line[i] < 0x21 || line[i] > 0x7e)
                return rt_error_text(error, size, "line %d: a secret is printable ASCII without spaces", line_no);
        if (n < RT_PAGE_TOKEN_SECRET_MIN || n > RT_PAGE_TOKEN_SECRET_MAX)
            return rt_error_text(error, size, "line %d: a secret has %d to %d characters (e.g. `openssl rand "
                                 "-base64 32`), this one %zu", line_no, RT_PAGE_TOKEN_SECRET_MIN,
                                 RT_PAGE_TOKEN_SECRET_MAX, n);
        if (out->n_keys == 2)
            return rt_error_text(error, size, "line %d: at most two secrets, the current one then the "
                                 "previous one", line_no);
        derive(line, n, out->keys[out->n_keys++]);
    }
    if (out->n_keys == 0)
        return rt_error_text(error, size, "no secret: one line of at least %d characters", RT_PAGE_TOKEN_SECRET_MIN);
    return true;
}

static struct {
    pthread_mutex_t lock;
    rt_page_token_keys keys;
    bool set;
    char *path;
    struct stat seen;
    rt_ticker *ticker;
} state = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Reads and parses path; false with error set on any failure. */
static bool load(const char *path, int ttl_seconds, rt_page_token_keys *out, char *error, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return rt_error_text(error, size, "cannot open: %s", strerror(errno));
    char text[RT_PAGE_TOKEN_FILE_MAX + 1];
    size_t n = fread(text, 1, sizeof text, f);
    bool failed = ferror(f);
    fclose(f);
    bool ok = !failed ? rt_page_token_keys_parse(text, n, ttl_seconds, out, error, size)
                      : rt_error_text(error, size, "cannot read");
    OPENSSL_cleanse(text, sizeof text);
    return ok;
}

static void install(const rt_page_token_keys *keys)
{
    pthread_mutex_lock(&state.lock);
    state.keys = *keys;
    state.set = true;
    pthread_mutex_unlock(&state.lock);
}

static void reload_if_changed(void *arg)
{
    (void)arg;
    if (!rt_file_changed(state.path, &state.seen))
        return;
    rt_page_token_keys fresh;
    char error[256];
    if (!load(state.path, state.keys.ttl_seconds, &fresh, error, sizeof error)) {
        rt_log(RT_LOG_ERROR, "page token secrets %s not reloaded, the previous ones stay in force: %s",
               state.path, error);
        return;
    }
    size_t n_keys = fresh.n_keys;
    install(&fresh);
    OPENSSL_cleanse(&fresh, sizeof fresh);
    rt_log(RT_LOG_INFO, "page token secrets reloaded from %s (%zu)", state.path, n_keys);
}

bool rt_page_token_keys_start(const char *secret_file, int ttl_seconds, int reload_seconds, char *error,
                              size_t size)
{
    rt_page_token_keys keys = {.n_keys = 1, .ttl_seconds = ttl_seconds};
    if (!secret_file) {
        if (RAND_bytes(keys.keys[0], RT_PAGE_TOKEN_KEY_BYTES) != 1)
            abort();
        install(&keys);
        OPENSSL_cleanse(&keys, sizeof keys);
        rt_log(RT_LOG_WARN, "PAGE_TOKEN_SECRET_FILE is not set: page tokens are keyed to this process, so "
                            "another replica or a restart refuses them; give every replica the same file "
                            "(docs/security.md)");
        return true;
    }
    char why[256];
    rt_file_changed(secret_file, &state.seen); /* before reading: a change meanwhile is seen next time */
    if (!load(secret_file, ttl_seconds, &keys, why, sizeof why))
        return rt_error_text(error, size, "PAGE_TOKEN_SECRET_FILE %s: %s", secret_file, why);
    install(&keys);
    OPENSSL_cleanse(&keys, sizeof keys);
    state.path = strdup(secret_file);
    if (!state.path)
        abort();
    state.ticker = rt_ticker_start(reload_seconds, "page-token-watch", reload_if_changed, NULL);
    return true;
}

void rt_page_token_keys_stop(void)
{
    rt_ticker_stop(state.ticker);
    state.ticker = NULL;
    free(state.path);
    state.path = NULL;
    pthread_mutex_lock(&state.lock);
    OPENSSL_cleanse(&state.keys, sizeof state.keys);
    state.set = false;
    pthread_mutex_unlock(&state.lock);
}

void rt_page_token_keys_current(rt_page_token_keys *out)
{
    pthread_mutex_lock(&state.lock);
    if (!state.set)
        abort(); /* rt_page_token_keys_start was not called: a token made now could not be opened */
    *out = state.keys;
    pthread_mutex_unlock(&state.lock);
}
