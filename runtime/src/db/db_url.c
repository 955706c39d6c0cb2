/* Database URL handling (db_url.h): what may be printed about it, and
 * the compatibility rewrite of URLs written for the replaced Prisma stack. */
#include "db_url.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *option(PQconninfoOption *opts, const char *key)
{
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, key) == 0 && o->val && *o->val)
            return o->val;
    return NULL;
}

char *rt_db_describe_url(const char *url)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &err);
    if (!opts) {
        /* libpq's message may quote parts of the URL: do not repeat it. */
        PQfreemem(err);
        return strdup("(unparseable database URL)");
    }
    const char *host = option(opts, "host");
    if (!host)
        host = option(opts, "hostaddr");
    const char *port = option(opts, "port");
    const char *dbname = option(opts, "dbname");
    if (!dbname)
        dbname = option(opts, "user");
    char *text = NULL;
    if (asprintf(&text, "%s:%s/%s", host ? host : "localhost", port ? port : "5432",
                 dbname ? dbname : "(default)") < 0)
        text = NULL;
    PQconninfoFree(opts);
    return text;
}

/* Query parameters Prisma accepts that libpq does not know. */
static const char *const prisma_only[] = {
    "schema", "connection_limit", "pool_timeout", "socket_timeout", "pgbouncer",
    "statement_cache_size", "sslaccept", "sslidentity", NULL,
};

static bool is_prisma_only(const char *param, size_t len)
{
    for (const char *const *p = prisma_only; *p; p++)
        if (strlen(*p) == len && strncmp(*p, param, len) == 0)
            return true;
    return false;
}

/* Only schema names that need no quoting inside "-c search_path=..." are
 * honoured; anything else keeps the server's default search_path. */
static bool plain_identifier(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

char *rt_db_url_for_libpq(const char *url, char **search_path)
{
    *search_path = NULL;
    if (strncmp(url, "postgresql://", 13) != 0 && strncmp(url, "postgres://", 11) != 0)
        return NULL;
    const char *query = strchr(url, '?');
    size_t base = query ? (size_t)(query - url) : strlen(url);
    char *out = malloc(strlen(url) + 2);
    if (!out)
        return NULL;
    memcpy(out, url, base);
    size_t len = base;
    char sep = '?';
    for (const char *p = query ? query + 1 : NULL; p && *p;) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t key_len = eq ? (size_t)(eq - p) : n;
        if (key_len == 6 && strncmp(p, "schema", 6) == 0 && eq && !*search_path &&
            plain_identifier(eq + 1, n - key_len - 1))
            *search_path = strndup(eq + 1, n - key_len - 1);
        if (n > 0 && !is_prisma_only(p, key_len)) { /* an empty one (a stray '&') is nothing */
            out[len++] = sep;
            memcpy(out + len, p, n);
            len += n;
            sep = '&';
        }
        p = end ? end + 1 : NULL;
    }
    out[len] = '\0';
    return out;
}
