# calico-c: the CNI plugin. The cni-plugin component holds everything but
# main() so unit tests can link it.
COMPONENTS += cni-plugin
cni-plugin_SRCS := cni-plugin/conf.c cni-plugin/gc.c cni-plugin/k8s.c cni-plugin/plugin.c \
	cni-plugin/wire.c
PROGRAMS += calico-c
calico-c_SRCS := cni-plugin/main.c
calico-c_LIBS := cni-plugin lib
