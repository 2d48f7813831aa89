COMPONENTS += lib
lib_SRCS := $(wildcard lib/*.c)
