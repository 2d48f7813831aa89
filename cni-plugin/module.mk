# calico-c: the CNI plugin. The cni-plugin component holds everything but
# main() so unit tests can link it. k8s_unavailable.c stands in for k8s.c
# only while the API client (lib/kapi.c) is not in the tree.
COMPONENTS += cni-plugin
cni-plugin_SRCS := cni-plugin/conf.c cni-plugin/gc.c cni-plugin/plugin.c cni-plugin/wire.c \
	$(if $(wildcard lib/kapi.c),cni-plugin/k8s.c,cni-plugin/k8s_unavailable.c)
PROGRAMS += calico-c
calico-c_SRCS := cni-plugin/main.c
calico-c_LIBS := cni-plugin lib
