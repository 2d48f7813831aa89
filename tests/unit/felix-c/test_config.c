/* felix_config_load: defaults, the "Key = Value" file, the environment (as
 * an envp array, never the real one), the precedence between them, and the
 * message for every kind of bad value; the duration and bool parsers. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "felix-c/config.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A temp dir per test, removed with its files. */
struct tmp {
	char dir[64];
	char path[8][128];
	size_t n;
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/felix-config-test-XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;

	for (size_t i = 0; i < t->n; i++)
		(void)unlink(t->path[i]);
	(void)rmdir(t->dir);
	free(t);
	return 0;
}

/* Writes @text to <dir>/<name>; returns the path (owned by @t). */
static const char *tmp_file(struct tmp *t, const char *name, const char *text)
{
	char path[sizeof(t->path[0])], *p;
	FILE *f;

	assert_true(t->n < ARRAY_SIZE(t->path));
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	p = strcpy(t->path[t->n++], path);
	f = fopen(p, "we");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return p;
}

/* Loads with a NODENAME (so the host name does not matter) unless @envp has one. */
static int load(const char *file, char *const *envp, struct felix_config *c, char **err)
{
	*err = NULL;
	memset(c, 0xa5, sizeof(*c)); /* ret is written only on success */
	return felix_config_load(file, envp, c, err);
}

static void test_defaults_without_file_or_environment(void **state)
{
	char *envp[] = { "NODENAME=node1", "PATH=/usr/bin", NULL };
	struct felix_config c;
	char *err;

	(void)state;
	assert_int_equal(load(NULL, envp, &c, &err), 0);
	assert_null(err);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	assert_null(c.log_file);
	assert_string_equal(c.nodename, "node1");
	assert_true(c.health_enabled);
	assert_string_equal(c.health_host, "0.0.0.0");
	assert_int_equal(c.health_port, 9099);
	assert_true(c.metrics_enabled);
	assert_string_equal(c.metrics_host, "0.0.0.0");
	assert_int_equal(c.metrics_port, 9091);
	assert_null(c.kubeconfig);
	assert_string_equal(c.state_dir, "/var/lib/calico-c");
	assert_string_equal(c.bird_config, "/var/lib/calico-c/bird.cfg");
	assert_string_equal(c.bird_socket, "/var/lib/calico-c/bird.ctl");
	assert_string_equal(c.bird_pidfile, "/var/lib/calico-c/bird.pid");
	assert_string_equal(c.bird_binary, "bird");
	assert_false(c.bird_start);
	assert_int_equal(c.bird_connect_retry_s, 0);
	assert_string_equal(c.cni_net_dir, "/etc/cni/net.d");
	assert_string_equal(c.mtu_file, "/var/lib/calico/mtu");
	assert_int_equal(c.mtu, 0);
	assert_string_equal(c.ip, "autodetect");
	assert_string_equal(c.ip_autodetect, "first-found");
	assert_string_equal(c.pool_cidr, "192.168.0.0/16");
	assert_int_equal(c.pool_block_size, 26);
	assert_true(c.pool_nat_outgoing);
	/* IPv6: off unless asked for; Calico's pool defaults */
	assert_string_equal(c.ip6, "");
	assert_string_equal(c.ip6_autodetect, "first-found");
	assert_string_equal(c.pool6_cidr, "");
	assert_int_equal(c.pool6_block_size, 122);
	assert_false(c.pool6_nat_outgoing);
	assert_false(c.no_default_pools);
	assert_int_equal(c.resync_ms, 90000);
	assert_int_equal(c.debounce_ms, 20);
	assert_int_equal(c.route_grace_ms, 10000);
	assert_string_equal(c.nft_table, "calico-c");
	assert_string_equal(c.secrets_namespace, "kube-system");
	assert_true(c.ipam_gc);
	assert_int_equal(c.ipam_gc_interval_ms, 60000);
	assert_int_equal(c.ipam_gc_grace_s, 300);
	assert_string_equal(c.lease_namespace, "kube-system");
	assert_string_equal(c.lease_name, "calico-c-ipam-gc");
	assert_int_equal(c.lease_duration_s, 15);
	assert_int_equal(c.as_number, 0);
	felix_config_done(&c);
	assert_null(c.nodename); /* done() clears what it frees */
	assert_null(c.state_dir);
}

static void test_nodename_defaults_to_host_name(void **state)
{
	char *envp[] = { NULL }, *empty[] = { "NODENAME=", NULL };
	char host[256] = {};
	struct felix_config c;
	char *err;

	(void)state;
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	assert_int_equal(load(NULL, envp, &c, &err), 0);
	assert_string_equal(c.nodename, host);
	felix_config_done(&c);
	assert_int_equal(load(NULL, empty, &c, &err), 0); /* empty counts as unset */
	assert_string_equal(c.nodename, host);
	felix_config_done(&c);
	assert_int_equal(load(NULL, NULL, &c, &err), 0); /* NULL envp: no environment */
	assert_string_equal(c.nodename, host);
	felix_config_done(&c);
}

static void test_state_dir_moves_bird_paths_unless_set(void **state)
{
	char *envp[] = { "NODENAME=n", "FELIX_STATEDIR=/run/felix-a",
			 "FELIX_BIRDSOCKETPATH=/run/other.ctl", NULL };
	struct felix_config c;
	char *err;

	(void)state;
	assert_int_equal(load(NULL, envp, &c, &err), 0);
	assert_string_equal(c.bird_config, "/run/felix-a/bird.cfg");
	assert_string_equal(c.bird_socket, "/run/other.ctl");
	assert_string_equal(c.bird_pidfile, "/run/felix-a/bird.pid");
	felix_config_done(&c);
}

