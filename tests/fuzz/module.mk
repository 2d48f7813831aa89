# Fuzz targets (tests/fuzz/fuzz_<name>.c, found by name): each links lib plus
# the components listed here. Built and run by `make fuzz` / `make fuzz-smoke`.
fuzz_netpol_LIBS := policy
fuzz_pod_LIBS := policy
fuzz_model_LIBS := policy
fuzz_crdvalid_LIBS := ipam
fuzz_cniconfig_LIBS := cni-plugin
fuzz_yaml_LIBS := calicoctl-c
fuzz_httpreq_LIBS :=
fuzz_birdctl_LIBS := calicoctl-c bird-config
fuzz_birdcfg_LIBS := bird-config
fuzz_felixconfig_LIBS := felix-c policy
