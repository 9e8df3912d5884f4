/* guard.c - which URLs a page rendered by drudge-pdf may load.
 *
 * render.c asks this for every request the browser pauses (DevTools Fetch
 * interception: the page itself, sub-resources, redirects, frames) and for
 * the job's URL before the browser sees it. Only http, https and data: pass;
 * the host must be on pdf.allowed_hosts when that list is set; and unless
 * pdf.allow_private_networks, every address the host resolves to must be
 * public - no loopback, private, link-local (the cloud metadata service at
 * 169.254.169.254), CGNAT or reserved ranges, in IPv4 or any IPv6 form that
 * embeds one. Parsing and classification are pure; name resolution goes
 * through a callback so tests can feed it answers.
 *
 * What the guard cannot see: the browser resolves the name again when it
 * connects (a DNS answer that changes in between - rebinding - is not
 * caught), and traffic that is not a fetch (WebSocket, WebRTC, preconnect)
 * never reaches it; render.c closes those with a Content-Security-Policy and
 * launch flags instead.
 */
#include "pdf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define RESOLVE_MAX 16 /* addresses checked per host */

int pdf_url_parse(const char *url, pdf_url *out)
{
    memset(out, 0, sizeof *out);
    if (url == NULL || !isalpha((unsigned char)url[0]))
        return -1;
    size_t i = 0;
    while (isalnum((unsigned char)url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.') {
        if (i + 1 >= sizeof out->scheme)
            return -1;
        out->scheme[i] = (char)tolower((unsigned char)url[i]);
        i++;
    }
    if (url[i] != ':')
        return -1;
    out->scheme[i] = '\0';
    const char *rest = url + i + 1;
    int http = strcmp(out->scheme, "http") == 0, https = strcmp(out->scheme, "https") == 0;
    if (!http && !https)
        return 0; /* data:, file:, javascript:... have no host we need */
    if (rest[0] != '/' || rest[1] != '/')
        return -1;
    rest += 2;
    size_t alen = strcspn(rest, "/?#\\");
    const char *auth = rest, *end = rest + alen;
    /* userinfo ends at the last '@' of the authority */
    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            auth = p + 1;
    const char *host = auth, *host_end, *port = NULL;
    if (*auth == '[') {
        const char *close = memchr(auth, ']', (size_t)(end - auth));
        if (close == NULL)
            return -1;
        host = auth + 1;
        host_end = close;
        if (close + 1 < end) {
            if (close[1] != ':')
                return -1;
            port = close + 2;
        }
    } else {
        const char *colon = memchr(auth, ':', (size_t)(end - auth));
        host_end = colon ? colon : end;
        if (colon)
            port = colon + 1;
    }
    size_t hlen = (size_t)(host_end - host);
    while (hlen > 0 && host[hlen - 1] == '.')
        hlen--;
    if (hlen == 0 || hlen >= sizeof out->host)
        return -1;
    for (size_t k = 0; k < hlen; k++) {
        unsigned char ch = (unsigned char)host[k];
        if (ch <= 0x20 || ch >= 0x7f || ch == '%' || ch == '/' || ch == '@')
            return -1;
        out->host[k] = (char)tolower(ch);
    }
    out->host[hlen] = '\0';
    out->port = https ? 443 : 80;
    if (port != NULL && port < end) {
        long v = 0;
        for (const char *p = port; p < end; p++) {
            if (!isdigit((unsigned char)*p) || v > 65535)
                return -1;
            v = v * 10 + (*p - '0');
        }
        if (v < 1 || v > 65535)
            return -1;
        out->port = (int)v;
    }
    return 0;
}

/* Host-order IPv4 address: 1 if public. */
static int v4_is_public(uint32_t a)
{
    static const struct {
        uint32_t net;
        int bits;
    } special[] = {
        {0x00000000u, 8},  /* "this network" */
        {0x0a000000u, 8},  /* private */
        {0x64400000u, 10}, /* CGNAT */
        {0x7f000000u, 8},  /* loopback */
        {0xa9fe0000u, 16}, /* link-local, cloud metadata */
        {0xac100000u, 12}, /* private */
        {0xc0000000u, 24}, /* IETF protocol assignments */
        {0xc0000200u, 24}, /* TEST-NET-1 */
        {0xc0586300u, 24}, /* 6to4 relay anycast */
        {0xc0a80000u, 16}, /* private */
        {0xc6120000u, 15}, /* benchmarking */
        {0xc6336400u, 24}, /* TEST-NET-2 */
        {0xcb007100u, 24}, /* TEST-NET-3 */
        {0xe0000000u, 4},  /* multicast */
        {0xf0000000u, 4},  /* reserved, broadcast */
    };
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
        uint32_t mask = special[i].bits == 0 ? 0 : 0xffffffffu << (32 - special[i].bits);
        if ((a & mask) == special[i].net)
            return 0;
    }
    return 1;
}

