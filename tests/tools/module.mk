# Test tools: kapictl drives lib/kapi (requests, watch, informer) from the
# command line for system tests and benchmarks.
PROGRAMS += kapictl
kapictl_SRCS := tests/tools/kapictl.c
kapictl_LIBS := lib
# calico-c-policy-probe: the TCP/UDP probe the policy tests and the lab's
# pods run; calico-c-policy-bench: the policy benchmarks' driver.
PROGRAMS += calico-c-policy-probe
calico-c-policy-probe_SRCS := tests/tools/policy-probe.c
calico-c-policy-probe_LIBS := lib
PROGRAMS += calico-c-policy-bench
calico-c-policy-bench_SRCS := tests/tools/policy-bench.c
calico-c-policy-bench_LIBS := policy lib
# calico-c-nflog: prints the NFLOG records of a group (the Log tests).
PROGRAMS += calico-c-nflog
calico-c-nflog_SRCS := tests/tools/nflog.c
calico-c-nflog_LIBS := lib
