# ipam: block-based IPAM library (ipam.a) and the calico-c-ipam CNI plugin.
COMPONENTS += ipam
ipam_SRCS := ipam/addr.c ipam/block.c ipam/store.c ipam/ipam.c ipam/gc.c
PROGRAMS += calico-c-ipam
calico-c-ipam_SRCS := ipam/plugin/main.c
calico-c-ipam_LIBS := ipam cni-tls lib
$(BUILD)/bin/calico-c-ipam: LDLIBS += -lssl
