# ipam: block-based IPAM library (ipam.a) with calico-c-ipam's CNI verbs
# (cnicmd.c), and the two IPAM plugin programs: calico-c-ipam hands each call
# to felix-c and links no HTTP or TLS library; calico-c-ipam-direct runs the
# verbs itself, and calico-c-ipam becomes it when felix-c does not answer.
COMPONENTS += ipam
ipam_SRCS := ipam/addr.c ipam/block.c ipam/pool.c ipam/store.c ipam/ipam.c ipam/gc.c \
	ipam/cnicmd.c ipam/owners.c ipam/lb.c
PROGRAMS += calico-c-ipam
calico-c-ipam_SRCS := ipam/plugin/main.c
calico-c-ipam_LIBS := lib
PROGRAMS += calico-c-ipam-direct
calico-c-ipam-direct_SRCS := ipam/plugin/direct.c
calico-c-ipam-direct_LIBS := ipam lib
test_cnicmd_LIBS := ipam
