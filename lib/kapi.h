/* Kubernetes API client: kubeconfig / in-cluster config, synchronous
 * requests over one reused libcurl connection, and watches.
 *
 * Objects are jansson values (json_t). Paths are built by kapi_path() from a
 * resource descriptor, so every resource (core, networking.k8s.io, our CRDs)
 * goes through the same code.
 *
 * Errors are negative errno values; the apiserver's Status message of the
 * last failed request is kept and read with kapi_last_error():
 *   -ENOENT       404 NotFound
 *   -EEXIST       409 AlreadyExists (create)
 *   -ESTALE       409 Conflict (stale resourceVersion, failed preconditions)
 *   -EIDRM        410 Gone (resourceVersion too old: relist)
 *   -EINVAL       400 BadRequest, 422 Invalid
 *   -EACCES       401 Unauthorized
 *   -EPERM        403 Forbidden
 *   -EBUSY        429 TooManyRequests still refused after honouring Retry-After
 *   -EIO          5xx, or a response that is not the JSON we expect
 *   -ETIMEDOUT    no answer within the request timeout
 *   -ECONNREFUSED apiserver not reachable (also DNS/route failures)
 *   -EBADMSG      malformed kubeconfig / JSON
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cleanup.h"

struct evloop;
struct kapi;
struct kapi_config;
struct kapi_request;
struct kapi_watch;

/* A resource type: "v1"/"pods" or "crd.projectcalico.org/v1"/"ipamblocks". */
struct kapi_resource {
	const char *api_version; /* "v1" for core, else "<group>/<version>" */
	const char *plural;
	const char *kind;
	bool namespaced;
};

extern const struct kapi_resource kapi_pods, kapi_nodes, kapi_namespaces, kapi_secrets,
	kapi_leases, kapi_networkpolicies, kapi_crds, kapi_services, kapi_endpointslices;
extern const struct kapi_resource kapi_configmaps, kapi_serviceaccounts;
/* policy.networking.k8s.io/v1beta1 (network-policy-api v0.3.0), cluster-scoped */
extern const struct kapi_resource kapi_clusternetworkpolicies;
/* crd.projectcalico.org/v1, cluster-scoped */
extern const struct kapi_resource kapi_ippools, kapi_ipamblocks, kapi_blockaffinities,
	kapi_ipamhandles, kapi_ipamconfigs, kapi_bgpconfigurations, kapi_bgppeers,
	kapi_bgpfilters,
	kapi_felixconfigurations, kapi_clusterinformations, kapi_tiers,
	kapi_globalnetworkpolicies, kapi_globalnetworksets, kapi_hostendpoints;
/* crd.projectcalico.org/v1, namespaced */
extern const struct kapi_resource kapi_calico_networkpolicies, kapi_networksets;

/**
 * kapi_config_from_kubeconfig - parse a kubeconfig file (current-context;
 *   CA, client cert/key or token, inline *-data or file paths, server)
 * @path: file path
 * @ret: the config
 *
 * Return: 0, -ENOENT, -EBADMSG (malformed YAML, bad base64, missing fields,
 *   unknown auth method; the reason is logged at debug, and
 *   kapi_config_load() returns it as a string), -ENOMEM.
 */
int kapi_config_from_kubeconfig(const char *path, struct kapi_config **ret);
/* Same, from text (unit tests); relative file paths resolve against @base_dir. */
int kapi_config_from_string(const char *yaml, const char *base_dir, struct kapi_config **ret,
			    char **ret_error);
/* In-cluster: KUBERNETES_SERVICE_HOST/PORT and @sa_dir (NULL: the standard
 * /var/run/secrets/kubernetes.io/serviceaccount) token and ca.crt. */
int kapi_config_in_cluster(const char *sa_dir, struct kapi_config **ret);
const char *kapi_config_server(const struct kapi_config *c);
/* The CA bundle (PEM) and its length; NULL when the system trust store is used. */
const void *kapi_config_ca(const struct kapi_config *c, size_t *ret_len);

/**
 * kapi_config_load - kapi_config_from_kubeconfig() that also gives the reason
 * @path: kubeconfig file path; relative file references resolve against its folder
 * @ret: the config
 * @ret_error: on failure, a malloc'd message naming the field (may be NULL)
 *
 * Return: as kapi_config_from_kubeconfig().
 */
int kapi_config_load(const char *path, struct kapi_config **ret, char **ret_error);
/**
 * kapi_config_find - a program's API config: the kubeconfig @path, or the
 *   in-cluster one when @path is NULL
 * @path: kubeconfig file, or NULL
 * @ret: the config
 * @ret_error: on failure, a malloc'd message (may be NULL)
 *
 * Return: as kapi_config_load() or kapi_config_in_cluster().
 */
