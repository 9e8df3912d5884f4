/* addr.c - which destination addresses drudge-http refuses while
 * http.allow_private_networks is off: loopback, private, link-local and the
 * other special-purpose ranges of RFC 6890, for IPv4 and IPv6. An IPv6
 * address that carries an IPv4 one (mapped, compatible, NAT64, 6to4,
 * Teredo) is judged by the IPv4 address inside, so ::ffff:127.0.0.1 is
 * loopback. Pure: resolve.c and the socket callback in session.c ask. */
#include "http.h"

#include <netinet/in.h>
#include <string.h>

typedef struct prefix_rule {
    unsigned char bytes[16];
    unsigned bits;
    const char *refusal;  /* NULL: look at the IPv4 address inside */
    int v4_offset;        /* where the embedded IPv4 address starts */
    unsigned char v4_xor; /* Teredo stores the client address inverted */
} prefix_rule;

/* First match wins, so narrower prefixes come before wider ones. */
static const prefix_rule v4_rules[] = {
    {{0}, 8, "unspecified", 0, 0},                 /* 0.0.0.0/8 "this network" */
    {{10}, 8, "private", 0, 0},                    /* 10.0.0.0/8 */
    {{100, 64}, 10, "shared (carrier-grade NAT)", 0, 0}, /* 100.64.0.0/10 */
    {{127}, 8, "loopback", 0, 0},                  /* 127.0.0.0/8 */
    {{169, 254}, 16, "link-local", 0, 0},          /* 169.254.0.0/16, cloud metadata */
    {{172, 16}, 12, "private", 0, 0},              /* 172.16.0.0/12 */
    {{192, 0, 0}, 24, "reserved", 0, 0},           /* 192.0.0.0/24 IETF assignments */
    {{192, 0, 2}, 24, "documentation", 0, 0},      /* TEST-NET-1 */
    {{192, 88, 99}, 24, "reserved", 0, 0},         /* 6to4 relay anycast */
    {{192, 168}, 16, "private", 0, 0},             /* 192.168.0.0/16 */
    {{198, 18}, 15, "reserved", 0, 0},             /* benchmarking */
    {{198, 51, 100}, 24, "documentation", 0, 0},   /* TEST-NET-2 */
    {{203, 0, 113}, 24, "documentation", 0, 0},    /* TEST-NET-3 */
    {{224}, 4, "multicast", 0, 0},                 /* 224.0.0.0/4 */
    {{240}, 4, "reserved", 0, 0},                  /* 240.0.0.0/4, broadcast */
};

static const prefix_rule v6_rules[] = {
    {{0}, 128, "unspecified", 0, 0},                                   /* :: */
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "loopback", 0, 0}, /* ::1 */
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, NULL, 12, 0},     /* ::ffff:0:0/96 mapped */
    {{0}, 96, NULL, 12, 0},                                            /* ::/96 compatible */
    {{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}, 96, NULL, 12, 0},     /* ::ffff:0:0:0/96 translated */
    {{0, 0x64, 0xff, 0x9b}, 96, NULL, 12, 0},                          /* 64:ff9b::/96 NAT64 */
    {{0, 0x64, 0xff, 0x9b, 0, 1}, 48, "private", 0, 0},                /* 64:ff9b:1::/48 local NAT64 */
    {{0}, 8, "reserved", 0, 0},                                        /* ::/8 the rest */
    {{0x01, 0x00}, 64, "reserved", 0, 0},                              /* 100::/64 discard */
    {{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation", 0, 0},             /* 2001:db8::/32 */
    {{0x20, 0x01, 0, 0}, 32, NULL, 12, 0xff},                          /* 2001::/32 Teredo */
    {{0x20, 0x01, 0, 0}, 23, "reserved", 0, 0},                        /* 2001::/23 IETF */
    {{0x20, 0x02}, 16, NULL, 2, 0},                                    /* 2002::/16 6to4 */
    {{0xfc}, 7, "private (unique local)", 0, 0},                       /* fc00::/7 */
    {{0xfe, 0x80}, 10, "link-local", 0, 0},                            /* fe80::/10 */
    {{0xfe, 0xc0}, 10, "private (site-local)", 0, 0},                  /* fec0::/10 */
    {{0xff}, 8, "multicast", 0, 0},                                    /* ff00::/8 */
};

static int prefix_match(const unsigned char *addr, const prefix_rule *r)
{
    unsigned full = r->bits / 8, rest = r->bits % 8;
    if (memcmp(addr, r->bytes, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (addr[full] & mask) == (r->bytes[full] & mask);
}

const char *http_addr_refusal(int family, const unsigned char *bytes)
{
    if (family == AF_INET) {
        for (size_t i = 0; i < sizeof v4_rules / sizeof v4_rules[0]; i++)
            if (prefix_match(bytes, &v4_rules[i]))
                return v4_rules[i].refusal;
        return NULL;
    }
    if (family != AF_INET6)
        return "not an IP address";
    for (size_t i = 0; i < sizeof v6_rules / sizeof v6_rules[0]; i++) {
        const prefix_rule *r = &v6_rules[i];
        if (!prefix_match(bytes, r))
            continue;
        if (r->refusal != NULL)
            return r->refusal;
        unsigned char v4[4];
        for (int j = 0; j < 4; j++)
            v4[j] = bytes[r->v4_offset + j] ^ r->v4_xor;
        return http_addr_refusal(AF_INET, v4);
    }
    return NULL;
}

const char *http_sockaddr_refusal(const struct sockaddr *sa, socklen_t len)
{
    if (sa == NULL)
        return "not an IP address";
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return http_addr_refusal(AF_INET, (const unsigned char *)&in->sin_addr);
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return http_addr_refusal(AF_INET6, (const unsigned char *)&in6->sin6_addr);
    }
    return "not an IP address";
}
