/* pg_parse: prints PostgreSQL's own parse tree of a SQL file as JSON, for the
 * Lua generator (codegen/lint/, which reads it with lua-cjson). The parser is
 * libpg_query (Debian's libpg-query-dev): PostgreSQL 15's grammar, the one the
 * project runs, so what parses here parses on the server.
 *
 *   pg_parse FILE   -> stdout: {"version":...,"stmts":[{"stmt":{...},
 *                      "stmt_location":N,"stmt_len":N}...]}, exit 0
 *                   -> stderr: "CURSOR: message" (CURSOR is the 1-based
 *                      character offset of the error, 0 if unknown), exit 1
 * Built by the Makefile into $(BUILD)/tools/pg_parse. */
#include <pg_query.h>
#include <stdio.h>
#include <stdlib.h>

/* The whole of path as a NUL-terminated string, or NULL. */
static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (!buf || failed) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "0: usage: pg_parse FILE\n");
        return 2;
    }
    char *sql = read_all(argv[1]);
    if (!sql) {
        fprintf(stderr, "0: cannot read %s\n", argv[1]);
        return 2;
    }
    PgQueryParseResult result = pg_query_parse(sql);
    int rc = 0;
    if (result.error) {
        fprintf(stderr, "%d: %s\n", result.error->cursorpos, result.error->message);
        rc = 1;
    } else {
        fputs(result.parse_tree, stdout);
        fputc('\n', stdout);
    }
    pg_query_free_parse_result(result);
    free(sql);
    pg_query_exit();
    return rc;
}
