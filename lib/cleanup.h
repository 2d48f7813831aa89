/* Scope-bound ownership for locals, built on GCC's cleanup attribute.
 *
 * A local declared _cleanup_free_ or _cleanup_(foo_freep) is released when it
 * goes out of scope; TAKE_PTR()/TAKE_FD() hand ownership over by clearing the
 * local. Every early return is then already correct.
 */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void freep(void *p)
{
	free(*(void **)p);
}

/* Closes an fd and keeps errno, so a cleanup never clobbers the error. */
static inline int safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		(void)close(fd);
		errno = saved;
	}
	return -1;
}

static inline void closep(int *fd)
{
	*fd = safe_close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		(void)fclose(*f);
	*f = NULL;
}

/* Generates foo_freep() for _cleanup_(foo_freep), given foo_free(). */
#define DEFINE_CLEANUP_FUNC(type, func)             \
	static inline void func##p(type **p)        \
	{                                           \
		if (*p)                             \
			*p = func(*p);              \
	}

#define TAKE_PTR(p)                          \
	({                                   \
		__typeof__(p) _tp_ = (p);    \
		(p) = NULL;                  \
		_tp_;                        \
	})

#define TAKE_FD(fd)                    \
	({                             \
		int _tf_ = (fd);       \
		(fd) = -1;             \
		_tf_;                  \
	})

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