static void test_file_keys_comments_sections_and_case(void **state)
{
	struct tmp *t = *state;
	const char *path = tmp_file(t, "felix.cfg",
				    "# a comment\n"
				    "; another comment\n"
				    "[global]\n"
				    "\n"
				    "   \t\n"
				    "healthport = 9200\n"
				    "  PROMETHEUSMETRICSENABLED   =   off  \n"
				    "LogSeverityScreen=Debug\r\n"
				    "FelixHostname = node-from-file\n"
				    "IPAutodetectionMethod = interface=eth0, ens.*\n"
				    "RouteRefreshInterval = 2m\n"
				    "ApplyDebounce = 250ms\n"
				    "LogFilePath = /var/log/felix.log\n"
				    "HealthHost = 127.0.0.1\n"
				    "HealthHost = 127.0.0.2\n" /* the last one wins */
				    "[anything else]\n"
				    "BirdStart = yes\n"
				    "IP =\n");
	struct felix_config c;
	char *envp[] = { NULL };
	char *err;

	assert_int_equal(load(path, envp, &c, &err), 0);
	assert_null(err);
	assert_int_equal(c.health_port, 9200);
	assert_false(c.metrics_enabled);
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(c.nodename, "node-from-file");
	assert_string_equal(c.ip_autodetect, "interface=eth0, ens.*"); /* split at the first '=' */
	assert_int_equal(c.resync_ms, 120000);
	assert_int_equal(c.debounce_ms, 250);
	assert_string_equal(c.log_file, "/var/log/felix.log");
	assert_string_equal(c.health_host, "127.0.0.2");
	assert_true(c.bird_start);
	assert_string_equal(c.ip, ""); /* empty in a file is a value: autodetect */
	/* Untouched settings keep their defaults. */
	assert_int_equal(c.metrics_port, 9091);
	assert_string_equal(c.pool_cidr, "192.168.0.0/16");
	felix_config_done(&c);
}

