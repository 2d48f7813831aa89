# policy: Kubernetes NetworkPolicy compiled to nftables (policy.a) and the
# calico-c-policy command (apply/show), plus the probe used by its tests.
COMPONENTS += policy
policy_SRCS := $(filter-out policy/cmd/%,$(wildcard policy/*.c))
PROGRAMS += calico-c-policy
calico-c-policy_SRCS := policy/cmd/main.c
calico-c-policy_LIBS := policy lib
PROGRAMS += calico-c-policy-probe
calico-c-policy-probe_SRCS := policy/cmd/probe.c
calico-c-policy-probe_LIBS := lib
PROGRAMS += calico-c-policy-bench
calico-c-policy-bench_SRCS := policy/cmd/bench.c
calico-c-policy-bench_LIBS := policy lib
