/* smtp.c - the SMTP session of one drudge-email process: one libcurl easy
 * handle kept for the life of the worker, so its connection (and TLS
 * session, and login) carries from one job to the next, and the one place
 * that decides what a failure means for a job:
 *
 *   before MAIL FROM (connect, TLS, greeting, EHLO, AUTH)   unavailable
 *   a 4xx reply to MAIL, RCPT, DATA or the data            retry
 *   a 5xx reply to them                                    fail
 *   421 / 530 (closing, authentication required)           unavailable
 *   the connection lost or timed out mid-transaction       retry
 *
 * libcurl reports the reply code but not the text, and not which command
 * it answered, so a debug callback follows the conversation: the commands
 * sent (MAIL, RCPT, DATA only - never AUTH) and the replies read. A reused
 * connection the server had closed fails before anything of the message
 * was accepted; then one fresh connection is tried at once, so a server's
 * idle timeout costs a job nothing. */
#include "smtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define COMMAND_MAX 96

typedef struct trace {
    int in_transaction;      /* MAIL FROM was sent in this transfer */
    int code;                /* code of the last complete reply, 0 = none yet */
    int code_in_transaction; /* ... and it answered MAIL, RCPT, DATA or the data */
    char reply[EMAIL_REPLY_MAX];
    char partial[EMAIL_REPLY_MAX]; /* lines of a multi-line reply so far */
    size_t partial_len;
    char command[COMMAND_MAX]; /* what the last reply answered */
    int quit_sent;             /* libcurl ends a failed transaction with QUIT */
} trace;

struct email_smtp {
    CURL *h;
    char *url;
    char *user;
    char *password;
    long use_ssl;
    trace t;
    char errbuf[CURL_ERROR_SIZE];
};

/* ---- what a libcurl error is ---- */

typedef enum {
    K_PROTOCOL, /* the server's reply (or its absence) decides */
    K_CONNECT,  /* no TCP connection */
    K_TLS,      /* TLS handshake, certificate, STARTTLS refused */
    K_AUTH,     /* login refused */
    K_TIMEOUT,
    K_LOCAL, /* our side: memory, reading an attachment */
} error_kind;

static const struct {
    CURLcode code;
    error_kind kind;
} error_kinds[] = {
    {CURLE_COULDNT_RESOLVE_HOST, K_CONNECT},
    {CURLE_COULDNT_RESOLVE_PROXY, K_CONNECT},
    {CURLE_COULDNT_CONNECT, K_CONNECT},
    {CURLE_SSL_CONNECT_ERROR, K_TLS},
    {CURLE_PEER_FAILED_VERIFICATION, K_TLS},
    {CURLE_SSL_CERTPROBLEM, K_TLS},
    {CURLE_SSL_CIPHER, K_TLS},
    {CURLE_SSL_CACERT_BADFILE, K_TLS},
    {CURLE_SSL_ISSUER_ERROR, K_TLS},
    {CURLE_SSL_PINNEDPUBKEYNOTMATCH, K_TLS},
    {CURLE_SSL_INVALIDCERTSTATUS, K_TLS},
    {CURLE_SSL_CRL_BADFILE, K_TLS},
    {CURLE_SSL_ENGINE_NOTFOUND, K_TLS},
    {CURLE_SSL_ENGINE_SETFAILED, K_TLS},
    {CURLE_SSL_ENGINE_INITFAILED, K_TLS},
    {CURLE_USE_SSL_FAILED, K_TLS},
    {CURLE_LOGIN_DENIED, K_AUTH},
    {CURLE_AUTH_ERROR, K_AUTH},
    {CURLE_OPERATION_TIMEDOUT, K_TIMEOUT},
    {CURLE_OUT_OF_MEMORY, K_LOCAL},
    {CURLE_READ_ERROR, K_LOCAL},
    {CURLE_ABORTED_BY_CALLBACK, K_LOCAL},
};

static error_kind kind_of(CURLcode rc)
{
    for (size_t i = 0; i < sizeof error_kinds / sizeof error_kinds[0]; i++)
        if (error_kinds[i].code == rc)
            return error_kinds[i].kind;
    return K_PROTOCOL;
}

/* ---- following the conversation ---- */

static int starts_with(const char *s, size_t n, const char *prefix)
{
    size_t p = strlen(prefix);
    return n >= p && strncasecmp(s, prefix, p) == 0;
}

/* s[0..n) without the line end, as printable ASCII (replies go into JSON
 * and one-line errors), into out. */
static size_t clean_copy(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = c < 0x20 || c >= 0x7f ? (c == '\t' ? ' ' : '?') : (char)c;
    }
    out[o] = '\0';
    return o;
}

