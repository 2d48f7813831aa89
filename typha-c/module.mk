# typha-c: the fan-out between the apiserver and many felix-c. Like
# felix-c, the component and the program share the name (unit tests in
# tests/unit/typha-c link build/typha-c.a; main.c keeps its symbols static).
COMPONENTS += typha-c
PROGRAMS += typha-c
typha-c_SRCS := $(wildcard typha-c/*.c)
typha-c_LIBS := lib
