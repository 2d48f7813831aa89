# felix-c: the node agent. The component and the program share the name (so
# unit tests in tests/unit/felix-c link build/felix-c.a); main.c keeps every
# symbol static, so a test's own main() never pulls it from the archive.
COMPONENTS += felix-c
PROGRAMS += felix-c
felix-c_SRCS := $(wildcard felix-c/*.c)
felix-c_LIBS := policy bird-config ipam lib
# natout.o (in felix-c.a) needs policy.a and ipam.a (the pool CIDR) after it.
test_natout_LIBS := felix-c policy ipam
test_hostport_LIBS := felix-c policy ipam
# The managers' tests link what each manager drives.
test_desired_LIBS := felix-c policy
test_routemgr_LIBS := felix-c policy
test_policymgr_LIBS := felix-c policy
test_birdmgr_LIBS := felix-c policy bird-config
test_hollow_LIBS := felix-c policy bird-config ipam
# config.o parses the policy settings with policy/compile.h.
test_config_LIBS := felix-c policy
test_typhaclient_LIBS := felix-c typha-c
