/* smtp.h - the SMTP session of a drudge-email process (smtp.c). */
#ifndef DRUDGE_EMAIL_SMTP_H
#define DRUDGE_EMAIL_SMTP_H

#include <curl/curl.h>

#include "email.h"

/* What one send means for the job. */
typedef enum {
    EMAIL_SENT = 0,    /* 2xx after the data: done */
    EMAIL_TEMPORARY,   /* 4xx, or the connection lost mid-transaction: retry */
    EMAIL_PERMANENT,   /* 5xx for this message: fail */
    EMAIL_UNAVAILABLE, /* no session: cannot connect, TLS, login, server refusing */
} email_send_status;

typedef struct email_smtp_options {
    const char *url;      /* smtp://host[:port] or smtps://... */
    const char *starttls; /* required | optional | never */
    const char *user;     /* "" = no AUTH */
    const char *password; /* copied; NULL = none */
    long connect_timeout_ms;
} email_smtp_options;

typedef struct email_send_result {
    email_send_status status;
    int code;                    /* SMTP reply code that decided it, 0 = none */
    char reply[EMAIL_REPLY_MAX]; /* the server's last reply, one line */
    char error[EMAIL_ERR_MAX];   /* what went wrong (unless sent), one line */
    long new_connections;        /* connections this send opened */
} email_send_result;

typedef struct email_smtp email_smtp;

/* A session for o (strings copied). NULL with the reason in err. Free
 * with email_smtp_free(). No connection is made until the first send. */
email_smtp *email_smtp_new(const email_smtp_options *o, char *err, size_t errcap);
/* The easy handle (borrowed), for curl_mime_init(). */
CURL *email_smtp_handle(email_smtp *s);
/* Send one message: envelope from and recipients, the message headers and
 * MIME tree from mime.c (borrowed for the call). The connection of the
 * previous send is reused; if it turns out dead before anything of this
 * message was accepted, one fresh connection is tried at once. timeout_ms
 * bounds the whole send. Always fills *out. */
void email_smtp_send(email_smtp *s, const char *from, const char *const *rcpt, size_t nrcpt,
                     struct curl_slist *headers, curl_mime *mime, long timeout_ms,
                     email_send_result *out);
void email_smtp_free(email_smtp *s);

#endif
