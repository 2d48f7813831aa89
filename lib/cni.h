/* CNI protocol types (spec 1.1.0, accepting 0.3.1, 0.4.0, 1.0.0 and 1.1.0),
 * shared by the CNI plugin (calico-c) and the IPAM plugin (calico-c-ipam).
 *
 * What lives here is pure protocol: the environment (CNI_*), CNI_ARGS, the
 * network configuration read on stdin, results and errors written on stdout
 * in the version the caller asked for, and delegation to another plugin
 * (IPAM) found in CNI_PATH. Nothing here touches the network.
 *
 * Every fallible function returns 0 or -errno and, when given a
 * struct cni_error, fills it with the spec's error code and a message that
 * names the offending field, ready to be written with cni_error_write().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cleanup.h"
#include "prefix.h"

enum cni_command {
	CNI_COMMAND_ADD,
	CNI_COMMAND_DEL,
	CNI_COMMAND_CHECK,
	CNI_COMMAND_GC,
	CNI_COMMAND_STATUS,
	CNI_COMMAND_VERSION,
	_CNI_COMMAND_MAX,
	_CNI_COMMAND_INVALID = -22, /* -EINVAL */
};

const char *cni_command_to_string(enum cni_command c);
enum cni_command cni_command_from_string(const char *s);

/* Supported spec versions, oldest first (order matters: comparisons). */
enum cni_version {
	CNI_VERSION_0_3_1,
	CNI_VERSION_0_4_0,
	CNI_VERSION_1_0_0,
	CNI_VERSION_1_1_0,
	_CNI_VERSION_MAX,
	_CNI_VERSION_INVALID = -22, /* -EINVAL */
};

#define CNI_VERSION_LATEST CNI_VERSION_1_1_0

const char *cni_version_to_string(enum cni_version v);
/* Exact match of a supported version string; _CNI_VERSION_INVALID otherwise. */
enum cni_version cni_version_from_string(const char *s);
/* True if @s is "MAJOR.MINOR.PATCH" with decimal numbers (supported or not). */
bool cni_version_is_semver(const char *s);

/* Error codes of the spec (0-99 reserved) and ours (100+). */
enum cni_error_code {
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_TRY_AGAIN = 11,
	CNI_ERR_NOT_AVAILABLE = 50,
	CNI_ERR_NOT_AVAILABLE_LIMITED = 51,
	CNI_ERR_PLUGIN = 100,	    /* generic failure of this plugin */
	CNI_ERR_DATASTORE = 101,    /* the apiserver refused or is unreachable */
	CNI_ERR_IPAM_EXHAUSTED = 102, /* no address left in the allowed pools */
	CNI_ERR_NETLINK = 103,	    /* the kernel refused a change */
};

/* One error result. @code 0 means "no error recorded". */
struct cni_error {
	int code;
	char msg[256];	   /* short, names the field or the operation */
	char details[768]; /* optional longer text */
};

/**
 * cni_error_set - record an error (the first one wins: a later call does not
 *   overwrite an earlier, more precise error)
 * @e: error to fill, may be NULL
 * @code: one of enum cni_error_code (or a code from a delegated plugin)
 * @r: negative errno returned to the caller
 * @fmt: printf format of the message
 *
 * Return: @r, so callers can write return cni_error_set(e, 7, -EINVAL, "...");
 */
