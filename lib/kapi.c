/* Synchronous Kubernetes API requests over one reused libcurl easy handle.
 *
 * Model: a struct kapi is one apiserver endpoint with its credentials (kept
 * in memory and handed to libcurl as blobs) and one easy handle, so
 * keep-alive and the TLS session are reused across requests; the handle is
 * not shared between threads. Every request has a total and a connect
 * timeout. A non-2xx answer is turned into a negative errno by the status
 * code (and the Status reason where 409 is ambiguous); the Status message
 * is kept for kapi_last_error(). 429 is retried after Retry-After a bounded
 * number of times, everything else is returned to the caller to decide.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "array.h"
#include "cleanup.h"
#include "kapi-internal.h"
#include "kapi.h"
#include "log.h"

#define KAPI_DEFAULT_REQUEST_MS 10000
#define KAPI_DEFAULT_CONNECT_MS 3000
#define KAPI_MAX_RESPONSE (512u << 20)
#define KAPI_429_RETRIES 5
#define KAPI_429_MAX_WAIT_MS 5000
#define KAPI_USER_AGENT "calico-c-kapi/1"

#define _cleanup_json_ _cleanup_(json_decrefp) /* jansson's own */

enum kapi_ct {
	KAPI_CT_NONE,
	KAPI_CT_JSON,
	KAPI_CT_MERGE,
	KAPI_CT_STRATEGIC,
	KAPI_CT_JSON_PATCH,
	_KAPI_CT_MAX,
};

static const char *const content_types[_KAPI_CT_MAX] = {
	[KAPI_CT_NONE] = NULL,
	[KAPI_CT_JSON] = "Content-Type: application/json",
	[KAPI_CT_MERGE] = "Content-Type: application/merge-patch+json",
	[KAPI_CT_STRATEGIC] = "Content-Type: application/strategic-merge-patch+json",
	[KAPI_CT_JSON_PATCH] = "Content-Type: application/json-patch+json",
};

/* Owner: the caller of kapi_new(); one easy handle, one thread. */
struct kapi {
	CURL *curl;
	char *server;			       /* no trailing slash */
	struct kapi_blob ca, cert, key;	       /* copies, handed to curl uncopied */
	char *auth;			       /* "Authorization: Bearer ...", or NULL */
	bool insecure;			       /* skip TLS verification */
	long request_ms;		       /* total per request */
	long connect_ms;		       /* TCP + TLS handshake */
	struct curl_slist *hdrs[_KAPI_CT_MAX]; /* request headers per body type */
	struct kapi_buf resp;		       /* last response body */
	char *error;			       /* last failure message, NULL: none */
	struct kapi_multi *multi;	       /* async requests and watches, lazily */
	kapi_tls_hook tls_hook;		       /* kapi_set_tls_hook(), NULL: none */
	void *tls_hook_data;
	const struct kapi_reader *reader;      /* kapi_set_reader(), NULL: none */
	unsigned long requests_sent;	       /* kapi_requests_sent() */
	char errbuf[CURL_ERROR_SIZE];	       /* libcurl's detail for the last failure */
};

/* --- resources ------------------------------------------------------------ */

#define CORE(v, p, k, n) const struct kapi_resource v = { "v1", p, k, n }
CORE(kapi_pods, "pods", "Pod", true);
CORE(kapi_nodes, "nodes", "Node", false);
CORE(kapi_namespaces, "namespaces", "Namespace", false);
CORE(kapi_secrets, "secrets", "Secret", true);
CORE(kapi_configmaps, "configmaps", "ConfigMap", true);
CORE(kapi_services, "services", "Service", true);
CORE(kapi_serviceaccounts, "serviceaccounts", "ServiceAccount", true);
const struct kapi_resource kapi_endpointslices = { "discovery.k8s.io/v1", "endpointslices",
						   "EndpointSlice", true };
const struct kapi_resource kapi_leases = { "coordination.k8s.io/v1", "leases", "Lease", true };
const struct kapi_resource kapi_networkpolicies = { "networking.k8s.io/v1", "networkpolicies",
						    "NetworkPolicy", true };