static void on_command(trace *t, const char *s, size_t n)
{
    if (starts_with(s, n, "QUIT")) {
        t->quit_sent = 1; /* its "221 Bye" must not hide the reply that failed */
    } else if (starts_with(s, n, "MAIL FROM:")) {
        t->in_transaction = 1;
        clean_copy(t->command, sizeof t->command, s, n);
    } else if (starts_with(s, n, "RCPT TO:") || starts_with(s, n, "DATA")) {
        clean_copy(t->command, sizeof t->command, s, n);
    } else if (!t->in_transaction) {
        /* EHLO, STARTTLS, AUTH...: name the step, never its arguments */
        size_t verb = 0;
        while (verb < n && verb < 16 && s[verb] >= 'A' && s[verb] <= 'Z')
            verb++;
        clean_copy(t->command, sizeof t->command, s, verb);
    }
}

static void on_reply_line(trace *t, const char *s, size_t n)
{
    char line[EMAIL_REPLY_MAX];
    size_t len = clean_copy(line, sizeof line, s, n);
    if (t->quit_sent || len < 3 || line[0] < '0' || line[0] > '9' || line[1] < '0' ||
        line[1] > '9' || line[2] < '0' || line[2] > '9')
        return;
    /* "250-first line" continues, "250 last line" ends a reply; the text of
     * every line is kept, joined */
    int more = len > 3 && line[3] == '-';
    const char *text = len > 4 ? line + 4 : "";
    int w;
    if (t->partial_len == 0)
        w = snprintf(t->partial, sizeof t->partial, "%.3s %s", line, text);
    else
        w = snprintf(t->partial + t->partial_len, sizeof t->partial - t->partial_len, " %s", text);
    if (w > 0)
        t->partial_len += (size_t)w;
    if (t->partial_len >= sizeof t->partial)
        t->partial_len = sizeof t->partial - 1;
    if (more)
        return;
    memcpy(t->reply, t->partial, t->partial_len + 1);
    t->partial_len = 0;
    t->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    t->code_in_transaction = t->in_transaction;
    if (t->code == 354)
        snprintf(t->command, sizeof t->command, "the message data");
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t n, void *arg)
{
    (void)h;
    if (type == CURLINFO_HEADER_OUT)
        on_command(arg, data, n);
    else if (type == CURLINFO_HEADER_IN)
        on_reply_line(arg, data, n);
    return 0;
}

/* ---- the session ---- */

static const struct {
    const char *name;
    long use_ssl;
} starttls_modes[] = {
    {"required", CURLUSESSL_ALL},
    {"optional", CURLUSESSL_TRY},
    {"never", CURLUSESSL_NONE},
};

email_smtp *email_smtp_new(const email_smtp_options *o, char *err, size_t errcap)
{
    email_smtp *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    s->use_ssl = -1;
    for (size_t i = 0; i < sizeof starttls_modes / sizeof starttls_modes[0]; i++)
        if (strcmp(o->starttls, starttls_modes[i].name) == 0)
            s->use_ssl = starttls_modes[i].use_ssl;
    if (s->use_ssl < 0) {
        snprintf(err, errcap, "email.starttls must be required, optional or never");
        goto fail;
    }
    s->url = strdup(o->url);
    s->user = strdup(o->user ? o->user : "");
    s->password = o->password ? strdup(o->password) : NULL;
    s->h = curl_easy_init();
    if (s->url == NULL || s->user == NULL || (o->password && s->password == NULL) || s->h == NULL) {
        snprintf(err, errcap, "out of memory");
        goto fail;
    }
    CURL *h = s->h;
    int ok = curl_easy_setopt(h, CURLOPT_URL, s->url) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps") == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_USE_SSL, s->use_ssl) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 1L) == CURLE_OK &&
             /* libcurl's SMTP upload takes a scratch buffer of twice this
              * per message: at the 64 KiB default that is 128 KiB, which
              * malloc maps and unmaps for every email (page faults cost
              * more than the SMTP work) */
             curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 16384L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_VERBOSE, 1L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_DEBUGDATA, &s->t) == CURLE_OK;
    if (ok && s->user[0] != '\0')
        ok = curl_easy_setopt(h, CURLOPT_USERNAME, s->user) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_PASSWORD, s->password ? s->password : "") == CURLE_OK;
    if (!ok) {
        snprintf(err, errcap, "libcurl refused the SMTP settings (does it support smtp?)");
        goto fail;
    }
    return s;
fail:
    email_smtp_free(s);
    return NULL;
}

CURL *email_smtp_handle(email_smtp *s)
{
    return s->h;
}

