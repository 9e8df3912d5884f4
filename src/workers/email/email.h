/* email.h - the parts of drudge-email and how they meet.
 *
 *   buf.c       a growable byte string for header text (pure)
 *   encode.c    header encodings: RFC 2047 words, folding, Date, Message-ID,
 *               body line ends and transfer encoding choice (pure)
 *   address.c   "Name <user@example.com>" parsing, checks, header form (pure)
 *   message.c   a job's JSON -> a checked message; envelope recipients (pure)
 *   attach.c    opening attachment files inside email.attachments_dir
 *   mime.c      a checked message -> libcurl's curl_mime and header list
 *   smtp.c      the SMTP session: one easy handle, one reused connection,
 *               what a reply or a libcurl error means for the job
 *   main.c      the worker definition and the handler that joins them
 *
 * The pure parts take bytes and give bytes (tests/unit/test_email_*.c);
 * only mime.c and smtp.c know libcurl. Strings returned are owned by the
 * caller unless a comment says borrowed; `_release` frees what a
 * caller-owned struct holds.
 */
#ifndef DRUDGE_EMAIL_H
#define DRUDGE_EMAIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "strbuf.h"

#define EMAIL_ADDR_MAX 254     /* RFC 5321 path limit, without the brackets */
#define EMAIL_LOCAL_MAX 64     /* RFC 5321 local part */
#define EMAIL_NAME_MAX 256     /* display name bytes (UTF-8) */
#define EMAIL_SUBJECT_MAX 2048 /* subject bytes (UTF-8), before encoding */
#define EMAIL_HEADERS_MAX 50   /* extra headers a job may set */
#define EMAIL_HEADER_NAME_MAX 76
#define EMAIL_HEADER_VALUE_MAX 2048
#define EMAIL_ATTACHMENTS_MAX 100
#define EMAIL_FILENAME_MAX 255 /* an attachment's file name as shown */
#define EMAIL_CONTENT_TYPE_MAX 127
#define EMAIL_MESSAGE_ID_MAX (3 * 128 + EMAIL_ADDR_MAX + 8)
#define EMAIL_LINE_MAX 998  /* RFC 5322: octets per line, without CRLF */
#define EMAIL_FOLD_AT 76    /* where header lines are folded when they can be */
#define EMAIL_REPLY_MAX 512 /* an SMTP reply kept for results and errors */
#define EMAIL_ERR_MAX 768

/* Header text is built in a strbuf (src/common/strbuf.h). */

/* ------------------------------------------------------------------------
 * encode.c - header and body encodings. Pure.
 * ---------------------------------------------------------------------- */

/* Why s[0..n) cannot be a header value ("contains CR or LF", "contains a
 * control character", "is not valid UTF-8"), or NULL when it can. Tabs are
 * allowed. The string is static. */
const char *email_text_refusal(const char *s, size_t n);
/* 1 if an unstructured value must be sent as RFC 2047 encoded words:
 * non-ASCII bytes, or text that would read as an encoded word ("=?"). */
int email_needs_words(const char *s, size_t n);
/* Append s[0..n) (valid UTF-8) as "=?UTF-8?B?...?=" words of at most 75
 * characters, never splitting a character, each word after the first on a
 * folded line. *col is the current line's length, updated. */
void email_words(strbuf *out, size_t *col, const char *s, size_t n);
/* Append "Name: value\r\n" for an unstructured header (Subject, X-...):
 * the value raw when it is printable ASCII that fits a line, else encoded
 * words. The value must have passed email_text_refusal(). */
void email_header_text(strbuf *out, const char *name, const char *value);
/* "<id@domain>" for a job id: characters outside a dot-atom (':' and
 * misplaced dots) become "=XX", so the id maps to one Message-ID and back.
 * Returns 0, or -1 if it does not fit cap. */
int email_message_id(char *out, size_t cap, const char *job_id, const char *domain);
/* RFC 5322 date of t in UTC: "Tue, 14 Nov 2023 10:00:00 +0000" (English
 * names, whatever the locale). Returns 0 or -1 (cap too small). */
int email_date(char *out, size_t cap, time_t t);

/* A body made ready for MIME: CRLF line ends (lone CR and LF become CRLF),
 * and the transfer encoding it needs. */
typedef struct email_body {
    char *data; /* owned */
    size_t len;
    const char *encoding; /* "7bit" or "quoted-printable" (static) */
} email_body;