const struct kapi_resource kapi_clusternetworkpolicies = {
	"policy.networking.k8s.io/v1beta1", "clusternetworkpolicies", "ClusterNetworkPolicy", false
};
const struct kapi_resource kapi_crds = { "apiextensions.k8s.io/v1", "customresourcedefinitions",
					 "CustomResourceDefinition", false };
#define CALICO(v, p, k) \
	const struct kapi_resource v = { "crd.projectcalico.org/v1", p, k, false }
CALICO(kapi_ippools, "ippools", "IPPool");
CALICO(kapi_ipamblocks, "ipamblocks", "IPAMBlock");
CALICO(kapi_blockaffinities, "blockaffinities", "BlockAffinity");
CALICO(kapi_ipamhandles, "ipamhandles", "IPAMHandle");
CALICO(kapi_ipamconfigs, "ipamconfigs", "IPAMConfig");
CALICO(kapi_bgpconfigurations, "bgpconfigurations", "BGPConfiguration");
CALICO(kapi_bgppeers, "bgppeers", "BGPPeer");
CALICO(kapi_bgpfilters, "bgpfilters", "BGPFilter");
CALICO(kapi_felixconfigurations, "felixconfigurations", "FelixConfiguration");
CALICO(kapi_clusterinformations, "clusterinformations", "ClusterInformation");
CALICO(kapi_tiers, "tiers", "Tier");
CALICO(kapi_globalnetworkpolicies, "globalnetworkpolicies", "GlobalNetworkPolicy");
CALICO(kapi_globalnetworksets, "globalnetworksets", "GlobalNetworkSet");
CALICO(kapi_hostendpoints, "hostendpoints", "HostEndpoint");
const struct kapi_resource kapi_calico_networkpolicies = { "crd.projectcalico.org/v1",
							    "networkpolicies", "NetworkPolicy",
							    true };
const struct kapi_resource kapi_networksets = { "crd.projectcalico.org/v1", "networksets",
						"NetworkSet", true };

/* Path segments are percent-encoded except RFC 3986 unreserved characters,
 * so a name can never add a path component. */
static void put_segment(FILE *f, const char *s)
{
	fputc('/', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			fputc(c, f);
		else
			fprintf(f, "%%%02X", c);
	}
}

char *kapi_path(const struct kapi_resource *r, const char *ns, const char *name,
		const char *subresource)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputs(strchr(r->api_version, '/') ? "/apis/" : "/api/", f);
	fputs(r->api_version, f);
	if (r->namespaced && ns) {
		fputs("/namespaces", f);
		put_segment(f, ns);
	}
	fprintf(f, "/%s", r->plural);
	if (name) {
		put_segment(f, name);
		if (subresource)
			put_segment(f, subresource);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* --- errors --------------------------------------------------------------- */

int kapi_status_to_errno(long code, const char *reason)
{
	if (code == 409)
		return reason && strcmp(reason, "AlreadyExists") == 0 ? -EEXIST : -ESTALE;
	switch (code) {
	case 404:
		return -ENOENT;
	case 410:
		return -EIDRM;
	case 400:
	case 422:
		return -EINVAL;
	case 401:
		return -EACCES;
	case 403:
		return -EPERM;
	case 429:
		return -EBUSY;
	}
	if (code >= 400 && code < 500)
		return -EINVAL;
	return -EIO;
}

/* A short printable excerpt of a non-JSON body for messages. */
static char *body_excerpt(long code, const char *body, size_t len)
{
	char text[161];
	size_t n = 0;
	char *s;

	for (size_t i = 0; i < len && n < sizeof(text) - 1; i++)
		text[n++] = (body[i] >= 0x20 && body[i] < 0x7f) ? body[i] : ' ';
	while (n > 0 && text[n - 1] == ' ')
		n--;
	text[n] = 0;
	if (asprintf(&s, "HTTP %ld%s%s", code, n ? ": " : "", text) < 0)
		return NULL;
	return s;
}

int kapi_error_from_response(long code, const char *body, size_t len, char **ret_message)
{
	_cleanup_json_ json_t *st = json_loadb(body, len, 0, NULL);
	const char *reason = NULL, *msg = NULL;
	char *m;

	if (json_is_object(st) &&
	    strcmp(json_string_value(json_object_get(st, "kind")) ?: "", "Status") == 0) {
		reason = json_string_value(json_object_get(st, "reason"));
		msg = json_string_value(json_object_get(st, "message"));
	}
	if (msg && *msg)
		m = strdup(msg);
	else if (reason && *reason)
		m = asprintf(&m, "HTTP %ld: %s", code, reason) < 0 ? NULL : m;
	else
		m = body_excerpt(code, body, len);
	if (!m)
		return -ENOMEM;
	*ret_message = m;
	return kapi_status_to_errno(code, reason);
}

int kapi_curl_errno(int curl_code)
{
	switch ((CURLcode)curl_code) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR: /* most often a reset during the handshake */
		return -ECONNREFUSED;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_WRITE_ERROR:
		return -EFBIG; /* our write callback refused: response too large */
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return -EPROTO;
	default:
		return -EIO;
	}
}

