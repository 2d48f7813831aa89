/* calico-c-install-cni: puts the calico-c CNI plugin onto a node, as the
 * init container of the calico-node DaemonSet (manifests/calico-c.yaml).
 *
 *   calico-c-install-cni            install once, exit 0 (or 1 with a message)
 *   calico-c-install-cni --help     this text, shortened
 *
 * What it does, in this order; every check comes before the first write, so
 * a failure (bad template, missing token, unreachable apiserver) changes
 * nothing on the host:
 *   1. reads the service-account token and CA, and, if CNI_SERVICE_ACCOUNT is
 *      set, exchanges the pod's token for a token of that account
 *      (TokenRequest: POST .../serviceaccounts/<name>/token);
 *   2. renders the plugin's kubeconfig and parses it back with our own
 *      kubeconfig reader;
 *   3. renders the network config template and validates it (JSON, an
 *      object, cniVersion, name, plugins[] each with a type, no placeholder
 *      left);
 *   4. copies the plugin binaries into the host's CNI bin folder, writes the
 *      kubeconfig (mode 0600), then the network config (0644, or 0600 when it
 *      embeds the token). Each file is replaced atomically: a temp file in the
 *      same folder, fsync, rename. The network config comes last because
 *      its appearance is what makes the kubelet report the node Ready.
 *
 * Environment (Calico's names where Calico has one; defaults in brackets):
 *   CNI_HOST_PREFIX      where the host's root is mounted in this container
 *                        ["/host"]; "" when run directly on the host. Files
 *                        are written to CNI_HOST_PREFIX + CNI_BIN_DIR / CNI_NET_DIR.
 *   CNI_BIN_DIR          the host's CNI binary folder ["/opt/cni/bin"]
 *   CNI_NET_DIR          the host's CNI config folder ["/etc/cni/net.d"]; also
 *                        used in the rendered paths (__KUBECONFIG_FILEPATH__)
 *   CNI_CONF_NAME        network config file name ["10-calico.conflist"];
 *                        a name ending ".conf" is validated as one plugin
 *   CNI_NETWORK_CONFIG   the template text; if unset, CNI_NETWORK_CONFIG_FILE
 *                        (a path to the template); if neither, a built-in
 *                        template (calico-c + calico-c-ipam)
 *   CNI_KUBECONFIG_NAME  kubeconfig file name in CNI_NET_DIR ["calico-kubeconfig"]
 *   CNI_SOURCE_DIR       where the binaries are in the image ["/opt/calico-c/bin"]
 *   CNI_BINARIES         binaries to copy, comma or space separated
 *                        ["calico-c,calico-c-direct,calico-c-ipam,
 *                        calico-c-ipam-direct"]
 *   SKIP_CNI_BINARIES    comma-separated names not to copy [""]
 *   UPDATE_CNI_BINARIES  "false": keep a binary that already exists ["true"]
 *   SERVICE_ACCOUNT_PATH folder with token, ca.crt, namespace
 *                        ["/var/run/secrets/kubernetes.io/serviceaccount"]
 *   KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT
 *                        the apiserver written into the kubeconfig (required;
 *                        set by the kubelet in every pod)
 *   CNI_SERVICE_ACCOUNT  if set, the kubeconfig gets a token of this service
 *                        account (in CNI_SERVICE_ACCOUNT_NAMESPACE, default:
 *                        SERVICE_ACCOUNT_PATH/namespace) instead of the pod's
 *   CNI_TOKEN_EXPIRATION_SECONDS  lifetime asked for that token [86400, as
 *                        Calico; at least 600]; felix-c asks for a new one
 *                        before it expires and rewrites the kubeconfig
 *                        (FELIX_CNITOKENSERVICEACCOUNT, felix-c/cnitoken.h)
 *   KUBERNETES_NODE_NAME the node name [the host name]
 *   CNI_MTU              pod interface MTU, 0 = the plugin reads the MTU
 *                        file felix-c writes ["0"]
 *   CNI_LOG_LEVEL        the plugin's log level ["info"]
 *   CNI_LOG_FILE_PATH    the plugin's log file ["/var/log/calico-c/cni/cni.log"]
 *
 * Template placeholders (a value is JSON-string-escaped, so put a
 * placeholder inside quotes, except __CNI_MTU__, which is a number):
 *   __KUBECONFIG_FILEPATH__    CNI_NET_DIR/CNI_KUBECONFIG_NAME
 *   __CNI_MTU__                CNI_MTU
 *   __KUBERNETES_NODE_NAME__   KUBERNETES_NODE_NAME
 *   __LOG_LEVEL__              CNI_LOG_LEVEL
 *   __LOG_FILE_PATH__          CNI_LOG_FILE_PATH
 *   __DATASTORE_TYPE__         "kubernetes"
 *   __CNI_NET_DIR__            CNI_NET_DIR
 *   __KUBERNETES_SERVICE_HOST__, __KUBERNETES_SERVICE_PORT__
 *   __SERVICEACCOUNT_TOKEN__   the token (the file is then written 0600)
 * Any other __UPPER_CASE__ word in the template is an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "cni-plugin/install.h"
#include "kapi.h"
#include "log.h"
#include "satoken.h"

#define SMALL_FILE_MAX (1u << 20)
#define SA_DEFAULT "/var/run/secrets/kubernetes.io/serviceaccount"

static const char default_template[] =
    "{\n"
    "  \"name\": \"k8s-pod-network\",\n"
    "  \"cniVersion\": \"1.0.0\",\n"
    "  \"plugins\": [\n"
    "    {\n"
    "      \"type\": \"calico-c\",\n"
    "      \"log_level\": \"__LOG_LEVEL__\",\n"
    "      \"log_file_path\": \"__LOG_FILE_PATH__\",\n"
    "      \"datastore_type\": \"__DATASTORE_TYPE__\",\n"
    "      \"nodename\": \"__KUBERNETES_NODE_NAME__\",\n"
    "      \"mtu\": __CNI_MTU__,\n"
    "      \"ipam\": { \"type\": \"calico-c-ipam\" },\n"
    "      \"policy\": { \"type\": \"k8s\" },\n"
    "      \"kubernetes\": { \"kubeconfig\": \"__KUBECONFIG_FILEPATH__\" }\n"
    "    }\n"
    "  ]\n"
    "}\n";

/* Everything read from the environment, with defaults applied. */
struct settings {
	const char *prefix, *bin_dir, *net_dir, *conf_name, *kubeconfig_name;
	const char *source_dir, *binaries, *skip, *sa_path, *host, *port;
	const char *cni_sa, *cni_sa_ns, *node, *mtu, *log_level, *log_file;
	const char *template_text, *template_file;
	unsigned long token_seconds;
	bool update_binaries;
	char hostname[256];
};

