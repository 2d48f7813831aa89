/* kapi without a network: paths, query strings, Status decoding, object
 * accessors, enum strings and the client lifecycle. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cleanup.h"
#include "kapi-internal.h"
#include "kapi.h"
#include "tests/unit/lib/kapitest.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))


/* A client's response buffer is reused while small; once one answer made it
 * grow past KAPI_BUF_KEEP it is freed after the answer was read. */
static void test_response_buffer_released_when_big(void **state)
{
	static char chunk[4096];
	struct kapi_buf b = {};

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	assert_int_equal(kapi_buf_write(chunk, 1, 100, &b), 100);
	assert_string_equal(b.data + 95, "xxxxx");
	kapi_buf_reset(&b);
	assert_non_null(b.data); /* kept for the next answer */
	assert_int_equal(b.len, 0);
	assert_true(b.cap <= KAPI_BUF_KEEP);
	while (b.len <= KAPI_BUF_KEEP)
		assert_int_equal(kapi_buf_write(chunk, 1, sizeof(chunk), &b), sizeof(chunk));
	assert_true(b.cap > KAPI_BUF_KEEP);
	kapi_buf_reset(&b);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(kapi_buf_write(chunk, 1, 10, &b), 10); /* usable again */
	assert_int_equal(b.len, 10);
	free(b.data);
}

