/* The configured database URL: describing it without leaking its password,
 * and the compatibility rewrite of URLs written for the replaced Prisma
 * stack. Implemented by db_url.c. */
#ifndef RT_DB_URL_H
#define RT_DB_URL_H

/* "host:port/dbname" of a libpq URL or conninfo string, malloc'd, for
 * messages and logs; never contains the user's password. */
char *rt_db_describe_url(const char *url);
/* The URL with the query parameters of Prisma URLs that libpq rejects
 * removed (the replaced system's DATABASE_URL keeps working), malloc'd.
 * Its `schema` parameter becomes *search_path (malloc'd, or NULL). NULL
 * when the text is not a URL at all: then it is used unchanged. */
char *rt_db_url_for_libpq(const char *url, char **search_path);

#endif