int kapi_config_find(const char *path, struct kapi_config **ret, char **ret_error);
/* The current context's namespace, NULL when it names none. */
const char *kapi_config_namespace(const struct kapi_config *c);
struct kapi_config *kapi_config_free(struct kapi_config *c);
DEFINE_CLEANUP_FUNC(struct kapi_config, kapi_config_free);

/* Client lifecycle. The client copies what it needs from @cfg. */
int kapi_new(const struct kapi_config *cfg, struct kapi **ret);
struct kapi *kapi_free(struct kapi *k);
DEFINE_CLEANUP_FUNC(struct kapi, kapi_free);
/* Called with the OpenSSL SSL_CTX (as void *) of each new TLS connection. */
typedef void (*kapi_tls_hook)(void *ssl_ctx, void *userdata);

/**
 * kapi_set_tls_hook - let the caller adjust each new TLS connection
 * @k: client
 * @fn: called before the handshake of every connection opened from now on
 *   (synchronous and asynchronous); NULL removes the hook
 * @userdata: passed to @fn
 *
 * Meant for TLS session resumption across processes (a short-lived CNI
 * plugin saves the session ticket and the next process resumes with it).
 * Return: 0, -EOPNOTSUPP when libcurl's TLS backend is not OpenSSL.
 */
int kapi_set_tls_hook(struct kapi *k, kapi_tls_hook fn, void *userdata);

/* A local cache (felix-c's informers) that answers the reads which accept
 * any recent copy: paths ending in "?resourceVersion=0" given to
 * kapi_get(), kapi_get_cached() and kapi_list() (the latter without a
 * field selector, transform or resourceVersion wanted). @get returns the
 * object at @path (the query stripped); @list the items of the collection
 * @path that match @label_selector (NULL: all). Both return -EAGAIN when
 * they cannot answer, and the apiserver is asked. They run on the
 * client's thread. */
struct kapi_reader {
	int (*get)(void *ctx, const char *path, json_t **ret);
	int (*list)(void *ctx, const char *path, const char *label_selector, json_t **ret_items);
	void *ctx;
};
/* @r is borrowed (it outlives the client); NULL removes it. */
void kapi_set_reader(struct kapi *k, const struct kapi_reader *r);

/**
 * kapi_config_fingerprint - SHA-256 over everything that makes a client's
 *   identity: server, CA, client certificate and key, token, insecure flag
 * @c: config
 * @ret: the digest
 *
 * Two configs with the same fingerprint talk to the same server as the same
 * user, so they may share TLS sessions. Return: 0, -ENOMEM.
 */
int kapi_config_fingerprint(const struct kapi_config *c, unsigned char ret[32]);

/* Per-request timeout (default 10 s) and connect timeout (default 3 s). */
void kapi_set_timeouts(struct kapi *k, long request_ms, long connect_ms);
/* Status message of the last failed request ("" if none); valid until the next call. */
const char *kapi_last_error(const struct kapi *k);

/**
 * kapi_status_to_errno - map an HTTP status (and Status reason) to -errno
 * @code: HTTP status code of a failed request
 * @reason: the Status `reason` ("AlreadyExists", "Conflict", ...), may be NULL
 *
 * Return: the negative errno of the table at the top of this file.
 */
int kapi_status_to_errno(long code, const char *reason);

/**
 * kapi_error_from_response - decode a failed response
 * @code: HTTP status code
 * @body: response body (a Status object, or anything else)
 * @len: body length
 * @ret_message: malloc'd Status message, or "HTTP <code>: <excerpt>" when the
 *   body is not a Status
 *
 * Return: the negative errno for @code, or -ENOMEM (then @ret_message is unset).
 */
int kapi_error_from_response(long code, const char *body, size_t len, char **ret_message);
/* The request timeout set by kapi_set_timeouts() (ms). */
long kapi_request_timeout_ms(const struct kapi *k);
/* A uniform pseudo-random number in [0, n) for retry jitter (0 if n is 0),
 * seeded once per process so that a fleet of nodes does not retry in step. */
unsigned kapi_jitter(unsigned n);
/* Synchronous requests sent to the apiserver so far (reads a kapi_reader
 * answered are not counted). */
unsigned long kapi_requests_sent(const struct kapi *k);

