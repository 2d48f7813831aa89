COMPONENTS += lib
lib_SRCS := $(wildcard lib/*.c)
# tlscache.c uses libssl directly: its test (and any program that links it)
# adds -lssl.
$(BUILD)/tests/unit/lib/test_tlscache: LDLIBS += -lssl
