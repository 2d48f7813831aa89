# manifests: calico-c.yaml is generated from crds.yaml (the single CRD source)
# and parts/node.yaml; the generated file is committed for users.
all: manifests/calico-c.yaml
manifests/calico-c.yaml: manifests/crds.yaml manifests/parts/node.yaml manifests/generate.sh
	manifests/generate.sh $@

# manifests: `make image` packs the node programs, Debian's bird2 and the
# shared libraries they load into an OCI image archive (no registry, no
# container engine): $(BUILD)/calico-c-node.oci.tar, image calico-c/node:0.1.0
# (containerd names it docker.io/calico-c/node:0.1.0). See manifests/image/build.sh.
IMAGE_REF := calico-c/node:0.1.0
IMAGE_PROGRAMS := felix-c typha-c calico-c calico-c-direct calico-c-ipam calico-c-ipam-direct \
	calico-c-birdcfg calicoctl-c calico-c-install-cni
IMAGE_ARCHIVE := $(BUILD)/calico-c-node.oci.tar

.PHONY: image
image: $(IMAGE_ARCHIVE)

$(IMAGE_ARCHIVE): $(addprefix $(BUILD)/bin/,$(IMAGE_PROGRAMS)) manifests/image/build.sh manifests/image/oci.sh
	manifests/image/build.sh -o $@ -w $(BUILD)/image -n $(IMAGE_REF) $(filter $(BUILD)/bin/%,$^)
