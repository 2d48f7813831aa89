# ipam: block-based IPAM library (ipam.a) and the calico-c-ipam CNI plugin.
COMPONENTS += ipam
ipam_SRCS := ipam/addr.c ipam/block.c ipam/store.c ipam/ipam.c $(wildcard ipam/gc.c ipam/check.c)
