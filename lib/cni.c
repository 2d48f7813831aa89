/* CNI protocol: environment, CNI_ARGS, configuration, results and errors
 * (running a delegated plugin is cni-plugin/delegate.c's). The model is "parse at the boundary": everything read from
 * stdin or the environment is validated here once, so the plugins work on
 * typed values and every rejection carries the spec's code and the field.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "array.h"
#include "cleanup.h"
#include "cni.h"
#include "fileio.h"

static const char *const command_names[_CNI_COMMAND_MAX] = {
	[CNI_COMMAND_ADD] = "ADD",     [CNI_COMMAND_DEL] = "DEL",
	[CNI_COMMAND_CHECK] = "CHECK", [CNI_COMMAND_GC] = "GC",
	[CNI_COMMAND_STATUS] = "STATUS", [CNI_COMMAND_VERSION] = "VERSION",
};

const char *cni_command_to_string(enum cni_command c)
{
	if (c < 0 || c >= _CNI_COMMAND_MAX)
		return NULL;
	return command_names[c];
}

enum cni_command cni_command_from_string(const char *s)
{
	if (!s)
		return _CNI_COMMAND_INVALID;
	for (int i = 0; i < _CNI_COMMAND_MAX; i++)
		if (strcmp(s, command_names[i]) == 0)
			return i;
	return _CNI_COMMAND_INVALID;
}

static const char *const version_names[_CNI_VERSION_MAX] = {
	[CNI_VERSION_0_3_1] = "0.3.1",
	[CNI_VERSION_0_4_0] = "0.4.0",
	[CNI_VERSION_1_0_0] = "1.0.0",
	[CNI_VERSION_1_1_0] = "1.1.0",
};

const char *cni_version_to_string(enum cni_version v)
{
	if (v < 0 || v >= _CNI_VERSION_MAX)
		return NULL;
	return version_names[v];
}

enum cni_version cni_version_from_string(const char *s)
{
	if (!s)
		return _CNI_VERSION_INVALID;
	for (int i = 0; i < _CNI_VERSION_MAX; i++)
		if (strcmp(s, version_names[i]) == 0)
			return i;
	return _CNI_VERSION_INVALID;
}

bool cni_version_is_semver(const char *s)
{
	int parts = 0;

	if (!s || !*s)
		return false;
	for (;;) {
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
		parts++;
		if (*s == '\0')
			return parts == 3;
		if (*s != '.' || parts == 3)
			return false;
		s++;
	}
}

/* ---- errors ---- */

int cni_error_set(struct cni_error *e, int code, int r, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->code != 0)
		return r;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->details[0] = '\0';
	return r;
}

void cni_error_set_details(struct cni_error *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(e->details, sizeof(e->details), fmt, ap);
	va_end(ap);
}

void cni_error_clear(struct cni_error *e)
{
	if (e)
		*e = (struct cni_error){};
}

