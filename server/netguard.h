/*
 * The webhooks' guard against server-side request forgery: a webhook URL
 * may not reach this machine or its private networks. Checked when an
 * endpoint is created or changed (webhook_url_check, which resolves the
 * host) and again at every connection the delivery worker opens
 * (addr_refusal on the very address connected to, so a name that
 * resolves to a public address at creation and to 127.0.0.1 later, DNS
 * rebinding, is refused too).
 */
#ifndef MARKET_NETGUARD_H
#define MARKET_NETGUARD_H

#include <stdbool.h>

#include <sys/socket.h>

/*
 * NULL when sa may be connected to; else what it is: "loopback",
 * "private" (RFC 1918, shared 100.64/10, IPv6 unique-local and
 * site-local), "link-local", "unspecified" (0.0.0.0/8, ::), "multicast"
 * or "reserved" (240/4, broadcast, documentation and benchmark ranges).
 * An IPv4-mapped, IPv4-compatible or NAT64 (64:ff9b::/96) IPv6 address
 * is judged by the IPv4 address inside it.
 */
const char *addr_refusal(const struct sockaddr *sa);

/*
 * True when url may be a webhook endpoint: an https:// URL (or http://
 * when insecure) without user name or password, whose host is not and
 * does not resolve to an address addr_refusal() refuses (skipped when
 * insecure). Blocking: resolves the host. On false, *why (caller frees)
 * says why, in one of the forms listed in messages_zh.c ("Webhooks").
 */
bool webhook_url_check(const char *url, bool insecure, char **why);

#endif
