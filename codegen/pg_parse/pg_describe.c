/* pg_describe: asks PostgreSQL what a statement takes and answers, for the
 * generator's query check (codegen/describe_queries.lua): each statement is
 * prepared on a server holding the migrated schema and described
 * (PQdescribePrepared), as sqlx and sqlc's database-backed analysis do.
 *
 *   pg_describe CONNINFO NAME SQL [NAME SQL]...
 *     -> one JSON object per statement on stdout:
 *        {"name":"x","params":[25,23],"columns":[["id",25],...]}
 *        or {"name":"x","error":"message"}; exit 0 (1: no connection)
 * Built by the Makefile into $(BUILD)/tools/pg_describe. */
#include <libpq-fe.h>
#include <stdio.h>

/* s as a JSON string. */
static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void describe(PGconn *conn, const char *name, const char *sql)
{
    printf("{\"name\":");
    json_string(name);
    PGresult *res = PQprepare(conn, "", sql, 0, NULL);
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        res = PQdescribePrepared(conn, "");
    }
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        printf(",\"error\":");
        json_string(PQresultErrorMessage(res));
    } else {
        printf(",\"params\":[");
        for (int i = 0; i < PQnparams(res); i++)
            printf("%s%u", i ? "," : "", PQparamtype(res, i));
        printf("],\"columns\":[");
        for (int i = 0; i < PQnfields(res); i++) {
            printf("%s[", i ? "," : "");
            json_string(PQfname(res, i));
            printf(",%u]", PQftype(res, i));
        }
        printf("]");
    }
    printf("}\n");
    PQclear(res);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc % 2 != 0) {
        fprintf(stderr, "usage: pg_describe CONNINFO NAME SQL [NAME SQL]...\n");
        return 2;
    }
    PGconn *conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "pg_describe: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    for (int i = 2; i + 1 < argc; i += 2)
        describe(conn, argv[i], argv[i + 1]);
    PQfinish(conn);
    return 0;
}
