/* felix-c configuration (see config.h): one table describes every setting
 * (its names, type, default and where it lands), so defaults, the file and
 * the environment all go through the same validating parsers.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "cnisock.h"
#include "errmsg.h"
#include "felix-c/autodetect.h"
#include "felix-c/config.h"
#include "felix-c/typhaclient.h"
#include "ipam/cnicmd.h"
#include "policy/failsafe.h"
#include "prefix.h"

enum setting_type {
	SET_STRING,
	SET_BOOL,
	SET_PORT,
	SET_UINT,
	SET_DURATION_MS,
	SET_LOGLEVEL,
	SET_HOST_ACTION, /* enum policy_host_action */
	SET_POOL4,	/* an IPv4 CIDR or "none" */
	SET_POOL6,
	SET_IP4,	/* "autodetect", "none" or an address[/len] */
	SET_IP6,
	SET_AUTODETECT4, /* autodetect.h's methods, can-reach= of the family */
	SET_AUTODETECT6,
	SET_LOG_PREFIX,	/* policy_log_prefix_is_valid() */
	SET_FAILSAFES,	/* policy_failsafes_parse() */
};

/* Settings kept as their text (a malloc'd char *). */
static bool is_text(enum setting_type t)
{
	return t == SET_STRING || t >= SET_POOL4;
}

struct setting {
	const char *key;	   /* file key; env FELIX_<KEY upper-cased> */
	const char *env[3];	   /* further environment names (Calico's) */
	enum setting_type type;
	size_t off;		   /* offsetof(struct felix_config, ...) */
	const char *def;	   /* default text, NULL: none */
	unsigned min, max;	   /* SET_UINT bounds */
};

#define OFF(f) offsetof(struct felix_config, f)

