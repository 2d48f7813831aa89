/* Plugin configuration. Calico's conflists carry many keys (container
 * settings, feature flags) that do not change how we wire a pod: those are
 * accepted and ignored. Keys we use are type-checked, and a value we cannot
 * honour is refused with code 2 rather than silently ignored.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cni.h"
#include "cnisock.h"
#include "conf.h"
#include "lock.h"
#include "tlscache.h"

#define BAD(err, ...) cni_error_set(err, CNI_ERR_INVALID_CONFIG, -EINVAL, __VA_ARGS__)
#define UNSUPPORTED(err, ...) cni_error_set(err, CNI_ERR_UNSUPPORTED_FIELD, -EINVAL, __VA_ARGS__)

int plugin_conf_bool(const char *text, bool *ret)
{
	if (strcasecmp(text, "true") == 0)
		*ret = true;
	else if (strcasecmp(text, "false") == 0)
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

static int get_string(const json_t *obj, const char *key, const char *where, const char **ret,
		      struct cni_error *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return BAD(err, "invalid '%s%s': must be a string", where, key);
	*ret = json_string_value(v);
	return 0;
}

/* Calico writes booleans both as JSON booleans and as strings. */
static int get_bool(const json_t *obj, const char *key, const char *where, bool *ret,
		    struct cni_error *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return 0;
	if (json_is_boolean(v)) {
		*ret = json_is_true(v);
		return 0;
	}
	if (json_is_string(v) && plugin_conf_bool(json_string_value(v), ret) == 0)
		return 0;
	return BAD(err, "invalid '%s%s': must be true or false", where, key);
}

static int conf_mtu(const json_t *j, struct plugin_conf *p, struct cni_error *err)
{
	json_t *v = json_object_get(j, "mtu");

	/* 0 means "not set", as Calico's templates render an unset veth_mtu. */
	if (!v || json_is_null(v) || (json_is_integer(v) && json_integer_value(v) == 0))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 68 || json_integer_value(v) > 65535)
		return BAD(err, "invalid 'mtu': must be 0 (not set) or an integer from 68 to 65535");
	p->mtu = (uint32_t)json_integer_value(v);
	return 0;
}

static int conf_datastore(const json_t *j, struct plugin_conf *p, struct cni_error *err)
{
	json_t *k8s = json_object_get(j, "kubernetes"), *policy = json_object_get(j, "policy");
	int r;

	if ((r = get_string(j, "datastore_type", "", &p->datastore_type, err)) < 0)
		return r;
	if (p->datastore_type && strcmp(p->datastore_type, "kubernetes") != 0)
		return UNSUPPORTED(err, "unsupported field 'datastore_type': '%s' (only "
					"'kubernetes')",
				   p->datastore_type);
	if (k8s && !json_is_object(k8s))
		return BAD(err, "invalid 'kubernetes': must be an object");
	if (k8s && (r = get_string(k8s, "kubeconfig", "kubernetes.", &p->kubeconfig, err)) < 0)
		return r;
	if (policy && !json_is_object(policy))
		return BAD(err, "invalid 'policy': must be an object");
	if (policy && (r = get_string(policy, "type", "policy.", &p->policy_type, err)) < 0)
		return r;
	if (p->policy_type && strcmp(p->policy_type, "kubernetes") != 0 &&
	    strcmp(p->policy_type, "k8s") != 0)
		return UNSUPPORTED(err, "unsupported field 'policy.type': '%s' (only 'kubernetes' "
					"or 'k8s')",
				   p->policy_type);
	return 0;
}

static int conf_logging(const json_t *j, struct plugin_conf *p, struct cni_error *err)
{
	const char *level = NULL;
	int r;

	if ((r = get_string(j, "log_level", "", &level, err)) < 0 ||
	    (r = get_string(j, "log_file_path", "", &p->log_file_path, err)) < 0)
		return r;
	if (level) {
		p->log_level = log_level_from_string(level);
		if (p->log_level < 0)
			return BAD(err, "invalid 'log_level': '%s' (want debug, info, warning, error)",
				   level);
	}
	if (p->log_file_path && !*p->log_file_path)
		p->log_file_path = NULL;
	return 0;
}

static int conf_ipam(const struct cni_config *c, struct plugin_conf *p, struct cni_error *err)
{
	int r;

	if (!c->ipam_type)
		return BAD(err, "missing required field 'ipam.type' (calico-c needs an IPAM plugin)");
	p->ipam_is_calico = strcmp(c->ipam_type, "calico-c-ipam") == 0 ||
			    strcmp(c->ipam_type, "calico-ipam") == 0;
	if ((r = get_bool(c->ipam, "assign_ipv4", "ipam.", &p->assign_ipv4, err)) < 0 ||
	    (r = get_bool(c->ipam, "assign_ipv6", "ipam.", &p->assign_ipv6, err)) < 0)
		return r;
	if (!p->assign_ipv4 && !p->assign_ipv6)
		return BAD(err, "invalid 'ipam': assign_ipv4 and assign_ipv6 are both false");
	return 0;
}

int plugin_conf_parse(const struct cni_config *c, struct plugin_conf *ret, struct cni_error *err)
{
	struct plugin_conf p = {
		.mtu_file = CONF_DEFAULT_MTU_FILE,
		.log_level = LOG_LEVEL_INFO,
		.assign_ipv4 = true,
		.tls_session_dir = TLSCACHE_DEFAULT_DIR,
		.felix_socket = CNISOCK_DEFAULT_PATH,
		.state_dir = PLUGIN_DEFAULT_STATE_DIR,
	};
	const json_t *j = c->json;
	int r;

	if ((r = conf_mtu(j, &p, err)) < 0 ||
	    (r = get_string(j, "mtu_file", "", &p.mtu_file, err)) < 0 ||
	    (r = get_string(j, "nodename", "", &p.nodename, err)) < 0 ||
	    (r = get_string(j, "nodename_file", "", &p.nodename_file, err)) < 0 ||
	    (r = get_string(j, "tls_session_dir", "", &p.tls_session_dir, err)) < 0 ||
	    (r = get_string(j, "felix_socket", "", &p.felix_socket, err)) < 0 ||
	    (r = get_string(j, "state_dir", "", &p.state_dir, err)) < 0 ||
	    (r = conf_datastore(j, &p, err)) < 0 || (r = conf_logging(j, &p, err)) < 0 ||
	    (r = conf_ipam(c, &p, err)) < 0)
		return r;
	if (!*p.state_dir)
		return BAD(err, "invalid 'state_dir': must not be empty");
	*ret = p;
	return 0;
}