json_t *cni_error_to_json(const struct cni_error *e, const char *version)
{
	json_t *j = json_object();

	if (!j)
		return NULL;
	if (json_object_set_new(j, "cniVersion",
				json_string(version ? version
						    : cni_version_to_string(CNI_VERSION_LATEST))) < 0 ||
	    json_object_set_new(j, "code", json_integer(e->code ? e->code : CNI_ERR_PLUGIN)) < 0 ||
	    json_object_set_new(j, "msg", json_string(e->msg)) < 0 ||
	    (e->details[0] && json_object_set_new(j, "details", json_string(e->details)) < 0)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int json_write(FILE *f, const json_t *j)
{
	if (json_dumpf(j, f, JSON_INDENT(4) | JSON_PRESERVE_ORDER) < 0)
		return -EIO;
	if (fputc('\n', f) == EOF || fflush(f) == EOF)
		return -errno;
	return 0;
}

int cni_error_write(FILE *f, const struct cni_error *e, const char *version)
{
	_cleanup_(json_decrefp) json_t *j = cni_error_to_json(e, version);

	if (!j)
		return -ENOMEM;
	return json_write(f, j);
}

int cni_error_from_json(const json_t *j, struct cni_error *ret)
{
	json_t *code = json_object_get(j, "code");
	const char *msg = json_string_value(json_object_get(j, "msg"));
	const char *details = json_string_value(json_object_get(j, "details"));

	if (!json_is_object(j) || !json_is_integer(code))
		return -EBADMSG;
	*ret = (struct cni_error){ .code = (int)json_integer_value(code) };
	snprintf(ret->msg, sizeof(ret->msg), "%s", msg ? msg : "");
	snprintf(ret->details, sizeof(ret->details), "%s", details ? details : "");
	return 0;
}

/* ---- environment ---- */

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

bool cni_container_id_is_valid(const char *id)
{
	if (!id || !isalnum((unsigned char)id[0]))
		return false;
	for (const char *p = id; *p; p++)
		if (!is_name_char(*p))
			return false;
	return true;
}

int cni_node_name(const json_t *cfg, char *buf, size_t size)
{
	const char *n = json_string_value(json_object_get(cfg, "nodename"));
	const char *file = json_string_value(json_object_get(cfg, "nodename_file"));
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int k;

	if (!n || !*n)
		n = getenv("NODENAME");
	if ((!n || !*n) && file_read_all(file ?: CNI_DEFAULT_NODENAME_FILE, 256, &text, &len) >= 0) {
		text[strcspn(text, "\r\n")] = '\0';
		n = text;
	}
	if (n && *n) {
		k = snprintf(buf, size, "%s", n);
		return k < 0 || (size_t)k >= size ? -ENAMETOOLONG : 0;
	}
	if (gethostname(buf, size) < 0)
		return -errno;
	buf[size - 1] = '\0';
	return buf[0] ? 0 : -ENOENT;
}

bool cni_network_name_is_valid(const char *name)
{
	return cni_container_id_is_valid(name);
}

bool cni_ifname_is_valid(const char *ifname)
{
	size_t n;

	if (!ifname)
		return false;
	n = strlen(ifname);
	if (n == 0 || n >= 16 || strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0)
		return false;
	for (const char *p = ifname; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) || !isprint((unsigned char)*p))
			return false;
	return true;
}

void cni_env_done(struct cni_env *env)
{
	if (!env)
		return;
	free(env->container_id);
	free(env->netns);
	free(env->ifname);
	free(env->args);
	free(env->path);
	*env = (struct cni_env){ .command = _CNI_COMMAND_INVALID };
}

/* Which variables each command requires (spec section 2). */
enum {
	NEED_CONTAINERID = 1 << 0,
	NEED_NETNS = 1 << 1,
	NEED_IFNAME = 1 << 2,
};

static const unsigned env_needs[_CNI_COMMAND_MAX] = {
	[CNI_COMMAND_ADD] = NEED_CONTAINERID | NEED_NETNS | NEED_IFNAME,
	[CNI_COMMAND_DEL] = NEED_CONTAINERID | NEED_IFNAME,
	[CNI_COMMAND_CHECK] = NEED_CONTAINERID | NEED_NETNS | NEED_IFNAME,
};

/* The CNI_* variables, in the order of struct cni_env's strings. */
static const char *const env_names[] = { "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME",
					 "CNI_ARGS", "CNI_PATH" };

static char **env_slot(struct cni_env *env, size_t i)
{
	char **slots[] = { &env->container_id, &env->netns, &env->ifname, &env->args, &env->path };

	return slots[i];
}

static const char *getenv_lookup(const char *name, const void *ud)
{
	(void)ud;
	return getenv(name);
}

static const char *json_lookup(const char *name, const void *ud)
{
	return json_string_value(json_object_get(ud, name));
}

static int env_validate(const struct cni_env *env, struct cni_error *err)
{
	unsigned need = env_needs[env->command];

	if ((need & NEED_CONTAINERID) && !env->container_id)
		return cni_error_set(err, CNI_ERR_INVALID_ENV, -EINVAL,
				     "CNI_CONTAINERID is required for %s",
				     cni_command_to_string(env->command));
	if (env->container_id && !cni_container_id_is_valid(env->container_id))
		return cni_error_set(err, CNI_ERR_INVALID_ENV, -EINVAL,
				     "CNI_CONTAINERID '%s' is invalid: must start with an alphanumeric "
				     "character, then [A-Za-z0-9_.-]",
				     env->container_id);
	if ((need & NEED_NETNS) && !env->netns)
		return cni_error_set(err, CNI_ERR_INVALID_ENV, -EINVAL,
				     "CNI_NETNS is required for %s",
				     cni_command_to_string(env->command));
	if ((need & NEED_IFNAME) && !env->ifname)
		return cni_error_set(err, CNI_ERR_INVALID_ENV, -EINVAL,
				     "CNI_IFNAME is required for %s",
				     cni_command_to_string(env->command));
	if (env->ifname && !cni_ifname_is_valid(env->ifname))
		return cni_error_set(err, CNI_ERR_INVALID_ENV, -EINVAL,
				     "CNI_IFNAME '%s' is invalid: 1-15 characters, not '.' or '..', "
				     "no '/', ':' or whitespace",
				     env->ifname);
	return 0;
}

static int env_load(const char *(*get)(const char *name, const void *ud), const void *ud,
		    struct cni_env *ret, struct cni_error *err)
{
	struct cni_env env = { .command = cni_command_from_string(get("CNI_COMMAND", ud)) };
	int r;

	if (env.command < 0)
		return cni_error_set(err, CNI_ERR_INVALID_ENV, -EINVAL,
				     "CNI_COMMAND '%s' is invalid: want ADD, DEL, CHECK, GC, STATUS "
				     "or VERSION",
				     get("CNI_COMMAND", ud) ? get("CNI_COMMAND", ud) : "");
	for (size_t i = 0; i < ELEMENTSOF(env_names); i++) {
		const char *v = get(env_names[i], ud);

		if (!v || !*v)
			continue;
		*env_slot(&env, i) = strdup(v);
		if (!*env_slot(&env, i)) {
			cni_env_done(&env);
			return cni_error_set(err, CNI_ERR_IO, -ENOMEM, "out of memory reading CNI_*");
		}
	}
	r = env_validate(&env, err);
	if (r < 0) {
		cni_env_done(&env);
		return r;
	}
	*ret = env;
	return 0;
}

int cni_env_load(struct cni_env *ret, struct cni_error *err)
{
	return env_load(getenv_lookup, NULL, ret, err);
}

int cni_env_from_json(const json_t *vars, struct cni_env *ret, struct cni_error *err)
{
	return env_load(json_lookup, vars, ret, err);
}

int cni_input_load(char **text, size_t *len, struct cni_env *env, struct cni_error *err)
{
	int r = fd_read_all(STDIN_FILENO, 1u << 20, text, len);

	if (r < 0)
		return cni_error_set(err, CNI_ERR_IO, r, "reading stdin failed: %s", strerror(-r));
	return cni_env_load(env, err);
}

json_t *cni_env_to_json(const struct cni_env *env)
{
	const char *const vals[] = { env->container_id, env->netns, env->ifname, env->args,
				     env->path };
	json_t *j = json_pack("{ss}", "CNI_COMMAND", cni_command_to_string(env->command));

	_Static_assert(ELEMENTSOF(vals) == ELEMENTSOF(env_names), "one value per name");
	for (size_t i = 0; j && i < ELEMENTSOF(env_names); i++) {
		const char *v = vals[i];

		if (v && json_object_set_new(j, env_names[i], json_string(v)) < 0)
			j = (json_decref(j), NULL);
	}
	return j;
}

/* ---- CNI_ARGS ---- */

void cni_args_done(struct cni_args *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->items[i].key);
		free(a->items[i].value);
	}
	free(a->items);
	*a = (struct cni_args){};
}

