/* The string rules the generated validators call (rules.h): UTF-8
 * well-formedness and length, the email shape, the UUID shape. */
#include "rules.h"

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 when it is
 * truncated, overlong, a surrogate or beyond U+10FFFF (RFC 3629 table). */
static size_t utf8_sequence(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* > U+10FFFF */
    } else {
        return 0;
    }
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

bool rt_rule_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence(p + i, len - i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

size_t rt_rule_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(unsigned char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9');
}

/* Local part: printable ASCII without space, or well-formed UTF-8. */
static bool email_local_ok(const unsigned char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x80) {
            if (s[i] <= 0x20 || s[i] == 0x7F)
                return false;
            i++;
            continue;
        }
        size_t n = utf8_sequence(s + i, len - i);
        if (!n)
            return false;
        /* C1 controls U+0080..U+009F are encoded C2 80..C2 9F. */
        if (s[i] == 0xC2 && s[i + 1] < 0xA0)
            return false;
        i += n;
    }
    return true;
}

/* Domain: two or more dot-separated DNS labels, the last alphabetic. */
static bool email_domain_ok(const unsigned char *s, size_t len)
{
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            if (!is_alnum(s[i]) && s[i] != '-')
                return false;
            continue;
        }
        size_t n = i - start;
        if (n == 0 || n > 63 || s[start] == '-' || s[i - 1] == '-')
            return false;
        labels++;
        if (i == len) {
            if (labels < 2 || n < 2)
                return false;
            for (size_t k = start; k < i; k++)
                if (!is_alpha(s[k]))
                    return false;
        }
        start = i + 1;
    }
    return true;
}

bool rt_rule_email(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t at = len;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '@') {
            if (at != len)
                return false; /* a second @ */
            at = i;
        }
    }
    if (at == len)
        return false;
    return email_local_ok(p, at) && email_domain_ok(p + at + 1, len - at - 1);
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool rt_rule_uuid(const char *s, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i]))
            return false;
    }
    return true;
}