/**
 * kapi_path - build a request path
 * @r: resource
 * @ns: namespace for namespaced resources (NULL: all namespaces), ignored otherwise
 * @name: object name, or NULL for the collection
 * @subresource: "status", or NULL
 *
 * Return: a malloc'd path such as "/api/v1/namespaces/x/pods/y/status", or NULL (ENOMEM).
 */
char *kapi_path(const struct kapi_resource *r, const char *ns, const char *name,
		const char *subresource);

int kapi_get(struct kapi *k, const char *path, json_t **ret);
/* GET @path (no query) from the apiserver's watch cache (resourceVersion=0:
 * ~1 ms, where a quorum read takes ~3 ms), and consistently when the cache
 * does not know the object yet (created a moment ago). For objects the
 * caller learnt of through a watch, such as the pod a runtime wires. */
int kapi_get_cached(struct kapi *k, const char *path, json_t **ret);

struct kapi_list_opts {
	const char *label_selector; /* NULL: none */
	const char *field_selector; /* NULL: none */
	unsigned limit;		    /* page size, 0: server default (no paging) */
	/* Optional: what to keep of each item, applied page by page (so only
	 * one page of full objects is in memory); a new reference, NULL on
	 * out of memory. */
	json_t *(*transform)(json_t *item);
};
/* LIST following every `continue` token; @ret_items is a JSON array of all
 * items, @ret_resource_version the list's resourceVersion (either may be NULL). */
int kapi_list(struct kapi *k, const char *path, const struct kapi_list_opts *o,
	      json_t **ret_items, char **ret_resource_version);

/**
 * kapi_list_url - @path with the query of @o and a continue token
 * @path: collection path (may already carry a query)
 * @o: options, may be NULL
 * @cont: continue token, NULL or "" for none
 *
 * Every value is percent-encoded. Return: a malloc'd string, or NULL (ENOMEM).
 */
char *kapi_list_url(const char *path, const struct kapi_list_opts *o, const char *cont);

/* POST @obj to the collection @path; @ret (may be NULL) gets the stored object. */
int kapi_create(struct kapi *k, const char *path, json_t *obj, json_t **ret);
/* PUT @obj (with metadata.resourceVersion for compare-and-swap) to @path. */
int kapi_update(struct kapi *k, const char *path, json_t *obj, json_t **ret);

enum kapi_patch_type {
	KAPI_PATCH_MERGE,	     /* application/merge-patch+json */
	KAPI_PATCH_STRATEGIC_MERGE, /* application/strategic-merge-patch+json */
	KAPI_PATCH_JSON,	     /* application/json-patch+json */
	_KAPI_PATCH_MAX,
	_KAPI_PATCH_INVALID = -22,
};
int kapi_patch(struct kapi *k, const char *path, enum kapi_patch_type t, json_t *patch,
	       json_t **ret);
/* "merge", "strategic", "json" */
const char *kapi_patch_type_to_string(enum kapi_patch_type t);
enum kapi_patch_type kapi_patch_type_from_string(const char *s);

/* DELETE with optional preconditions (@uid, @resource_version may be NULL). */
int kapi_delete(struct kapi *k, const char *path, const char *uid, const char *resource_version);

/* Small accessors used everywhere (NULL when absent or not a string). */
const char *kapi_obj_name(const json_t *obj);
const char *kapi_obj_namespace(const json_t *obj);
const char *kapi_obj_uid(const json_t *obj);
const char *kapi_obj_resource_version(const json_t *obj);
/* metadata.labels / metadata.annotations value, NULL when absent. */
const char *kapi_obj_label(const json_t *obj, const char *key);
const char *kapi_obj_annotation(const json_t *obj, const char *key);
/* A pod's spec.nodeName, NULL when not scheduled (or not a pod). */
const char *kapi_pod_node_name(const json_t *pod);
/* Whether @pod is scheduled to @node (an unscheduled pod is on no node). */
bool kapi_pod_is_on_node(const json_t *pod, const char *node);

/* --- asynchronous requests and watches (on an evloop) ---------------------
 *
 * These run on the libcurl multi interface driven by an evloop: one multi
 * handle per client, bound to the loop of its first async user (every later
 * one must pass the same loop). Free requests and watches before the client,
 * and the client before the loop. Callbacks run on the loop.
 */

/* @error: 0 or -errno as for kapi_get(); @obj (borrowed) the answer when 0;
 * @message: Status or transport message when @error < 0 (else ""). The
 * request is freed right after the callback returns. */
typedef void (*kapi_get_cb)(int error, json_t *obj, const char *message, void *userdata);