static int args_add(struct cni_args *a, const char *item, size_t len, struct cni_error *err)
{
	const char *eq = memchr(item, '=', len);
	struct cni_arg *kv;
	int r;

	if (!eq || eq == item)
		return cni_error_set(err, CNI_ERR_INVALID_ENV, -EINVAL,
				     "CNI_ARGS item '%.*s' is not KEY=VALUE", (int)len, item);
	r = ARRAY_GROW_MAX(a->items, a->cap, a->n + 1, CNI_ARGS_MAX);
	if (r == -EFBIG)
		return cni_error_set(err, CNI_ERR_INVALID_ENV, -EINVAL,
				     "CNI_ARGS has more than %d items", CNI_ARGS_MAX);
	if (r < 0)
		return r;
	kv = a->items;
	kv[a->n].key = strndup(item, (size_t)(eq - item));
	kv[a->n].value = strndup(eq + 1, len - (size_t)(eq - item) - 1);
	a->n++;
	if (!kv[a->n - 1].key || !kv[a->n - 1].value)
		return -ENOMEM;
	return 0;
}

int cni_args_parse(const char *s, struct cni_args *ret, struct cni_error *err)
{
	struct cni_args a = {};

	while (s && *s) {
		size_t len = strcspn(s, ";");
		int r = len ? args_add(&a, s, len, err) : 0;

		if (r < 0) {
			cni_args_done(&a);
			return r;
		}
		s += len;
		if (*s == ';')
			s++;
	}
	*ret = a;
	return 0;
}

const char *cni_args_get(const struct cni_args *a, const char *key)
{
	const char *v = NULL;

	for (size_t i = 0; a && i < a->n; i++)
		if (strcmp(a->items[i].key, key) == 0)
			v = a->items[i].value;
	return v;
}

/* ---- addresses ---- */

/* ---- results ---- */

struct cni_result *cni_result_new(void)
{
	return calloc(1, sizeof(struct cni_result));
}

