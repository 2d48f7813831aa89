# policy: Kubernetes NetworkPolicy compiled to nftables (policy.a) and the
# calico-c-policy command (apply/show). Its test tools (probe, bench) are in
# tests/tools/.
COMPONENTS += policy
policy_SRCS := $(filter-out policy/cmd/%,$(wildcard policy/*.c))
PROGRAMS += calico-c-policy
calico-c-policy_SRCS := policy/cmd/main.c
calico-c-policy_LIBS := policy lib