static void test_path_vectors(void **state)
{
	static const struct {
		const struct kapi_resource *r;
		const char *ns, *name, *sub, *want;
	} v[] = {
		{ &kapi_pods, "default", "web-1", NULL, "/api/v1/namespaces/default/pods/web-1" },
		{ &kapi_pods, "default", NULL, NULL, "/api/v1/namespaces/default/pods" },
		{ &kapi_pods, NULL, NULL, NULL, "/api/v1/pods" },
		{ &kapi_pods, "x", "y", "status", "/api/v1/namespaces/x/pods/y/status" },
		{ &kapi_pods, "x", NULL, "status", "/api/v1/namespaces/x/pods" },
		{ &kapi_nodes, "ignored", "node1", NULL, "/api/v1/nodes/node1" },
		{ &kapi_namespaces, NULL, "kube-system", NULL, "/api/v1/namespaces/kube-system" },
		{ &kapi_secrets, "s", "k", NULL, "/api/v1/namespaces/s/secrets/k" },
		{ &kapi_configmaps, "t", NULL, NULL, "/api/v1/namespaces/t/configmaps" },
		{ &kapi_leases, "kube-node-lease", "node1", NULL,
		  "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node1" },
		{ &kapi_networkpolicies, "a", "deny", NULL,
		  "/apis/networking.k8s.io/v1/namespaces/a/networkpolicies/deny" },
		{ &kapi_networkpolicies, NULL, NULL, NULL,
		  "/apis/networking.k8s.io/v1/networkpolicies" },
		{ &kapi_crds, NULL, "ippools.crd.projectcalico.org", NULL,
		  "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
		  "ippools.crd.projectcalico.org" },
		{ &kapi_ipamblocks, "ns-ignored", "10-65-0-0-26", NULL,
		  "/apis/crd.projectcalico.org/v1/ipamblocks/10-65-0-0-26" },
		{ &kapi_ippools, NULL, NULL, NULL, "/apis/crd.projectcalico.org/v1/ippools" },
		{ &kapi_blockaffinities, NULL, "node1-10-65-0-0-26", NULL,
		  "/apis/crd.projectcalico.org/v1/blockaffinities/node1-10-65-0-0-26" },
		{ &kapi_ipamhandles, NULL, "k8s-pod-network.abc", NULL,
		  "/apis/crd.projectcalico.org/v1/ipamhandles/k8s-pod-network.abc" },
		{ &kapi_ipamconfigs, NULL, "default", NULL,
		  "/apis/crd.projectcalico.org/v1/ipamconfigs/default" },
		{ &kapi_bgpconfigurations, NULL, "node.node1", NULL,
		  "/apis/crd.projectcalico.org/v1/bgpconfigurations/node.node1" },
		{ &kapi_bgppeers, NULL, NULL, NULL, "/apis/crd.projectcalico.org/v1/bgppeers" },
		{ &kapi_felixconfigurations, NULL, "default", NULL,
		  "/apis/crd.projectcalico.org/v1/felixconfigurations/default" },
		{ &kapi_clusterinformations, NULL, "default", NULL,
		  "/apis/crd.projectcalico.org/v1/clusterinformations/default" },
		/* names cannot add path components or queries */
		{ &kapi_pods, "a/b", "../x?y=1#z", NULL,
		  "/api/v1/namespaces/a%2Fb/pods/..%2Fx%3Fy%3D1%23z" },
		{ &kapi_nodes, NULL, "n o%de", NULL, "/api/v1/nodes/n%20o%25de" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		_cleanup_free_ char *p = kapi_path(v[i].r, v[i].ns, v[i].name, v[i].sub);

		assert_non_null(p);
		if (strcmp(p, v[i].want) != 0)
			fail_msg("vector %zu: '%s' want '%s'", i, p, v[i].want);
	}
}

static void test_descriptors(void **state)
{
	(void)state;
	assert_string_equal(kapi_ipamblocks.kind, "IPAMBlock");
	assert_false(kapi_ipamblocks.namespaced);
	assert_string_equal(kapi_blockaffinities.kind, "BlockAffinity");
	assert_true(kapi_pods.namespaced);
	assert_false(kapi_nodes.namespaced);
	assert_string_equal(kapi_leases.api_version, "coordination.k8s.io/v1");
	assert_string_equal(kapi_crds.kind, "CustomResourceDefinition");
}

static void test_list_url_escapes_values(void **state)
{
	static const struct {
		const char *path;
		struct kapi_list_opts o;
		const char *cont, *want;
	} v[] = {
		{ "/api/v1/pods", {}, NULL, "/api/v1/pods" },
		{ "/api/v1/pods", { .limit = 500 }, "", "/api/v1/pods?limit=500" },
		{ "/api/v1/pods", { .label_selector = "app=web,tier in (a,b)" }, NULL,
		  "/api/v1/pods?labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29" },
		{ "/api/v1/pods",
		  { .label_selector = "", .field_selector = "spec.nodeName=node1", .limit = 2 },
		  "eyJ2Ijo+/=", "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode1&limit=2&"
				"continue=eyJ2Ijo%2B%2F%3D" },
		{ "/api/v1/pods?watch=0", { .label_selector = "!a&b" }, NULL,
		  "/api/v1/pods?watch=0&labelSelector=%21a%26b" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		_cleanup_free_ char *u = kapi_list_url(v[i].path, &v[i].o, v[i].cont);

		assert_non_null(u);
		if (strcmp(u, v[i].want) != 0)
			fail_msg("vector %zu: '%s' want '%s'", i, u, v[i].want);
	}
}

#define STATUS(code, reason, msg)                                                         \
	"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\"," \
	"\"message\":\"" msg "\",\"reason\":\"" reason "\",\"code\":" #code "}"

static void test_status_decoding(void **state)
{
	static const struct {
		long code;
		const char *body;
		int want;
		const char *msg;
	} v[] = {
		{ 404, STATUS(404, "NotFound", "pods \\\"x\\\" not found"), -ENOENT,
		  "pods \"x\" not found" },
		{ 409, STATUS(409, "AlreadyExists", "pods \\\"x\\\" already exists"), -EEXIST,
		  "pods \"x\" already exists" },
		{ 409, STATUS(409, "Conflict", "the object has been modified"), -ESTALE,
		  "the object has been modified" },
		{ 410, STATUS(410, "Expired", "too old resource version: 1 (200)"), -EIDRM,
		  "too old resource version: 1 (200)" },
		{ 400, STATUS(400, "BadRequest", "bad"), -EINVAL, "bad" },
		{ 422, STATUS(422, "Invalid", "spec.x: Required value"), -EINVAL,
		  "spec.x: Required value" },
		{ 401, STATUS(401, "Unauthorized", "Unauthorized"), -EACCES, "Unauthorized" },
		{ 403, STATUS(403, "Forbidden", "nodes is forbidden"), -EPERM,
		  "nodes is forbidden" },
		{ 429, STATUS(429, "TooManyRequests", "storage is (re)initializing"), -EBUSY,
		  "storage is (re)initializing" },
		{ 500, STATUS(500, "InternalError", "etcd"), -EIO, "etcd" },
		{ 503, STATUS(503, "ServiceUnavailable", "down"), -EIO, "down" },
		{ 405, STATUS(405, "MethodNotAllowed", "no"), -EINVAL, "no" },
		/* Status without a message: the reason */
		{ 409, "{\"kind\":\"Status\",\"reason\":\"Conflict\"}", -ESTALE,
		  "HTTP 409: Conflict" },
		/* not a Status / not JSON: an excerpt of the body */
		{ 502, "<html>Bad\tGateway</html>\n", -EIO, "HTTP 502: <html>Bad Gateway</html>" },
		{ 500, "", -EIO, "HTTP 500" },
		{ 404, "{\"kind\":\"Pod\"}", -ENOENT, "HTTP 404: {\"kind\":\"Pod\"}" },
		{ 409, "not json", -ESTALE, "HTTP 409: not json" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		_cleanup_free_ char *m = NULL;
		int r = kapi_error_from_response(v[i].code, v[i].body, strlen(v[i].body), &m);

		if (r != v[i].want || !m || strcmp(m, v[i].msg) != 0)
			fail_msg("vector %zu: r=%d m='%s', want %d '%s'", i, r, m ? m : "(null)",
				 v[i].want, v[i].msg);
	}
}

static void test_status_excerpt_is_bounded(void **state)
{
	_cleanup_free_ char *body = malloc(100000), *m = NULL;

	(void)state;
	memset(body, 'x', 100000);
	assert_int_equal(kapi_error_from_response(500, body, 100000, &m), -EIO);
	assert_true(strlen(m) < 200);
	assert_int_equal(kapi_status_to_errno(409, NULL), -ESTALE);
	assert_int_equal(kapi_status_to_errno(302, NULL), -EIO);
}

static void test_object_accessors(void **state)
{
	json_auto_t *o = json_loads(
		"{\"metadata\":{\"name\":\"n\",\"namespace\":\"ns\",\"uid\":\"u-1\","
		"\"resourceVersion\":\"42\",\"labels\":{\"a\":\"1\",\"bad\":2},"
		"\"annotations\":{\"cni.projectcalico.org/podIP\":\"10.65.0.1/32\"}}}",
		0, NULL);
	json_auto_t *bare = json_loads("{\"metadata\":5}", 0, NULL);

	(void)state;
	assert_non_null(o);
	assert_string_equal(kapi_obj_name(o), "n");
	assert_string_equal(kapi_obj_namespace(o), "ns");
	assert_string_equal(kapi_obj_uid(o), "u-1");
	assert_string_equal(kapi_obj_resource_version(o), "42");
	assert_string_equal(kapi_obj_label(o, "a"), "1");
	assert_null(kapi_obj_label(o, "bad"));
	assert_null(kapi_obj_label(o, "missing"));
	assert_string_equal(kapi_obj_annotation(o, "cni.projectcalico.org/podIP"),
			    "10.65.0.1/32");
	assert_null(kapi_obj_name(bare));
	assert_null(kapi_obj_label(bare, "a"));
	assert_null(kapi_obj_name(NULL));
}

/* Whether a pod is scheduled to a node: spec.nodeName, exactly. */
static void test_pod_is_on_node(void **state)
{
	static const struct {
		const char *pod, *node;
		bool want;
	} v[] = {
		{ "{\"spec\":{\"nodeName\":\"node1\"}}", "node1", true },
		{ "{\"spec\":{\"nodeName\":\"node1\"}}", "node2", false },
		{ "{\"spec\":{\"nodeName\":\"node1\"}}", "node", false },
		{ "{\"spec\":{\"nodeName\":\"node1\"}}", NULL, false },
		{ "{\"spec\":{\"nodeName\":\"\"}}", "", false },
		{ "{\"spec\":{}}", "node1", false }, /* not scheduled */
		{ "{\"spec\":{\"nodeName\":5}}", "node1", false },
		{ "{}", "node1", false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		json_auto_t *p = json_loads(v[i].pod, 0, NULL);

		assert_non_null(p);
		assert_int_equal(kapi_pod_is_on_node(p, v[i].node), v[i].want);
	}
	assert_false(kapi_pod_is_on_node(NULL, "node1"));
}

static void test_patch_type_strings(void **state)
{
	(void)state;
	for (int t = 0; t < _KAPI_PATCH_MAX; t++)
		assert_int_equal(kapi_patch_type_from_string(kapi_patch_type_to_string(t)), t);
	assert_int_equal(kapi_patch_type_from_string("strategic"), KAPI_PATCH_STRATEGIC_MERGE);
	assert_int_equal(kapi_patch_type_from_string("apply"), _KAPI_PATCH_INVALID);
	assert_int_equal(kapi_patch_type_from_string(NULL), _KAPI_PATCH_INVALID);
	assert_null(kapi_patch_type_to_string(_KAPI_PATCH_MAX));
}

static void test_event_and_state_strings(void **state)
{
	static const char *const names[] = { "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR" };

	(void)state;
	for (int t = 0; t < _KAPI_EVENT_MAX; t++) {
		assert_string_equal(kapi_event_type_to_string(t), names[t]);
		assert_int_equal(kapi_event_type_from_string(names[t]), t);
	}
	assert_int_equal(kapi_event_type_from_string("added"), _KAPI_EVENT_INVALID);
	assert_int_equal(kapi_event_type_from_string(NULL), _KAPI_EVENT_INVALID);
	assert_null(kapi_event_type_to_string(_KAPI_EVENT_MAX));
	assert_string_equal(kapi_watch_state_to_string(KAPI_WATCH_GONE), "gone");
	assert_null(kapi_watch_state_to_string(_KAPI_WATCH_STATE_MAX));
}

/* A client of a server that is not there (127.0.0.1:1). */
static void new_client(struct kapi_config **c, struct kapi **k)
{
	kapitest_client(c, k);
}

static void test_client_lifecycle_without_requests(void **state)
{
	_cleanup_(kapi_config_freep) struct kapi_config *c = NULL;
	_cleanup_(kapi_freep) struct kapi *k = NULL;
	json_auto_t *obj = json_object();

	(void)state;
	new_client(&c, &k);
	assert_string_equal(kapi_last_error(k), "");
	assert_int_equal(kapi_request_timeout_ms(k), 10000);
	kapi_set_timeouts(k, 1234, 0);
	assert_int_equal(kapi_request_timeout_ms(k), 1234);
	/* bad arguments are refused before anything is sent */
	assert_int_equal(kapi_get(k, "no-leading-slash", NULL), -EINVAL);
	assert_int_equal(kapi_patch(k, "/api/v1/nodes/x", _KAPI_PATCH_MAX, obj, NULL), -EINVAL);
	assert_int_equal(kapi_create(k, "/api/v1/nodes", NULL, NULL), -EINVAL);
	/* async arguments are checked before any connection */
	assert_int_equal(kapi_watch_start(k, NULL, "relative", NULL, NULL, NULL, NULL), -EINVAL);
	assert_null(kapi_free(NULL));
	assert_null(kapi_config_free(NULL));
}

/* A reader that knows one object and one collection, and logs its calls. */
struct fake_reader {
	char last[256];
	int calls;
};

static int fake_get(void *ctx, const char *path, json_t **ret)
{
	struct fake_reader *f = ctx;

	f->calls++;
	snprintf(f->last, sizeof(f->last), "get %s", path);
	if (strcmp(path, "/api/v1/namespaces/web") != 0)
		return -EAGAIN;
	*ret = json_pack("{s:{s:s}}", "metadata", "name", "web");
	return 0;
}

static int fake_list(void *ctx, const char *path, const char *label_selector, json_t **ret_items)
{
	struct fake_reader *f = ctx;

	f->calls++;
	snprintf(f->last, sizeof(f->last), "list %s %s", path, label_selector ?: "-");
	if (strcmp(path, "/apis/crd.projectcalico.org/v1/ippools") != 0)
		return -EAGAIN;
	*ret_items = json_pack("[{s:{s:s}}]", "metadata", "name", "pool1");
	return 0;
}

/* Reads that accept any copy go to the reader first; everything else, and
 * whatever it cannot answer, to the apiserver (unreachable here). */
static void test_reader_answers_cached_reads(void **state)
{
	_cleanup_(kapi_config_freep) struct kapi_config *c = NULL;
	_cleanup_(kapi_freep) struct kapi *k = NULL;
	struct fake_reader f = {};
	const struct kapi_reader r = { fake_get, fake_list, &f };
	struct kapi_list_opts sel = { .label_selector = "a=b" };
	json_t *obj = NULL;

	(void)state;
	new_client(&c, &k);
	kapi_set_timeouts(k, 2000, 1000);
	kapi_set_reader(k, &r);

	assert_int_equal(kapi_get_cached(k, "/api/v1/namespaces/web", &obj), 0);
	assert_string_equal(kapi_obj_name(obj), "web");
	assert_string_equal(f.last, "get /api/v1/namespaces/web");
	json_decref(obj);
	obj = NULL;
	assert_int_equal(kapi_get(k, "/api/v1/namespaces/web?resourceVersion=0", &obj), 0);
	json_decref(obj);
	obj = NULL;

	assert_int_equal(kapi_list(k, "/apis/crd.projectcalico.org/v1/ippools?resourceVersion=0",
				   &sel, &obj, NULL),
			 0);
	assert_int_equal(json_array_size(obj), 1);
	assert_string_equal(f.last, "list /apis/crd.projectcalico.org/v1/ippools a=b");
	json_decref(obj);
	obj = NULL;
	assert_int_equal(kapi_requests_sent(k), 0);

	/* the reader cannot answer: the apiserver is asked (and is not there) */
	assert_int_equal(kapi_get_cached(k, "/api/v1/namespaces/other", &obj), -ECONNREFUSED);
	assert_int_equal(kapi_list(k, "/api/v1/pods?resourceVersion=0", NULL, &obj, NULL),
			 -ECONNREFUSED);
	assert_null(obj);
	/* consistent reads, field selectors and LISTs wanting their
	 * resourceVersion never reach the reader */
	f.calls = 0;
	assert_int_equal(kapi_get(k, "/api/v1/namespaces/web", &obj), -ECONNREFUSED);
	sel.field_selector = "spec.nodeName=n";
	assert_int_equal(kapi_list(k, "/apis/crd.projectcalico.org/v1/ippools?resourceVersion=0",
				   &sel, &obj, NULL),
			 -ECONNREFUSED);
	{
		_cleanup_free_ char *rv = NULL;

		assert_int_equal(kapi_list(k, "/apis/crd.projectcalico.org/v1/ippools?resourceVersion=0",
					   NULL, &obj, &rv),
				 -ECONNREFUSED);
	}
	assert_int_equal(f.calls, 0);
	assert_int_equal(kapi_requests_sent(k), 5); /* 2 it could not answer, 3 not for it */
	kapi_set_reader(k, NULL);
	assert_int_equal(kapi_get_cached(k, "/api/v1/namespaces/web", &obj), -ECONNREFUSED);
	assert_int_equal(f.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response_buffer_released_when_big),
		cmocka_unit_test(test_path_vectors),
		cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_list_url_escapes_values),
		cmocka_unit_test(test_status_decoding),
		cmocka_unit_test(test_status_excerpt_is_bounded),
		cmocka_unit_test(test_object_accessors),
		cmocka_unit_test(test_pod_is_on_node),
		cmocka_unit_test(test_patch_type_strings),
		cmocka_unit_test(test_event_and_state_strings),
		cmocka_unit_test(test_client_lifecycle_without_requests),
		cmocka_unit_test(test_reader_answers_cached_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