/* What step 1-3 produce; step 4 writes it. */
struct plan {
	char *token;
	char *ca;
	size_t ca_len;
	char *server;
	char *kubeconfig_host_path; /* as the host sees it */
	char *kubeconfig_text;
	char *conflist_text;
	bool conflist_has_token;
};

static void plan_done(struct plan *p)
{
	if (p->token)
		explicit_bzero(p->token, strlen(p->token));
	if (p->kubeconfig_text)
		explicit_bzero(p->kubeconfig_text, strlen(p->kubeconfig_text));
	if (p->conflist_text && p->conflist_has_token)
		explicit_bzero(p->conflist_text, strlen(p->conflist_text));
	free(p->token);
	free(p->ca);
	free(p->server);
	free(p->kubeconfig_host_path);
	free(p->kubeconfig_text);
	free(p->conflist_text);
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v ? v : def;
}

static int settings_load(struct settings *s)
{
	const char *upd = env_or("UPDATE_CNI_BINARIES", "true");
	const char *secs = env_or("CNI_TOKEN_EXPIRATION_SECONDS", "86400");
	char *end;

	*s = (struct settings){
	    .prefix = env_or("CNI_HOST_PREFIX", "/host"),
	    .bin_dir = env_or("CNI_BIN_DIR", "/opt/cni/bin"),
	    .net_dir = env_or("CNI_NET_DIR", "/etc/cni/net.d"),
	    .conf_name = env_or("CNI_CONF_NAME", "10-calico.conflist"),
	    .kubeconfig_name = env_or("CNI_KUBECONFIG_NAME", "calico-kubeconfig"),
	    .source_dir = env_or("CNI_SOURCE_DIR", "/opt/calico-c/bin"),
	    .binaries = env_or("CNI_BINARIES",
				   "calico-c,calico-c-direct,calico-c-ipam,calico-c-ipam-direct"),
	    .skip = env_or("SKIP_CNI_BINARIES", ""),
	    .sa_path = env_or("SERVICE_ACCOUNT_PATH", SA_DEFAULT),
	    .host = getenv("KUBERNETES_SERVICE_HOST"),
	    .port = env_or("KUBERNETES_SERVICE_PORT", "443"),
	    .cni_sa = getenv("CNI_SERVICE_ACCOUNT"),
	    .cni_sa_ns = getenv("CNI_SERVICE_ACCOUNT_NAMESPACE"),
	    .node = getenv("KUBERNETES_NODE_NAME"),
	    .mtu = env_or("CNI_MTU", "0"),
	    .log_level = env_or("CNI_LOG_LEVEL", "info"),
	    .log_file = env_or("CNI_LOG_FILE_PATH", "/var/log/calico-c/cni/cni.log"),
	    .template_text = getenv("CNI_NETWORK_CONFIG"),
	    .template_file = getenv("CNI_NETWORK_CONFIG_FILE"),
	};
	if (strcmp(upd, "true") != 0 && strcmp(upd, "false") != 0)
		return log_error_errno(-EINVAL,
				       "UPDATE_CNI_BINARIES must be true or false, not '%s'", upd);
	s->update_binaries = strcmp(upd, "true") == 0;
	errno = 0;
	s->token_seconds = strtoul(secs, &end, 10);
	if (errno || !*secs || *end || s->token_seconds < 600)
		return log_error_errno(
		    -EINVAL, "CNI_TOKEN_EXPIRATION_SECONDS must be a number >= 600, not '%s'",
		    secs);
	if (strspn(s->mtu, "0123456789") != strlen(s->mtu) || !*s->mtu || strlen(s->mtu) > 5 ||
	    atoi(s->mtu) > 65535)
		return log_error_errno(-EINVAL, "CNI_MTU must be a number 0-65535, not '%s'",
				       s->mtu);
	if (!s->node || !*s->node) {
		if (gethostname(s->hostname, sizeof(s->hostname) - 1) < 0 || !*s->hostname)
			return log_error_errno(-EINVAL, "KUBERNETES_NODE_NAME is not set");
		s->node = s->hostname;
	}
	if (!*s->conf_name || strchr(s->conf_name, '/') || !*s->kubeconfig_name ||
	    strchr(s->kubeconfig_name, '/'))
		return log_error_errno(-EINVAL, "CNI_CONF_NAME and CNI_KUBECONFIG_NAME must be "
						"plain file names");
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Strips trailing whitespace (token files often end in a newline). */
static void rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static int read_sa_file(const struct settings *s, const char *leaf, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *path = NULL;
	int r;

	if (asprintf(&path, "%s/%s", s->sa_path, leaf) < 0)
		return -ENOMEM;
	r = file_read_all(path, SMALL_FILE_MAX, ret, ret_len);
	if (r < 0)
		return log_error_errno(r,
				       "Cannot read the service account %s '%s' (set "
				       "SERVICE_ACCOUNT_PATH): %m",
				       leaf, path);
	return 0;
}


/* Exchanges the pod's token for one of CNI_SERVICE_ACCOUNT (TokenRequest). */
static int request_token(const struct settings *s, struct plan *p)
{
	_cleanup_(kapi_config_freep) struct kapi_config *kc = NULL;
	_cleanup_(kapi_freep) struct kapi *k = NULL;
	_cleanup_free_ char *ns_file = NULL, *token = NULL, *expiry = NULL;
	const char *ns = s->cni_sa_ns;
	int r;

	if (!ns) {
		_cleanup_free_ char *path = NULL;

		if (asprintf(&path, "%s/namespace", s->sa_path) < 0)
			return -ENOMEM;
		if (file_read_all(path, SMALL_FILE_MAX, &ns_file, NULL) == 0) {
			rstrip(ns_file);
			ns = ns_file;
		}
	}
	if (!ns || !*ns)
		return log_error_errno(-EINVAL,
				       "No namespace for CNI_SERVICE_ACCOUNT '%s': set "
				       "CNI_SERVICE_ACCOUNT_NAMESPACE",
				       s->cni_sa);
	r = kapi_config_in_cluster(s->sa_path, &kc);
	if (r < 0)
		return log_error_errno(r, "Cannot build the in-cluster API config from '%s': %m",
				       s->sa_path);
	r = kapi_new(kc, &k);
	if (r < 0)
		return log_error_errno(r, "Cannot create the API client: %m");
	r = satoken_request(k, ns, s->cni_sa, s->token_seconds, &token, &expiry);
	if (r == -EBADMSG)
		return log_error_errno(r, "TokenRequest answer has no status.token or expiry");
	if (r < 0)
		return log_error_errno(r, "TokenRequest for service account '%s/%s' failed: %m%s%s",
				       ns, s->cni_sa, *kapi_last_error(k) ? ": " : "",
				       kapi_last_error(k));
	log_info("Got a token for service account '%s/%s', expiring %s", ns, s->cni_sa, expiry);
	free(p->token);
	p->token = TAKE_PTR(token);
	return 0;
}

static int plan_credentials(const struct settings *s, struct plan *p)
{
	_cleanup_free_ char *err = NULL;
	int r;

	r = read_sa_file(s, "token", &p->token, NULL);
	if (r < 0)
		return r;
	rstrip(p->token);
	if (satoken_check(p->token, &err) < 0)
		return log_error_errno(-EINVAL, "Bad token in '%s/token': %s", s->sa_path, err);
	r = read_sa_file(s, "ca.crt", &p->ca, &p->ca_len);
	if (r < 0)
		return r;
	r = install_server_url(s->host, s->port, &p->server, &err);
	if (r < 0)
		return log_error_errno(r, "%s", err ? err : "%m");
	if (s->cni_sa && *s->cni_sa)
		return request_token(s, p);
	return 0;
}

static int plan_kubeconfig(const struct settings *s, struct plan *p)
{
	_cleanup_(kapi_config_freep) struct kapi_config *kc = NULL;
	_cleanup_free_ char *err = NULL;
	int r;

	if (asprintf(&p->kubeconfig_host_path, "%s/%s", s->net_dir, s->kubeconfig_name) < 0)
		return -ENOMEM;
	r = satoken_kubeconfig_render(p->server, p->ca, p->ca_len, p->token, &p->kubeconfig_text,
				      &err);
	if (r < 0)
		return log_error_errno(r, "Cannot render the kubeconfig: %s", err ? err : "%m");
	r = kapi_config_from_string(p->kubeconfig_text, s->net_dir, &kc, &err);
	if (r < 0)
		return log_error_errno(r, "The rendered kubeconfig does not parse: %s",
				       err ? err : "%m");
	return 0;
}

static int load_template(const struct settings *s, char **ret, const char **ret_source)
{
	int r;

	if (s->template_text) {
		*ret_source = "CNI_NETWORK_CONFIG";
		*ret = strdup(s->template_text);
		return *ret ? 0 : -ENOMEM;
	}
	if (s->template_file) {
		*ret_source = s->template_file;
		r = file_read_all(s->template_file, SMALL_FILE_MAX, ret, NULL);
		return r < 0 ? log_error_errno(r, "Cannot read CNI_NETWORK_CONFIG_FILE '%s': %m",
					       s->template_file)
			     : 0;
	}
	*ret_source = "the built-in template";
	*ret = strdup(default_template);
	return *ret ? 0 : -ENOMEM;
}

static int plan_conflist(const struct settings *s, struct plan *p)
{
	_cleanup_free_ char *tmpl = NULL, *err = NULL;
	const char *source = NULL;
	const struct install_var vars[] = {
	    {"__KUBECONFIG_FILEPATH__", p->kubeconfig_host_path},
	    {"__CNI_MTU__", s->mtu},
	    {"__KUBERNETES_NODE_NAME__", s->node},
	    {"__LOG_LEVEL__", s->log_level},
	    {"__LOG_FILE_PATH__", s->log_file},
	    {"__DATASTORE_TYPE__", "kubernetes"},
	    {"__CNI_NET_DIR__", s->net_dir},
	    {"__KUBERNETES_SERVICE_HOST__", s->host},
	    {"__KUBERNETES_SERVICE_PORT__", s->port},
	    {"__SERVICEACCOUNT_TOKEN__", p->token},
	};
	int r;

	r = load_template(s, &tmpl, &source);
	if (r < 0)
		return r;
	p->conflist_has_token = strstr(tmpl, "__SERVICEACCOUNT_TOKEN__") != NULL;
	r = install_render(tmpl, vars, ELEMENTSOF(vars), &p->conflist_text, &err);
	if (r == 0)
		r = install_validate_conflist(p->conflist_text, !ends_with(s->conf_name, ".conf"),
					      &err);
	if (r < 0)
		return log_error_errno(r, "Bad CNI network config template from %s: %s", source,
				       err ? err : "%m");
	return 0;
}

/* Calls @fn for each name in the comma/space separated @list. */
static int for_each_name(const char *list, int (*fn)(const struct settings *, const char *),
			 const struct settings *s)
{
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL;
	int r;

	if (!copy)
		return -ENOMEM;
	for (char *n = strtok_r(copy, ", \t", &save); n; n = strtok_r(NULL, ", \t", &save)) {
		r = fn(s, n);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool skipped(const struct settings *s, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = s->skip; (p = strstr(p, name)); p += n)
		if ((p == s->skip || p[-1] == ',' || p[-1] == ' ') && (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

static int check_binary(const struct settings *s, const char *name)
{
	_cleanup_free_ char *src = NULL;

	if (strchr(name, '/'))
		return log_error_errno(-EINVAL, "CNI_BINARIES: '%s' is not a file name", name);
	if (skipped(s, name))
		return 0;
	if (asprintf(&src, "%s/%s", s->source_dir, name) < 0)
		return -ENOMEM;
	if (access(src, R_OK) < 0)
		return log_error_errno(-errno, "Binary '%s' is missing (CNI_SOURCE_DIR): %m", src);
	return 0;
}

static int install_binary(const struct settings *s, const char *name)
{
	_cleanup_free_ char *src = NULL, *dst = NULL;
	int r;

	if (skipped(s, name)) {
		log_info("Skipping binary '%s' (SKIP_CNI_BINARIES)", name);
		return 0;
	}
	if (asprintf(&src, "%s/%s", s->source_dir, name) < 0 ||
	    asprintf(&dst, "%s%s/%s", s->prefix, s->bin_dir, name) < 0)
		return -ENOMEM;
	if (!s->update_binaries && access(dst, F_OK) == 0) {
		log_info("Keeping existing '%s' (UPDATE_CNI_BINARIES=false)", dst);
		return 0;
	}
	r = file_copy_atomic(src, dst, 0755);
	if (r < 0)
		return log_error_errno(r, "Cannot install '%s' as '%s': %m", src, dst);
	log_info("Installed '%s'", dst);
	return 0;
}

static int write_files(const struct settings *s, const struct plan *p)
{
	_cleanup_free_ char *kc = NULL, *conf = NULL;
	int r;

	r = for_each_name(s->binaries, install_binary, s);
	if (r < 0)
		return r;
	if (asprintf(&kc, "%s%s", s->prefix, p->kubeconfig_host_path) < 0 ||
	    asprintf(&conf, "%s%s/%s", s->prefix, s->net_dir, s->conf_name) < 0)
		return -ENOMEM;
	r = file_write_atomic(kc, p->kubeconfig_text, strlen(p->kubeconfig_text), 0600);
	if (r < 0)
		return log_error_errno(r, "Cannot write the kubeconfig '%s': %m", kc);
	log_info("Wrote the kubeconfig '%s' (server %s)", kc, p->server);
	r = file_write_atomic(conf, p->conflist_text, strlen(p->conflist_text),
				 p->conflist_has_token ? 0600 : 0644);
	if (r < 0)
		return log_error_errno(r, "Cannot write the CNI network config '%s': %m", conf);
	log_info("Wrote the CNI network config '%s' for node '%s'", conf, s->node);
	return 0;
}

static int run(void)
{
	struct settings s;
	struct plan p = {};
	int r;

	r = settings_load(&s);
	if (r == 0)
		r = plan_credentials(&s, &p);
	if (r == 0)
		r = plan_kubeconfig(&s, &p);
	if (r == 0)
		r = plan_conflist(&s, &p);
	if (r == 0)
		r = for_each_name(s.binaries, check_binary, &s);
	if (r < 0)
		log_error("Nothing was changed on the host");
	else if ((r = write_files(&s, &p)) < 0)
		log_error("The CNI network config was not replaced");
	plan_done(&p);
	return r;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;

		fprintf(help ? stdout : stderr,
			"usage: calico-c-install-cni\n"
			"Installs the calico-c CNI binaries, network config and kubeconfig onto\n"
			"the host. Configured by environment variables: CNI_HOST_PREFIX,\n"
			"CNI_BIN_DIR, CNI_NET_DIR, CNI_CONF_NAME, CNI_NETWORK_CONFIG(_FILE),\n"
			"CNI_KUBECONFIG_NAME, CNI_SOURCE_DIR, CNI_BINARIES, SKIP_CNI_BINARIES,\n"
			"UPDATE_CNI_BINARIES, SERVICE_ACCOUNT_PATH, KUBERNETES_SERVICE_HOST/PORT,\n"
			"CNI_SERVICE_ACCOUNT(_NAMESPACE), CNI_TOKEN_EXPIRATION_SECONDS,\n"
			"KUBERNETES_NODE_NAME, CNI_MTU, CNI_LOG_LEVEL, CNI_LOG_FILE_PATH.\n");
		return help ? 0 : 2;
	}
	(void)log_setup(LOG_LEVEL_INFO, NULL, "install-cni");
	umask(022);
	return run() < 0 ? 1 : 0;
}
