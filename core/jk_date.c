/* jk_date: civil-date arithmetic (days-from-civil, after H. Hinnant's
 * well-known public-domain algorithm description). */
#include "jk_date.h"

#include <string.h>

static bool s_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int s_mdays(int y, int m)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && s_leap(y) ? 29 : days[m - 1];
}

bool jk_date_valid_ymd(int y, int m, int d)
{
    return y >= JK_DATE_MIN_YEAR && y <= JK_DATE_MAX_YEAR && m >= 1 && m <= 12 && d >= 1 &&
           d <= s_mdays(y, m);
}

static int32_t s_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool jk_date_from_ymd(int y, int m, int d, jk_date_t *out)
{
    if (!jk_date_valid_ymd(y, m, d))
        return false;
    *out = s_days_from_civil(y, m, d);
    return true;
}

void jk_date_to_ymd(jk_date_t z, int *y, int *m, int *d)
{
    int32_t zz = z + 719468;
    int era = (zz >= 0 ? zz : zz - 146096) / 146097;
    int doe = zz - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int yy = yoe + era * 400;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    int dd = doy - (153 * mp + 2) / 5 + 1;
    int mm = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (mm <= 2);
    *m = mm;
    *d = dd;
}

/* Reads 1..maxd digits; returns chars consumed or 0. */
static int s_digits(const char *s, int maxd, int *out)
{
    int v = 0, n = 0;
    while (n < maxd && s[n] >= '0' && s[n] <= '9') {
        v = v * 10 + (s[n] - '0');
        n++;
    }
    *out = v;
    return n;
}

bool jk_date_parse_iso(const char *s, jk_date_t *out)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    int y, m, d;
    if (s_digits(s, 4, &y) != 4 || s_digits(s + 5, 2, &m) != 2 || s_digits(s + 8, 2, &d) != 2)
        return false;
    return jk_date_from_ymd(y, m, d, out);
}

static const char *s_skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return s;
}

/* Matches one separator: '-', '/', '.', or the given UTF-8 word. */
static int s_sep(const char *s, const char *word)
{
    if (*s == '-' || *s == '/' || *s == '.')
        return 1;
    size_t wl = strlen(word);
    return strncmp(s, word, wl) == 0 ? (int)wl : 0;
}

bool jk_date_parse_loose(const char *s, jk_date_t *out)
{
    if (!s)
        return false;
    s = s_skip_ws(s);
    int y, m, d, n;
    if ((n = s_digits(s, 4, &y)) != 4)
        return false;
    s += n;
    if (!(n = s_sep(s, "年")))
        return false;
    s += n;
    if ((n = s_digits(s, 2, &m)) == 0)
        return false;
    s += n;
    if (!(n = s_sep(s, "月")))
        return false;
    s += n;
    if ((n = s_digits(s, 2, &d)) == 0)
        return false;
    s += n;
    if (strncmp(s, "日", strlen("日")) == 0)
        s += strlen("日");
    s = s_skip_ws(s);
    if (*s)
        return false;
    return jk_date_from_ymd(y, m, d, out);
}

char *jk_date_format(jk_date_t d, char buf[11])
{
    int y, m, dd;
    jk_date_to_ymd(d, &y, &m, &dd);
    /* Years are bounded to 1900..2200 by construction; write digits by hand
     * so the compiler can see the output fits. */
    unsigned uy = (unsigned)y % 10000u, um = (unsigned)m % 100u, ud = (unsigned)dd % 100u;
    buf[0] = (char)('0' + uy / 1000);
    buf[1] = (char)('0' + uy / 100 % 10);
    buf[2] = (char)('0' + uy / 10 % 10);
    buf[3] = (char)('0' + uy % 10);
    buf[4] = '-';
    buf[5] = (char)('0' + um / 10);
    buf[6] = (char)('0' + um % 10);
    buf[7] = '-';
    buf[8] = (char)('0' + ud / 10);
    buf[9] = (char)('0' + ud % 10);
    buf[10] = '\0';
    return buf;
}

jk_date_t jk_date_add_months(jk_date_t d, int n)
{
    int y, m, dd;
    jk_date_to_ymd(d, &y, &m, &dd);
    int total = y * 12 + (m - 1) + n;
    int ny = total / 12, nm = total % 12 + 1;
    if (total < 0) { /* not reachable for valid years, kept well-defined */
        ny = (total - 11) / 12;
        nm = total - ny * 12 + 1;
    }
    int md = s_mdays(ny, nm);
    return s_days_from_civil(ny, nm, dd > md ? md : dd);
}

jk_date_t jk_date_from_wall_ms(int64_t wall_ms)
{
    int64_t local = wall_ms + 8LL * 3600 * 1000;
    int64_t days = local / 86400000LL;
    if (local < 0 && local % 86400000LL)
        days--;
    return (jk_date_t)days;
}
