/* Unit tests' API client of a server that is not there (127.0.0.1:1):
 * for code that needs a client but must send nothing (or whose requests
 * may fail and retry). */
#pragma once

#include "kapi.h"

static inline void kapitest_client(struct kapi_config **c, struct kapi **k)
{
	assert_int_equal(kapi_config_from_string("current-context: x\n"
						 "clusters: [{name: k, cluster: {server: "
						 "'https://127.0.0.1:1'}}]\n"
						 "contexts: [{name: x, context: {cluster: k, user: "
						 "t}}]\n"
						 "users: [{name: t, user: {token: abc}}]\n",
						 NULL, c, NULL),
			 0);
	assert_int_equal(kapi_new(*c, k), 0);
}
