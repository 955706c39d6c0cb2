/* Page tokens (page_token.h): base64url of the position (8 bytes, big
 * endian) and the first 12 bytes of SHA-256 over a version tag, the scope
 * and the position. */
#include "page_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define POSITION_BYTES 8
#define CHECK_BYTES 12
#define RAW_BYTES (POSITION_BYTES + CHECK_BYTES)
#define TOKEN_CHARS 27 /* ceil(RAW_BYTES * 4 / 3), no padding */

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void check_of(const char *scope, const uint8_t position[POSITION_BYTES], uint8_t out[CHECK_BYTES])
{
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, "page-token/v1\n", 14);
    EVP_DigestUpdate(ctx, scope, strlen(scope) + 1); /* the NUL separates scope from position */
    EVP_DigestUpdate(ctx, position, POSITION_BYTES);
    EVP_DigestFinal_ex(ctx, digest, &len);
    EVP_MD_CTX_free(ctx);
    memcpy(out, digest, CHECK_BYTES);
}

const char *rt_page_token_encode(rt_arena *arena, const char *scope, int64_t position)
{
    uint8_t raw[RAW_BYTES];
    for (int i = 0; i < POSITION_BYTES; i++)
        raw[i] = (uint8_t)((uint64_t)position >> (8 * (POSITION_BYTES - 1 - i)));
    check_of(scope, raw, raw + POSITION_BYTES);
    char *text = rt_arena_alloc(arena, TOKEN_CHARS + 1);
    size_t n = 0;
    uint32_t bits = 0;
    int have = 0;
    for (size_t i = 0; i < RAW_BYTES; i++) {
        bits = (bits << 8) | raw[i];
        have += 8;
        while (have >= 6) {
            have -= 6;
            text[n++] = ALPHABET[(bits >> have) & 63];
        }
    }
    if (have > 0)
        text[n++] = ALPHABET[(bits << (6 - have)) & 63];
    text[n] = '\0';
    return text;
}

bool rt_page_token_decode(const char *scope, const char *token, int64_t *position)
{
    if (strlen(token) != TOKEN_CHARS)
        return false;
    uint8_t raw[RAW_BYTES + 1];
    size_t n = 0;
    uint32_t bits = 0;
    int have = 0;
    for (size_t i = 0; i < TOKEN_CHARS; i++) {
        const char *at = strchr(ALPHABET, token[i]);
        if (!at || !token[i])
            return false;
        bits = (bits << 6) | (uint32_t)(at - ALPHABET);
        have += 6;
        if (have >= 8) {
            have -= 8;
            raw[n++] = (uint8_t)(bits >> have);
        }
    }
    if (n != RAW_BYTES || (bits & ((1u << have) - 1)) != 0) /* leftover bits must be zero: one spelling per token */
        return false;
    uint8_t check[CHECK_BYTES];
    check_of(scope, raw, check);
    if (CRYPTO_memcmp(check, raw + POSITION_BYTES, CHECK_BYTES) != 0)
        return false;
    uint64_t value = 0;
    for (int i = 0; i < POSITION_BYTES; i++)
        value = (value << 8) | raw[i];
    *position = (int64_t)value;
    return true;
}
