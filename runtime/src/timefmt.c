/* Timestamp text conversion (timefmt.h). The database session runs with
 * TimeZone=UTC and DateStyle=ISO (db_session.c), so PostgreSQL's text is already UTC
 * and only needs reshaping, no calendar arithmetic. */
#include "timefmt.h"

#include <string.h>

/* Reads exactly n digits at *p into *value and advances *p. */
static bool digits(const char **p, int n, int *value)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *value = v;
    return true;
}

static bool literal(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

static bool days_ok(int year, int month, int day)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || day > days[month - 1])
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return !(month == 2 && day == 29 && !leap);
}

/* A UTC offset PostgreSQL may append for timestamptz: "+00" or "+00:00". */
static bool utc_suffix(const char *p)
{
    return *p == '\0' || strcmp(p, "+00") == 0 || strcmp(p, "+00:00") == 0;
}

/* Writes year..millis (7 fields, each already in range) as
 * "YYYY-MM-DDTHH:MM:SS.mmmZ"; digit by digit, so the width is fixed. */
static void format_iso(char out[RT_TIMEFMT_LEN + 1], const int fields[7])
{
    static const int widths[7] = {4, 2, 2, 2, 2, 2, 3};
    static const char after[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
    char *p = out;
    for (int i = 0; i < 7; i++) {
        int v = fields[i];
        for (int k = widths[i] - 1; k >= 0; k--, v /= 10)
            p[k] = (char)('0' + v % 10);
        p += widths[i];
        *p++ = after[i];
    }
    *p = '\0';
}

bool rt_timefmt_from_pg(const char *pg, char out[RT_TIMEFMT_LEN + 1])
{
    const char *p = pg;
    int year, month, day, hour, minute, second, millis = 0;
    if (!p || !digits(&p, 4, &year) || !literal(&p, '-') || !digits(&p, 2, &month) ||
        !literal(&p, '-') || !digits(&p, 2, &day) || !(literal(&p, ' ') || literal(&p, 'T')) ||
        !digits(&p, 2, &hour) || !literal(&p, ':') || !digits(&p, 2, &minute) ||
        !literal(&p, ':') || !digits(&p, 2, &second))
        return false;
    if (!days_ok(year, month, day) || hour > 23 || minute > 59 || second > 59)
        return false;
    if (literal(&p, '.')) {
        int n = 0;
        for (; p[n] >= '0' && p[n] <= '9'; n++) {
            if (n < 3)
                millis = millis * 10 + (p[n] - '0');
        }
        if (n == 0 || n > 6)
            return false;
        for (int i = n; i < 3; i++)
            millis *= 10;
        p += n;
    }
    if (!utc_suffix(p))
        return false;
    format_iso(out, (int[]){year, month, day, hour, minute, second, millis});
    return true;
}

void rt_timefmt_from_timespec(const struct timespec *ts, char out[RT_TIMEFMT_LEN + 1])
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    format_iso(out, (int[]){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                            tm.tm_sec, (int)(ts->tv_nsec / 1000000)});
}