struct cni_result *cni_result_free(struct cni_result *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n_interfaces; i++) {
		free(r->interfaces[i].sandbox);
		free(r->interfaces[i].socket_path);
		free(r->interfaces[i].pci_id);
	}
	json_decref(r->dns);
	free(r);
	return NULL;
}


int cni_result_add_interface(struct cni_result *r, const char *name, const char *mac,
			     const char *sandbox)
{
	struct cni_interface *i;

	if (r->n_interfaces >= CNI_RESULT_MAX_ITEMS)
		return -E2BIG;
	if (!name || strlen(name) >= sizeof(i->name) || (mac && strlen(mac) >= sizeof(i->mac)))
		return -EINVAL;
	i = &r->interfaces[r->n_interfaces];
	*i = (struct cni_interface){};
	snprintf(i->name, sizeof(i->name), "%s", name);
	snprintf(i->mac, sizeof(i->mac), "%s", mac ? mac : "");
	if (sandbox && *sandbox) {
		i->sandbox = strdup(sandbox);
		if (!i->sandbox)
			return -ENOMEM;
	}
	return (int)r->n_interfaces++;
}

int cni_result_add_ip(struct cni_result *r, const struct in_prefix *address,
		      const struct in_prefix *gateway, int interface)
{
	struct cni_ip *ip;

	if (r->n_ips >= CNI_RESULT_MAX_ITEMS)
		return -E2BIG;
	ip = &r->ips[r->n_ips];
	*ip = (struct cni_ip){ .address = *address, .interface = interface };
	if (gateway) {
		ip->has_gateway = true;
		ip->gateway = *gateway;
	}
	return (int)r->n_ips++;
}

int cni_result_add_route(struct cni_result *r, const struct in_prefix *dst,
			 const struct in_prefix *gw)
{
	struct cni_route *rt;

	if (r->n_routes >= CNI_RESULT_MAX_ITEMS)
		return -E2BIG;
	rt = &r->routes[r->n_routes];
	*rt = (struct cni_route){ .dst = *dst, .scope = -1 };
	if (gw) {
		rt->has_gw = true;
		rt->gw = *gw;
	}
	return (int)r->n_routes++;
}

/* Optional string member: absent is fine, any other non-string is not. */
static int get_opt_string(const json_t *obj, const char *key, const char **ret)
{
	json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	*ret = json_string_value(v);
	return 0;
}

/* Optional unsigned member; absent leaves *ret alone. */
static int get_opt_uint(const json_t *obj, const char *key, uint32_t max, uint32_t *ret)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return -EINVAL;
	*ret = (uint32_t)json_integer_value(v);
	return 0;
}

#define BAD_RESULT(err, field, idx)                                                           \
	cni_error_set(err, CNI_ERR_DECODE, -EINVAL, "result: invalid '%s' in item %zu", field, \
		      idx)

