# Test tools: kapictl drives lib/kapi (requests, watch, informer) from the
# command line for system tests and benchmarks.
PROGRAMS += kapictl
kapictl_SRCS := tests/tools/kapictl.c
kapictl_LIBS := lib
# The top Makefile includes only */module.mk; until it also includes
# tests/*/module.mk, build with: make -f Makefile -f tests/tools/module.mk
# build/bin/kapictl (program_rules is defined by then, so instantiate here).
ifneq ($(origin program_rules),undefined)
$(eval $(call program_rules,kapictl))
endif
