/* test_pdf_cdp.c - unit tests for src/workers/pdf/cdp.c, with this test in
 * the browser's place on two pipes: NUL-framed commands with ids and
 * sessions, replies matched by id with events dispatched meanwhile, error
 * replies, reply callbacks, messages split across reads, timeouts, the tick
 * that aborts a wait, and a browser that goes away. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>

#include "pdf.h"

typedef struct fixture {
    pdf_cdp cdp;
    int to_test;   /* read what the client sent */
    int from_test; /* write what the "browser" says */
    int events;
    char last_event[64];
    int replies;
    char last_error[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    int a[2], b[2];
    assert_int_equal(pipe(a), 0);
    assert_int_equal(pipe(b), 0);
    pdf_cdp_init(&f->cdp, a[1], b[0]);
    f->to_test = a[0];
    f->from_test = b[1];
    fcntl(f->to_test, F_SETFL, O_NONBLOCK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pdf_cdp_release(&f->cdp);
    close(f->to_test);
    if (f->from_test >= 0)
        close(f->from_test);
    free(f);
    return 0;
}

static void say(fixture *f, const char *msg)
{
    assert_int_equal(write(f->from_test, msg, strlen(msg) + 1), (ssize_t)strlen(msg) + 1);
}

/* The next command the client sent, parsed. */
static json_t *heard(fixture *f)
{
    static char buf[65536];
    static size_t len;
    for (;;) {
        char *nul = memchr(buf, '\0', len);
        if (nul != NULL) {
            json_t *j = json_loadb(buf, (size_t)(nul - buf), 0, NULL);
            len -= (size_t)(nul - buf) + 1;
            memmove(buf, nul + 1, len);
            assert_non_null(j);
            return j;
        }
        ssize_t n = read(f->to_test, buf + len, sizeof buf - len);
        assert_true(n > 0);
        len += (size_t)n;
    }
}

static void on_event(void *ud, const char *method, const json_t *params, const char *session)
{
    fixture *f = ud;
    (void)params;
    f->events++;
    snprintf(f->last_event, sizeof f->last_event, "%s@%s", method, session ? session : "-");
}

static void on_reply(void *ud, const json_t *result, const char *error)
{
    fixture *f = ud;
    f->replies++;
    snprintf(f->last_error, sizeof f->last_error, "%s", error ? error : "");
    (void)result;
}

static void test_call_frames_and_matches_ids(void **state)
{
    fixture *f = *state;
    f->cdp.on_event = on_event;
    f->cdp.event_ud = f;
    /* the reply is already waiting, after an event and a stale reply */
    say(f, "{\"method\":\"Page.lifecycleEvent\",\"params\":{},\"sessionId\":\"S1\"}");
    say(f, "{\"id\":99,\"result\":{}}");
    say(f, "{\"id\":1,\"result\":{\"product\":\"Chrome/1\"}}");
    json_t *r = pdf_cdp_call(&f->cdp, "S1", "Browser.getVersion", json_pack("{si}", "x", 1),
                             pdf_mono_ms() + 2000);
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "product")), "Chrome/1");
    json_decref(r);
    assert_int_equal(f->events, 1);
    assert_string_equal(f->last_event, "Page.lifecycleEvent@S1");
    json_t *cmd = heard(f);
    assert_int_equal(json_integer_value(json_object_get(cmd, "id")), 1);
    assert_string_equal(json_string_value(json_object_get(cmd, "method")), "Browser.getVersion");
    assert_string_equal(json_string_value(json_object_get(cmd, "sessionId")), "S1");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(cmd, "params"), "x")), 1);
    json_decref(cmd);
}

static void test_error_reply_and_timeout(void **state)
{
    fixture *f = *state;
    say(f, "{\"id\":1,\"error\":{\"code\":-32000,\"message\":\"Page range exceeds page count\"}}");
    assert_null(pdf_cdp_call(&f->cdp, NULL, "Page.printToPDF", NULL, pdf_mono_ms() + 2000));
    assert_int_equal(f->cdp.status, PDF_CDP_REMOTE);
    assert_non_null(strstr(f->cdp.errstr, "Page range exceeds page count"));
    int64_t t0 = pdf_mono_ms();
    assert_null(pdf_cdp_call(&f->cdp, NULL, "Page.navigate", NULL, t0 + 150));
    assert_int_equal(f->cdp.status, PDF_CDP_TIMEOUT);
    assert_true(pdf_mono_ms() - t0 >= 150);
    /* the late reply to the timed-out call is dropped, not mistaken */
    say(f, "{\"id\":2,\"result\":{\"late\":true}}");
    say(f, "{\"id\":3,\"result\":{\"fresh\":true}}");
    json_t *r = pdf_cdp_call(&f->cdp, NULL, "X.y", NULL, pdf_mono_ms() + 2000);
    assert_non_null(json_object_get(r, "fresh"));
    json_decref(r);
}

static void test_callbacks_and_split_messages(void **state)
{
    fixture *f = *state;
    assert_int_equal(pdf_cdp_send(&f->cdp, NULL, "Fetch.getResponseBody", NULL, on_reply, f,
                                  pdf_mono_ms() + 1000),
                     0);
    assert_int_equal(pdf_cdp_send(&f->cdp, NULL, "Fetch.getResponseBody", NULL, on_reply, f,
                                  pdf_mono_ms() + 1000),
                     0);
    const char *msg = "{\"id\":1,\"result\":{\"body\":\"aGk=\"}}";
    assert_int_equal(write(f->from_test, msg, 10), 10); /* half a message */
    assert_int_equal(pdf_cdp_pump(&f->cdp, pdf_mono_ms() + 50), 0);
    assert_int_equal(f->replies, 0);
    assert_int_equal(write(f->from_test, msg + 10, strlen(msg) - 9), (ssize_t)strlen(msg) - 9);
    assert_int_equal(pdf_cdp_pump(&f->cdp, pdf_mono_ms() + 1000), 1);
    assert_int_equal(f->replies, 1);
    assert_string_equal(f->last_error, "");
    /* a forgotten callback is never called */
    pdf_cdp_forget(&f->cdp, on_reply);
    say(f, "{\"id\":2,\"error\":{\"message\":\"gone\"}}");
    assert_int_equal(pdf_cdp_pump(&f->cdp, pdf_mono_ms() + 1000), 1);
    assert_int_equal(f->replies, 1);
}

static int tick_calls;
static int stop_after_two(void *ud)
{
    (void)ud;
    return ++tick_calls > 2;
}

static void test_tick_aborts_and_eof_is_dead(void **state)
{
    fixture *f = *state;
    f->cdp.tick = stop_after_two;
    assert_null(pdf_cdp_call(&f->cdp, NULL, "Runtime.evaluate", NULL, pdf_mono_ms() + 5000));
    assert_int_equal(f->cdp.status, PDF_CDP_ABORTED);
    f->cdp.tick = NULL;
    close(f->from_test);
    f->from_test = -1;
    assert_null(pdf_cdp_call(&f->cdp, NULL, "Page.navigate", NULL, pdf_mono_ms() + 5000));
    assert_int_equal(f->cdp.status, PDF_CDP_DEAD);
    assert_non_null(strstr(f->cdp.errstr, "closed the pipe"));
    assert_int_equal(pdf_cdp_send(&f->cdp, NULL, "X.y", NULL, NULL, NULL, pdf_mono_ms() + 100), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_call_frames_and_matches_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_reply_and_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callbacks_and_split_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tick_aborts_and_eof_is_dead, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