static const struct setting settings[] = {
	{ "LogSeverityScreen", {}, SET_LOGLEVEL, OFF(log_level), "info", 0, 0 },
	{ "LogFilePath", {}, SET_STRING, OFF(log_file), NULL, 0, 0 },
	{ "FelixHostname", { "NODENAME" }, SET_STRING, OFF(nodename), NULL, 0, 0 },
	{ "HealthEnabled", {}, SET_BOOL, OFF(health_enabled), "true", 0, 0 },
	{ "HealthHost", {}, SET_STRING, OFF(health_host), "0.0.0.0", 0, 0 },
	{ "HealthPort", {}, SET_PORT, OFF(health_port), "9099", 0, 0 },
	{ "PrometheusMetricsEnabled", {}, SET_BOOL, OFF(metrics_enabled), "true", 0, 0 },
	{ "PrometheusMetricsHost", {}, SET_STRING, OFF(metrics_host), "0.0.0.0", 0, 0 },
	{ "PrometheusMetricsPort", {}, SET_PORT, OFF(metrics_port), "9091", 0, 0 },
	{ "Kubeconfig", { "KUBECONFIG" }, SET_STRING, OFF(kubeconfig), NULL, 0, 0 },
	{ "StateDir", {}, SET_STRING, OFF(state_dir), "/var/lib/calico-c", 0, 0 },
	{ "BirdConfigPath", {}, SET_STRING, OFF(bird_config), NULL, 0, 0 },
	{ "BirdSocketPath", {}, SET_STRING, OFF(bird_socket), NULL, 0, 0 },
	{ "BirdPidFile", {}, SET_STRING, OFF(bird_pidfile), NULL, 0, 0 },
	{ "BirdBinary", {}, SET_STRING, OFF(bird_binary), "bird", 0, 0 },
	{ "BirdStart", { "FELIX_BIRD_START" }, SET_BOOL, OFF(bird_start), "false", 0, 0 },
	{ "BirdConnectRetry", {}, SET_UINT, OFF(bird_connect_retry_s), "0", 0, 3600 },
	{ "RouterID", { "CALICO_ROUTER_ID" }, SET_STRING, OFF(router_id), NULL, 0, 0 },
	{ "BirdReadyThreshold", {}, SET_DURATION_MS, OFF(bird_ready_threshold_ms), "30s", 0, 0 },
	{ "CNINetDir", {}, SET_STRING, OFF(cni_net_dir), "/etc/cni/net.d", 0, 0 },
	{ "CNISocketPath", {}, SET_STRING, OFF(cni_socket), CNISOCK_DEFAULT_PATH, 0, 0 },
	{ "CNIIPAMLockFile", {}, SET_STRING, OFF(cni_ipam_lock), IPAM_CNI_DEFAULT_LOCK, 0, 0 },
	{ "CNIKubeconfig", {}, SET_STRING, OFF(cni_kubeconfig), NULL, 0, 0 },
	{ "CNITokenServiceAccount", { "CALICO_CNI_SERVICE_ACCOUNT" }, SET_STRING,
	  OFF(cni_token_account), "", 0, 0 },
	{ "CNITokenNamespace", {}, SET_STRING, OFF(cni_token_namespace), "kube-system", 0, 0 },
	{ "CNITokenLifetime", {}, SET_DURATION_MS, OFF(cni_token_lifetime_ms), "24h", 0, 0 },
	{ "CNITokenRefreshInterval", {}, SET_DURATION_MS, OFF(cni_token_refresh_ms), "0", 0, 0 },
	{ "MTUFile", {}, SET_STRING, OFF(mtu_file), "/var/lib/calico/mtu", 0, 0 },
	{ "NodenameFile", {}, SET_STRING, OFF(nodename_file), "/var/lib/calico/nodename", 0, 0 },
	{ "CalicoVersion", {}, SET_STRING, OFF(calico_version), "v3.31.0", 0, 0 },
	{ "MTU", { "FELIX_VETHMTU" }, SET_UINT, OFF(mtu), "0", 0, 65535 },
	{ "IP", { "IP" }, SET_IP4, OFF(ip), "autodetect", 0, 0 },
	{ "IPAutodetectionMethod", { "IP_AUTODETECTION_METHOD" }, SET_AUTODETECT4,
	  OFF(ip_autodetect), "first-found", 0, 0 },
	{ "IP6", { "IP6" }, SET_IP6, OFF(ip6), "", 0, 0 },
	{ "IP6AutodetectionMethod", { "IP6_AUTODETECTION_METHOD" }, SET_AUTODETECT6,
	  OFF(ip6_autodetect), "first-found", 0, 0 },
	{ "AS", { "AS" }, SET_UINT, OFF(as_number), "0", 0, 4294967295u },
	{ "IPv4PoolCIDR", { "CALICO_IPV4POOL_CIDR" }, SET_POOL4, OFF(pool_cidr),
	  "192.168.0.0/16", 0, 0 },
	{ "IPv4PoolBlockSize", { "CALICO_IPV4POOL_BLOCK_SIZE" }, SET_UINT,
	  OFF(pool_block_size), "26", 20, 32 },
	{ "IPv4PoolNATOutgoing", { "CALICO_IPV4POOL_NAT_OUTGOING" }, SET_BOOL,
	  OFF(pool_nat_outgoing), "true", 0, 0 },
	{ "IPv6PoolCIDR", { "CALICO_IPV6POOL_CIDR" }, SET_POOL6, OFF(pool6_cidr), "", 0, 0 },
	{ "IPv6PoolBlockSize", { "CALICO_IPV6POOL_BLOCK_SIZE" }, SET_UINT,
	  OFF(pool6_block_size), "122", 116, 128 },
	{ "IPv6PoolNATOutgoing", { "CALICO_IPV6POOL_NAT_OUTGOING" }, SET_BOOL,
	  OFF(pool6_nat_outgoing), "false", 0, 0 },
	{ "NoDefaultPools", { "NO_DEFAULT_POOLS" }, SET_BOOL, OFF(no_default_pools), "false", 0, 0 },
	{ "RouteRefreshInterval", {}, SET_DURATION_MS, OFF(resync_ms), "90s", 0, 0 },
	{ "ApplyDebounce", {}, SET_DURATION_MS, OFF(debounce_ms), "20ms", 0, 0 },
	{ "RouteCleanupGrace", {}, SET_DURATION_MS, OFF(route_grace_ms), "10s", 0, 0 },
	{ "NftablesTable", {}, SET_STRING, OFF(nft_table), "calico-c", 0, 0 },
	{ "DefaultEndpointToHostAction", {}, SET_HOST_ACTION, OFF(endpoint_to_host), "Drop", 0, 0 },
	{ "LogPrefix", {}, SET_LOG_PREFIX, OFF(log_prefix), POLICY_LOG_PREFIX_DEFAULT, 0, 0 },
	{ "NFLOGGroup", {}, SET_UINT, OFF(nflog_group), "0", 0, 65535 },
	{ "FailsafeInboundHostPorts", {}, SET_FAILSAFES, OFF(failsafe_in), POLICY_FAILSAFE_IN_DEFAULT,
	  0, 0 },
	{ "FailsafeOutboundHostPorts", {}, SET_FAILSAFES, OFF(failsafe_out),
	  POLICY_FAILSAFE_OUT_DEFAULT, 0, 0 },
	{ "SecretsNamespace", {}, SET_STRING, OFF(secrets_namespace), "kube-system", 0, 0 },
	{ "IPAMGCEnabled", {}, SET_BOOL, OFF(ipam_gc), "true", 0, 0 },
	{ "IPAMGCInterval", {}, SET_DURATION_MS, OFF(ipam_gc_interval_ms), "60s", 0, 0 },
	{ "IPAMGCGrace", {}, SET_UINT, OFF(ipam_gc_grace_s), "300", 0, 86400 },
	{ "LoadBalancerIPAMEnabled", {}, SET_BOOL, OFF(lb_ipam), "true", 0, 0 },
	{ "LoadBalancerIPAMInterval", {}, SET_DURATION_MS, OFF(lb_ipam_interval_ms), "30s", 0, 0 },
	{ "LeaseNamespace", {}, SET_STRING, OFF(lease_namespace), "kube-system", 0, 0 },
	{ "LeaseName", {}, SET_STRING, OFF(lease_name), "calico-c-ipam-gc", 0, 0 },
	{ "LeaseDuration", {}, SET_UINT, OFF(lease_duration_s), "15", 3, 3600 },
	{ "Hollow", {}, SET_BOOL, OFF(hollow), "false", 0, 0 },
	{ "TyphaAddr", {}, SET_STRING, OFF(typha_addr), "", 0, 0 },
	{ "TyphaK8sServiceName", {}, SET_STRING, OFF(typha_service), "", 0, 0 },
	{ "TyphaK8sNamespace", {}, SET_STRING, OFF(typha_namespace), "kube-system", 0, 0 },
	{ "TyphaCAFile", {}, SET_STRING, OFF(typha_ca_file), "", 0, 0 },
	{ "TyphaCertFile", {}, SET_STRING, OFF(typha_cert_file), "", 0, 0 },
	{ "TyphaKeyFile", {}, SET_STRING, OFF(typha_key_file), "", 0, 0 },
	{ "TyphaCN", {}, SET_STRING, OFF(typha_cn), "", 0, 0 },
	{ "TyphaReadTimeout", {}, SET_DURATION_MS, OFF(typha_read_timeout_ms), "30s", 0, 0 },
	{ "TyphaReconnectInterval", {}, SET_DURATION_MS, OFF(typha_reconnect_ms), "10s", 0, 0 },
	{ "TyphaFallbackGrace", {}, SET_DURATION_MS, OFF(typha_fallback_grace_ms), "10s", 0, 0 },
};

