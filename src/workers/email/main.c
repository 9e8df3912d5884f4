/* drudge-email - sends email over SMTP with libcurl. A job (class EmailJob)
 * is {to, cc, bcc, from, reply_to, subject, text, html, attachments,
 * headers}: message.c checks it, attach.c opens its files, mime.c builds
 * it, smtp.c sends it over the connection the previous job left open.
 * SMTP settings come from the email: section of the config and the
 * password from $DRUDGE_SMTP_PASSWORD, never from a job.
 *
 * Outcomes: 2xx done (result {"message_id", "reply"}); 4xx or a connection
 * lost mid-transaction retry; 5xx fail; no session (cannot connect, TLS,
 * login) unavailable - the runtime's circuit breaker pauses EmailJob and
 * sending resumes by itself when the server is back. */
#include "drudge.h"
#include "mime.h"
#include "smtp.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* After an unavailable send, the other jobs of a fetched batch are given
 * back at once for this long instead of each waiting out a connect. */
#define DOWN_SHORTCUT_MS 1000
#define DEADLINE_MARGIN_MS 1000 /* the send ends this long before the job's deadline */

typedef struct email_worker {
    const drudge_config *cfg;
    email_address from; /* email.from */
    email_policy policy;
    email_smtp *smtp;
    long long down_until_ms; /* monotonic */
    char down_error[EMAIL_ERR_MAX];
} email_worker;

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Open every attachment below email.attachments_dir and check the sizes.
 * files[i].fd = -1 for those not opened. Returns 0 or a failing outcome. */
