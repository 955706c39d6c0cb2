/* The JSON line formatter: key order, omitted keys, escaping, UTF-8
 * passthrough, and truncation that keeps every line valid JSON. The
 * buffered writer: lines whole and in order, warn and error lines out at once,
 * nothing lost at stop or when the process dies of abort(). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

#define T "2026-11-24T09:26:48.123Z"

static const char *line(char *buf, size_t cap, const rt_log_fields *f, const char *msg)
{
    rt_log_format(buf, cap, T, RT_LOG_INFO, "user-service", f, msg);
    return buf;
}

static void full_call_line(void **state)
{
    (void)state;
    char buf[512];
    rt_log_fields f = {.method = "CreateUser", .code = "OK", .has_duration = true,
                       .duration_ms = 0.84, .request_id = "abc"};
    assert_string_equal(line(buf, sizeof buf, &f, "done"),
                        "{\"time\":\"" T "\",\"level\":\"info\",\"service\":\"user-service\","
                        "\"method\":\"CreateUser\",\"code\":\"OK\",\"duration_ms\":0.840,"
                        "\"request_id\":\"abc\",\"msg\":\"done\"}\n");
}

/* The caller's certificate identity sits after the request id. */
static void identity_of_the_caller(void **state)
{
    (void)state;
    char buf[512];
    rt_log_fields f = {.method = "CreditWallet", .code = "PERMISSION_DENIED", .request_id = "r1",
                       .identity = "spiffe://wallet.local/client/support"};
    assert_string_equal(line(buf, sizeof buf, &f, "finished"),
                        "{\"time\":\"" T "\",\"level\":\"info\",\"service\":\"user-service\","
                        "\"method\":\"CreditWallet\",\"code\":\"PERMISSION_DENIED\",\"request_id\":\"r1\","
                        "\"identity\":\"spiffe://wallet.local/client/support\",\"msg\":\"finished\"}\n");
}

static void absent_keys_are_left_out(void **state)
{
    (void)state;
    char buf[256];
    assert_string_equal(line(buf, sizeof buf, NULL, "serving"),
                        "{\"time\":\"" T "\",\"level\":\"info\",\"service\":\"user-service\","
                        "\"msg\":\"serving\"}\n");
    rt_log_fields f = {.address = "0.0.0.0:50051"};
    assert_non_null(strstr(line(buf, sizeof buf, &f, NULL), "\"address\":\"0.0.0.0:50051\"}"));
}

static void escaping(void **state)
{
    (void)state;
    char buf[256];
    line(buf, sizeof buf, NULL, "q\"b\\n\nt\tc\x01\x1f\x7f");
    assert_non_null(strstr(buf, "\"msg\":\"q\\\"b\\\\n\\nt\\u0009c\\u0001\\u001f\\u007f\"}"));
}

static void utf8_passes_and_garbage_is_replaced(void **state)
{
    (void)state;
    char buf[256];
    line(buf, sizeof buf, NULL, "J\xc3\xa9r\xc3\xb4me \xf0\x9f\x98\x80");
    assert_non_null(strstr(buf, "\"msg\":\"J\xc3\xa9r\xc3\xb4me \xf0\x9f\x98\x80\"}"));
    line(buf, sizeof buf, NULL, "bad\xff\xc3(");
    assert_non_null(strstr(buf, "\"msg\":\"bad\\ufffd\\ufffd(\"}"));
}

static void long_lines_are_cut_but_stay_json(void **state)
{
    (void)state;
    char msg[300];
    memset(msg, '"', sizeof msg - 1);
    msg[sizeof msg - 1] = '\0';
    char buf[128];
    size_t len = rt_log_format(buf, sizeof buf, T, RT_LOG_ERROR, "svc", NULL, msg);
    assert_true(len < sizeof buf);
    assert_int_equal(strlen(buf), len);
    assert_string_equal(buf + len - 3, "\"}\n");
    /* an escape is never split: the body is whole \" pairs */
    const char *body = strstr(buf, "\"msg\":\"") + 7;
    size_t body_len = (size_t)(buf + len - 3 - body);
    assert_int_equal(body_len % 2, 0);

    char tiny[3];
    assert_int_equal(rt_log_format(tiny, sizeof tiny, T, RT_LOG_INFO, "svc", NULL, "x"), 0);
    char small[8];
    rt_log_format(small, sizeof small, T, RT_LOG_INFO, "svc", NULL, "x");
    assert_string_equal(small, "{}\n");
}

