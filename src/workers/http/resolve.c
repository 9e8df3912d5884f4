/* resolve.c - resolve a destination host once, before libcurl sees it,
 * and check every address it has against the address policy (addr.c).
 * The checked addresses are then pinned (a CURLOPT_RESOLVE entry), so a
 * DNS answer that changes between the check and the connect - DNS
 * rebinding - cannot send the request somewhere else; session.c checks
 * the address again as the socket is opened. A host with one refused
 * address is refused as a whole. */
#include "http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#define PIN_ADDRS_MAX 8

/* The errors that mean "this name has no address (now)": the host is down
 * for us, which is the per-host breaker's business, not the job's. */
static const int dns_failures[] = {EAI_NONAME, EAI_AGAIN, EAI_FAIL,
#ifdef EAI_NODATA
                                   EAI_NODATA,
#endif
#ifdef EAI_ADDRFAMILY
                                   EAI_ADDRFAMILY,
#endif
};

static int is_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

http_resolve_result http_resolve(const http_url *u, int allow_private, char *pin, size_t pincap,
                                 char *err, size_t errcap)
{
    struct addrinfo hints, *res = NULL;
    char port[8];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof port, "%d", u->port);

    int rc = getaddrinfo(u->host, port, &hints, &res);
    if (rc != 0) {
        for (size_t i = 0; i < sizeof dns_failures / sizeof dns_failures[0]; i++)
            if (rc == dns_failures[i]) {
                snprintf(err, errcap, "cannot resolve %s: %s", u->host, gai_strerror(rc));
                return HTTP_RESOLVE_FAILED;
            }
        snprintf(err, errcap, "cannot resolve %s: %s", u->host, gai_strerror(rc));
        return HTTP_RESOLVE_ERROR;
    }

    http_resolve_result result = HTTP_RESOLVED;
    char addrs[PIN_ADDRS_MAX][INET6_ADDRSTRLEN];
    int v6[PIN_ADDRS_MAX];
    size_t naddrs = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN] = "?";
        if (ai->ai_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, text, sizeof text);
        else if (ai->ai_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, text,
                      sizeof text);
        else
            continue;
        const char *why = http_sockaddr_refusal(ai->ai_addr, ai->ai_addrlen);
        if (why != NULL && !allow_private) {
            if (strcmp(text, u->host) == 0)
                snprintf(err, errcap,
                         "%s is a %s address: refused (http.allow_private_networks is off)", text,
                         why);
            else
                snprintf(err, errcap,
                         "%s resolves to %s, a %s address: refused "
                         "(http.allow_private_networks is off)",
                         u->host, text, why);
            result = HTTP_RESOLVE_REFUSED;
            break;
        }
        int seen = 0;
        for (size_t i = 0; i < naddrs && !seen; i++)
            seen = strcmp(addrs[i], text) == 0;
        if (seen || naddrs == PIN_ADDRS_MAX)
            continue;
        memcpy(addrs[naddrs], text, sizeof text);
        v6[naddrs++] = ai->ai_family == AF_INET6;
    }
    freeaddrinfo(res);
    if (result != HTTP_RESOLVED)
        return result;
    if (naddrs == 0) {
        snprintf(err, errcap, "cannot resolve %s: no IP address", u->host);
        return HTTP_RESOLVE_FAILED;
    }

    pin[0] = '\0';
    if (is_literal(u->host))
        return HTTP_RESOLVED; /* libcurl does not resolve a literal */
    /* "+": the entry ages out of libcurl's DNS cache like a looked-up one,
     * so a long-lived handle does not collect every host it ever called */
    int n = snprintf(pin, pincap, "+%s:%d:", u->host, u->port);
    for (size_t i = 0; i < naddrs && n > 0 && (size_t)n < pincap; i++)
        n += snprintf(pin + n, pincap - (size_t)n, v6[i] ? "%s[%s]" : "%s%s", i ? "," : "",
                      addrs[i]);
    if (n < 0 || (size_t)n >= pincap) {
        snprintf(err, errcap, "host name %s is too long", u->host);
        return HTTP_RESOLVE_ERROR;
    }
    return HTTP_RESOLVED;
}