static void set_error(struct kapi *k, char *msg)
{
	free(k->error);
	k->error = msg;
}

const char *kapi_last_error(const struct kapi *k)
{
	return k->error ? k->error : "";
}

/* --- the handle ----------------------------------------------------------- */

size_t kapi_buf_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct kapi_buf *b = userdata;
	size_t n = size * nmemb;

	if (n > KAPI_MAX_RESPONSE - b->len)
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	if (ARRAY_GROW(b->data, b->cap, b->len + n + 1) < 0)
		return 0;
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = 0;
	return n;
}

void kapi_buf_reset(struct kapi_buf *b)
{
	if (b->cap > KAPI_BUF_KEEP) {
		free(b->data);
		*b = (struct kapi_buf){};
	}
	b->len = 0;
}

static int set_blob(CURL *h, CURLoption opt, const struct kapi_blob *b)
{
	struct curl_blob cb = { .data = b->data, .len = b->len, .flags = CURL_BLOB_NOCOPY };

	return curl_easy_setopt(h, opt, &cb) == CURLE_OK ? 0 : -EOPNOTSUPP;
}

static CURLcode call_tls_hook(CURL *h, void *ssl_ctx, void *userdata)
{
	const struct kapi *k = userdata;

	(void)h;
	if (k->tls_hook)
		k->tls_hook(ssl_ctx, k->tls_hook_data);
	return CURLE_OK;
}

static int apply_tls_hook(const struct kapi *k, CURL *h)
{
	CURLcode rc;

	rc = curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, k->tls_hook ? call_tls_hook : NULL);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, (void *)k);
	return rc == CURLE_OK ? 0 : -EOPNOTSUPP;
}

int kapi_set_tls_hook(struct kapi *k, kapi_tls_hook fn, void *userdata)
{
	int r;

	k->tls_hook = fn;
	k->tls_hook_data = userdata;
	r = apply_tls_hook(k, k->curl);
	if (r < 0) {
		k->tls_hook = NULL;
		k->tls_hook_data = NULL;
	}
	return r;
}

int kapi_easy_setup(const struct kapi *k, CURL *h)
{
	int r = 0;

	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, KAPI_USER_AGENT);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, k->connect_ms);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, k->insecure ? 0L : 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, k->insecure ? 0L : 2L);
	if (k->ca.len) {
		/* trust the cluster CA only, not the system store */
		curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		r = set_blob(h, CURLOPT_CAINFO_BLOB, &k->ca);
	}
	if (r == 0 && k->cert.len) {
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
		r = set_blob(h, CURLOPT_SSLCERT_BLOB, &k->cert);
		if (r == 0)
			r = set_blob(h, CURLOPT_SSLKEY_BLOB, &k->key);
	}
	if (r == 0 && k->tls_hook)
		r = apply_tls_hook(k, h);
	return r;
}

const struct curl_slist *kapi_get_headers(const struct kapi *k)
{
	return k->hdrs[KAPI_CT_NONE];
}

const char *kapi_server(const struct kapi *k)
{
	return k->server;
}

struct kapi_multi **kapi_multi_slot(struct kapi *k)
{
	return &k->multi;
}