static int strdup_opt(const char *s, char **ret)
{
	*ret = NULL;
	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int parse_interface(const json_t *j, size_t idx, struct cni_result *r,
			   struct cni_error *err)
{
	const char *name, *mac, *sandbox, *sock, *pci;
	struct cni_interface *i;
	int k;

	if (!json_is_object(j))
		return BAD_RESULT(err, "interfaces", idx);
	if (get_opt_string(j, "name", &name) < 0 || !name || !*name)
		return BAD_RESULT(err, "interfaces[].name", idx);
	if (get_opt_string(j, "mac", &mac) < 0)
		return BAD_RESULT(err, "interfaces[].mac", idx);
	if (get_opt_string(j, "sandbox", &sandbox) < 0)
		return BAD_RESULT(err, "interfaces[].sandbox", idx);
	if (get_opt_string(j, "socketPath", &sock) < 0 || get_opt_string(j, "pciID", &pci) < 0)
		return BAD_RESULT(err, "interfaces[].socketPath/pciID", idx);
	k = cni_result_add_interface(r, name, mac, sandbox);
	if (k == -ENOMEM)
		return k;
	if (k < 0)
		return BAD_RESULT(err, "interfaces[].name/mac", idx);
	i = &r->interfaces[k];
	if (get_opt_uint(j, "mtu", UINT32_MAX, &i->mtu) < 0)
		return BAD_RESULT(err, "interfaces[].mtu", idx);
	if (strdup_opt(sock, &i->socket_path) < 0 || strdup_opt(pci, &i->pci_id) < 0)
		return -ENOMEM;
	return 0;
}

static int parse_ip(const json_t *j, size_t idx, struct cni_result *r, struct cni_error *err)
{
	const char *addr, *gw, *ver;
	struct in_prefix a, g;
	uint32_t iface = UINT32_MAX;
	int k;

	if (!json_is_object(j))
		return BAD_RESULT(err, "ips", idx);
	if (get_opt_string(j, "address", &addr) < 0 || !addr || prefix_parse(addr, 0, &a) < 0)
		return BAD_RESULT(err, "ips[].address", idx);
	if (get_opt_string(j, "gateway", &gw) < 0 ||
	    (gw && *gw && (prefix_parse(gw, PREFIX_ALLOW_BARE, &g) < 0 || g.family != a.family)))
		return BAD_RESULT(err, "ips[].gateway", idx);
	if (get_opt_string(j, "version", &ver) < 0 ||
	    (ver && strcmp(ver, a.family == AF_INET ? "4" : "6") != 0))
		return BAD_RESULT(err, "ips[].version", idx);
	if (get_opt_uint(j, "interface", CNI_RESULT_MAX_ITEMS - 1, &iface) < 0)
		return BAD_RESULT(err, "ips[].interface", idx);
	k = cni_result_add_ip(r, &a, (gw && *gw) ? &g : NULL,
			      iface == UINT32_MAX ? -1 : (int)iface);
	return k < 0 ? BAD_RESULT(err, "ips", idx) : 0;
}

static int parse_route(const json_t *j, size_t idx, struct cni_result *r, struct cni_error *err)
{
	const char *dst, *gw;
	struct in_prefix d, g;
	struct cni_route *rt;
	uint32_t scope = UINT32_MAX;
	int k;

	if (!json_is_object(j))
		return BAD_RESULT(err, "routes", idx);
	if (get_opt_string(j, "dst", &dst) < 0 || !dst || prefix_parse(dst, 0, &d) < 0)
		return BAD_RESULT(err, "routes[].dst", idx);
	if (get_opt_string(j, "gw", &gw) < 0 ||
	    (gw && *gw && (prefix_parse(gw, PREFIX_ALLOW_BARE, &g) < 0 || g.family != d.family)))
		return BAD_RESULT(err, "routes[].gw", idx);
	k = cni_result_add_route(r, &d, (gw && *gw) ? &g : NULL);
	if (k < 0)
		return BAD_RESULT(err, "routes", idx);
	rt = &r->routes[k];
	if (get_opt_uint(j, "mtu", UINT32_MAX, &rt->mtu) < 0 ||
	    get_opt_uint(j, "advmss", UINT32_MAX, &rt->advmss) < 0 ||
	    get_opt_uint(j, "priority", UINT32_MAX, &rt->priority) < 0 ||
	    get_opt_uint(j, "table", UINT32_MAX, &rt->table) < 0 ||
	    get_opt_uint(j, "scope", 255, &scope) < 0)
		return BAD_RESULT(err, "routes[].mtu/advmss/priority/table/scope", idx);
	rt->scope = scope == UINT32_MAX ? -1 : (int)scope;
	return 0;
}

typedef int (*item_parser)(const json_t *j, size_t idx, struct cni_result *r,
			   struct cni_error *err);

static int parse_array(const json_t *obj, const char *key, item_parser parse,
		       struct cni_result *r, struct cni_error *err)
{
	json_t *a = json_object_get(obj, key), *v;
	size_t i;

	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return cni_error_set(err, CNI_ERR_DECODE, -EINVAL, "result: '%s' is not an array",
				     key);
	if (json_array_size(a) > CNI_RESULT_MAX_ITEMS)
		return cni_error_set(err, CNI_ERR_DECODE, -EINVAL,
				     "result: '%s' has more than %d items", key,
				     CNI_RESULT_MAX_ITEMS);
	json_array_foreach(a, i, v)
	{
		int k = parse(v, i, r, err);

		if (k < 0)
			return k;
	}
	return 0;
}

int cni_result_from_json(const json_t *j, struct cni_result **ret, struct cni_error *err)
{
	_cleanup_(cni_result_freep) struct cni_result *r = cni_result_new();
	json_t *dns;
	int k;

	if (!r)
		return -ENOMEM;
	if (!json_is_object(j))
		return cni_error_set(err, CNI_ERR_DECODE, -EINVAL, "result is not a JSON object");
	if ((k = parse_array(j, "interfaces", parse_interface, r, err)) < 0 ||
	    (k = parse_array(j, "ips", parse_ip, r, err)) < 0 ||
	    (k = parse_array(j, "routes", parse_route, r, err)) < 0)
		return k;
	for (size_t i = 0; i < r->n_ips; i++)
		if (r->ips[i].interface >= (int)r->n_interfaces && r->n_interfaces > 0)
			return BAD_RESULT(err, "ips[].interface", i);
	dns = json_object_get(j, "dns");
	if (dns && !json_is_null(dns)) {
		if (!json_is_object(dns))
			return cni_error_set(err, CNI_ERR_DECODE, -EINVAL,
					     "result: 'dns' is not an object");
		r->dns = json_deep_copy(dns);
		if (!r->dns)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(r);
	return 0;
}

/* json_object_set_new() that remembers failure, so builders stay linear. */
static void jset(json_t *o, const char *k, json_t *v, bool *ok)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		*ok = false;
}

static json_t *prefix_json(const struct in_prefix *p, bool bare)
{
	char buf[INET6_ADDRSTRLEN + 8];

	if (prefix_format(p, bare, buf, sizeof(buf)) < 0)
		return NULL;
	return json_string(buf);
}

static json_t *interface_json(const struct cni_interface *i, enum cni_version v, bool *ok)
{
	json_t *o = json_object();

	if (!o) {
		*ok = false;
		return NULL;
	}
	jset(o, "name", json_string(i->name), ok);
	if (i->mac[0])
		jset(o, "mac", json_string(i->mac), ok);
	if (v >= CNI_VERSION_1_1_0 && i->mtu)
		jset(o, "mtu", json_integer(i->mtu), ok);
	if (i->sandbox)
		jset(o, "sandbox", json_string(i->sandbox), ok);
	if (v >= CNI_VERSION_1_1_0 && i->socket_path)
		jset(o, "socketPath", json_string(i->socket_path), ok);
	if (v >= CNI_VERSION_1_1_0 && i->pci_id)
		jset(o, "pciID", json_string(i->pci_id), ok);
	return o;
}

static json_t *ip_json(const struct cni_ip *ip, enum cni_version v, bool *ok)
{
	json_t *o = json_object();

	if (!o) {
		*ok = false;
		return NULL;
	}
	if (v < CNI_VERSION_1_0_0)
		jset(o, "version", json_string(ip->address.family == AF_INET ? "4" : "6"), ok);
	if (ip->interface >= 0)
		jset(o, "interface", json_integer(ip->interface), ok);
	jset(o, "address", prefix_json(&ip->address, false), ok);
	if (ip->has_gateway)
		jset(o, "gateway", prefix_json(&ip->gateway, true), ok);
	return o;
}

static json_t *route_json(const struct cni_route *rt, enum cni_version v, bool *ok)
{
	json_t *o = json_object();

	if (!o) {
		*ok = false;
		return NULL;
	}
	jset(o, "dst", prefix_json(&rt->dst, false), ok);
	if (rt->has_gw)
		jset(o, "gw", prefix_json(&rt->gw, true), ok);
	if (v < CNI_VERSION_1_1_0)
		return o;
	if (rt->mtu)
		jset(o, "mtu", json_integer(rt->mtu), ok);
	if (rt->advmss)
		jset(o, "advmss", json_integer(rt->advmss), ok);
	if (rt->priority)
		jset(o, "priority", json_integer(rt->priority), ok);
	if (rt->table)
		jset(o, "table", json_integer(rt->table), ok);
	if (rt->scope >= 0)
		jset(o, "scope", json_integer(rt->scope), ok);
	return o;
}

json_t *cni_result_to_json(const struct cni_result *r, enum cni_version v)
{
	_cleanup_(json_decrefp) json_t *o = json_object();
	json_t *ifs = json_array(), *ips = json_array(), *routes = json_array();
	bool ok = o && ifs && ips && routes;

	if (o)
		jset(o, "cniVersion", json_string(cni_version_to_string(v)), &ok);
	for (size_t i = 0; ifs && i < r->n_interfaces; i++)
		if (json_array_append_new(ifs, interface_json(&r->interfaces[i], v, &ok)) < 0)
			ok = false;
	for (size_t i = 0; ips && i < r->n_ips; i++)
		if (json_array_append_new(ips, ip_json(&r->ips[i], v, &ok)) < 0)
			ok = false;
	for (size_t i = 0; routes && i < r->n_routes; i++)
		if (json_array_append_new(routes, route_json(&r->routes[i], v, &ok)) < 0)
			ok = false;
	if (o && r->n_interfaces)
		jset(o, "interfaces", json_incref(ifs), &ok);
	if (o && r->n_ips)
		jset(o, "ips", json_incref(ips), &ok);
	if (o && r->n_routes)
		jset(o, "routes", json_incref(routes), &ok);
	if (o && r->dns && json_object_size(r->dns))
		jset(o, "dns", json_deep_copy(r->dns), &ok);
	json_decref(ifs);
	json_decref(ips);
	json_decref(routes);
	return ok ? TAKE_PTR(o) : NULL;
}

int cni_result_write(FILE *f, const struct cni_result *r, enum cni_version v)
{
	_cleanup_(json_decrefp) json_t *j = cni_result_to_json(r, v);

	if (!j)
		return -ENOMEM;
	return json_write(f, j);
}

/* ---- configuration ---- */

struct cni_config *cni_config_free(struct cni_config *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_valid_attachments; i++) {
		free(c->valid_attachments[i].container_id);
		free(c->valid_attachments[i].ifname);
	}
	free(c->valid_attachments);
	cni_result_free(c->prev_result);
	json_decref(c->json);
	free(c);
	return NULL;
}


