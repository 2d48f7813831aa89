/* Calico's failsafe ports (FelixConfiguration FailsafeInboundHostPorts /
 * FailsafeOutboundHostPorts): traffic to (inbound) or from (outbound) the
 * host on these ports is accepted before any host endpoint policy, so a bad
 * policy never cuts a node off its control plane.
 *
 * Two spellings, as Calico has them: the setting text
 * "[proto:][cidr:]port,..." (proto tcp or udp, tcp when absent; an IPv6
 * CIDR in brackets; "none" or "" for no ports) and the FelixConfiguration
 * list [{"protocol": "TCP", "port": 22, "net": "10.0.0.0/8"}, ...].
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "prefix.h"

#define POLICY_FAILSAFE_IN_DEFAULT \
	"tcp:22,udp:68,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667"
#define POLICY_FAILSAFE_OUT_DEFAULT \
	"udp:53,udp:67,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667"
#define POLICY_FAILSAFE_MAX 64

struct policy_failsafe {
	uint8_t proto;	      /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
	uint16_t port;
	struct in_prefix net; /* inbound: source, outbound: destination; AF_UNSPEC: any */
};

/* A list of failsafe ports (by value). */
struct policy_failsafes {
	struct policy_failsafe v[POLICY_FAILSAFE_MAX];
	size_t n;
};

/**
 * policy_failsafes_parse - the setting text
 * @text: "[proto:][cidr:]port,...", "none" or ""
 * @ret: filled on success
 *
 * Return: 0 or -EINVAL (bad entry, more than POLICY_FAILSAFE_MAX).
 */
int policy_failsafes_parse(const char *text, struct policy_failsafes *ret);

/**
 * policy_failsafes_from_json - a FelixConfiguration list
 * @list: [{"protocol", "port", "net"}, ...] (protocol TCP, UDP or SCTP in any
 *   case, TCP when absent; port 0..65535 required; net a CIDR or address)
 * @ret: filled on success
 * @ret_error: malloc'd message naming the entry and field, on -EINVAL
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
int policy_failsafes_from_json(const json_t *list, struct policy_failsafes *ret,
			       char **ret_error);

/* Whether two lists are the same (order counts: it is the rules' order). */
int policy_failsafes_cmp(const struct policy_failsafes *a, const struct policy_failsafes *b);
