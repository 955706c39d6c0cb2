/* Page tokens (page_token.h). A token is base64url (no padding) of
 *   version (1 byte, 2) | nonce (12) | AES-256-GCM(position 8 | issued 8) (16) | tag (16)
 * with the version byte and the scope as additional data: 45 bytes, 60
 * characters. The nonce is random, so two tokens for the same position
 * differ and a token says nothing about the position. Opening tries each key
 * (page_token_keys.h: the current secret's, then the previous one's). */
#include "page_token_seal.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VERSION 2
#define NONCE_BYTES 12
#define PLAIN_BYTES 16
#define TAG_BYTES 16
#define RAW_BYTES (1 + NONCE_BYTES + PLAIN_BYTES + TAG_BYTES)
#define TOKEN_CHARS (RAW_BYTES * 4 / 3) /* 45 bytes: 60 characters, no leftover bits */
/* Replicas' clocks differ a little: a token issued this far "in the future" is fine. */
#define CLOCK_SKEW_SECONDS 300

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void put64(uint8_t *out, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (8 * (7 - i)));
}

static uint64_t get64(const uint8_t *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return v;
}

/* The cipher, fetched from the provider once: EVP_aes_256_gcm() fetches it
 * again on every use, which was most of a token's cost (~8 of ~12 us). */
static EVP_CIPHER *aes_gcm;
static pthread_once_t aes_gcm_once = PTHREAD_ONCE_INIT;

static void fetch_aes_gcm(void)
{
    aes_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (!aes_gcm)
        abort();
}

/* AES-256-GCM over len bytes of in into out with raw[0] (the version) and
 * scope as additional data; encrypting writes tag, decrypting checks it.
 * False when the tag does not match (or the library fails). */
static bool gcm(bool encrypt, const uint8_t key[RT_PAGE_TOKEN_KEY_BYTES], const uint8_t *nonce,
                const char *scope, const uint8_t *in, uint8_t *out, uint8_t *tag)
{
    static const uint8_t version = VERSION;
    pthread_once(&aes_gcm_once, fetch_aes_gcm);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        abort();
    int n = 0;
    /* 12 bytes is GCM's default nonce length: no EVP_CTRL_GCM_SET_IVLEN. */
    bool ok = EVP_CipherInit_ex(ctx, aes_gcm, NULL, key, nonce, encrypt) == 1 &&
              EVP_CipherUpdate(ctx, NULL, &n, &version, 1) == 1 &&
              EVP_CipherUpdate(ctx, NULL, &n, (const uint8_t *)scope, (int)strlen(scope)) == 1 &&
              EVP_CipherUpdate(ctx, out, &n, in, PLAIN_BYTES) == 1 &&
              (encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) == 1) &&
              EVP_CipherFinal_ex(ctx, out + n, &n) == 1 &&
              (!encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) == 1);
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

const char *rt_page_token_seal(rt_arena *arena, const rt_page_token_keys *keys, const char *scope,
                               int64_t position, int64_t now)
{
    uint8_t raw[RAW_BYTES], plain[PLAIN_BYTES];
    raw[0] = VERSION;
    if (RAND_bytes(raw + 1, NONCE_BYTES) != 1)
        abort(); /* no randomness: a reused nonce would undo GCM */
    put64(plain, (uint64_t)position);
    put64(plain + 8, (uint64_t)now);
    if (!gcm(true, keys->keys[0], raw + 1, scope, plain, raw + 1 + NONCE_BYTES, raw + 1 + NONCE_BYTES + PLAIN_BYTES))
        abort();
    char *text = rt_arena_alloc(arena, TOKEN_CHARS + 1);
    for (size_t i = 0, n = 0; i < RAW_BYTES; i += 3) { /* 3 bytes -> 4 characters */
        uint32_t bits = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        for (int k = 3; k >= 0; k--)
            text[n++] = ALPHABET[(bits >> (6 * k)) & 63];
    }
    text[TOKEN_CHARS] = '\0';
    return text;
}

/* The 6 bits of a base64url character; -1 for any other byte. */
static int sextet(char c)
{
    return c >= 'A' && c <= 'Z'   ? c - 'A'
           : c >= 'a' && c <= 'z' ? c - 'a' + 26
           : c >= '0' && c <= '9' ? c - '0' + 52
           : c == '-'             ? 62
           : c == '_'             ? 63
                                  : -1;
}

/* token's 60 characters back into RAW_BYTES; false for any other text. */
static bool unbase64(const char *token, uint8_t raw[RAW_BYTES])
{
    if (strnlen(token, TOKEN_CHARS + 1) != TOKEN_CHARS)
        return false;
    for (size_t i = 0, n = 0; i < TOKEN_CHARS; i += 4) {
        uint32_t bits = 0;
        for (size_t k = 0; k < 4; k++) {
            int v = sextet(token[i + k]);
            if (v < 0)
                return false;
            bits = bits << 6 | (uint32_t)v;
        }
        raw[n++] = (uint8_t)(bits >> 16);
        raw[n++] = (uint8_t)(bits >> 8);
        raw[n++] = (uint8_t)bits;
    }
    return true;
}

rt_page_token_result rt_page_token_open(const rt_page_token_keys *keys, const char *scope, const char *token,
                                        int64_t now, int64_t *position)
{
    uint8_t raw[RAW_BYTES], plain[PLAIN_BYTES];
    if (!unbase64(token, raw) || raw[0] != VERSION)
        return RT_PAGE_TOKEN_INVALID;
    bool opened = false;
    for (size_t i = 0; i < keys->n_keys && !opened; i++)
        opened = gcm(false, keys->keys[i], raw + 1, scope, raw + 1 + NONCE_BYTES, plain,
                     raw + 1 + NONCE_BYTES + PLAIN_BYTES);
    if (!opened)
        return RT_PAGE_TOKEN_INVALID;
    int64_t issued = (int64_t)get64(plain + 8);
    if (issued > now + CLOCK_SKEW_SECONDS || now - issued > keys->ttl_seconds)
        return RT_PAGE_TOKEN_EXPIRED;
    *position = (int64_t)get64(plain);
    return RT_PAGE_TOKEN_OK;
}

const char *rt_page_token_encode(rt_arena *arena, const char *scope, int64_t position)
{
    rt_page_token_keys keys;
    rt_page_token_keys_current(&keys);
    const char *token = rt_page_token_seal(arena, &keys, scope, position, (int64_t)time(NULL));
    OPENSSL_cleanse(&keys, sizeof keys);
    return token;
}

rt_page_token_result rt_page_token_decode(const char *scope, const char *token, int64_t *position)
{
    rt_page_token_keys keys;
    rt_page_token_keys_current(&keys);
    rt_page_token_result r = rt_page_token_open(&keys, scope, token, (int64_t)time(NULL), position);
    OPENSSL_cleanse(&keys, sizeof keys);
    return r;
}
