/* What felix-c's caches keep of API objects (see podtrim.h). */
#include <jansson.h>

#include "cleanup.h"
#include "podtrim.h"

static json_t *trim_ports(json_t *containers)
{
	json_t *out = json_array(), *c;
	size_t i;

	/* One entry per container, with or without ports: the model's
	 * messages name a container by its index. */
	json_array_foreach(containers, i, c)
		if (json_array_append_new(out, json_pack("{s:O*}", "ports",
							 json_object_get(c, "ports"))) < 0)
			return json_decref(out), NULL;
	return out;
}

json_t *podtrim_pod(json_t *pod)
{
	json_t *meta = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec");
	json_t *status = json_object_get(pod, "status");
	json_t *ann = json_object_get(meta, "annotations"), *keep_ann = json_object();
	static const char *const keys[] = { "cni.projectcalico.org/podIP",
					    "cni.projectcalico.org/podIPs" };

	for (size_t i = 0; keep_ann && i < ELEMENTSOF(keys); i++)
		if (json_object_get(ann, keys[i]))
			json_object_set(keep_ann, keys[i], json_object_get(ann, keys[i]));
	return json_pack("{s:{s:O*,s:O*,s:O*,s:O*,s:o*},s:{s:O*,s:O*,s:O*,s:o*,s:o*},"
			 "s:{s:O*,s:O*,s:O*}}",
			 "metadata", "name", json_object_get(meta, "name"), "namespace",
			 json_object_get(meta, "namespace"), "resourceVersion",
			 json_object_get(meta, "resourceVersion"), "labels",
			 json_object_get(meta, "labels"), "annotations", keep_ann,
			 "spec", "nodeName", json_object_get(spec, "nodeName"), "hostNetwork",
			 json_object_get(spec, "hostNetwork"), "serviceAccountName",
			 json_object_get(spec, "serviceAccountName"), "containers",
			 trim_ports(json_object_get(spec, "containers")), "initContainers",
			 trim_ports(json_object_get(spec, "initContainers")),
			 "status", "phase", json_object_get(status, "phase"), "podIP",
			 json_object_get(status, "podIP"), "podIPs", json_object_get(status, "podIPs"));
}

json_t *podtrim_managed_fields(json_t *obj)
{
	json_t *out = json_deep_copy(obj);

	(void)json_object_del(json_object_get(out, "metadata"), "managedFields");
	return out;
}