_Static_assert(ELEMENTSOF(settings) <= 64 * ELEMENTSOF(((struct felix_config *)0)->user_set),
	       "felix_config.user_set is too small");

int felix_parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *ret = true, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *ret = false, 0;
	}
	return -EINVAL;
}

/* Leading decimal digits of @s (at most @max) into @ret; @ret_end (may be
 * NULL: then nothing may follow) gets what follows. */
static int parse_digits(const char *s, unsigned long max, unsigned long *ret, const char **ret_end)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || v > max || (!ret_end && *end))
		return -EINVAL;
	if (ret_end)
		*ret_end = end;
	*ret = v;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	return parse_digits(s, max, ret, NULL);
}

int felix_parse_duration_ms(const char *s, unsigned *ret_ms)
{
	static const struct {
		const char *suffix;
		unsigned long mult;
	} units[] = { { "", 1000 }, { "s", 1000 }, { "ms", 1 }, { "m", 60000 }, { "h", 3600000 } };
	const char *end;
	unsigned long v;

	if (parse_digits(s, ULONG_MAX, &v, &end) < 0)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(units); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		if (v > UINT_MAX / units[i].mult)
			return -EINVAL;
		*ret_ms = (unsigned)(v * units[i].mult);
		return 0;
	}
	return -EINVAL;
}

