/* calico-c-nflog: print the NFLOG records of one group, for the tests that
 * check what a Log rule (or a logged drop) sends.
 *
 *   calico-c-nflog --group N [--ready FILE] [--count K] [--timeout MS]
 *
 * Binds NFLOG group N in the current network namespace (metadata only, no
 * payload) and prints one line per record: its prefix, then the source and
 * destination address of the packet. Exits 0 after K records (default 1), 1
 * when MS milliseconds (default 10000) pass first, 2 on errors. FILE is
 * created once the group is bound, so a test sends traffic only then.
 *
 * Test-only tool: ulogd is not part of the test machines' packages.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "cleanup.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void mnl_socket_closep(struct mnl_socket **s)
{
	if (*s)
		mnl_socket_close(*s);
}

/* One NFULNL_MSG_CONFIG for @group with one attribute; waits for its ACK. */
static int config(struct mnl_socket *nl, uint16_t group, uint16_t type, const void *data,
		  size_t len)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	unsigned seq = (unsigned)time(NULL) + type;
	ssize_t n;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(group);
	mnl_attr_put(nlh, type, len, data);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	return mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), NULL, NULL) < 0 ? -errno
											  : 0;
}

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, NFULA_MAX) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

/* Prints one record; counts it in *data. */
static int record_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFULA_MAX + 1] = {};
	char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	int *count = data;

	if ((nlh->nlmsg_type & 0xff) != NFULNL_MSG_PACKET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*nfg), attr_cb, tb);
	if (tb[NFULA_PAYLOAD]) {
		const uint8_t *p = mnl_attr_get_payload(tb[NFULA_PAYLOAD]);
		uint16_t len = mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]);

		if (nfg->nfgen_family == AF_INET && len >= 20) {
			inet_ntop(AF_INET, p + 12, src, sizeof(src));
			inet_ntop(AF_INET, p + 16, dst, sizeof(dst));
		} else if (nfg->nfgen_family == AF_INET6 && len >= 40) {
			inet_ntop(AF_INET6, p + 8, src, sizeof(src));
			inet_ntop(AF_INET6, p + 24, dst, sizeof(dst));
		}
	}
	printf("%s\t%s\t%s\n", tb[NFULA_PREFIX] ? mnl_attr_get_str(tb[NFULA_PREFIX]) : "", src,
	       dst);
	fflush(stdout);
	(*count)++;
	return MNL_CB_OK;
}

static int bind_group(struct mnl_socket *nl, uint16_t group)
{
	struct nfulnl_msg_config_cmd cmd = { .command = NFULNL_CFG_CMD_BIND };
	/* the IP header is enough to name the packet */
	struct nfulnl_msg_config_mode mode = { .copy_range = htonl(40),
					       .copy_mode = NFULNL_COPY_PACKET };
	int r;

	r = config(nl, group, NFULA_CFG_CMD, &cmd, sizeof(cmd));
	if (r == 0)
		r = config(nl, group, NFULA_CFG_MODE, &mode, sizeof(mode));
	return r;
}

static int read_records(struct mnl_socket *nl, int want, long deadline)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int count = 0;

	while (count < want) {
		struct pollfd p = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return 1;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return errno == ENOBUFS ? 0 : 2; /* records were lost: enough for a test */
		if (mnl_cb_run(buf, (size_t)n, 0, 0, record_cb, &count) < 0)
			return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "group", required_argument, NULL, 'g' },
		{ "ready", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{},
	};
	_cleanup_(mnl_socket_closep) struct mnl_socket *nl = NULL;
	const char *ready = NULL;
	long group = -1, timeout = 10000;
	int c, want = 1, fd, r;

	while ((c = getopt_long(argc, argv, "g:r:c:t:", opts, NULL)) != -1) {
		if (c == 'g')
			group = strtol(optarg, NULL, 10);
		else if (c == 'r')
			ready = optarg;
		else if (c == 'c')
			want = atoi(optarg);
		else if (c == 't')
			timeout = strtol(optarg, NULL, 10);
		else
			return 2;
	}
	if (group < 0 || group > 65535 || want < 1 || optind != argc) {
		fprintf(stderr, "usage: calico-c-nflog --group N [--ready FILE] [--count K] "
				"[--timeout MS]\n");
		return 2;
	}
	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		return 2;
	}
	r = bind_group(nl, (uint16_t)group);
	if (r < 0) {
		fprintf(stderr, "cannot bind NFLOG group %ld: %s\n", group, strerror(-r));
		return 2;
	}
	if (ready) {
		fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			perror(ready);
			return 2;
		}
		close(fd);
	}
	return read_records(nl, want, now_ms() + timeout);
}