/* 7bit when the text is ASCII with lines of at most 998 octets, else
 * quoted-printable. Returns 0, or -1 when out of memory. */
int email_body_prepare(email_body *out, const char *text, size_t n);
void email_body_release(email_body *b);

/* ------------------------------------------------------------------------
 * address.c - mailboxes. Pure.
 * ---------------------------------------------------------------------- */

typedef struct email_address {
    char name[EMAIL_NAME_MAX + 1]; /* display name (UTF-8), "" = none */
    char addr[EMAIL_ADDR_MAX + 1]; /* addr-spec, ASCII: local@domain */
} email_address;

/* Parse "user@example.com", "Name <user@example.com>" or
 * "\"Doe, Jane\" <jane@example.com>". The address must be a dot-atom local
 * part and a host name (ASCII; IDNs in punycode); quoted local parts and
 * address literals are refused. Returns 0, or -1 with the reason in why. */
int email_address_parse(email_address *out, const char *text, char *why, size_t whycap);
/* 0 if addr is a valid addr-spec as above, else -1 with the reason. */
int email_addr_spec_check(const char *addr, char *why, size_t whycap);
/* The domain part (borrowed from a). */
const char *email_address_domain(const email_address *a);
/* Append the mailbox as a header shows it: the name as an atom phrase, a
 * quoted string or encoded words, then "<addr>"; without a name the bare
 * addr. *col as email_words(). */
void email_address_format(strbuf *out, size_t *col, const email_address *a);
/* Append "Name: a, b, ...\r\n", folded between mailboxes. n >= 1. */
void email_address_header(strbuf *out, const char *name, const email_address *list, size_t n);
/* 1 if addr matches one of the fnmatch(3) patterns, case-insensitively. */
int email_address_allowed(const char *addr, char *const *patterns, size_t npatterns);

/* ------------------------------------------------------------------------
 * message.c - a job's JSON as a checked message. Pure.
 *
 * Job fields: to, cc, bcc (a string or a list of strings), reply_to (the
 * same), from (a string), subject (a string, required), text, html (at
 * least one non-empty), attachments ([{path, filename, content_type}]),
 * headers ({name: value}), and id (the job id). Anything else is an error.
 * ---------------------------------------------------------------------- */

typedef struct email_attachment {
    const char *path;         /* relative to attachments_dir (borrowed) */
    const char *filename;     /* as the recipient sees it (borrowed, or from path) */
    const char *content_type; /* type/subtype (borrowed, or static default) */
} email_attachment;

typedef struct email_header {
    const char *name; /* borrowed from the job */
    const char *value;
} email_header;

typedef struct email_message {
    email_address from;
    email_address *to, *cc, *bcc, *reply_to; /* owned arrays */
    size_t nto, ncc, nbcc, nreply_to;
    const char *subject;     /* borrowed from the job */
    const char *text, *html; /* borrowed; NULL when absent or empty */
    size_t text_len, html_len;
    email_attachment *attachments; /* owned array */
    size_t nattachments;
    email_header *headers; /* owned array */
    size_t nheaders;
} email_message;

/* What the configuration allows a job. */
typedef struct email_policy {
    const email_address *default_from;
    char *const *allowed_from; /* patterns for a job's own from */
    size_t nallowed_from;
    long max_recipients;
    size_t max_message_bytes; /* bodies count here; attachments when opened */
} email_policy;

/* Check `job` and fill m (strings borrowed from job, which must outlive m).
 * Returns 0, or -1 with a reason for the job's error in why (m is then
 * released). */
int email_message_parse(email_message *m, const json_t *job, const email_policy *policy, char *why,
                        size_t whycap);
void email_message_release(email_message *m);
/* The envelope recipients: to, cc and bcc, each address once (compared
 * case-insensitively). Returns a malloc'd array of addresses borrowed from
 * m (caller frees the array), with the count in *n; NULL when out of memory. */
const char **email_message_recipients(const email_message *m, size_t *n);

/* ------------------------------------------------------------------------
 * attach.c - attachment files, confined to one directory.
 * ---------------------------------------------------------------------- */

/* Open the regular file `path` below the directory dirfd without following
 * any symlink on the way (confine_open_file with CONFINE_NO_SYMLINKS; the
 * path is checked by confine_path_check, as message.c did when parsing).
 * Returns the fd (caller closes) with its size in *size, or -1 with the
 * reason in why, naming the attachment (errno kept). */
int email_attach_open(int dirfd, const char *path, uint64_t *size, char *why, size_t whycap);

#endif