void email_smtp_free(email_smtp *s)
{
    if (s == NULL)
        return;
    if (s->h)
        curl_easy_cleanup(s->h);
    if (s->password) {
        explicit_bzero(s->password, strlen(s->password));
        free(s->password);
    }
    free(s->user);
    free(s->url);
    free(s);
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What went wrong and what it means, from rc and the conversation. */
static void classify(email_smtp *s, CURLcode rc, email_send_result *out)
{
    const trace *t = &s->t;
    const char *detail = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
    const char *step = t->command[0] ? t->command : "connect";
    out->code = t->code_in_transaction ? t->code : 0;
    snprintf(out->reply, sizeof out->reply, "%s", t->reply);
    switch (kind_of(rc)) {
    case K_CONNECT:
        out->status = EMAIL_UNAVAILABLE;
        snprintf(out->error, sizeof out->error, "cannot connect to %s: %s", s->url, detail);
        return;
    case K_TLS:
        out->status = EMAIL_UNAVAILABLE;
        snprintf(out->error, sizeof out->error, "TLS with %s failed: %s", s->url, detail);
        return;
    case K_AUTH:
        out->status = EMAIL_UNAVAILABLE;
        snprintf(out->error, sizeof out->error, "SMTP login as \"%s\" refused: %s", s->user,
                 t->reply[0] ? t->reply : detail);
        return;
    case K_TIMEOUT:
        out->status = t->in_transaction ? EMAIL_TEMPORARY : EMAIL_UNAVAILABLE;
        snprintf(out->error, sizeof out->error, "SMTP timed out at %s: %s", step, detail);
        return;
    case K_LOCAL:
        out->status = EMAIL_TEMPORARY;
        snprintf(out->error, sizeof out->error, "%s (at %s)", detail, step);
        return;
    case K_PROTOCOL: break;
    }
    if (!t->in_transaction) {
        /* the server would not start a session: greeting, EHLO... */
        out->status = EMAIL_UNAVAILABLE;
        snprintf(out->error, sizeof out->error, "SMTP server refused the session at %s: %s", step,
                 t->reply[0] ? t->reply : detail);
        return;
    }
    if (!t->code_in_transaction || t->code < 400) {
        out->status = EMAIL_TEMPORARY;
        out->code = 0;
        snprintf(out->error, sizeof out->error, "connection lost at %s: %s", step, detail);
        return;
    }
    if (t->code == 421 || t->code == 530)
        out->status = EMAIL_UNAVAILABLE; /* closing down / not logged in: every job would */
    else
        out->status = t->code < 500 ? EMAIL_TEMPORARY : EMAIL_PERMANENT;
    snprintf(out->error, sizeof out->error, "SMTP %s (after %s)", t->reply, step);
}

void email_smtp_send(email_smtp *s, const char *from, const char *const *rcpt, size_t nrcpt,
                     struct curl_slist *headers, curl_mime *mime, long timeout_ms,
                     email_send_result *out)
{
    CURL *h = s->h;
    struct curl_slist *rcpt_list = NULL;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < nrcpt; i++) {
        struct curl_slist *grown = curl_slist_append(rcpt_list, rcpt[i]);
        if (grown == NULL) {
            curl_slist_free_all(rcpt_list);
            out->status = EMAIL_TEMPORARY;
            snprintf(out->error, sizeof out->error, "out of memory");
            return;
        }
        rcpt_list = grown;
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt_list);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);

    long long start = mono_ms();
    CURLcode rc;
    for (int attempt = 0;; attempt++) {
        long long left = timeout_ms - (mono_ms() - start);
        memset(&s->t, 0, sizeof s->t);
        s->errbuf[0] = '\0';
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(left > 0 ? left : 1));
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, attempt > 0 ? 1L : 0L);
        rc = curl_easy_perform(h);
        long opened = 0;
        curl_off_t uploaded = 0;
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &opened);
        curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &uploaded);
        out->new_connections += opened;
        /* a kept connection the server had closed (or is closing: 421)
         * fails before any of the message went out: try a fresh one */
        int stale = opened == 0 && uploaded == 0 && kind_of(rc) == K_PROTOCOL &&
                    (s->t.code == 0 || s->t.code == 421);
        if (rc == CURLE_OK || attempt > 0 || !stale || mono_ms() - start >= timeout_ms)
            break;
    }
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 0L);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, NULL);
    curl_slist_free_all(rcpt_list);

    if (rc == CURLE_OK) {
        out->status = EMAIL_SENT;
        out->code = s->t.code;
        snprintf(out->reply, sizeof out->reply, "%s", s->t.reply);
        return;
    }
    classify(s, rc, out);
}
