/* Manifests for apply/delete: a YAML or JSON file of one or more documents,
 * each an object of ours or a List of them, flattened into one array.
 * calicoctl's API version (projectcalico.org/v3) is accepted for the kinds
 * whose v3 and CRD shapes are the same, and rewritten to the CRD version.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/**
 * ctl_manifest_parse - the objects of a manifest text
 * @text: YAML or JSON
 * @len: its length
 * @ret_objs: a new array of objects (copies; a projectcalico.org/v3 object
 *   made its CRD's: apiVersion rewritten, a policy's v3 name without a tier
 *   prefix stored as "default.<name>", as Calico's client stores it)
 * @ret_error: on -EINVAL/-EBADMSG, a malloc'd message naming the document
 *
 * Return: 0, -EBADMSG (not YAML), -EINVAL (a document is not an object or
 *   a List of objects), -ENOMEM.
 */
int ctl_manifest_parse(const char *text, size_t len, json_t **ret_objs, char **ret_error);

/* Same, from a file ("-" is stdin). Return: as above, or -errno from reading. */
int ctl_manifest_read(const char *path, json_t **ret_objs, char **ret_error);

/* NetworkPolicy or GlobalNetworkPolicy (Calico's). */
bool ctl_is_policy_kind(const char *kind);
/* Calico's stored name of a policy's v3 @name (libcalico-go
 * names.TieredPolicyName): a name without a '.' is the default tier's,
 * "default.<name>"; malloc'd, NULL when out of memory. */
char *ctl_policy_stored_name(const char *name);
