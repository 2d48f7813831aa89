/* A watch response body (concatenated JSON objects) arriving in arbitrary
 * chunks. The first byte seeds the chunk sizes; the same bytes fed whole
 * must give the same objects, in order, and the same outcome. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "jsonstream.h"

struct seen {
	json_t *objs;
};

static int collect(json_t *obj, void *userdata)
{
	struct seen *s = userdata;

	return json_array_append(s->objs, obj) < 0 ? -ENOMEM : 0;
}

/* Feeds @data in chunks of 1..@step bytes (0: whole); returns the sticky
 * outcome of the stream. */
static int feed(const uint8_t *data, size_t size, unsigned step, struct seen *s)
{
	struct jsonstream *js = NULL;
	unsigned rnd = step;
	int r = 0;

	if (jsonstream_new(1024, &js) < 0)
		return -ENOMEM;
	for (size_t off = 0; off < size && r >= 0;) {
		size_t n = size - off;

		if (step) {
			rnd = rnd * 1103515245u + 12345u;
			n = n < 1 + (rnd >> 16) % step ? n : 1 + (rnd >> 16) % step;
		}
		r = jsonstream_feed(js, (const char *)data + off, n, collect, s);
		off += n;
	}
	if (r >= 0)
		r = jsonstream_finish(js);
	jsonstream_free(js);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen whole = { json_array() }, chunked = { json_array() };
	int r1, r2;

	if (size < 1 || !whole.objs || !chunked.objs)
		goto out;
	r1 = feed(data + 1, size - 1, 0, &whole);
	r2 = feed(data + 1, size - 1, 1 + data[0] % 64, &chunked);
	/* Chunking changes nothing: same objects, same verdict. */
	if (r1 != -ENOMEM && r2 != -ENOMEM &&
	    (!json_equal(whole.objs, chunked.objs) || (r1 < 0) != (r2 < 0)))
		abort();
out:
	json_decref(whole.objs);
	json_decref(chunked.objs);
	return 0;
}