static int build_headers(struct kapi *k)
{
	for (int t = 0; t < _KAPI_CT_MAX; t++) {
		const char *lines[] = { "Accept: application/json", "Expect:", k->auth,
					content_types[t] };

		for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
			struct curl_slist *l;

			if (!lines[i])
				continue;
			l = curl_slist_append(k->hdrs[t], lines[i]);
			if (!l)
				return -ENOMEM;
			k->hdrs[t] = l;
		}
	}
	return 0;
}

static int copy_config(struct kapi *k, const struct kapi_config *cfg)
{
	k->server = strdup(cfg->server);
	if (!k->server)
		return -ENOMEM;
	if (kapi_blob_copy(&k->ca, &cfg->ca) < 0 || kapi_blob_copy(&k->cert, &cfg->cert) < 0 ||
	    kapi_blob_copy(&k->key, &cfg->key) < 0)
		return -ENOMEM;
	if (cfg->token && asprintf(&k->auth, "Authorization: Bearer %s", cfg->token) < 0) {
		k->auth = NULL;
		return -ENOMEM;
	}
	k->insecure = cfg->insecure;
	return 0;
}


int kapi_new(const struct kapi_config *cfg, struct kapi **ret)
{
	_cleanup_(kapi_freep) struct kapi *k = NULL;
	int r;

	if (!cfg || !cfg->server)
		return -EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	k = calloc(1, sizeof(*k));
	if (!k) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	k->request_ms = KAPI_DEFAULT_REQUEST_MS;
	k->connect_ms = KAPI_DEFAULT_CONNECT_MS;
	k->curl = curl_easy_init();
	if (!k->curl)
		return -ENOMEM;
	r = copy_config(k, cfg);
	if (r < 0)
		return r;
	r = build_headers(k);
	if (r < 0)
		return r;
	r = kapi_easy_setup(k, k->curl);
	if (r < 0)
		return r;
	curl_easy_setopt(k->curl, CURLOPT_ERRORBUFFER, k->errbuf);
	curl_easy_setopt(k->curl, CURLOPT_WRITEFUNCTION, kapi_buf_write);
	curl_easy_setopt(k->curl, CURLOPT_WRITEDATA, &k->resp);
	*ret = TAKE_PTR(k);
	return 0;
}

struct kapi *kapi_free(struct kapi *k)
{
	if (!k)
		return NULL;
	k->multi = kapi_multi_free(k->multi);
	if (k->curl)
		curl_easy_cleanup(k->curl);
	for (int t = 0; t < _KAPI_CT_MAX; t++)
		curl_slist_free_all(k->hdrs[t]);
	if (k->key.data)
		explicit_bzero(k->key.data, k->key.len);
	if (k->auth)
		explicit_bzero(k->auth, strlen(k->auth));
	kapi_blob_done(&k->ca);
	kapi_blob_done(&k->cert);
	kapi_blob_done(&k->key);
	free(k->auth);
	free(k->server);
	free(k->resp.data);
	free(k->error);
	free(k);
	curl_global_cleanup();
	return NULL;
}

void kapi_set_timeouts(struct kapi *k, long request_ms, long connect_ms)
{
	k->request_ms = request_ms > 0 ? request_ms : KAPI_DEFAULT_REQUEST_MS;
	k->connect_ms = connect_ms > 0 ? connect_ms : KAPI_DEFAULT_CONNECT_MS;
	curl_easy_setopt(k->curl, CURLOPT_CONNECTTIMEOUT_MS, k->connect_ms);
}

long kapi_request_timeout_ms(const struct kapi *k)
{
	return k->request_ms;
}

unsigned long kapi_requests_sent(const struct kapi *k)
{
	return k->requests_sent;
}


/* --- requests ------------------------------------------------------------- */

static long retry_after_ms(CURL *h)
{
	struct curl_header *hd = NULL;
	char *end;
	long s;

	if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &hd) != CURLHE_OK)
		return 1000;
	s = strtol(hd->value, &end, 10);
	if (end == hd->value || s < 0)
		return 1000; /* an HTTP date: wait the default */
	if (s == 0)
		return 100;
	return s * 1000 > KAPI_429_MAX_WAIT_MS ? KAPI_429_MAX_WAIT_MS : s * 1000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One HTTP exchange; *@ret_code is the status when it returns 0. */
