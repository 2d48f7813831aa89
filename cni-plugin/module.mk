# calico-c: the CNI plugin. The cni-plugin component holds everything but
# main() and the Kubernetes calls (k8s.h), so unit tests can link it.
# Two programs from the same main(), one per implementation of k8s.h:
# calico-c hands its Kubernetes calls to felix-c (k8s_felix.c) and links no
# HTTP or TLS library; calico-c-direct makes them itself (k8s.c, libcurl),
# and calico-c becomes it when felix-c does not answer (lib/cnisock.h).
COMPONENTS += cni-plugin
cni-plugin_SRCS := cni-plugin/conf.c cni-plugin/delegate.c cni-plugin/gc.c cni-plugin/lock.c \
	cni-plugin/plugin.c cni-plugin/wire.c
COMPONENTS += cni-felix
cni-felix_SRCS := cni-plugin/k8s_felix.c
PROGRAMS += calico-c
calico-c_SRCS := cni-plugin/main.c
calico-c_LIBS := cni-plugin cni-felix lib
# cni-direct: k8s.h over the apiserver (lib/cnipod.c, which felix-c serves
# calico-c with), with TLS session resumption across the plugin processes
# (lib/tlscache.c, which uses libssl, libcurl's OpenSSL, directly).
COMPONENTS += cni-direct
cni-direct_SRCS := cni-plugin/k8s.c
PROGRAMS += calico-c-direct
calico-c-direct_SRCS := cni-plugin/main.c
calico-c-direct_LIBS := cni-plugin cni-direct lib
# calico-c-install-cni: puts the plugin, its network config and kubeconfig
# onto a node (the DaemonSet's init container). cni-install holds everything
# but main() so tests/unit/cni-plugin/test_install_cni links it.
COMPONENTS += cni-install
cni-install_SRCS := cni-plugin/install.c
PROGRAMS += calico-c-install-cni
calico-c-install-cni_SRCS := cni-plugin/install-cni.c
calico-c-install-cni_LIBS := cni-install lib
test_install_cni_LIBS := cni-install
