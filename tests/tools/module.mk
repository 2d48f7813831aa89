# Test tools: kapictl drives lib/kapi (requests, watch, informer) from the
# command line for system tests and benchmarks.
PROGRAMS += kapictl
kapictl_SRCS := tests/tools/kapictl.c
kapictl_LIBS := lib