static int perform(struct kapi *k, const char *method, const char *url, enum kapi_ct ct,
		   const char *body, long *ret_code)
{
	CURL *h = k->curl;
	CURLcode rc;
	char *m;

	k->resp.len = 0;
	k->errbuf[0] = 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, k->request_ms);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, k->hdrs[ct]);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST,
			 strcmp(method, "GET") == 0 || strcmp(method, "POST") == 0 ? NULL : method);
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		if (asprintf(&m, "%s %s: %s", method, url, *k->errbuf ? k->errbuf : curl_easy_strerror(rc)) < 0)
			m = NULL;
		set_error(k, m);
		log_debug("kapi: %s %s failed: %s", method, url, kapi_last_error(k));
		return kapi_curl_errno(rc);
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, ret_code);
	return 0;
}

static char *make_url(const struct kapi *k, const char *path)
{
	char *url;

	if (path[0] != '/')
		return NULL;
	return asprintf(&url, "%s%s", k->server, path) < 0 ? NULL : url;
}

/* A request with an optional body; a 2xx JSON answer goes to *@ret (may be NULL). */
static int request_answer(struct kapi *k, const char *method, const char *path, enum kapi_ct ct,
			  const char *body, json_t **ret)
{
	_cleanup_free_ char *url = make_url(k, path);
	long code = 0;
	char *m = NULL;
	json_error_t jerr;
	json_t *j;
	int r;

	set_error(k, NULL);
	if (!url)
		return path[0] == '/' ? -ENOMEM : -EINVAL;
	for (unsigned attempt = 0;; attempt++) {
		k->requests_sent++;
		r = perform(k, method, url, ct, body, &code);
		if (r < 0)
			return r;
		if (code != 429 || attempt == KAPI_429_RETRIES)
			break;
		sleep_ms(retry_after_ms(k->curl));
	}
	log_debug("kapi: %s %s -> %ld (%zu bytes)", method, path, code, k->resp.len);
	if (code < 200 || code > 299) {
		r = kapi_error_from_response(code, k->resp.data, k->resp.len, &m);
		set_error(k, m);
		return r;
	}
	if (!ret)
		return 0;
	j = json_loadb(k->resp.data ? k->resp.data : "", k->resp.len, 0, &jerr);
	if (!json_is_object(j)) {
		json_decref(j);
		if (asprintf(&m, "%s %s: response is not a JSON object: %s", method, path,
			     jerr.text) < 0)
			m = NULL;
		set_error(k, m);
		return -EIO;
	}
	*ret = j;
	return 0;
}

static int request(struct kapi *k, const char *method, const char *path, enum kapi_ct ct,
		   const char *body, json_t **ret)
{
	int r = request_answer(k, method, path, ct, body, ret);

	kapi_buf_reset(&k->resp); /* read: the body is not needed any more */
	return r;
}

static int request_json(struct kapi *k, const char *method, const char *path, enum kapi_ct ct,
			const json_t *obj, json_t **ret)
{
	_cleanup_free_ char *body = NULL;

	if (!obj)
		return -EINVAL;
	body = json_dumps(obj, JSON_COMPACT);
	if (!body)
		return -ENOMEM;
	return request(k, method, path, ct, body, ret);
}

void kapi_set_reader(struct kapi *k, const struct kapi_reader *r)
{
	k->reader = r;
}

#define ANY_VERSION "?resourceVersion=0"

/* Asks the reader for @path if it accepts a cached copy: -EAGAIN when it
 * is not asked or cannot answer. @list: a LIST with @label_selector. */
static int read_local(struct kapi *k, const char *path, bool list, const char *label_selector,
		      json_t **ret)
{
	size_t n = strlen(path), q = strlen(ANY_VERSION);
	_cleanup_free_ char *base = NULL;

	if (!k->reader || n <= q || strcmp(path + n - q, ANY_VERSION) != 0)
		return -EAGAIN;
	base = strndup(path, n - q);
	if (!base)
		return -ENOMEM;
	if (list)
		return k->reader->list(k->reader->ctx, base, label_selector, ret);
	return k->reader->get(k->reader->ctx, base, ret);
}

