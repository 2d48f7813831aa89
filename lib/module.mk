COMPONENTS += lib
lib_SRCS := $(wildcard lib/*.c)
# tlscache.c uses libssl directly: its test (and any program that links it)
# adds -lssl.
$(BUILD)/tests/unit/lib/test_tlscache: LDLIBS += -lssl
# test_array injects realloc failures at the libc seam.
test_array_LDFLAGS := -Wl,--wrap=realloc
test_podtrim_LIBS := policy