/**
 * kapi_get_async - GET @path on the loop
 * @k: client
 * @loop: event loop (the client's loop once set)
 * @path: request path with an optional query
 * @cb: called once with the result (never from inside this call)
 * @userdata: passed to @cb
 * @ret: the request, valid until @cb runs or it is cancelled (may be NULL)
 *
 * Return: 0, -EINVAL (another loop, bad path), -ENOMEM.
 */
int kapi_get_async(struct kapi *k, struct evloop *loop, const char *path, kapi_get_cb cb,
		   void *userdata, struct kapi_request **ret);
/**
 * kapi_async_release - unbind the client from its loop
 * @k: client whose watches and async requests are all freed
 *
 * Closes the connections of the async side and drops the loop's watchers
 * and timer. Call it before freeing the loop when the client lives longer;
 * the next async call binds again. kapi_free() does it too.
 */
void kapi_async_release(struct kapi *k);

/* Cancels a pending request without calling its callback. Returns NULL. */
struct kapi_request *kapi_request_cancel(struct kapi_request *rq);

enum kapi_event_type {
	KAPI_EVENT_ADDED,
	KAPI_EVENT_MODIFIED,
	KAPI_EVENT_DELETED,
	KAPI_EVENT_BOOKMARK,
	KAPI_EVENT_ERROR, /* object is a Status */
	_KAPI_EVENT_MAX,
	_KAPI_EVENT_INVALID = -22,
};
const char *kapi_event_type_to_string(enum kapi_event_type t);
enum kapi_event_type kapi_event_type_from_string(const char *s);

/* Transitions: CONNECTING -> STREAMING (HTTP 200) -> CONNECTING (server
 * ended the watch: resume from the last resourceVersion) | BACKOFF (error:
 * retry after a jittered, doubling delay) | GONE (410: resourceVersion
 * expired; stopped until kapi_watch_restart()); BACKOFF -> CONNECTING. */
enum kapi_watch_state {
	KAPI_WATCH_CONNECTING,
	KAPI_WATCH_STREAMING,
	KAPI_WATCH_BACKOFF,
	KAPI_WATCH_GONE,
	_KAPI_WATCH_STATE_MAX,
	_KAPI_WATCH_STATE_INVALID = -22,
};
const char *kapi_watch_state_to_string(enum kapi_watch_state s);

struct kapi_watch_ops {
	/* Every event in order; @obj is borrowed. May free the watch. */
	void (*on_event)(struct kapi_watch *w, enum kapi_event_type t, json_t *obj,
			 void *userdata);
	/* Optional. @error: why it left STREAMING (-errno), 0 otherwise. May
	 * free the watch (GONE is the usual place to relist and restart). */
	void (*on_state)(struct kapi_watch *w, enum kapi_watch_state s, int error,
			 const char *message, void *userdata);
};

struct kapi_watch_opts {
	const char *label_selector;   /* NULL: none */
	const char *field_selector;   /* NULL: none */
	const char *resource_version; /* start after it; NULL: now, with ADDED for existing */
	unsigned timeout_s;	      /* server-side watch length; 0: random 240..480 s */
	unsigned backoff_min_ms;      /* first retry delay; 0: 250 ms */
	unsigned backoff_max_ms;      /* cap of the doubling; 0: 30 s */
};

/**
 * kapi_watch_start - watch the collection @path (a kapi_path() without name)
 * @k: client
 * @loop: event loop
 * @path: collection path
 * @o: options (may be NULL)
 * @ops: callbacks
 * @userdata: passed to the callbacks
 * @ret: the watch
 *
 * Requests ?watch=1&allowWatchBookmarks=true&resourceVersion=RV; each event
 * moves RV forward, so reconnects resume without loss or repeats.
 * Return: 0, -EINVAL, -ENOMEM.
 */
int kapi_watch_start(struct kapi *k, struct evloop *loop, const char *path,
		     const struct kapi_watch_opts *o, const struct kapi_watch_ops *ops,
		     void *userdata, struct kapi_watch **ret);
struct kapi_watch *kapi_watch_free(struct kapi_watch *w);
DEFINE_CLEANUP_FUNC(struct kapi_watch, kapi_watch_free);
/* Starts again from @resource_version (after GONE and a relist). */
int kapi_watch_restart(struct kapi_watch *w, const char *resource_version);
enum kapi_watch_state kapi_watch_get_state(const struct kapi_watch *w);
/* The resourceVersion the watch would resume from ("" before any). */
const char *kapi_watch_resource_version(const struct kapi_watch *w);
/* Connections opened after the first one (reconnects). */
unsigned kapi_watch_reconnects(const struct kapi_watch *w);