#define BAD_CONFIG(err, ...) cni_error_set(err, CNI_ERR_INVALID_CONFIG, -EINVAL, __VA_ARGS__)

/* Highest supported entry of cniVersions, or _CNI_VERSION_INVALID. */
static enum cni_version highest_of(const json_t *list)
{
	enum cni_version best = _CNI_VERSION_INVALID;
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
	{
		enum cni_version x = cni_version_from_string(json_string_value(v));

		if (x > best)
			best = x;
	}
	return best;
}

static int config_version(struct cni_config *c, enum cni_command cmd, struct cni_error *err)
{
	json_t *v = json_object_get(c->json, "cniVersion");
	json_t *list = json_object_get(c->json, "cniVersions");

	if (list && !json_is_array(list))
		return BAD_CONFIG(err, "'cniVersions' must be an array of strings");
	if (v && !json_is_string(v))
		return BAD_CONFIG(err, "'cniVersion' must be a string");
	if (!v && !list)
		return BAD_CONFIG(err, "missing required field 'cniVersion'");
	c->version_string = json_string_value(v);
	c->version = cni_version_from_string(c->version_string);
	if (!v) {
		/* Record the choice, so delegated plugins are asked in the same version. */
		c->version = highest_of(list);
		c->version_string = cni_version_to_string(c->version);
		if (c->version_string &&
		    json_object_set_new(c->json, "cniVersion", json_string(c->version_string)) < 0)
			return -ENOMEM;
	}
	if (c->version < 0 && c->version_string && !cni_version_is_semver(c->version_string))
		return cni_error_set(err, CNI_ERR_DECODE, -EPROTO,
				     "cannot decode 'cniVersion' '%s': not MAJOR.MINOR.PATCH",
				     c->version_string);
	if (c->version < 0)
		return cni_error_set(err, CNI_ERR_INCOMPATIBLE_VERSION, -EPROTO,
				     "incompatible CNI version '%s': supported are 0.3.1, 0.4.0, "
				     "1.0.0, 1.1.0",
				     c->version_string ? c->version_string : "(none in cniVersions)");
	if (cmd == CNI_COMMAND_CHECK && c->version < CNI_VERSION_0_4_0)
		return cni_error_set(err, CNI_ERR_INCOMPATIBLE_VERSION, -EPROTO,
				     "CHECK needs cniVersion 0.4.0 or later, config has '%s'",
				     c->version_string);
	if ((cmd == CNI_COMMAND_GC || cmd == CNI_COMMAND_STATUS) && c->version < CNI_VERSION_1_1_0)
		return cni_error_set(err, CNI_ERR_INCOMPATIBLE_VERSION, -EPROTO,
				     "%s needs cniVersion 1.1.0, config has '%s'",
				     cni_command_to_string(cmd), c->version_string);
	return 0;
}