static int open_attachments(email_worker *w, drudge_ctx *ctx, const email_message *m,
                            email_file *files, drudge_outcome *o)
{
    const drudge_config *cfg = w->cfg;
    uint64_t total = m->text_len + m->html_len;
    char why[EMAIL_ERR_MAX];
    int dirfd = open(cfg->email_attachments_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        *o = drudge_ctx_error(ctx, DRUDGE_FAIL, "email.attachments_dir \"%s\": %s",
                              cfg->email_attachments_dir, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < m->nattachments; i++) {
        const char *path = m->attachments[i].path;
        int fd = email_attach_open(dirfd, path, &files[i].size, why, sizeof why);
        if (fd < 0) {
            /* bad or missing files are the job's fault; running out of fds
             * or memory is not */
            int transient = errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == EIO ||
                            errno == EINTR;
            *o = drudge_ctx_error(ctx, transient ? DRUDGE_RETRY : DRUDGE_FAIL, "%s", why);
            close(dirfd);
            return -1;
        }
        files[i].fd = fd;
        if (files[i].size > cfg->email_max_attachment_bytes) {
            *o = drudge_ctx_error(ctx, DRUDGE_FAIL,
                                  "attachment \"%s\" is %llu bytes, more than "
                                  "email.max_attachment_bytes (%zu)",
                                  path, (unsigned long long)files[i].size,
                                  cfg->email_max_attachment_bytes);
            close(dirfd);
            return -1;
        }
        total += files[i].size;
        if (total > cfg->email_max_message_bytes) {
            *o = drudge_ctx_error(ctx, DRUDGE_FAIL,
                                  "the message is over %llu bytes with attachment \"%s\", more "
                                  "than email.max_message_bytes (%zu)",
                                  (unsigned long long)total, path, cfg->email_max_message_bytes);
            close(dirfd);
            return -1;
        }
    }
    close(dirfd);
    return 0;
}

static drudge_outcome result_of(drudge_ctx *ctx, email_worker *w, const email_send_result *r,
                                const char *message_id)
{
    switch (r->status) {
    case EMAIL_SENT: {
        json_t *res = json_pack("{s:s, s:s}", "message_id", message_id, "reply", r->reply);
        char *text = res ? json_dumps(res, JSON_COMPACT) : NULL;
        json_decref(res);
        if (text == NULL) /* sent: a lost result is no reason to send twice */
            return DRUDGE_DONE;
        drudge_ctx_set_result(ctx, text);
        free(text);
        return DRUDGE_DONE;
    }
    case EMAIL_TEMPORARY: return drudge_ctx_error(ctx, DRUDGE_RETRY, "%s", r->error);
    case EMAIL_PERMANENT: return drudge_ctx_error(ctx, DRUDGE_FAIL, "%s", r->error);
    case EMAIL_UNAVAILABLE:
        w->down_until_ms = mono_ms() + DOWN_SHORTCUT_MS;
        snprintf(w->down_error, sizeof w->down_error, "%s", r->error);
        return drudge_ctx_error(ctx, DRUDGE_UNAVAILABLE, "%s", r->error);
    }
    return drudge_ctx_error(ctx, DRUDGE_RETRY, "unknown send status");
}

static drudge_outcome send_email(drudge_ctx *ctx, const drudge_job *job, void *userdata)
{
    email_worker *w = userdata;
    email_message m;
    email_file *files = NULL;
    curl_mime *mime = NULL;
    struct curl_slist *headers = NULL;
    const char **rcpt = NULL;
    char why[EMAIL_ERR_MAX], message_id[EMAIL_MESSAGE_ID_MAX + 1];
    drudge_outcome o;

    if (email_message_parse(&m, job->json, &w->policy, why, sizeof why) < 0)
        return drudge_ctx_error(ctx, DRUDGE_FAIL, "%s", why);
    if (email_message_id(message_id, sizeof message_id, job->id, email_address_domain(&m.from)) <
        0) {
        o = drudge_ctx_error(ctx, DRUDGE_FAIL, "job id too long for a Message-ID");
        goto out;
    }
    files = calloc(m.nattachments ? m.nattachments : 1, sizeof *files);
    if (files == NULL) {
        o = drudge_ctx_error(ctx, DRUDGE_RETRY, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < m.nattachments; i++)
        files[i].fd = -1;
    if (m.nattachments && open_attachments(w, ctx, &m, files, &o) < 0)
        goto out;
    /* the server just failed: give the rest of the batch back untried */
    if (mono_ms() < w->down_until_ms) {
        o = drudge_ctx_error(ctx, DRUDGE_UNAVAILABLE, "%s", w->down_error);
        goto out;
    }
    if (email_mime_build(email_smtp_handle(w->smtp), &m, message_id, time(NULL), files, &mime,
                         &headers, why, sizeof why) < 0) {
        o = drudge_ctx_error(ctx, DRUDGE_RETRY, "%s", why);
        goto out;
    }
    size_t nrcpt = 0;
    rcpt = email_message_recipients(&m, &nrcpt);
    if (rcpt == NULL) {
        o = drudge_ctx_error(ctx, DRUDGE_RETRY, "out of memory");
        goto out;
    }
    long long timeout = (long long)(w->cfg->email_timeout * 1000);
    long long left = drudge_ctx_deadline_ms(ctx) - wall_ms() - DEADLINE_MARGIN_MS;
    if (left < timeout)
        timeout = left > 1000 ? left : 1000;
    email_send_result r;
    email_smtp_send(w->smtp, m.from.addr, rcpt, nrcpt, headers, mime, (long)timeout, &r);
    if (r.new_connections > 0)
        drudge_log(DRUDGE_LOG_DEBUG, "smtp_connect", "class=%s id=%s connections=%ld",
                   job->class_name, job->id, r.new_connections);
    o = result_of(ctx, w, &r, message_id);
out:
    curl_mime_free(mime); /* closes the attachment fds it took */
    for (size_t i = 0; files && i < m.nattachments; i++)
        if (files[i].fd >= 0)
            close(files[i].fd);
    curl_slist_free_all(headers);
    free(rcpt);
    free(files);
    email_message_release(&m);
    return o;
}

static int email_init(const drudge_config *cfg, void *userdata)
{
    email_worker *w = userdata;
    char why[EMAIL_ERR_MAX];
    w->cfg = cfg;
    if (email_address_parse(&w->from, cfg->email_from, why, sizeof why) < 0) {
        fprintf(stderr, "drudge-email: email.from \"%s\": %s\n", cfg->email_from, why);
        return -1;
    }
    w->policy.default_from = &w->from;
    w->policy.allowed_from = cfg->email_allowed_from;
    w->policy.nallowed_from = cfg->email_nallowed_from;
    w->policy.max_recipients = cfg->email_max_recipients;
    w->policy.max_message_bytes = cfg->email_max_message_bytes;

    const char *password = getenv("DRUDGE_SMTP_PASSWORD");
    if (cfg->email_user[0] != '\0' && password == NULL) {
        fprintf(stderr, "drudge-email: email.user \"%s\" is set but $DRUDGE_SMTP_PASSWORD is not\n",
                cfg->email_user);
        return -1;
    }
    if (cfg->email_user[0] == '\0' && password != NULL && password[0] != '\0')
        drudge_log(DRUDGE_LOG_WARN, "smtp_password_unused",
                   "note=\"DRUDGE_SMTP_PASSWORD is set but email.user is empty: no login\"");
    email_smtp_options o = {
        .url = cfg->email_smtp_url,
        .starttls = cfg->email_starttls,
        .user = cfg->email_user,
        .password = password,
        .connect_timeout_ms = (long)(cfg->email_connect_timeout * 1000),
    };
    w->smtp = email_smtp_new(&o, why, sizeof why);
    if (w->smtp == NULL) {
        fprintf(stderr, "drudge-email: %s\n", why);
        return -1;
    }
    return 0;
}

static void email_fini(void *userdata)
{
    email_worker *w = userdata;
    email_smtp_free(w->smtp);
    w->smtp = NULL;
}

static void email_version(void *userdata)
{
    (void)userdata;
    printf("libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
}

int main(int argc, char **argv)
{
    static email_worker worker;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "drudge-email: cannot initialise libcurl\n");
        return 1;
    }
    drudge_worker_def def = {
        .program = "drudge-email",
        .default_class = "EmailJob",
        .handler = send_email,
        .userdata = &worker,
        .init = email_init,
        .fini = email_fini,
        .version = email_version,
    };
    drudge_class_defaults(&def.defaults);
    def.defaults.isolation = DRUDGE_ISOLATION_INPROCESS; /* keeps the connection */
    def.defaults.timeout = 120;
    def.defaults.max_attempts = 10; /* 4xx (greylisting) deserves patience */
    def.defaults.backoff_base = 10;
    def.defaults.backoff_cap = 1800;
    int rc = drudge_worker_main(argc, argv, &def);
    curl_global_cleanup();
    return rc;
}