static uint32_t v4_at(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int v6_prefix(const uint8_t *a, const uint8_t *p, int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, p, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (p[full] & mask);
}

static int v6_is_public(const uint8_t *a)
{
    static const uint8_t zero[16] = {0};
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    static const struct {
        uint8_t p[16];
        int bits;
    } special[] = {
        {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48}, /* local-use NAT64 */
        {{0x01, 0x00}, 64},                         /* discard */
        {{0x20, 0x01}, 23},                         /* IETF protocol assignments, Teredo */
        {{0x20, 0x01, 0x0d, 0xb8}, 32},             /* documentation */
        {{0x3f, 0xff}, 20},                         /* documentation */
        {{0xfc}, 7},                                /* unique local */
        {{0xfe, 0x80}, 10},                         /* link-local */
        {{0xfe, 0xc0}, 10},                         /* site-local (deprecated) */
        {{0xff}, 8},                                /* multicast */
    };
    /* ::/96 covers ::, ::1 and IPv4-compatible addresses */
    if (memcmp(a, zero, 12) == 0 || memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
        return v4_is_public(v4_at(a + 12));
    if (a[0] == 0x20 && a[1] == 0x02) /* 6to4 embeds the IPv4 address */
        return v4_is_public(v4_at(a + 2));
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (v6_prefix(a, special[i].p, special[i].bits))
            return 0;
    return 1;
}

int pdf_addr_is_public(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return v4_is_public(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return v6_is_public(in6->sin6_addr.s6_addr);
    }
    return 0;
}

int pdf_host_matches(const char *host, const char *pattern)
{
    if (pattern[0] == '*' && pattern[1] == '.') {
        size_t hl = strlen(host), sl = strlen(pattern + 1); /* suffix ".example.com" */
        return hl > sl && strcasecmp(host + hl - sl, pattern + 1) == 0;
    }
    size_t pl = strlen(pattern);
    while (pl > 0 && pattern[pl - 1] == '.')
        pl--;
    return strlen(host) == pl && strncasecmp(host, pattern, pl) == 0;
}

int pdf_resolve_system(void *ud, const char *host, struct sockaddr_storage *out, int max, char *why,
                       size_t whycap)
{
    (void)ud;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        snprintf(why, whycap, "%s", gai_strerror(rc));
        return -1;
    }
    int n = 0;
    for (struct addrinfo *ai = res; ai != NULL && n < max; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof *out)
            continue;
        memset(&out[n], 0, sizeof out[n]);
        memcpy(&out[n], ai->ai_addr, ai->ai_addrlen);
        n++;
    }
    freeaddrinfo(res);
    if (n == 0)
        snprintf(why, whycap, "no addresses");
    return n > 0 ? n : -1;
}

void pdf_guard_init(pdf_guard *g, char *const *allowed_hosts, size_t nallowed_hosts,
                    int allow_private, pdf_resolve_fn resolve, void *resolve_ud)
{
    memset(g, 0, sizeof *g);
    g->allowed_hosts = allowed_hosts;
    g->nallowed_hosts = nallowed_hosts;
    g->allow_private = allow_private;
    g->resolve = resolve ? resolve : pdf_resolve_system;
    g->resolve_ud = resolve_ud;
}

void pdf_guard_reset(pdf_guard *g)
{
    g->ncache = 0;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
    const void *a = sa->sa_family == AF_INET
                        ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
                        : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (inet_ntop(sa->sa_family, a, out, (socklen_t)cap) == NULL)
        snprintf(out, cap, "?");
}

