/* job.c - what a job is on the wire: its id and the checks its payload must
 * pass. Pure functions, no I/O.
 *
 * The id is the payload's top-level string "id" (1-128 chars of
 * [A-Za-z0-9_.:-]) or, when there is none, the lowercase hex SHA-256 of the
 * payload bytes, so a producer in any language knows the id before a worker
 * sees the job. A non-string "id" member is not an id (the hash is used). */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#define PAYLOAD_MAX_DEPTH 64

static int name_valid(const char *s, size_t max)
{
    size_t n = 0;
    if (s == NULL)
        return 0;
    for (; s[n]; n++) {
        char ch = s[n];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || ch == '.' || ch == ':' || ch == '-';
        if (!ok || n >= max)
            return 0;
    }
    return n >= 1;
}

int drudge_id_valid(const char *id) { return name_valid(id, DRUDGE_ID_MAX); }
int drudge_class_valid(const char *name) { return name_valid(name, DRUDGE_CLASS_MAX); }

/* The id of a payload without a usable "id": SHA-256 of its bytes, in hex. */
static void hash_id(const char *payload, size_t len, char out[DRUDGE_ID_MAX + 1])
{
    unsigned char md[32];
    static const char hex[] = "0123456789abcdef";
    drudge__sha256(payload, len, md);
    for (size_t i = 0; i < sizeof md; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * sizeof md] = '\0';
}

int drudge_job_id(const char *payload, size_t len, const json_t *parsed,
                  char out[DRUDGE_ID_MAX + 1], char *err, size_t errcap)
{
    json_t *own = NULL;
    int rc = -1;
    if (parsed == NULL)
        parsed = own = json_loadb(payload, len, 0, NULL);
    const json_t *idv = json_is_object(parsed) ? json_object_get(parsed, "id") : NULL;
    if (json_is_string(idv)) {
        const char *id = json_string_value(idv);
        if (!drudge_id_valid(id) || strlen(id) != json_string_length(idv)) {
            snprintf(err, errcap, "payload \"id\" must be 1-%d characters of [A-Za-z0-9_.:-]",
                     DRUDGE_ID_MAX);
            goto out;
        }
        memcpy(out, id, strlen(id) + 1);
        rc = 0;
        goto out;
    }
    hash_id(payload, len, out);
    rc = 0;
out:
    json_decref(own);
    return rc;
}

static int too_deep(const json_t *v, int depth)
{
    if (depth > PAYLOAD_MAX_DEPTH)
        return 1;
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach((json_t *)v, k, child) if (too_deep(child, depth + 1)) return 1;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) if (too_deep(child, depth + 1)) return 1;
    }
    return 0;
}

json_t *drudge_payload_parse(const char *payload, size_t len, size_t max_bytes, char *err,
                             size_t errcap)
{
    if (len > max_bytes) {
        snprintf(err, errcap, "payload is %zu bytes, more than the limit of %zu", len, max_bytes);
        return NULL;
    }
    json_error_t jerr;
    json_t *obj = json_loadb(payload, len, JSON_DECODE_ANY, &jerr);
    if (obj == NULL) {
        snprintf(err, errcap, "payload is not valid JSON: %s at byte %d", jerr.text, jerr.position);
        return NULL;
    }
    if (!json_is_object(obj)) {
        snprintf(err, errcap, "payload must be a JSON object, got %s",
                 json_is_array(obj) ? "an array" : json_is_string(obj) ? "a string" : "a scalar");
        json_decref(obj);
        return NULL;
    }
    if (too_deep(obj, 1)) {
        snprintf(err, errcap, "payload nests deeper than %d levels", PAYLOAD_MAX_DEPTH);
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *drudge__payload_identify(const char *payload, size_t len, size_t max_bytes,
                                 char id[DRUDGE_ID_MAX + 1], char *why, size_t whycap)
{
    json_t *obj = drudge_payload_parse(payload, len, max_bytes, why, whycap);
    if (obj && drudge_job_id(payload, len, obj, id, why, whycap) < 0) {
        json_decref(obj);
        obj = NULL;
    }
    if (obj == NULL)
        hash_id(payload, len, id);
    return obj;
}

void drudge__payload_id(const char *payload, size_t len, size_t max_bytes,
                        char out[DRUDGE_ID_MAX + 1])
{
    char why[8]; /* the reason is not wanted, only the id */
    json_decref(drudge__payload_identify(payload, len, max_bytes, out, why, sizeof why));
}