/* Addresses follow lib/prefix's rules. A pool with host bits set
 * ("10.65.1.0/16") is a typo, not a pool; "none" creates none of that
 * family, "" leaves the default (CALICO_IPV6POOL_CIDR: see worker.c). */
static int parse_pool(const char *s, int family)
{
	struct in_prefix p;

	if (strcmp(s, "none") == 0 || (family == AF_INET6 && !*s))
		return 0;
	if (prefix_parse(s, PREFIX_REJECT_HOST, &p) < 0 || p.family != family)
		return -EINVAL;
	return 0;
}

static int parse_ip(const char *s, int family)
{
	struct in_prefix p;

	if (strcmp(s, "autodetect") == 0 || strcmp(s, "none") == 0 || strcmp(s, "") == 0)
		return 0;
	if (prefix_parse(s, PREFIX_ALLOW_BARE, &p) < 0 || p.family != family)
		return -EINVAL;
	return 0;
}

#define LOG_PREFIX_HINT "1 to 32 printable characters, no '\"' or '\\'"
#define FAILSAFE_HINT "none or a list of [tcp:|udp:][CIDR:]PORT, an IPv6 CIDR in brackets"

static const char *type_hint(enum setting_type t)
{
	switch (t) {
	case SET_BOOL:
		return "true or false";
	case SET_PORT:
		return "a port 1-65535";
	case SET_DURATION_MS:
		return "a duration such as 10, 10s, 250ms, 2m";
	case SET_LOGLEVEL:
		return "debug, info, warning, error or fatal";
	case SET_POOL4:
		return "none or an IPv4 CIDR without host bits";
	case SET_POOL6:
		return "none or an IPv6 CIDR without host bits";
	case SET_IP4:
		return "autodetect, none or an IPv4 address";
	case SET_IP6:
		return "autodetect, none or an IPv6 address";
	case SET_AUTODETECT4:
		return "first-found, interface=REGEX[,REGEX...], skip-interface=REGEX[,REGEX...], "
		       "cidr=CIDR[,CIDR...], kubernetes-internal-ip or can-reach=IPv4";
	case SET_AUTODETECT6:
		return "first-found, interface=REGEX[,REGEX...], skip-interface=REGEX[,REGEX...], "
		       "cidr=CIDR[,CIDR...], kubernetes-internal-ip or can-reach=IPv6";
	case SET_HOST_ACTION:
		return "Drop, Return or Accept";
	case SET_LOG_PREFIX:
		return LOG_PREFIX_HINT;
	case SET_FAILSAFES:
		return FAILSAFE_HINT;
	default:
		return "a string";
	}
}

static enum log_level loglevel_from(const char *s)
{
	if (strcasecmp(s, "warn") == 0)
		return LOG_LEVEL_WARNING;
	if (strcasecmp(s, "fatal") == 0 || strcasecmp(s, "panic") == 0)
		return LOG_LEVEL_ERROR;
	return log_level_from_string(s);
}

/* Parses @v into the field of @s; -EINVAL on a bad value. */
static int setting_apply(const struct setting *s, const char *v, struct felix_config *c)
{
	void *field = (char *)c + s->off;
	unsigned long ul;
	bool b;
	int r;

	switch (s->type) {
	case SET_BOOL:
		if (felix_parse_bool(v, &b) < 0)
			return -EINVAL;
		*(bool *)field = b;
		return 0;
	case SET_PORT:
		if (parse_uint(v, 65535, &ul) < 0 || ul == 0)
			return -EINVAL;
		*(uint16_t *)field = (uint16_t)ul;
		return 0;
	case SET_UINT:
		if (parse_uint(v, s->max, &ul) < 0 || ul < s->min)
			return -EINVAL;
		*(unsigned *)field = (unsigned)ul;
		return 0;
	case SET_DURATION_MS:
		return felix_parse_duration_ms(v, (unsigned *)field);
	case SET_LOGLEVEL:
		r = loglevel_from(v);
		if (r < 0)
			return -EINVAL;
		*(enum log_level *)field = r;
		return 0;
	case SET_HOST_ACTION:
		r = policy_host_action_from_string(v);
		if (r < 0)
			return -EINVAL;
		*(enum policy_host_action *)field = r;
		return 0;
	/* A whole method is checked here (regexes compile, CIDRs and the
	 * can-reach address parse), so a typo fails at start with its setting
	 * named rather than at the first autodetection. */
	case SET_POOL4:
	case SET_POOL6:
		r = parse_pool(v, s->type == SET_POOL4 ? AF_INET : AF_INET6);
		break;
	case SET_IP4:
	case SET_IP6:
		r = parse_ip(v, s->type == SET_IP4 ? AF_INET : AF_INET6);
		break;
	case SET_AUTODETECT4:
	case SET_AUTODETECT6:
		r = autodetect_method_check(v, s->type == SET_AUTODETECT4 ? AF_INET : AF_INET6);
		break;
	case SET_LOG_PREFIX:
		r = policy_log_prefix_is_valid(v) ? 0 : -EINVAL;
		break;
	case SET_FAILSAFES:
		r = policy_failsafes_parse(v, &(struct policy_failsafes){});
		break;
	default:
		r = 0;
		break;
	}
	if (r < 0)
		return r;
	free(*(char **)field);
	*(char **)field = strdup(v);
	return *(char **)field ? 0 : -ENOMEM;
}