bool cni_plugin_name_is_valid(const char *s)
{
	return s && *s && !strchr(s, '/') && !strchr(s, '\\') && strcmp(s, ".") != 0 &&
	       strcmp(s, "..") != 0;
}

static int config_identity(struct cni_config *c, struct cni_error *err)
{
	json_t *name = json_object_get(c->json, "name");
	json_t *type = json_object_get(c->json, "type");

	if (!name)
		return BAD_CONFIG(err, "missing required field 'name'");
	if (!json_is_string(name) || !cni_network_name_is_valid(json_string_value(name)))
		return BAD_CONFIG(err, "invalid 'name': must be a string starting with an "
				       "alphanumeric character, then [A-Za-z0-9_.-]");
	if (!type)
		return BAD_CONFIG(err, "missing required field 'type'");
	if (!json_is_string(type) || !cni_plugin_name_is_valid(json_string_value(type)))
		return BAD_CONFIG(err, "invalid 'type': must be a plugin file name");
	c->name = json_string_value(name);
	c->type = json_string_value(type);
	return 0;
}

static int config_ipam(struct cni_config *c, struct cni_error *err)
{
	json_t *ipam = json_object_get(c->json, "ipam");
	json_t *type;

	if (!ipam || json_is_null(ipam))
		return 0;
	if (!json_is_object(ipam))
		return BAD_CONFIG(err, "invalid 'ipam': must be an object");
	if (json_object_size(ipam) == 0)
		return 0;
	type = json_object_get(ipam, "type");
	if (!type)
		return BAD_CONFIG(err, "missing required field 'ipam.type'");
	if (!json_is_string(type) || !cni_plugin_name_is_valid(json_string_value(type)))
		return BAD_CONFIG(err, "invalid 'ipam.type': must be a plugin file name");
	c->ipam = ipam;
	c->ipam_type = json_string_value(type);
	return 0;
}

