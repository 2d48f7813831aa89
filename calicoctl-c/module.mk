# calicoctl-c: operator CLI. A command file adds itself to calicoctl-c_SRCS
# and its table to commands[] in calicoctl-c/main.c.
PROGRAMS += calicoctl-c
calicoctl-c_SRCS := calicoctl-c/main.c calicoctl-c/ipam.c
calicoctl-c_LIBS := ipam lib