static int apply_or_explain(const struct setting *s, const char *v, const char *source,
			    struct felix_config *c, char **ret_error)
{
	int r = setting_apply(s, v, c);

	if (r == 0 && strcmp(source, "default") != 0)
		c->user_set[(s - settings) / 64] |= UINT64_C(1) << ((s - settings) % 64);
	if (r == -EINVAL && s->type == SET_UINT)
		return errmsg_set(ret_error, r, "%s: invalid value '%s' for %s: expected an integer "
				  "from %u to %u", source, v, s->key, s->min, s->max);
	if (r == -EINVAL)
		return errmsg_set(ret_error, r, "%s: invalid value '%s' for %s: expected %s", source,
				  v, s->key, type_hint(s->type));
	return r;
}

static const struct setting *setting_by_key(const char *key)
{
	for (size_t i = 0; i < ELEMENTSOF(settings); i++)
		if (strcasecmp(settings[i].key, key) == 0)
			return &settings[i];
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_file(const char *path, struct felix_config *c, char **ret_error)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;

	if (!f)
		return errmsg_set(ret_error, -errno, "cannot open config file '%s': %s", path,
				  strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		char where[300], *s = trim(line), *eq, *key, *val;
		const struct setting *st;
		int r;

		lineno++;
		if (!*s || *s == '#' || *s == ';' || *s == '[')
			continue;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		eq = strchr(s, '=');
		if (!eq)
			return errmsg_set(ret_error, -EINVAL, "%s: expected 'Key = Value'", where);
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		st = setting_by_key(key);
		if (!st)
			return errmsg_set(ret_error, -EINVAL, "%s: unknown setting '%s'", where, key);
		r = apply_or_explain(st, val, where, c, ret_error);
		if (r < 0)
			return r;
	}
	return 0;
}

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* FELIX_<KEY upper-cased>, then the setting's other names. */
static int load_env(char *const *envp, struct felix_config *c, char **ret_error)
{
	for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
		const struct setting *s = &settings[i];
		char name[64] = "FELIX_";
		const char *v, *used = name;
		int r;

		for (size_t k = 0; s->key[k] && k + 7 < sizeof(name); k++)
			name[6 + k] = (char)toupper((unsigned char)s->key[k]);
		v = env_get(envp, name);
		for (size_t k = 0; (!v || !*v) && k < ELEMENTSOF(s->env) && s->env[k]; k++)
			v = env_get(envp, used = s->env[k]);
		if (!v || !*v) /* empty = not set, as Kubernetes renders an empty ConfigMap value */
			continue;
		r = apply_or_explain(s, v, used, c, ret_error);
		if (r < 0)
			return r;
	}
	return 0;
}

static int default_path(char **field, const char *dir, const char *leaf)
{
	if (*field)
		return 0;
	return asprintf(field, "%s/%s", dir, leaf) < 0 ? -ENOMEM : 0;
}

bool felix_config_uses_typha(const struct felix_config *c)
{
	return *c->typha_addr || *c->typha_service;
}

/* typha-c: an address we can connect to and the whole mutual TLS setup,
 * or nothing (there is no plaintext mode). */