static int config_attachment(const json_t *j, size_t i, struct cni_attachment *a,
			     struct cni_error *err)
{
	const char *id = json_string_value(json_object_get(j, "containerID"));
	const char *ifname = json_string_value(json_object_get(j, "ifname"));

	if (!json_is_object(j) || !id || !ifname)
		return BAD_CONFIG(err,
				  "invalid 'cni.dev/valid-attachments[%zu]': want containerID and "
				  "ifname strings",
				  i);
	a->container_id = strdup(id);
	a->ifname = strdup(ifname);
	return (a->container_id && a->ifname) ? 0 : -ENOMEM;
}

static int config_valid_attachments(struct cni_config *c, struct cni_error *err)
{
	json_t *list = json_object_get(c->json, "cni.dev/valid-attachments"), *v;
	size_t i;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return BAD_CONFIG(err, "invalid 'cni.dev/valid-attachments': must be an array");
	c->has_valid_attachments = true;
	if (json_array_size(list) == 0)
		return 0;
	c->valid_attachments = calloc(json_array_size(list), sizeof(*c->valid_attachments));
	if (!c->valid_attachments)
		return -ENOMEM;
	json_array_foreach(list, i, v)
	{
		int r = config_attachment(v, i, &c->valid_attachments[i], err);

		c->n_valid_attachments = i + 1;
		if (r < 0)
			return r;
	}
	return 0;
}

static int config_runtime_fields(struct cni_config *c, struct cni_error *err)
{
	json_t *prev = json_object_get(c->json, "prevResult");
	int r;

	c->runtime_config = json_object_get(c->json, "runtimeConfig");
	if (c->runtime_config && !json_is_object(c->runtime_config))
		return BAD_CONFIG(err, "invalid 'runtimeConfig': must be an object");
	c->args = json_object_get(c->json, "args");
	if (c->args && !json_is_object(c->args))
		return BAD_CONFIG(err, "invalid 'args': must be an object");
	if (prev && !json_is_null(prev)) {
		struct cni_error perr = {};

		r = cni_result_from_json(prev, &c->prev_result, &perr);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return cni_error_set(err, CNI_ERR_DECODE, r, "invalid 'prevResult': %s",
					     perr.msg);
	}
	return config_valid_attachments(c, err);
}

int cni_config_parse(const char *text, size_t len, enum cni_command cmd,
		     struct cni_config **ret, struct cni_error *err)
{
	_cleanup_(cni_config_freep) struct cni_config *c = calloc(1, sizeof(*c));
	json_error_t jerr;
	int r;

	if (!c)
		return -ENOMEM;
	c->json = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!c->json)
		return cni_error_set(err, CNI_ERR_DECODE, -EBADMSG,
				     "cannot decode network configuration: %s (line %d, column %d)",
				     jerr.text, jerr.line, jerr.column);
	if (!json_is_object(c->json))
		return cni_error_set(err, CNI_ERR_DECODE, -EBADMSG,
				     "network configuration is not a JSON object");
	if ((r = config_version(c, cmd, err)) < 0 || (r = config_identity(c, err)) < 0 ||
	    (r = config_ipam(c, err)) < 0 || (r = config_runtime_fields(c, err)) < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

int cni_version_write(FILE *f, const char *text, size_t len)
{
	_cleanup_(json_decrefp) json_t *in = text ? json_loadb(text, len, 0, NULL) : NULL;
	_cleanup_(json_decrefp) json_t *o = json_object();
	const char *version = json_string_value(json_object_get(in, "cniVersion"));
	json_t *list = json_array();
	bool ok = o && list;

	if (version && cni_version_from_string(version) < 0)
		version = NULL;
	for (int i = 0; list && i < _CNI_VERSION_MAX; i++)
		if (json_array_append_new(list, json_string(version_names[i])) < 0)
			ok = false;
	if (o) {
		jset(o, "cniVersion",
		     json_string(version ? version : cni_version_to_string(CNI_VERSION_LATEST)),
		     &ok);
		jset(o, "supportedVersions", list, &ok);
	} else {
		json_decref(list);
	}
	if (!ok)
		return -ENOMEM;
	return json_write(f, o);
}
