COMPONENTS += lib
lib_SRCS := $(wildcard lib/*.c)
# test_array injects realloc failures at the libc seam.
test_array_LDFLAGS := -Wl,--wrap=realloc
test_podtrim_LIBS := policy