static int check_typha(const struct felix_config *c, char **ret_error)
{
	struct sockaddr_in sa;

	if (!felix_config_uses_typha(c))
		return 0;
	if (*c->typha_addr && felix_typha_parse_addr(c->typha_addr, &sa) < 0)
		return errmsg_set(ret_error, -EINVAL, "TyphaAddr '%s': expected an IPv4 "
				  "address:port", c->typha_addr);
	if (!*c->typha_ca_file || !*c->typha_cert_file || !*c->typha_key_file)
		return errmsg_set(ret_error, -EINVAL, "%s is set: TyphaCAFile, "
				  "TyphaCertFile and TyphaKeyFile are required (mutual TLS)",
				  *c->typha_addr ? "TyphaAddr" : "TyphaK8sServiceName");
	if (c->typha_read_timeout_ms < 1000 || c->typha_reconnect_ms < 1000)
		return errmsg_set(ret_error, -EINVAL, "TyphaReadTimeout and "
				  "TyphaReconnectInterval must be at least 1s");
	return 0;
}

static int finish(struct felix_config *c, char **ret_error)
{
	char host[256] = {};
	int r;

	if (!c->nodename || !*c->nodename) {
		if (gethostname(host, sizeof(host) - 1) < 0 || !*host)
			return errmsg_set(ret_error, -EINVAL, "no node name: set FELIX_FELIXHOSTNAME");
		free(c->nodename);
		c->nodename = strdup(host);
		if (!c->nodename)
			return -ENOMEM;
	}
	if (strlen(c->nodename) > 253 || strpbrk(c->nodename, "/ \t\n\"'"))
		return errmsg_set(ret_error, -EINVAL, "invalid node name '%s'", c->nodename);
	if (c->log_file && !*c->log_file)
		c->log_file = (free(c->log_file), NULL);
	r = default_path(&c->bird_config, c->state_dir, "bird.cfg");
	if (r == 0)
		r = default_path(&c->cni_kubeconfig, c->cni_net_dir, "calico-kubeconfig");
	if (r == 0)
		r = default_path(&c->bird_socket, c->state_dir, "bird.ctl");
	if (r == 0)
		r = default_path(&c->bird_pidfile, c->state_dir, "bird.pid");
	if (r < 0)
		return r;
	if (c->resync_ms < 1000)
		return errmsg_set(ret_error, -EINVAL, "RouteRefreshInterval %u ms is below 1s",
				  c->resync_ms);
	if (c->cni_token_lifetime_ms < 600000) /* the apiserver's minimum expirationSeconds */
		return errmsg_set(ret_error, -EINVAL, "CNITokenLifetime %u ms is below 10m",
				  c->cni_token_lifetime_ms);
	if (c->ipam_gc_interval_ms < 1000)
		return errmsg_set(ret_error, -EINVAL, "IPAMGCInterval %u ms is below 1s",
				  c->ipam_gc_interval_ms);
	return check_typha(c, ret_error);
}

int felix_config_load(const char *file, char *const *envp, struct felix_config *ret,
		      char **ret_error)
{
	struct felix_config c = {};
	int r = 0;

	for (size_t i = 0; i < ELEMENTSOF(settings) && r >= 0; i++)
		if (settings[i].def)
			r = apply_or_explain(&settings[i], settings[i].def, "default", &c,
					     ret_error);
	if (!file)
		file = env_get(envp, "FELIX_CONFIGFILE");
	if (r >= 0 && file && *file)
		r = load_file(file, &c, ret_error);
	if (r >= 0)
		r = load_env(envp, &c, ret_error);
	if (r >= 0)
		r = finish(&c, ret_error);
	if (r < 0) {
		felix_config_done(&c);
		return r;
	}
	*ret = c;
	return 0;
}

void felix_config_done(struct felix_config *c)
{
	for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
		const struct setting *s = &settings[i];

		if (is_text(s->type)) {
			char **f = (char **)((char *)c + s->off);
			free(*f);
			*f = NULL;
		}
	}
}

static bool user_set(const struct felix_config *c, const char *key)
{
	const struct setting *s = setting_by_key(key);

	return s && (c->user_set[(s - settings) / 64] & (UINT64_C(1) << ((s - settings) % 64)));
}