/* host is `name` or ends in ".name". */
static int has_suffix(const char *host, const char *name)
{
    size_t hl = strlen(host), nl = strlen(name);
    return (hl == nl && strcmp(host, name) == 0) ||
           (hl > nl && host[hl - nl - 1] == '.' && strcmp(host + hl - nl, name) == 0);
}

/* The address verdict for host (literal or name): a PDF_GUARD_* value. */
static int check_addresses(pdf_guard *g, const char *host, char *why, size_t whycap)
{
    struct sockaddr_storage addrs[RESOLVE_MAX];
    int n;
    struct sockaddr_in *in = (struct sockaddr_in *)&addrs[0];
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addrs[0];
    memset(addrs, 0, sizeof addrs[0]);
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        n = 1;
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        n = 1;
    } else if (has_suffix(host, "localhost")) {
        /* RFC 6761: always loopback, whatever a resolver says */
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(0x7f000001u);
        n = 1;
    } else if (has_suffix(host, "invalid")) {
        /* never exists (the html jobs' own address ends here too); asking
         * DNS would only cost time */
        snprintf(why, whycap, "cannot resolve host \"%s\" (.invalid)", host);
        return PDF_GUARD_UNRESOLVED;
    } else {
        char err[128] = "";
        n = g->resolve(g->resolve_ud, host, addrs, RESOLVE_MAX, err, sizeof err);
        if (n <= 0) {
            snprintf(why, whycap, "cannot resolve host \"%s\" (%s)", host,
                     err[0] ? err : "no addresses");
            return PDF_GUARD_UNRESOLVED;
        }
    }
    for (int i = 0; i < n; i++) {
        if (!pdf_addr_is_public((const struct sockaddr *)&addrs[i])) {
            char text[INET6_ADDRSTRLEN];
            addr_text((const struct sockaddr *)&addrs[i], text, sizeof text);
            if (strcmp(text, host) == 0)
                snprintf(why, whycap,
                         "address %s is loopback, private or link-local "
                         "(pdf.allow_private_networks is off)",
                         text);
            else
                snprintf(why, whycap,
                         "host \"%s\" resolves to %s, a loopback, private or link-local address "
                         "(pdf.allow_private_networks is off)",
                         host, text);
            return PDF_GUARD_REFUSED;
        }
    }
    return PDF_GUARD_OK;
}

int pdf_guard_check(pdf_guard *g, const char *url, char *why, size_t whycap)
{
    pdf_url u;
    if (pdf_url_parse(url, &u) < 0) {
        snprintf(why, whycap, "not a URL that can be checked");
        return PDF_GUARD_REFUSED;
    }
    if (strcmp(u.scheme, "data") == 0)
        return PDF_GUARD_OK;
    if (strcmp(u.scheme, "http") != 0 && strcmp(u.scheme, "https") != 0) {
        snprintf(why, whycap, "scheme \"%s:\" is not allowed (only http, https and data)",
                 u.scheme);
        return PDF_GUARD_REFUSED;
    }
    if (g->nallowed_hosts > 0) {
        int listed = 0;
        for (size_t i = 0; i < g->nallowed_hosts && !listed; i++)
            listed = pdf_host_matches(u.host, g->allowed_hosts[i]);
        if (!listed) {
            snprintf(why, whycap, "host \"%s\" is not in pdf.allowed_hosts", u.host);
            return PDF_GUARD_REFUSED;
        }
    }
    if (g->allow_private)
        return PDF_GUARD_OK;
    for (size_t i = 0; i < g->ncache; i++) {
        if (strcmp(g->cache[i].host, u.host) == 0) {
            if (g->cache[i].verdict != PDF_GUARD_OK)
                snprintf(why, whycap, "%s", g->cache[i].why);
            return g->cache[i].verdict;
        }
    }
    int verdict = check_addresses(g, u.host, why, whycap);
    if (g->ncache < PDF_GUARD_CACHE) {
        snprintf(g->cache[g->ncache].host, sizeof g->cache[g->ncache].host, "%s", u.host);
        g->cache[g->ncache].verdict = verdict;
        snprintf(g->cache[g->ncache].why, sizeof g->cache[g->ncache].why, "%s",
                 verdict == PDF_GUARD_OK ? "" : why);
        g->ncache++;
    }
    return verdict;
}