static void multibyte_is_never_split(void **state)
{
    (void)state;
    char msg[200] = "";
    for (int i = 0; i < 60; i++)
        strcat(msg, "\xe2\x82\xac");
    char buf[100];
    size_t len = rt_log_format(buf, sizeof buf, T, RT_LOG_INFO, "s", NULL, msg);
    const char *body = strstr(buf, "\"msg\":\"") + 7;
    assert_int_equal((size_t)(buf + len - 3 - body) % 3, 0);
}

static void levels(void **state)
{
    (void)state;
    rt_log_level l;
    assert_true(rt_log_parse_level("debug", &l));
    assert_int_equal(l, RT_LOG_DEBUG);
    assert_true(rt_log_parse_level("WARN", &l));
    assert_int_equal(l, RT_LOG_WARN);
    assert_true(rt_log_parse_level("error", &l));
    assert_int_equal(l, RT_LOG_ERROR);
    assert_false(rt_log_parse_level("verbose", &l));
    assert_string_equal(rt_log_level_name(RT_LOG_INFO), "info");
    rt_log_init("test", RT_LOG_WARN);
    assert_false(rt_log_enabled(RT_LOG_INFO));
    assert_true(rt_log_enabled(RT_LOG_ERROR));
}

/* stderr into a fresh temp file; returns its fd (for reading back). */
static int capture_stderr(int *saved)
{
    char path[] = "/tmp/test_log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    *saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    return fd;
}

static size_t read_back(int fd, char *buf, size_t cap)
{
    ssize_t n = pread(fd, buf, cap - 1, 0);
    assert_true(n >= 0);
    buf[n] = '\0';
    return (size_t)n;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void buffered_lines_are_whole_ordered_and_kept(void **state)
{
    (void)state;
    int saved, fd = capture_stderr(&saved);
    static char got[1 << 20];
    rt_log_init("test", RT_LOG_INFO);
    rt_log_start_buffering();
    rt_log(RT_LOG_INFO, "first");
    rt_log(RT_LOG_WARN, "second, a warning");
    /* A warn (or error) line leaves at once, after what was buffered before it. */
    read_back(fd, got, sizeof got);
    assert_int_equal(count_lines(got), 2);
    assert_true(strstr(got, "first") < strstr(got, "second, a warning"));
    /* More than the buffer holds, then stop: every line, in order. */
    for (int i = 0; i < 2000; i++)
        rt_log(RT_LOG_INFO, "line %d", i);
    rt_log_stop_buffering();
    read_back(fd, got, sizeof got);
    assert_int_equal(count_lines(got), 2002);
    char *p = got;
    for (int i = 0; i < 2000; i++) {
        char want[32];
        snprintf(want, sizeof want, "\"msg\":\"line %d\"}", i);
        p = strstr(p, want);
        assert_non_null(p);
    }
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
}

/* The flusher thread writes within ~10 ms without anyone asking. */
static void buffered_lines_leave_soon(void **state)
{
    (void)state;
    int saved, fd = capture_stderr(&saved);
    char got[4096];
    rt_log_init("test", RT_LOG_INFO);
    rt_log_start_buffering();
    rt_log(RT_LOG_INFO, "soon");
    for (int i = 0; i < 200 && read_back(fd, got, sizeof got) == 0; i++)
        usleep(10000);
    assert_non_null(strstr(got, "soon"));
    rt_log_stop_buffering();
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
}

/* A process that aborts right after logging still has the line out. */
static void abort_keeps_buffered_lines(void **state)
{
    (void)state;
    int saved, fd = capture_stderr(&saved);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        rt_log_init("test", RT_LOG_INFO);
        rt_log_start_buffering();
        rt_log(RT_LOG_INFO, "last words");
        abort();
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    dup2(saved, STDERR_FILENO);
    close(saved);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    char got[4096];
    read_back(fd, got, sizeof got);
    close(fd);
    assert_non_null(strstr(got, "last words"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_call_line),
        cmocka_unit_test(identity_of_the_caller),
        cmocka_unit_test(absent_keys_are_left_out),
        cmocka_unit_test(escaping),
        cmocka_unit_test(utf8_passes_and_garbage_is_replaced),
        cmocka_unit_test(long_lines_are_cut_but_stay_json),
        cmocka_unit_test(multibyte_is_never_split),
        cmocka_unit_test(levels),
        cmocka_unit_test(buffered_lines_are_whole_ordered_and_kept),
        cmocka_unit_test(buffered_lines_leave_soon),
        cmocka_unit_test(abort_keeps_buffered_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