static void test_file_errors_name_file_and_line(void **state)
{
	struct tmp *t = *state;
	static const struct {
		const char *text;
		int line;
		const char *want; /* after "<path>:<line>: " */
	} v[] = {
		{ "HealthPort = 9100\n# fine\nBogusKey = 1\n", 3, "unknown setting 'BogusKey'" },
		{ "[s]\n  FELIX_HEALTHPORT = 9100\n", 2, "unknown setting 'FELIX_HEALTHPORT'" },
		{ "HealthPort 9100\n", 1, "expected 'Key = Value'" },
		{ "; c\n= 5\n", 2, "unknown setting ''" },
		{ "\n\nHealthEnabled = maybe\n", 3,
		  "invalid value 'maybe' for HealthEnabled: expected true or false" },
		{ "HealthPort = 9100 # trailing comment\n", 1,
		  "invalid value '9100 # trailing comment' for HealthPort: expected a port 1-65535" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char name[32], want[512], *envp[] = { "NODENAME=n", NULL }, *err;
		struct felix_config c;
		const char *path;

		snprintf(name, sizeof(name), "bad%zu.cfg", i);
		path = tmp_file(t, name, v[i].text);
		snprintf(want, sizeof(want), "%s:%d: %s", path, v[i].line, v[i].want);
		assert_int_equal(load(path, envp, &c, &err), -EINVAL);
		assert_non_null(err);
		assert_string_equal(err, want);
		free(err);
	}
}

static void test_missing_file_is_enoent(void **state)
{
	struct tmp *t = *state;
	char path[128], *envp[] = { "NODENAME=n", NULL }, *err;
	struct felix_config c;

	snprintf(path, sizeof(path), "%s/absent.cfg", t->dir);
	assert_int_equal(load(path, envp, &c, &err), -ENOENT);
	assert_non_null(err);
	assert_non_null(strstr(err, path));
	free(err);
}

static void test_config_file_from_environment(void **state)
{
	struct tmp *t = *state;
	const char *a = tmp_file(t, "a.cfg", "HealthPort = 1111\n");
	const char *b = tmp_file(t, "b.cfg", "HealthPort = 2222\n");
	char var[160], *envp[] = { "NODENAME=n", var, NULL }, *err;
	struct felix_config c;

	snprintf(var, sizeof(var), "FELIX_CONFIGFILE=%s", a);
	assert_int_equal(load(NULL, envp, &c, &err), 0);
	assert_int_equal(c.health_port, 1111);
	felix_config_done(&c);
	/* An explicit file wins over FELIX_CONFIGFILE. */
	assert_int_equal(load(b, envp, &c, &err), 0);
	assert_int_equal(c.health_port, 2222);
	felix_config_done(&c);
	/* An empty FELIX_CONFIGFILE means none. */
	snprintf(var, sizeof(var), "FELIX_CONFIGFILE=");
	assert_int_equal(load(NULL, envp, &c, &err), 0);
	assert_int_equal(c.health_port, 9099);
	felix_config_done(&c);
}

static void test_environment_overrides_file(void **state)
{
	struct tmp *t = *state;
	const char *path = tmp_file(t, "f.cfg",
				    "HealthPort = 1000\n"
				    "FelixHostname = file-node\n"
				    "IP = 10.0.0.1\n"
				    "IPAutodetectionMethod = interface=eth0\n"
				    "IPv4PoolCIDR = 10.1.0.0/16\n"
				    "IPv4PoolBlockSize = 24\n"
				    "BirdStart = false\n"
				    "Kubeconfig = /file/kubeconfig\n"
				    "NoDefaultPools = false\n"
				    "MTU = 1400\n"
				    "PrometheusMetricsPort = 3000\n");
	char *envp[] = {
		"FELIX_HEALTHPORT=2000",
		"NODENAME=env-node",
		"IP=10.0.0.2/24",
		"IP_AUTODETECTION_METHOD=can-reach=10.9.9.9",
		"CALICO_IPV4POOL_CIDR=10.65.0.0/16",
		"CALICO_IPV4POOL_BLOCK_SIZE=28",
		"FELIX_BIRD_START=true",
		"KUBECONFIG=/env/kubeconfig",
		"NO_DEFAULT_POOLS=1",
		"FELIX_VETHMTU=1450",
		"AS=4200000000",
		"CALICO_ROUTER_ID=hash",
		"FELIX_PROMETHEUSMETRICSPORT=", /* empty counts as unset */
		"FELIX_HEALTHHOST=",
		NULL,
	};
	struct felix_config c;
	char *err;

	assert_int_equal(load(path, envp, &c, &err), 0);
	assert_null(err);
	assert_int_equal(c.health_port, 2000);
	assert_string_equal(c.nodename, "env-node");
	assert_string_equal(c.ip, "10.0.0.2/24");
	assert_string_equal(c.ip_autodetect, "can-reach=10.9.9.9");
	assert_string_equal(c.pool_cidr, "10.65.0.0/16");
	assert_int_equal(c.pool_block_size, 28);
	assert_true(c.bird_start);
	assert_string_equal(c.kubeconfig, "/env/kubeconfig");
	assert_true(c.no_default_pools);
	assert_int_equal(c.mtu, 1450);
	assert_int_equal(c.as_number, 4200000000u);
	assert_string_equal(c.router_id, "hash");
	assert_int_equal(c.metrics_port, 3000); /* from the file: its env value is empty */
	assert_string_equal(c.health_host, "0.0.0.0");
	felix_config_done(&c);
}

static void test_felix_name_wins_over_calico_name(void **state)
{
	char *envp[] = { "NODENAME=calico-name", "FELIX_FELIXHOSTNAME=felix-name",
			 "FELIX_BIRDSTART=false", "FELIX_BIRD_START=true", "IP=10.0.0.9",
			 "FELIX_IP=none", NULL };
	struct felix_config c;
	char *err;

	(void)state;
	assert_int_equal(load(NULL, envp, &c, &err), 0);
	assert_string_equal(c.nodename, "felix-name");
	assert_false(c.bird_start);
	assert_string_equal(c.ip, "none");
	felix_config_done(&c);
}

static void test_empty_felix_name_falls_back_to_calico_name(void **state)
{
	char *envp[] = { "FELIX_FELIXHOSTNAME=", "NODENAME=calico-name", "FELIX_IP=",
			 "IP=10.1.1.1", NULL };
	struct felix_config c;
	char *err;

	(void)state;
	assert_int_equal(load(NULL, envp, &c, &err), 0);
	assert_string_equal(c.nodename, "calico-name");
	assert_string_equal(c.ip, "10.1.1.1");
	felix_config_done(&c);
}

static void test_environment_names_match_whole(void **state)
{
	/* Prefixes, suffixes and other cases of a name are other variables. */
	char *envp[] = { "NODENAMEX=wrong", "IPX=1.2.3.4", "ip=1.2.3.4", "NODENAME", "XNODENAME=w",
			 "FELIX_HEALTHPORTS=1", "felix_healthport=1", "NODENAME=right", NULL };
	struct felix_config c;
	char *err;

	(void)state;
	assert_int_equal(load(NULL, envp, &c, &err), 0);
	assert_string_equal(c.nodename, "right");
	assert_string_equal(c.ip, "autodetect");
	assert_int_equal(c.health_port, 9099);
	felix_config_done(&c);
}

#define BOOL "true or false"
#define PORT "a port 1-65535"
#define DURATION "a duration such as 10, 10s, 250ms, 2m"
#define CIDR "none or an IPv4 CIDR without host bits"
#define CIDR6 "none or an IPv6 CIDR without host bits"
#define IPADDR "autodetect, none or an IPv4 address"
#define IPADDR6 "autodetect, none or an IPv6 address"
#define METHOD                                                                              \
	"first-found, interface=REGEX[,REGEX...], skip-interface=REGEX[,REGEX...], "         \
	"cidr=CIDR[,CIDR...], kubernetes-internal-ip or can-reach=IPv4"
#define METHOD6                                                                             \
	"first-found, interface=REGEX[,REGEX...], skip-interface=REGEX[,REGEX...], "         \
	"cidr=CIDR[,CIDR...], kubernetes-internal-ip or can-reach=IPv6"
#define LEVEL "debug, info, warning, error or fatal"
#define LOG_PREFIX "1 to 32 printable characters, no '\"' or '\\'"

/* One bad value per vector, given through the environment variable named;
 * the message is "<var>: invalid value '<value>' for <key>: expected <hint>". */
static const struct {
	const char *var, *value, *key, *hint;
} bad_values[] = {
	{ "FELIX_HEALTHENABLED", "maybe", "HealthEnabled", BOOL },
	{ "FELIX_HEALTHPORT", "0", "HealthPort", PORT },
	{ "FELIX_HEALTHPORT", "70000", "HealthPort", PORT },
	{ "FELIX_HEALTHPORT", "65536", "HealthPort", PORT },
	{ "FELIX_HEALTHPORT", "-1", "HealthPort", PORT },
	{ "FELIX_HEALTHPORT", "+80", "HealthPort", PORT },
	{ "FELIX_HEALTHPORT", "80x", "HealthPort", PORT },
	{ "FELIX_HEALTHPORT", " 80", "HealthPort", PORT },
	{ "FELIX_HEALTHPORT", "99999999999999999999999", "HealthPort", PORT },
	{ "FELIX_ROUTEREFRESHINTERVAL", "10x", "RouteRefreshInterval", DURATION },
	{ "FELIX_APPLYDEBOUNCE", "1.5s", "ApplyDebounce", DURATION },
	{ "CALICO_IPV4POOL_BLOCK_SIZE", "19", "IPv4PoolBlockSize", "an integer from 20 to 32" },
	{ "CALICO_IPV4POOL_BLOCK_SIZE", "33", "IPv4PoolBlockSize", "an integer from 20 to 32" },
	{ "CALICO_IPV4POOL_BLOCK_SIZE", "26/", "IPv4PoolBlockSize", "an integer from 20 to 32" },
	{ "FELIX_LEASEDURATION", "2", "LeaseDuration", "an integer from 3 to 3600" },
	{ "AS", "4294967296", "AS", "an integer from 0 to 4294967295" },
	{ "AS", "AS64512", "AS", "an integer from 0 to 4294967295" },
	{ "FELIX_MTU", "65536", "MTU", "an integer from 0 to 65535" },
	{ "CALICO_IPV4POOL_CIDR", "10.65.0.0", "IPv4PoolCIDR", CIDR },
	{ "CALICO_IPV4POOL_CIDR", "10.65.1.0/16", "IPv4PoolCIDR", CIDR },
	{ "CALICO_IPV4POOL_CIDR", "10.65.0.0/33", "IPv4PoolCIDR", CIDR },
	{ "CALICO_IPV4POOL_CIDR", "300.65.0.0/16", "IPv4PoolCIDR", CIDR },
	{ "CALICO_IPV4POOL_CIDR", "fd00::/64", "IPv4PoolCIDR", CIDR },
	{ "CALICO_IPV4POOL_CIDR", "10.65.0.0/", "IPv4PoolCIDR", CIDR },
	/* lib/prefix's rules: no leading zeros in the length, no spaces */
	{ "CALICO_IPV4POOL_CIDR", "10.65.0.0/016", "IPv4PoolCIDR", CIDR },
	{ "CALICO_IPV4POOL_CIDR", "10.65.0.0/16 ", "IPv4PoolCIDR", CIDR },
	{ "IP", "10.0.0.1/024", "IP", IPADDR },
	{ "IP", "10.0.0.256", "IP", IPADDR },
	{ "IP", "10.0.0.1/33", "IP", IPADDR },
	{ "IP", "10.0.0.1/", "IP", IPADDR },
	{ "IP", "Autodetect", "IP", IPADDR },
	{ "IP", "10.0.0.1/24/8", "IP", IPADDR },
	{ "IP", "255.255.255.255.255.255", "IP", IPADDR },
	{ "IP_AUTODETECTION_METHOD", "bogus", "IPAutodetectionMethod", METHOD },
	{ "IP_AUTODETECTION_METHOD", "interface=", "IPAutodetectionMethod", METHOD },
	{ "IP_AUTODETECTION_METHOD", "interface=(", "IPAutodetectionMethod", METHOD },
	{ "IP_AUTODETECTION_METHOD", "interface=eth0,[", "IPAutodetectionMethod", METHOD },
	{ "IP_AUTODETECTION_METHOD", "skip-interface=eth0,", "IPAutodetectionMethod", METHOD },
	{ "IP_AUTODETECTION_METHOD", "can-reach=", "IPAutodetectionMethod", METHOD },
	{ "IP_AUTODETECTION_METHOD", "can-reach=example.com", "IPAutodetectionMethod", METHOD },
	{ "IP_AUTODETECTION_METHOD", "cidr=10.0.0.0", "IPAutodetectionMethod", METHOD },
	{ "IP_AUTODETECTION_METHOD", "cidr=10.0.0.0/08", "IPAutodetectionMethod", METHOD },
	{ "IP_AUTODETECTION_METHOD", "can-reach=2001:db8::1", "IPAutodetectionMethod", METHOD },
	/* IPv6: the same rules, the other family refused */
	{ "IP6", "10.0.0.1", "IP6", IPADDR6 },
	{ "IP6", "fd00::1/129", "IP6", IPADDR6 },
	{ "IP6", "fd00::g", "IP6", IPADDR6 },
	{ "IP6", "fd00::1/064", "IP6", IPADDR6 },
	{ "IP6", "None", "IP6", IPADDR6 },
	{ "IP6_AUTODETECTION_METHOD", "can-reach=8.8.8.8", "IP6AutodetectionMethod", METHOD6 },
	{ "IP6_AUTODETECTION_METHOD", "interface=(", "IP6AutodetectionMethod", METHOD6 },
	{ "IP6_AUTODETECTION_METHOD", "kubernetes-internal-ip=x", "IP6AutodetectionMethod",
	  METHOD6 },
	{ "CALICO_IPV6POOL_CIDR", "10.65.0.0/16", "IPv6PoolCIDR", CIDR6 },
	{ "CALICO_IPV6POOL_CIDR", "fd00:65::1/64", "IPv6PoolCIDR", CIDR6 },
	{ "CALICO_IPV6POOL_CIDR", "fd00:65::/129", "IPv6PoolCIDR", CIDR6 },
	{ "CALICO_IPV6POOL_CIDR", "fd00:65::", "IPv6PoolCIDR", CIDR6 },
	{ "CALICO_IPV6POOL_BLOCK_SIZE", "115", "IPv6PoolBlockSize", "an integer from 116 to 128" },
	{ "CALICO_IPV6POOL_BLOCK_SIZE", "129", "IPv6PoolBlockSize", "an integer from 116 to 128" },
	{ "CALICO_IPV6POOL_BLOCK_SIZE", "26", "IPv6PoolBlockSize", "an integer from 116 to 128" },
	{ "CALICO_IPV6POOL_NAT_OUTGOING", "maybe", "IPv6PoolNATOutgoing", BOOL },
	{ "CALICO_IPV4POOL_NAT_OUTGOING", "2", "IPv4PoolNATOutgoing", BOOL },
	{ "FELIX_LOGSEVERITYSCREEN", "loud", "LogSeverityScreen", LEVEL },
	{ "FELIX_DEFAULTENDPOINTTOHOSTACTION", "Reject", "DefaultEndpointToHostAction",
	  "Drop, Return or Accept" },
	{ "FELIX_LOGPREFIX", "a\"b", "LogPrefix", LOG_PREFIX },
	{ "FELIX_LOGPREFIX", "0123456789012345678901234567890123", "LogPrefix", LOG_PREFIX },
	{ "FELIX_NFLOGGROUP", "65536", "NFLOGGroup", "an integer from 0 to 65535" },
	{ "FELIX_NFLOGGROUP", "-1", "NFLOGGroup", "an integer from 0 to 65535" },
};

static void test_ipv6_settings_from_calico_names(void **state)
{
	char *envp[] = { "NODENAME=n", "IP6=autodetect",
			 "IP6_AUTODETECTION_METHOD=kubernetes-internal-ip",
			 "CALICO_IPV6POOL_CIDR=fd00:65::/64", "CALICO_IPV6POOL_BLOCK_SIZE=120",
			 "CALICO_IPV6POOL_NAT_OUTGOING=true", "CALICO_IPV4POOL_NAT_OUTGOING=false",
			 "CALICO_IPV4POOL_CIDR=none", "IP=none", NULL };
	struct felix_config c;
	char *err = NULL;

	(void)state;
	assert_int_equal(load(NULL, envp, &c, &err), 0);
	assert_string_equal(c.ip6, "autodetect");
	assert_string_equal(c.ip6_autodetect, "kubernetes-internal-ip");
	assert_string_equal(c.pool6_cidr, "fd00:65::/64");
	assert_int_equal(c.pool6_block_size, 120);
	assert_true(c.pool6_nat_outgoing);
	assert_false(c.pool_nat_outgoing);
	assert_string_equal(c.pool_cidr, "none");
	assert_string_equal(c.ip, "none");
	felix_config_done(&c);
}

static void test_bad_values_rejected_with_precise_message(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_values); i++) {
		char var[128], want[512], *envp[] = { "NODENAME=n", var, NULL }, *err;
		struct felix_config c;

		snprintf(var, sizeof(var), "%s=%s", bad_values[i].var, bad_values[i].value);
		snprintf(want, sizeof(want), "%s: invalid value '%s' for %s: expected %s",
			 bad_values[i].var, bad_values[i].value, bad_values[i].key, bad_values[i].hint);
		assert_int_equal(load(NULL, envp, &c, &err), -EINVAL);
		if (!err || strcmp(err, want) != 0)
			fail_msg("vector %zu: got '%s', want '%s'", i, err ? err : "(null)", want);
		free(err);
	}
}