int kapi_get(struct kapi *k, const char *path, json_t **ret)
{
	json_t *j = NULL;
	int r = read_local(k, path, false, NULL, &j);

	if (r == -EAGAIN)
		r = request(k, "GET", path, KAPI_CT_NONE, NULL, &j);

	if (r < 0)
		return r;
	if (ret)
		*ret = j;
	else
		json_decref(j);
	return 0;
}

int kapi_get_cached(struct kapi *k, const char *path, json_t **ret)
{
	_cleanup_free_ char *cached = NULL;
	int r;

	if (asprintf(&cached, "%s?resourceVersion=0", path) < 0)
		return -ENOMEM;
	r = kapi_get(k, cached, ret);
	if (r == -ENOENT)
		r = kapi_get(k, path, ret);
	return r;
}

int kapi_create(struct kapi *k, const char *path, json_t *obj, json_t **ret)
{
	return request_json(k, "POST", path, KAPI_CT_JSON, obj, ret);
}

int kapi_update(struct kapi *k, const char *path, json_t *obj, json_t **ret)
{
	return request_json(k, "PUT", path, KAPI_CT_JSON, obj, ret);
}

int kapi_patch(struct kapi *k, const char *path, enum kapi_patch_type t, json_t *patch,
	       json_t **ret)
{
	static const enum kapi_ct ct[_KAPI_PATCH_MAX] = {
		[KAPI_PATCH_MERGE] = KAPI_CT_MERGE,
		[KAPI_PATCH_STRATEGIC_MERGE] = KAPI_CT_STRATEGIC,
		[KAPI_PATCH_JSON] = KAPI_CT_JSON_PATCH,
	};

	if ((int)t < 0 || t >= _KAPI_PATCH_MAX)
		return -EINVAL;
	return request_json(k, "PATCH", path, ct[t], patch, ret);
}

static const char *const patch_type_names[_KAPI_PATCH_MAX] = {
	[KAPI_PATCH_MERGE] = "merge",
	[KAPI_PATCH_STRATEGIC_MERGE] = "strategic",
	[KAPI_PATCH_JSON] = "json",
};

const char *kapi_patch_type_to_string(enum kapi_patch_type t)
{
	return (int)t >= 0 && t < _KAPI_PATCH_MAX ? patch_type_names[t] : NULL;
}

enum kapi_patch_type kapi_patch_type_from_string(const char *s)
{
	for (int t = 0; t < _KAPI_PATCH_MAX; t++)
		if (s && strcmp(s, patch_type_names[t]) == 0)
			return t;
	return _KAPI_PATCH_INVALID;
}

int kapi_delete(struct kapi *k, const char *path, const char *uid, const char *resource_version)
{
	_cleanup_json_ json_t *opts = json_pack("{s:s, s:s}", "apiVersion", "v1", "kind",
						"DeleteOptions");
	json_t *pre;

	if (!opts)
		return -ENOMEM;
	if (uid || resource_version) {
		pre = json_object();
		if (!pre || json_object_set_new(opts, "preconditions", pre) < 0)
			return -ENOMEM;
		if (uid && json_object_set_new(pre, "uid", json_string(uid)) < 0)
			return -ENOMEM;
		if (resource_version &&
		    json_object_set_new(pre, "resourceVersion", json_string(resource_version)) < 0)
			return -ENOMEM;
	}
	return request_json(k, "DELETE", path, KAPI_CT_JSON, opts, NULL);
}

/* --- LIST with paging ----------------------------------------------------- */

/* Appends "&key=escaped(value)" (or "?..." for the first) to @f. */
static void put_query(FILE *f, bool *first, const char *key, const char *value)
{
	char *e = curl_easy_escape(NULL, value, 0);

	fprintf(f, "%c%s=%s", *first ? '?' : '&', key, e ? e : "");
	*first = false;
	curl_free(e);
}

