/* log: see log.h. A whole line is built first and written with one call,
 * so lines never interleave. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/json.h"

static bool as_json;
static log_level least = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_configure(bool json, log_level min)
{
    as_json = json;
    least = min;
}

int log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

typedef struct line {
    char buf[4096];
    size_t len;
} line_t;

static void put(line_t *l, const char *s, size_t n)
{
    if (n > sizeof(l->buf) - 2 - l->len)
        n = sizeof(l->buf) - 2 - l->len;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void puts_(line_t *l, const char *s) { put(l, s, strlen(s)); }

/* A value: a JSON string, or a logfmt bare word unless it needs quotes
 * (escaped as \" \\ and \xNN). */
static void value(line_t *l, const char *v)
{
    if (as_json) {
        json_string(l->buf, sizeof(l->buf) - 2, &l->len, v);
        return;
    }
    bool quote = !*v || strpbrk(v, " =\"\\\t\r\n") != NULL;
    if (quote)
        put(l, "\"", 1);
    for (const char *c = v; *c; c++) {
        char esc[8];
        if (*c == '"' || *c == '\\') {
            esc[0] = '\\';
            esc[1] = *c;
            put(l, esc, 2);
        } else if ((unsigned char)*c < 0x20) {
            int n = snprintf(esc, sizeof(esc), "\\x%02x", (unsigned char)*c);
            put(l, esc, (size_t)n);
        } else {
            put(l, c, 1);
        }
    }
    if (quote)
        put(l, "\"", 1);
}

static void field(line_t *l, bool first, const char *key, const char *v)
{
    if (as_json) {
        puts_(l, first ? "{\"" : ",\"");
        puts_(l, key);
        puts_(l, "\":");
    } else {
        if (!first)
            put(l, " ", 1);
        puts_(l, key);
        put(l, "=", 1);
    }
    value(l, v);
}

void log_event(log_level level, const char *msg, ...)
{
    if (level < least)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000);
    line_t l = {.len = 0};
    field(&l, true, "time", when);
    field(&l, false, "level", level_names[level]);
    field(&l, false, "msg", msg);
    va_list ap;
    va_start(ap, msg);
    for (const char *key; (key = va_arg(ap, const char *));) {
        const char *v = va_arg(ap, const char *);
        field(&l, false, key, v ? v : "");
    }
    va_end(ap);
    if (as_json)
        put(&l, "}", 1);
    l.buf[l.len++] = '\n';
    fwrite(l.buf, 1, l.len, stderr);
}