static void test_good_values_accepted(void **state)
{
	static const struct {
		const char *var, *value;
	} v[] = {
		{ "FELIX_HEALTHPORT", "1" },
		{ "FELIX_HEALTHPORT", "65535" },
		{ "CALICO_IPV4POOL_BLOCK_SIZE", "20" },
		{ "CALICO_IPV4POOL_BLOCK_SIZE", "32" },
		{ "CALICO_IPV4POOL_CIDR", "0.0.0.0/0" },
		{ "CALICO_IPV4POOL_CIDR", "10.65.1.7/32" },
		{ "IP", "10.0.0.1" },
		{ "IP", "10.0.0.5/24" }, /* a node address keeps its host bits */
		{ "IP", "none" },
		{ "IP_AUTODETECTION_METHOD", "first-found" },
		{ "IP_AUTODETECTION_METHOD", "interface=eth.*" },
		{ "IP_AUTODETECTION_METHOD", "interface=eth0, ens[0-9]+" },
		{ "IP_AUTODETECTION_METHOD", "skip-interface=docker.*" },
		{ "IP_AUTODETECTION_METHOD", "can-reach=8.8.8.8" },
		{ "IP_AUTODETECTION_METHOD", "cidr=10.0.0.0/8,fd00::/8" },
		{ "IP_AUTODETECTION_METHOD", "kubernetes-internal-ip" },
		{ "IP6_AUTODETECTION_METHOD", "kubernetes-internal-ip" },
		{ "IP6_AUTODETECTION_METHOD", "can-reach=2001:4860:4860::8888" },
		{ "IP6_AUTODETECTION_METHOD", "interface=eth0" },
		{ "IP6", "autodetect" },
		{ "IP6", "none" },
		{ "IP6", "fd00:31::11" },
		{ "IP6", "fd00:31::11/64" },
		{ "CALICO_IPV4POOL_CIDR", "none" },
		{ "CALICO_IPV6POOL_CIDR", "none" },
		{ "CALICO_IPV6POOL_CIDR", "fd00:65::/48" },
		{ "CALICO_IPV6POOL_BLOCK_SIZE", "116" },
		{ "CALICO_IPV6POOL_BLOCK_SIZE", "128" },
		{ "FELIX_LOGSEVERITYSCREEN", "WARNING" },
		{ "FELIX_HEALTHENABLED", "Off" },
		{ "FELIX_ROUTEREFRESHINTERVAL", "1h" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char var[128], *envp[] = { "NODENAME=n", var, NULL }, *err;
		struct felix_config c;
		int r;

		snprintf(var, sizeof(var), "%s=%s", v[i].var, v[i].value);
		r = load(NULL, envp, &c, &err);
		if (r != 0)
			fail_msg("vector %zu '%s': %d %s", i, var, r, err ? err : "");
		felix_config_done(&c);
	}
}

static void test_log_level_spellings(void **state)
{
	static const struct {
		const char *in;
		enum log_level want;
	} v[] = {
		{ "debug", LOG_LEVEL_DEBUG }, { "Info", LOG_LEVEL_INFO },
		{ "warning", LOG_LEVEL_WARNING }, { "WARN", LOG_LEVEL_WARNING },
		{ "error", LOG_LEVEL_ERROR }, { "fatal", LOG_LEVEL_ERROR },
		{ "panic", LOG_LEVEL_ERROR },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char var[64], *envp[] = { "NODENAME=n", var, NULL }, *err;
		struct felix_config c;

		snprintf(var, sizeof(var), "FELIX_LOGSEVERITYSCREEN=%s", v[i].in);
		assert_int_equal(load(NULL, envp, &c, &err), 0);
		assert_int_equal(c.log_level, v[i].want);
		felix_config_done(&c);
	}
}

static void test_cross_field_checks(void **state)
{
	static const struct {
		const char *var, *want;
	} v[] = {
		{ "FELIX_ROUTEREFRESHINTERVAL=999ms", "RouteRefreshInterval 999 ms is below 1s" },
		{ "FELIX_ROUTEREFRESHINTERVAL=0", "RouteRefreshInterval 0 ms is below 1s" },
		{ "FELIX_IPAMGCINTERVAL=500ms", "IPAMGCInterval 500 ms is below 1s" },
		{ "NODENAME=has space", "invalid node name 'has space'" },
		{ "NODENAME=a/b", "invalid node name 'a/b'" },
		{ "NODENAME=quo\"te", "invalid node name 'quo\"te'" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char *envp[] = { (char *)v[i].var, "NODENAME=n", NULL }, *err;
		struct felix_config c;

		assert_int_equal(load(NULL, envp, &c, &err), -EINVAL);
		assert_non_null(err);
		assert_string_equal(err, v[i].want);
		free(err);
	}
}

/* TyphaAddr needs an IPv4 address:port and the whole mutual TLS setup. */
static void test_typha_settings_checked(void **state)
{
	static const struct {
		const char *addr, *files, *want;
	} v[] = {
		{ "FELIX_TYPHAADDR=typha:5473", "FELIX_TYPHACAFILE=/ca",
		  "TyphaAddr 'typha:5473': expected an IPv4 address:port" },
		{ "FELIX_TYPHAADDR=10.0.0.1:0", "FELIX_TYPHACAFILE=/ca",
		  "TyphaAddr '10.0.0.1:0': expected an IPv4 address:port" },
		{ "FELIX_TYPHAADDR=10.0.0.1", "FELIX_TYPHACAFILE=/ca",
		  "TyphaAddr '10.0.0.1': expected an IPv4 address:port" },
		{ "FELIX_TYPHAADDR=10.0.0.1:5473", "FELIX_TYPHACAFILE=/ca",
		  "TyphaAddr is set: TyphaCAFile, TyphaCertFile and TyphaKeyFile are required "
		  "(mutual TLS)" },
	};
	char *good[] = { "NODENAME=n", "FELIX_TYPHAADDR=10.0.0.1:5473", "FELIX_TYPHACAFILE=/ca",
			 "FELIX_TYPHACERTFILE=/c", "FELIX_TYPHAKEYFILE=/k", "FELIX_TYPHACN=typha-c",
			 NULL }, *err;
	struct felix_config c;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char *envp[] = { (char *)v[i].addr, (char *)v[i].files, "NODENAME=n", NULL };

		assert_int_equal(load(NULL, envp, &c, &err), -EINVAL);
		assert_non_null(err);
		assert_string_equal(err, v[i].want);
		free(err);
	}
	assert_int_equal(load(NULL, good, &c, &err), 0);
	assert_string_equal(c.typha_addr, "10.0.0.1:5473");
	assert_string_equal(c.typha_cn, "typha-c");
	assert_int_equal(c.typha_read_timeout_ms, 30000);
	felix_config_done(&c);
}

static void test_node_name_length_limit(void **state)
{
	char var[300] = "NODENAME=", *envp[] = { var, NULL }, *err;
	struct felix_config c;

	(void)state;
	memset(var + 9, 'a', 253);
	assert_int_equal(load(NULL, envp, &c, &err), 0);
	assert_int_equal(strlen(c.nodename), 253);
	felix_config_done(&c);
	var[9 + 253] = 'a';
	assert_int_equal(load(NULL, envp, &c, &err), -EINVAL);
	assert_non_null(err);
	assert_non_null(strstr(err, "invalid node name"));
	free(err);
}

static void test_empty_log_file_means_stderr(void **state)
{
	char *envp[] = { "NODENAME=n", "FELIX_LOGFILEPATH=", NULL }, *err;
	struct felix_config c;

	(void)state;
	assert_int_equal(load(NULL, envp, &c, &err), 0);
	assert_null(c.log_file);
	felix_config_done(&c);
}

static void test_runtime_precedence(void **state)
{
	char *plain[] = { "NODENAME=n1", NULL };
	char *pinned[] = { "NODENAME=n1", "FELIX_LOGSEVERITYSCREEN=error", NULL };
	json_t *global = json_pack("{s:s, s:s}", "logSeverityScreen", "Warning",
				   "routeRefreshInterval", "30s");
	json_t *node = json_pack("{s:s}", "logSeverityScreen", "Debug");
	struct felix_runtime rt;
	struct felix_config c;
	char *err = NULL;

	(void)state;
	assert_non_null(global);
	assert_non_null(node);
	assert_int_equal(load(NULL, plain, &c, &err), 0);
	assert_int_equal(felix_config_runtime(&c, NULL, NULL, &rt, &err), 0);
	assert_int_equal(rt.log_level, LOG_LEVEL_INFO);
	assert_int_equal(rt.resync_ms, 90000);
	assert_int_equal(felix_config_runtime(&c, global, NULL, &rt, &err), 0);
	assert_int_equal(rt.log_level, LOG_LEVEL_WARNING);
	assert_int_equal(rt.resync_ms, 30000);
	/* node.<name> wins over default. */
	assert_int_equal(felix_config_runtime(&c, global, node, &rt, &err), 0);
	assert_int_equal(rt.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(rt.resync_ms, 30000);
	assert_null(err);
	felix_config_done(&c);
	/* The environment wins over both. */
	assert_int_equal(load(NULL, pinned, &c, &err), 0);
	assert_int_equal(felix_config_runtime(&c, global, node, &rt, &err), 0);
	assert_int_equal(rt.log_level, LOG_LEVEL_ERROR);
	assert_int_equal(rt.resync_ms, 30000);
	felix_config_done(&c);
	json_decref(global);
	json_decref(node);
}

static void test_runtime_invalid_value_ignored_with_message(void **state)
{
	char *envp[] = { "NODENAME=n1", NULL };
	json_t *global = json_pack("{s:s}", "routeRefreshInterval", "500ms");
	json_t *node = json_pack("{s:s, s:s}", "logSeverityScreen", "chatty",
				 "routeRefreshInterval", "45s");
	struct felix_runtime rt;
	struct felix_config c;
	char *err = NULL;

	(void)state;
	assert_int_equal(load(NULL, envp, &c, &err), 0);
	assert_int_equal(felix_config_runtime(&c, global, node, &rt, &err), -EINVAL);
	/* The first bad value is named; the valid ones still apply. */
	assert_non_null(err);
	assert_string_equal(err, "FelixConfiguration default: invalid routeRefreshInterval '500ms' "
				 "(a duration of 1s or more)");
	assert_int_equal(rt.log_level, LOG_LEVEL_INFO);
	assert_int_equal(rt.resync_ms, 45000);
	free(err);
	err = NULL;
	assert_int_equal(felix_config_runtime(&c, NULL, node, &rt, &err), -EINVAL);
	assert_string_equal(err, "FelixConfiguration node.n1: invalid logSeverityScreen 'chatty'");
	free(err);
	felix_config_done(&c);
	json_decref(global);
	json_decref(node);
}

/* Calico's DefaultEndpointToHostAction (Drop) and LogPrefix (calico-packet)
 * from the environment, a FelixConfiguration or their defaults. */
static void test_endpoint_to_host_action_and_log_settings(void **state)
{
	char *envp[] = { "NODENAME=n1", NULL };
	char *pinned[] = { "NODENAME=n1", "FELIX_DEFAULTENDPOINTTOHOSTACTION=accept",
			   "FELIX_LOGPREFIX=my-cluster", "FELIX_NFLOGGROUP=42", NULL };
	json_t *global = json_pack("{s:s, s:s}", "defaultEndpointToHostAction", "Return",
				   "logPrefix", "from-default");
	json_t *node = json_pack("{s:s}", "defaultEndpointToHostAction", "ACCEPT");
	json_t *bad = json_pack("{s:s}", "defaultEndpointToHostAction", "Reject");
	struct felix_runtime rt;
	struct felix_config c;
	char *err = NULL;

	(void)state;
	assert_int_equal(load(NULL, envp, &c, &err), 0);
	assert_int_equal(c.endpoint_to_host, POLICY_HOST_DROP);
	assert_string_equal(c.log_prefix, "calico-packet");
	assert_int_equal(c.nflog_group, 0);
	assert_int_equal(felix_config_runtime(&c, NULL, NULL, &rt, &err), 0);
	assert_int_equal(rt.endpoint_to_host, POLICY_HOST_DROP);
	assert_string_equal(rt.log_prefix, "calico-packet");
	assert_int_equal(felix_config_runtime(&c, global, NULL, &rt, &err), 0);
	assert_int_equal(rt.endpoint_to_host, POLICY_HOST_RETURN);
	assert_string_equal(rt.log_prefix, "from-default");
	assert_int_equal(felix_config_runtime(&c, global, node, &rt, &err), 0);
	assert_int_equal(rt.endpoint_to_host, POLICY_HOST_ACCEPT);
	assert_int_equal(felix_config_runtime(&c, NULL, bad, &rt, &err), -EINVAL);
	assert_string_equal(err, "FelixConfiguration node.n1: invalid defaultEndpointToHostAction "
				 "'Reject' (Drop, Return or Accept)");
	assert_int_equal(rt.endpoint_to_host, POLICY_HOST_DROP); /* ignored */
	free(err);
	err = NULL;
	felix_config_done(&c);
	/* the environment wins over FelixConfigurations */
	assert_int_equal(load(NULL, pinned, &c, &err), 0);
	assert_int_equal(c.nflog_group, 42);
	assert_int_equal(felix_config_runtime(&c, global, bad, &rt, &err), 0);
	assert_int_equal(rt.endpoint_to_host, POLICY_HOST_ACCEPT);
	assert_string_equal(rt.log_prefix, "my-cluster");
	felix_config_done(&c);
	json_decref(global);
	json_decref(node);
	json_decref(bad);
}

/* FailsafeInboundHostPorts / FailsafeOutboundHostPorts: Calico's defaults,
 * the environment's text ("none" disables), a FelixConfiguration's list
 * unless the environment set it, a bad value named. */
static void test_failsafe_port_settings(void **state)
{
	char *envp[] = { "NODENAME=n1", NULL };
	char *pinned[] = { "NODENAME=n1", "FELIX_FAILSAFEINBOUNDHOSTPORTS=none",
			   "FELIX_FAILSAFEOUTBOUNDHOSTPORTS=udp:53, tcp:[fd00::/8]:179", NULL };
	char *wrong[] = { "NODENAME=n1", "FELIX_FAILSAFEINBOUNDHOSTPORTS=tcp:22,ssh", NULL };
	json_t *fc = json_loads("{\"failsafeInboundHostPorts\":[{\"protocol\":\"TCP\",\"port\":2222},"
				"{\"protocol\":\"UDP\",\"port\":68,\"net\":\"10.0.0.0/8\"}],"
				"\"failsafeOutboundHostPorts\":[]}", 0, NULL);
	json_t *bad = json_loads("{\"failsafeInboundHostPorts\":[{\"protocol\":\"ICMP\","
				 "\"port\":1}]}", 0, NULL);
	struct felix_runtime rt;
	struct felix_config c;
	char *err = NULL;

	(void)state;
	assert_int_equal(load(NULL, envp, &c, &err), 0);
	assert_int_equal(felix_config_runtime(&c, NULL, NULL, &rt, &err), 0);
	assert_int_equal(rt.failsafe_in.n, 9);
	assert_int_equal(rt.failsafe_in.v[0].port, 22);
	assert_int_equal(rt.failsafe_in.v[1].proto, IPPROTO_UDP);
	assert_int_equal(rt.failsafe_out.n, 9);
	assert_int_equal(rt.failsafe_out.v[0].port, 53);
	assert_int_equal(felix_config_runtime(&c, NULL, fc, &rt, &err), 0);
	assert_int_equal(rt.failsafe_in.n, 2);
	assert_int_equal(rt.failsafe_in.v[0].port, 2222);
	assert_int_equal(rt.failsafe_in.v[1].net.family, AF_INET);
	assert_int_equal(rt.failsafe_out.n, 0); /* [] disables */
	assert_int_equal(felix_config_runtime(&c, bad, NULL, &rt, &err), -EINVAL);
	assert_string_equal(err, "FelixConfiguration default: invalid failsafeInboundHostPorts[0]."
				 "protocol: 'ICMP' is not TCP, UDP or SCTP");
	assert_int_equal(rt.failsafe_in.n, 9); /* ignored */
	free(err);
	err = NULL;
	felix_config_done(&c);
	assert_int_equal(load(NULL, pinned, &c, &err), 0);
	assert_int_equal(felix_config_runtime(&c, NULL, fc, &rt, &err), 0);
	assert_int_equal(rt.failsafe_in.n, 0);
	assert_int_equal(rt.failsafe_out.n, 2);
	assert_int_equal(rt.failsafe_out.v[1].net.family, AF_INET6);
	felix_config_done(&c);
	assert_int_equal(load(NULL, wrong, &c, &err), -EINVAL);
	assert_non_null(strstr(err, "FailsafeInboundHostPorts"));
	assert_non_null(strstr(err, "none or a list of"));
	free(err);
	json_decref(fc);
	json_decref(bad);
}

static void test_parse_duration_ms(void **state)
{
	static const struct {
		const char *in;
		int want_r;
		unsigned want_ms;
	} v[] = {
		{ "10", 0, 10000 },
		{ "0", 0, 0 },
		{ "10s", 0, 10000 },
		{ "250ms", 0, 250 },
		{ "2m", 0, 120000 },
		{ "1h", 0, 3600000 },
		{ "007s", 0, 7000 },
		{ "4294967295ms", 0, UINT_MAX },
		{ "4294967s", 0, 4294967000u },
		{ "4294968s", -EINVAL, 0 },	  /* overflows unsigned ms */
		{ "4294967296ms", -EINVAL, 0 },
		{ "99999999999999999999999", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "s", -EINVAL, 0 },
		{ "10x", -EINVAL, 0 },
		{ "10S", -EINVAL, 0 },
		{ "10 s", -EINVAL, 0 },
		{ " 10", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ "1.5s", -EINVAL, 0 },
		{ "1m30s", -EINVAL, 0 },
		{ "10ms ", -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		unsigned ms = 12345;
		int r = felix_parse_duration_ms(v[i].in, &ms);

		if (r != v[i].want_r)
			fail_msg("'%s': got %d, want %d", v[i].in, r, v[i].want_r);
		/* ret_ms is written only on success. */
		assert_int_equal(ms, r == 0 ? v[i].want_ms : 12345u);
	}
}

static void test_parse_bool(void **state)
{
	static const struct {
		const char *in;
		int want; /* 1 true, 0 false, -1 error */
	} v[] = {
		{ "true", 1 },	 { "TRUE", 1 },	 { "True", 1 },	 { "1", 1 },  { "yes", 1 },
		{ "on", 1 },	 { "ON", 1 },	 { "false", 0 }, { "False", 0 }, { "0", 0 },
		{ "no", 0 },	 { "off", 0 },	 { "", -1 },	 { "t", -1 }, { "y", -1 },
		{ "2", -1 },	 { "truee", -1 }, { " true", -1 }, { "true ", -1 }, { "enabled", -1 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		bool b = v[i].want != 1; /* the opposite of a success's answer */
		bool before = b;
		int r = felix_parse_bool(v[i].in, &b);

		if (v[i].want < 0) {
			if (r != -EINVAL)
				fail_msg("'%s': got %d, want -EINVAL", v[i].in, r);
			assert_true(b == before);
		} else {
			if (r != 0)
				fail_msg("'%s': got %d, want 0", v[i].in, r);
			assert_true(b == (v[i].want == 1));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_without_file_or_environment),
		cmocka_unit_test(test_nodename_defaults_to_host_name),
		cmocka_unit_test(test_state_dir_moves_bird_paths_unless_set),
		cmocka_unit_test_setup_teardown(test_file_keys_comments_sections_and_case, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_file_errors_name_file_and_line, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_missing_file_is_enoent, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config_file_from_environment, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_environment_overrides_file, tmp_setup,
						tmp_teardown),
		cmocka_unit_test(test_felix_name_wins_over_calico_name),
		cmocka_unit_test(test_empty_felix_name_falls_back_to_calico_name),
		cmocka_unit_test(test_environment_names_match_whole),
		cmocka_unit_test(test_ipv6_settings_from_calico_names),
		cmocka_unit_test(test_bad_values_rejected_with_precise_message),
		cmocka_unit_test(test_good_values_accepted),
		cmocka_unit_test(test_log_level_spellings),
		cmocka_unit_test(test_cross_field_checks),
		cmocka_unit_test(test_typha_settings_checked),
		cmocka_unit_test(test_node_name_length_limit),
		cmocka_unit_test(test_empty_log_file_means_stderr),
		cmocka_unit_test(test_runtime_precedence),
		cmocka_unit_test(test_runtime_invalid_value_ignored_with_message),
		cmocka_unit_test(test_endpoint_to_host_action_and_log_settings),
		cmocka_unit_test(test_failsafe_port_settings),
		cmocka_unit_test(test_parse_duration_ms),
		cmocka_unit_test(test_parse_bool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
