/* route.c - matching request paths against the route table (see route.h).
 * A path is compared segment by segment; literal segments must be equal,
 * parameter segments are checked by their kind. A path that has a route's
 * shape but a bad parameter is a 400 with the reason, not a 404, so that a
 * client hears "invalid class name" rather than "no such page". */
#include "route.h"

#include "drudge.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

typedef enum { SEG_FAIL, SEG_OK, SEG_BAD } seg_result;

static int file_name_valid(const char *s, size_t len)
{
    if (len == 0 || len > 255 || s[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return 0;
    return 1;
}

/* Check one parameter value of kind `kind` ("class", "id", "file",
 * "path*"); writes the reason into err when it is bad. */
static int param_valid(const char *kind, const char *value, char *err, size_t errcap)
{
    if (strcmp(kind, "class") == 0) {
        if (drudge_class_valid(value))
            return 1;
        snprintf(err, errcap,
                 "invalid class name \"%.64s\": use 1-%d characters of [A-Za-z0-9_.:-]", value,
                 DRUDGE_CLASS_MAX);
        return 0;
    }
    if (strcmp(kind, "id") == 0) {
        if (drudge_id_valid(value))
            return 1;
        snprintf(err, errcap, "invalid job id \"%.64s\": use 1-%d characters of [A-Za-z0-9_.:-]",
                 value, DRUDGE_ID_MAX);
        return 0;
    }
    if (strcmp(kind, "file") == 0) {
        if (file_name_valid(value, strlen(value)))
            return 1;
        snprintf(err, errcap, "invalid file name \"%.64s\"", value);
        return 0;
    }
    if (web_rel_path_valid(value))
        return 1;
    snprintf(err, errcap, "invalid path \"%.64s\": use segments of [A-Za-z0-9_.-]", value);
    return 0;
}

/* Match `path` against one pattern. SEG_OK fills m's parameters;
 * SEG_BAD: the shape fits but a parameter is invalid (reason in m->error). */
static seg_result match_one(const char *pattern, const char *path, web_match *m)
{
    const char *pp = pattern, *sp = path;
    m->nparams = 0;
    if (*pp != '/' || *sp != '/')
        return SEG_FAIL;
    if (strcmp(pattern, "/") == 0)
        return strcmp(path, "/") == 0 ? SEG_OK : SEG_FAIL;
    int bad = 0;
    char why[WEB_ROUTE_ERR_MAX] = "";
    while (*pp == '/' && *sp == '/') {
        pp++;
        sp++;
        size_t plen = strcspn(pp, "/"), slen = strcspn(sp, "/");
        if (plen >= 2 && pp[0] == '{' && pp[plen - 1] == '}') {
            char kind[16];
            size_t klen = plen - 2;
            if (klen >= sizeof kind || m->nparams == WEB_PARAMS_MAX)
                return SEG_FAIL; /* a pattern error; tests catch it */
            memcpy(kind, pp + 1, klen);
            kind[klen] = '\0';
            int rest = klen > 0 && kind[klen - 1] == '*';
            size_t vlen = rest ? strlen(sp) : slen;
            if (vlen == 0)
                return SEG_FAIL;
            size_t i = m->nparams++;
            m->name[i] = NULL;
            char reason[WEB_ROUTE_ERR_MAX];
            int ok = vlen <= WEB_PATH_MAX;
            if (!ok) {
                snprintf(reason, sizeof reason, "%s too long", rest ? "path" : kind);
                m->value[i][0] = '\0';
            } else {
                memcpy(m->value[i], sp, vlen);
                m->value[i][vlen] = '\0';
                ok = param_valid(kind, m->value[i], reason, sizeof reason);
            }
            if (!ok && !bad)
                snprintf(why, sizeof why, "%s", reason);
            bad |= !ok;
            pp += plen;
            sp += vlen;
            if (rest)
                break;
        } else {
            if (plen != slen || memcmp(pp, sp, plen) != 0)
                return SEG_FAIL;
            pp += plen;
            sp += slen;
        }
    }
    if (*pp != '\0' || *sp != '\0')
        return SEG_FAIL;
    if (bad) {
        snprintf(m->error, sizeof m->error, "%s", why);
        return SEG_BAD;
    }
    return SEG_OK;
}

/* Point m->name[] at the parameter names in the pattern. */
static void name_params(const char *pattern, web_match *m)
{
    static const char *const kinds[] = {"class", "id", "file", "path*"};
    size_t i = 0;
    for (const char *p = strchr(pattern, '{'); p && i < m->nparams; p = strchr(p + 1, '{')) {
        m->name[i] = "";
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            if (strncmp(p + 1, kinds[k], strlen(kinds[k])) == 0 && p[1 + strlen(kinds[k])] == '}')
                m->name[i] = kinds[k];
        i++;
    }
}

web_route_result web_route_match(const web_route *table, unsigned method, const char *path,
                                 web_match *m)
{
    web_route_result result = WEB_ROUTE_NOT_FOUND;
    char bad_error[WEB_ROUTE_ERR_MAX] = "";
    m->route = NULL;
    m->allowed = 0;
    m->error[0] = '\0';
    for (const web_route *r = table; r->pattern; r++) {
        seg_result s = match_one(r->pattern, path, m);
        if (s == SEG_FAIL)
            continue;
        if (s == SEG_BAD) {
            if (result == WEB_ROUTE_NOT_FOUND) {
                result = WEB_ROUTE_BAD_PARAM;
                snprintf(bad_error, sizeof bad_error, "%s", m->error);
            }
            continue;
        }
        if (r->methods & method) {
            name_params(r->pattern, m);
            m->route = r;
            return WEB_ROUTE_OK;
        }
        m->allowed |= r->methods;
        result = WEB_ROUTE_BAD_METHOD;
    }
    m->nparams = 0;
    if (result == WEB_ROUTE_BAD_PARAM)
        snprintf(m->error, sizeof m->error, "%s", bad_error);
    return result;
}

const char *web_match_param(const web_match *m, const char *name)
{
    for (size_t i = 0; i < m->nparams; i++)
        if (m->name[i] && strcmp(m->name[i], name) == 0)
            return m->value[i];
    return NULL;
}
