# calicoctl-c: operator CLI. A command file adds itself to calicoctl-c_SRCS
# (every .c here) and its table to commands[] in calicoctl-c/main.c. The
# component and the program share the name: unit tests in
# tests/unit/calicoctl-c link build/calicoctl-c.a (main.c exports only main(),
# which a test's own main() keeps out of the link).
COMPONENTS += calicoctl-c
PROGRAMS += calicoctl-c
calicoctl-c_SRCS := $(wildcard calicoctl-c/*.c)
calicoctl-c_LIBS := policy bird-config ipam lib
# unit tests of this folder that need another component
test_bgpstatus_LIBS := bird-config