int cni_error_set(struct cni_error *e, int code, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Set the details text of an already recorded error. */
void cni_error_set_details(struct cni_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cni_error_clear(struct cni_error *e);

/* Serialize {"cniVersion","code","msg","details"}; @version NULL: latest. */
json_t *cni_error_to_json(const struct cni_error *e, const char *version);
int cni_error_write(FILE *f, const struct cni_error *e, const char *version);
/* Parse an error object printed by another plugin. */
int cni_error_from_json(const json_t *j, struct cni_error *ret);

/* The process environment of a CNI call. Strings are owned copies. */
struct cni_env {
	enum cni_command command;
	char *container_id; /* CNI_CONTAINERID */
	char *netns;	    /* CNI_NETNS, NULL when unset or empty */
	char *ifname;	    /* CNI_IFNAME */
	char *args;	    /* CNI_ARGS, raw */
	char *path;	    /* CNI_PATH */
};

/**
 * cni_env_load - read and validate CNI_* from the environment for the
 *   command given in CNI_COMMAND (required variables depend on it)
 * @ret: filled on success (release with cni_env_done())
 * @err: gets code 4 naming the variable on failure
 *
 * Return: 0, -EINVAL (missing or invalid variable), -ENOMEM.
 */
int cni_env_load(struct cni_env *ret, struct cni_error *err);
/* The same from a JSON object of CNI_* strings (a call passed on by a
 * thin plugin to felix-c), and that object from @env (NULL: no memory). */
int cni_env_from_json(const json_t *vars, struct cni_env *ret, struct cni_error *err);
/* A plugin process's whole input: its stdin (up to 1 MiB, NUL-terminated,
 * *@text malloc'd) and then CNI_* as cni_env_load(). err: code 5 when stdin
 * cannot be read, else as cni_env_load(). */
int cni_input_load(char **text, size_t *len, struct cni_env *env, struct cni_error *err);
json_t *cni_env_to_json(const struct cni_env *env);
void cni_env_done(struct cni_env *env);
/* Validation helpers (also used on values from other sources). */
/* Calico's node name file (written by calico-node), read when a network
 * config names no node. */
#define CNI_DEFAULT_NODENAME_FILE "/var/lib/calico/nodename"

/**
 * cni_node_name - the node a plugin call runs on, as Calico finds it: the
 *   config's "nodename", else $NODENAME, else the first line of the config's
 *   "nodename_file" (default CNI_DEFAULT_NODENAME_FILE), else the hostname
 * @cfg: the network configuration
 * @buf: gets the name
 * @size: size of @buf
 *
 * Return: 0, -ENAMETOOLONG, -ENOENT (no name found anywhere).
 */
int cni_node_name(const json_t *cfg, char *buf, size_t size);

bool cni_container_id_is_valid(const char *id);
/* A plugin "type": a file name, no path. */
bool cni_plugin_name_is_valid(const char *s);
bool cni_ifname_is_valid(const char *ifname);
bool cni_network_name_is_valid(const char *name);

/* CNI_ARGS: "K=V;K2=V2". A value may contain '='; empty items are skipped. */
struct cni_arg {
	char *key;
	char *value;
};
struct cni_args {
	struct cni_arg *items; /* owned */
	size_t n, cap;
};

#define CNI_ARGS_MAX 64

/**
 * cni_args_parse - split CNI_ARGS into key/value pairs
 * @s: the raw string (NULL or "" gives no pairs)
 * @ret: filled on success (release with cni_args_done())
 * @err: gets code 4 naming CNI_ARGS and the bad item
 *
 * Return: 0, -EINVAL (an item without '=' or with an empty key, more than
 *   CNI_ARGS_MAX items), -ENOMEM.
 */
int cni_args_parse(const char *s, struct cni_args *ret, struct cni_error *err);
/* Value of the last occurrence of @key, or NULL. */
const char *cni_args_get(const struct cni_args *a, const char *key);
void cni_args_done(struct cni_args *a);

#define CNI_RESULT_MAX_ITEMS 64

struct cni_interface {
	char name[16];
	char mac[18];	       /* "" when not applicable */
	char *sandbox;	       /* NULL for host interfaces */
	uint32_t mtu;	       /* 0: not set (1.1.0+) */
	char *socket_path;     /* 1.1.0+, may be NULL */
	char *pci_id;	       /* 1.1.0+, may be NULL */
};

struct cni_ip {
	struct in_prefix address;
	bool has_gateway;
	struct in_prefix gateway; /* len is the full length */
	int interface;		   /* index into interfaces, -1: none */
};

struct cni_route {
	struct in_prefix dst;
	bool has_gw;
	struct in_prefix gw; /* len is the full length */
	/* 1.1.0+ attributes; 0 (scope: -1) means not set. */
	uint32_t mtu, advmss, priority, table;
	int scope;
};

/* A CNI Success result. Owns everything it points to. */
struct cni_result {
	struct cni_interface interfaces[CNI_RESULT_MAX_ITEMS];
	size_t n_interfaces;
	struct cni_ip ips[CNI_RESULT_MAX_ITEMS];
	size_t n_ips;
	struct cni_route routes[CNI_RESULT_MAX_ITEMS];
	size_t n_routes;
	json_t *dns; /* object as given, or NULL */
};

struct cni_result *cni_result_new(void);
struct cni_result *cni_result_free(struct cni_result *r);
DEFINE_CLEANUP_FUNC(struct cni_result, cni_result_free);

/**
 * cni_result_from_json - parse a Success result of any supported version
 *   (ips with or without "version"; 1.1.0 fields are optional)
 * @j: the object
 * @ret: the parsed result
 * @err: gets code 6 naming the field on failure
 *
 * Return: 0, -EINVAL (missing or malformed field, too many items), -ENOMEM.
 */
int cni_result_from_json(const json_t *j, struct cni_result **ret, struct cni_error *err);

/**
 * cni_result_to_json - serialize for @v: "version" on ips for 0.3.1/0.4.0,
 *   interface mtu/socketPath/pciID and route mtu/advmss/priority/table/scope
 *   only for 1.1.0
 * @r: the result
 * @v: requested spec version
 *
 * Return: a new object, or NULL (ENOMEM).
 */
json_t *cni_result_to_json(const struct cni_result *r, enum cni_version v);
int cni_result_write(FILE *f, const struct cni_result *r, enum cni_version v);

/* Append helpers. Return the index, or -E2BIG when full. */
int cni_result_add_interface(struct cni_result *r, const char *name, const char *mac,
			     const char *sandbox);
int cni_result_add_ip(struct cni_result *r, const struct in_prefix *address,
		      const struct in_prefix *gateway, int interface);
int cni_result_add_route(struct cni_result *r, const struct in_prefix *dst,
			 const struct in_prefix *gw);

/* One entry of cni.dev/valid-attachments (GC). */
struct cni_attachment {
	char *container_id;
	char *ifname;
};

/* The network configuration read on stdin. */
struct cni_config {
	json_t *json;		/* the whole object, owned */
	enum cni_version version; /* the version to answer in */
	const char *version_string; /* as given (borrowed from @json) */
	const char *name;	/* borrowed from @json */
	const char *type;	/* borrowed from @json */
	json_t *ipam;		/* borrowed, NULL when absent */
	const char *ipam_type;	/* borrowed, NULL when no ipam */
	json_t *runtime_config; /* borrowed, NULL when absent */
	json_t *args;		/* borrowed, NULL when absent */
	struct cni_result *prev_result; /* parsed prevResult, NULL when absent */
	struct cni_attachment *valid_attachments; /* GC only */
	size_t n_valid_attachments;
	bool has_valid_attachments;
};

/**
 * cni_config_parse - decode and validate a plugin configuration for @cmd
 * @text: stdin contents
 * @len: its length
 * @cmd: the command (CHECK needs 0.4.0+, GC and STATUS need 1.1.0)
 * @ret: the config (release with cni_config_free())
 * @err: code 6 for bad JSON, 1 for an unsupported cniVersion, 7 for a
 *   missing or malformed field (named in the message)
 *
 * Return: 0, -EINVAL, -EBADMSG (not JSON), -EPROTO (version), -ENOMEM.
 */
int cni_config_parse(const char *text, size_t len, enum cni_command cmd,
		     struct cni_config **ret, struct cni_error *err);
struct cni_config *cni_config_free(struct cni_config *c);
DEFINE_CLEANUP_FUNC(struct cni_config, cni_config_free);

/* VERSION: print {"cniVersion", "supportedVersions": [...]}, in the
 * cniVersion of the request @text (may be NULL) when we speak it, else in
 * the latest. */
int cni_version_write(FILE *f, const char *text, size_t len);
