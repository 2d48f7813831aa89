# calico-c: the CNI plugin. The cni-plugin component holds everything but
# main() so unit tests can link it.
COMPONENTS += cni-plugin
cni-plugin_SRCS := cni-plugin/conf.c cni-plugin/gc.c cni-plugin/k8s.c cni-plugin/plugin.c \
	cni-plugin/wire.c
PROGRAMS += calico-c
calico-c_SRCS := cni-plugin/main.c
calico-c_LIBS := cni-plugin cni-tls lib
# cni-tls: TLS session resumption across the plugin processes, shared by
# calico-c and calico-c-ipam. It uses libssl (libcurl's OpenSSL) directly.
COMPONENTS += cni-tls
cni-tls_SRCS := cni-plugin/tlscache.c
$(BUILD)/bin/calico-c: LDLIBS += -lssl
test_tlscache_LIBS := cni-tls
$(BUILD)/tests/unit/cni-plugin/test_tlscache: LDLIBS += -lssl
# calico-c-install-cni: puts the plugin, its network config and kubeconfig
# onto a node (the DaemonSet's init container). cni-install holds everything
# but main() so tests/unit/cni-plugin/test_install_cni links it.
COMPONENTS += cni-install
cni-install_SRCS := cni-plugin/install.c
PROGRAMS += calico-c-install-cni
calico-c-install-cni_SRCS := cni-plugin/install-cni.c
calico-c-install-cni_LIBS := cni-install lib
test_install_cni_LIBS := cni-install