char *kapi_list_url(const char *path, const struct kapi_list_opts *o, const char *cont)
{
	char *buf = NULL, num[32];
	size_t len = 0;
	bool first = !strchr(path, '?');
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputs(path, f);
	if (o && o->label_selector && *o->label_selector)
		put_query(f, &first, "labelSelector", o->label_selector);
	if (o && o->field_selector && *o->field_selector)
		put_query(f, &first, "fieldSelector", o->field_selector);
	if (o && o->limit) {
		snprintf(num, sizeof(num), "%u", o->limit);
		put_query(f, &first, "limit", num);
	}
	if (cont && *cont)
		put_query(f, &first, "continue", cont);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Moves one page's items into @items; returns its continue token (may be NULL). */
static int take_page(json_t *page, json_t *items, json_t *(*transform)(json_t *), char **rv,
		     char **ret_cont)
{
	json_t *pi = json_object_get(page, "items"), *it;
	json_t *meta = json_object_get(page, "metadata");
	const char *cont = json_string_value(json_object_get(meta, "continue"));
	const char *prv = json_string_value(json_object_get(meta, "resourceVersion"));
	size_t i;

	if (!json_is_array(pi) && !json_is_null(pi) && pi)
		return -EIO;
	if (transform) {
		json_array_foreach(pi, i, it)
			if (json_array_append_new(items, transform(it)) < 0)
				return -ENOMEM;
	} else if (pi && json_is_array(pi) && json_array_extend(items, pi) < 0) {
		return -ENOMEM;
	}
	if (!*rv && prv && !(*rv = strdup(prv)))
		return -ENOMEM;
	*ret_cont = NULL;
	if (cont && *cont && !(*ret_cont = strdup(cont)))
		return -ENOMEM;
	return 0;
}

int kapi_list(struct kapi *k, const char *path, const struct kapi_list_opts *o,
	      json_t **ret_items, char **ret_resource_version)
{
	_cleanup_json_ json_t *items = json_array();
	_cleanup_free_ char *rv = NULL, *cont = NULL;
	int r;

	if (!items)
		return -ENOMEM;
	if (!ret_resource_version && (!o || (!o->field_selector && !o->transform))) {
		json_t *local = NULL;

		r = read_local(k, path, true, o ? o->label_selector : NULL, &local);
		if (r != -EAGAIN) {
			if (r >= 0 && ret_items)
				*ret_items = local;
			else
				json_decref(local);
			return r;
		}
	}
	do {
		_cleanup_free_ char *url = kapi_list_url(path, o, cont);
		_cleanup_json_ json_t *page = NULL;
		char *next = NULL;

		if (!url)
			return -ENOMEM;
		r = request(k, "GET", url, KAPI_CT_NONE, NULL, &page);
		if (r < 0)
			return r;
		r = take_page(page, items, o ? o->transform : NULL, &rv, &next);
		if (r == -EIO)
			set_error(k, strdup("LIST response has no items array"));
		if (r < 0)
			return r;
		free(cont);
		cont = next;
	} while (cont);
	if (ret_items)
		*ret_items = TAKE_PTR(items);
	if (ret_resource_version)
		*ret_resource_version = TAKE_PTR(rv);
	return 0;
}

/* --- object accessors ----------------------------------------------------- */

static const char *meta_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

const char *kapi_obj_name(const json_t *obj)
{
	return meta_str(obj, "name");
}

const char *kapi_obj_namespace(const json_t *obj)
{
	return meta_str(obj, "namespace");
}

const char *kapi_obj_uid(const json_t *obj)
{
	return meta_str(obj, "uid");
}

const char *kapi_obj_resource_version(const json_t *obj)
{
	return meta_str(obj, "resourceVersion");
}

static const char *meta_map_str(const json_t *obj, const char *map, const char *key)
{
	const json_t *m = json_object_get(json_object_get(obj, "metadata"), map);

	return json_string_value(json_object_get(m, key));
}

const char *kapi_obj_label(const json_t *obj, const char *key)
{
	return meta_map_str(obj, "labels", key);
}

const char *kapi_obj_annotation(const json_t *obj, const char *key)
{
	return meta_map_str(obj, "annotations", key);
}

const char *kapi_pod_node_name(const json_t *pod)
{
	return json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"));
}

bool kapi_pod_is_on_node(const json_t *pod, const char *node)
{
	const char *n = kapi_pod_node_name(pod);

	return n && node && *n && strcmp(n, node) == 0;
}
