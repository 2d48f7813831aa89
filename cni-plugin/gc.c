/* GC through an IPAM plugin that predates spec 1.1.0. Debian's host-local
 * (1.1.x) has no GC verb, but it keeps one file per allocation in
 * <dataDir>/<network name>/<ip> holding "<container id>\r\n<ifname>", and its
 * DEL releases by (container id, ifname). So GC is: list those files, and DEL
 * every attachment the runtime did not declare valid.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "plugin.h"

#define HOST_LOCAL_DIR "/var/lib/cni/networks"

static void closedirp(DIR **d)
{
	if (*d)
		(void)closedir(*d);
}

static bool is_valid(const struct cni_config *c, const char *id, const char *ifname)
{
	for (size_t i = 0; i < c->n_valid_attachments; i++)
		if (strcmp(c->valid_attachments[i].container_id, id) == 0 &&
		    strcmp(c->valid_attachments[i].ifname, ifname) == 0)
			return true;
	return false;
}

/* Read "<id>\r\n<ifname>" (older versions wrote only the id). */
static int read_owner(int dirfd, const char *name, char *id, size_t id_size, char *ifname,
		      size_t if_size)
{
	char buf[256];
	FILE *f;
	size_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	char *sep;

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f) {
		(void)close(fd);
		return -errno;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	sep = strstr(buf, "\r\n");
	if (sep)
		*sep = '\0';
	if (strlen(buf) >= id_size || (sep && strlen(sep + 2) >= if_size))
		return -EINVAL;
	memcpy(id, buf, strlen(buf) + 1);
	snprintf(ifname, if_size, "%s", sep ? sep + 2 : "eth0");
	ifname[strcspn(ifname, "\r\n")] = '\0';
	return *id ? 0 : -EINVAL;
}

static int release(struct plugin *p, const json_t *cfg, const char *id, const char *ifname)
{
	int r;

	if (setenv("CNI_CONTAINERID", id, 1) < 0 || setenv("CNI_IFNAME", ifname, 1) < 0)
		return -errno;
	r = plugin_ipam(p, CNI_COMMAND_DEL, cfg, NULL);
	if (r < 0)
		log_warning("GC: release of '%s'/'%s' failed: %s", id, ifname, p->err.msg);
	else
		log_info("GC: released stale attachment '%s'/'%s'", id, ifname);
	return r;
}

/* The DEL request: the GC config without the GC key, at a version host-local speaks. */
static json_t *del_config(const struct plugin *p)
{
	json_t *c = json_deep_copy(p->cfg->json);

	if (!c)
		return NULL;
	(void)json_object_del(c, "cni.dev/valid-attachments");
	if (json_object_set_new(c, "cniVersion", json_string("1.0.0")) < 0) {
		json_decref(c);
		return NULL;
	}
	return c;
}

int plugin_gc_host_local(struct plugin *p)
{
	const char *base = json_string_value(json_object_get(p->cfg->ipam, "dataDir"));
	_cleanup_(closedirp) DIR *d = NULL;
	json_t *cfg = NULL;
	char path[512];
	struct dirent *e;
	int first_error = 0, released = 0;

	snprintf(path, sizeof(path), "%s/%s", base ? base : HOST_LOCAL_DIR, p->cfg->name);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : cni_error_set(&p->err, CNI_ERR_IO, -errno,
							   "GC: cannot list '%s'", path);
	cfg = del_config(p);
	if (!cfg)
		return -ENOMEM;
	while ((e = readdir(d))) {
		char id[300], ifname[300];

		/* Allocations are named by address; skip lock and last_reserved_ip.*. */
		if (e->d_name[0] == '.' || !strpbrk(e->d_name, ".:") ||
		    strncmp(e->d_name, "last_reserved_ip", 16) == 0 ||
		    read_owner(dirfd(d), e->d_name, id, sizeof(id), ifname, sizeof(ifname)) < 0 ||
		    is_valid(p->cfg, id, ifname))
			continue;
		if (release(p, cfg, id, ifname) < 0) {
			if (!first_error)
				first_error = -EIO;
			continue;
		}
		released++;
	}
	json_decref(cfg);
	log_info("GC: %d stale allocation(s) released", released);
	/* Keep going past failures, then report the first one (spec: GC). */
	return first_error;
}
