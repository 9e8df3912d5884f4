/* mime.h - a checked message as libcurl's MIME tree (mime.c). */
#ifndef DRUDGE_EMAIL_MIME_H
#define DRUDGE_EMAIL_MIME_H

#include <curl/curl.h>

#include "email.h"

/* An opened attachment (attach.c): the fd and its size at open time. */
typedef struct email_file {
    int fd;
    uint64_t size;
} email_file;

/* Build the message of m for the easy handle h: *mime_out holds the body
 * parts and attachments (curl_mime_free() it after the transfer), and
 * *headers_out the message headers (Date, From, To, Cc, Reply-To, Subject,
 * Message-ID, the job's own; curl_slist_free_all() it) for
 * CURLOPT_HTTPHEADER, which is what libcurl sends as the headers of a
 * CURLOPT_MIMEPOST mail. `files` has m->nattachments entries; their fds
 * belong to the MIME tree from now on, even when this fails. now is the
 * Date. Returns 0, or -1 (out of memory) with the reason in why. */
int email_mime_build(CURL *h, const email_message *m, const char *message_id, time_t now,
                     email_file *files, curl_mime **mime_out, struct curl_slist **headers_out,
                     char *why, size_t whycap);

#endif