/* One invalid FelixConfiguration field: the first one is reported. */
static void runtime_bad(int *bad, char **ret_error, const char *res, const char *node,
			const char *field, const char *value, const char *hint)
{
	if ((*bad)++)
		return;
	(void)errmsg_set(ret_error, -EINVAL, "FelixConfiguration %s%s: invalid %s '%s'%s%s%s", res,
			 node, field, value, hint ? " (" : "", hint ?: "", hint ? ")" : "");
}

/* A FelixConfiguration's failsafe list (field @key with a lower-case
 * first letter) over @fs, unless the environment or file set it. */
static void runtime_failsafes(const struct felix_config *c, json_t *spec, const char *key,
			      struct policy_failsafes *fs, int *bad, char **ret_error,
			      const char *res, const char *node)
{
	_cleanup_free_ char *err = NULL;
	char field[64];
	json_t *v;

	snprintf(field, sizeof(field), "%c%s", key[0] - 'A' + 'a', key + 1);
	v = json_object_get(spec, field);
	if (!v || json_is_null(v) || user_set(c, key))
		return;
	if (policy_failsafes_from_json(v, fs, &err) == -EINVAL && !(*bad)++)
		(void)errmsg_set(ret_error, -EINVAL, "FelixConfiguration %s%s: invalid %s%s%s",
				 res, node, field, err && *err == '[' ? "" : ": ", err ?: "");
}

int felix_config_runtime(const struct felix_config *c, json_t *global_spec, json_t *node_spec,
			 struct felix_runtime *ret, char **ret_error)
{
	json_t *specs[] = { global_spec, node_spec }; /* later wins */
	static const char *const names[] = { "default", "node." };
	int bad = 0;

	*ret = (struct felix_runtime){ .log_level = c->log_level, .resync_ms = c->resync_ms,
				       .endpoint_to_host = c->endpoint_to_host };
	snprintf(ret->log_prefix, sizeof(ret->log_prefix), "%s", c->log_prefix);
	/* valid: checked when loaded */
	(void)policy_failsafes_parse(c->failsafe_in, &ret->failsafe_in);
	(void)policy_failsafes_parse(c->failsafe_out, &ret->failsafe_out);
	for (size_t i = 0; i < ELEMENTSOF(specs); i++) {
		const char *lvl = json_string_value(json_object_get(specs[i], "logSeverityScreen"));
		const char *ri = json_string_value(json_object_get(specs[i], "routeRefreshInterval"));
		const char *ha = json_string_value(json_object_get(specs[i],
								   "defaultEndpointToHostAction"));
		const char *lp = json_string_value(json_object_get(specs[i], "logPrefix"));
		const char *node = i ? c->nodename : "";
		unsigned ms;
		int l;

		if (lvl && !user_set(c, "LogSeverityScreen")) {
			l = loglevel_from(lvl);
			if (l >= 0)
				ret->log_level = l;
			else
				runtime_bad(&bad, ret_error, names[i], node, "logSeverityScreen", lvl,
					    NULL);
		}
		if (ri && !user_set(c, "RouteRefreshInterval")) {
			if (felix_parse_duration_ms(ri, &ms) == 0 && ms >= 1000)
				ret->resync_ms = ms;
			else
				runtime_bad(&bad, ret_error, names[i], node, "routeRefreshInterval", ri,
					    "a duration of 1s or more");
		}
		if (ha && !user_set(c, "DefaultEndpointToHostAction")) {
			l = policy_host_action_from_string(ha);
			if (l >= 0)
				ret->endpoint_to_host = l;
			else
				runtime_bad(&bad, ret_error, names[i], node,
					    "defaultEndpointToHostAction", ha, type_hint(SET_HOST_ACTION));
		}
		if (lp && !user_set(c, "LogPrefix")) {
			if (policy_log_prefix_is_valid(lp))
				snprintf(ret->log_prefix, sizeof(ret->log_prefix), "%s", lp);
			else
				runtime_bad(&bad, ret_error, names[i], node, "logPrefix", lp,
					    LOG_PREFIX_HINT);
		}
		runtime_failsafes(c, specs[i], "FailsafeInboundHostPorts", &ret->failsafe_in, &bad,
				  ret_error, names[i], node);
		runtime_failsafes(c, specs[i], "FailsafeOutboundHostPorts", &ret->failsafe_out, &bad,
				  ret_error, names[i], node);
	}
	return bad ? -EINVAL : 0;
}
