# calico-c build. Each component folder adds itself through <dir>/module.mk:
#   COMPONENTS += foo          foo_SRCS := ...      -> $(BUILD)/foo.a
#   PROGRAMS += bar            bar_SRCS := ...  bar_LIBS := foo lib  -> $(BUILD)/bin/bar
# Unit tests are found by name: tests/unit/<component>/test_<module>.c links
# $(BUILD)/<component>.a and $(BUILD)/lib.a (plus test_<module>_LIBS, _LDFLAGS).
# Fuzz targets likewise: tests/fuzz/fuzz_<name>.c links fuzz_<name>_LIBS and
# lib, built by clang with libFuzzer and ASan/UBSan into build-fuzz/.

BUILD ?= build
# pipefail: `runner | tee summary` fails when the runner does.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
CC := gcc
# libssl: lib/tlscache.c and lib/tlsconn.c use OpenSSL (libcurl's TLS) directly.
PKGS := libmnl libnftnl yaml-0.1 libcurl jansson libssl libcrypto
OPTFLAGS ?= -O2 -g
SANFLAGS ?=
# pkg-config runs when a recipe first needs its answer, not when this file is
# parsed: `make demo` on a fresh machine installs the -dev packages (deps)
# before anything is compiled, so a parse-time answer would be empty.
lazy = $(eval $(1) := $(shell pkg-config $(2) 2>/dev/null))$($(1))
PKG_CFLAGS = $(call lazy,PKG_CFLAGS,--cflags $(PKGS))
PKG_LIBS = $(call lazy,PKG_LIBS,--libs $(PKGS))
LDLIBS = $(PKG_LIBS)
CMOCKA_LIBS = $(call lazy,CMOCKA_LIBS,--libs cmocka)
CFLAGS = -std=gnu17 -Wall -Wextra -Werror $(OPTFLAGS) $(SANFLAGS) -D_GNU_SOURCE \
	-I. -Ilib $(PKG_CFLAGS)
LDFLAGS := $(SANFLAGS) -Wl,--as-needed

# Debian packages the build, the tests and the demo need.
DEB_PKGS := build-essential pkg-config libmnl-dev libnftnl-dev libyaml-dev \
	libcurl4-openssl-dev libjansson-dev libcmocka-dev bird2 nftables iproute2 \
	iperf3 openssl containernetworking-plugins iputils-ping jq curl procps \
	util-linux libssl-dev containerd runc busybox-static python3 iptables conntrack \
	mmdebstrap git clang-14 libclang-rt-14-dev frr netcat-openbsd bind9-dnsutils

COMPONENTS :=
PROGRAMS :=
include $(sort $(wildcard */module.mk tests/*/module.mk))

UNIT_SRCS := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BINS := $(patsubst %.c,$(BUILD)/%,$(UNIT_SRCS))
BINS := $(addprefix $(BUILD)/bin/,$(PROGRAMS))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst %.c,$(BUILD)/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 60

.PHONY: all deps unit system check bench interop tor demo clean asan asan-unit fresh first-run fuzz fuzz-smoke \
	fuzz-bins conformance
all: $(BINS) $(UNIT_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

define component_rules
$(BUILD)/$(1).a: $$(patsubst %.c,$(BUILD)/%.o,$$($(1)_SRCS))
	@mkdir -p $$(@D)
	rm -f $$@ && $$(AR) rcs $$@ $$^
endef
$(foreach c,$(COMPONENTS),$(eval $(call component_rules,$(c))))

define program_rules
$(BUILD)/bin/$(1): $$(patsubst %.c,$(BUILD)/%.o,$$($(1)_SRCS)) $$(foreach l,$$($(1)_LIBS),$(BUILD)/$$(l).a)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rules,$(p))))

# tests/unit/<comp>/test_x -> objects of comp (unless comp is lib) then lib.
unit_comp = $(firstword $(subst /, ,$(patsubst $(BUILD)/tests/unit/%,%,$(1))))
unit_libs = $(foreach l,$($(notdir $(1))_LIBS) $(filter-out lib,$(call unit_comp,$(1))) lib,$(BUILD)/$(l).a)
define unit_rules
$(1): $(1).o $(call unit_libs,$(1))
	$$(CC) $$(LDFLAGS) $$($(notdir $(1))_LDFLAGS) -o $$@ $$^ $$(LDLIBS) $$(CMOCKA_LIBS)
endef
$(foreach t,$(UNIT_BINS),$(eval $(call unit_rules,$(t))))

define fuzz_rules
$(1): $(1).o $(foreach l,$($(notdir $(1))_LIBS) lib,$(BUILD)/$(l).a)
	$$(CC) $$(LDFLAGS) -fsanitize=fuzzer -o $$@ $$^ $$(LDLIBS) -lpthread
endef
$(foreach t,$(FUZZ_BINS),$(eval $(call fuzz_rules,$(t))))

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@tests/lab/build-tools.sh >/dev/null

# tests/layering: the include layers of ARCHITECTURE.md and no realloc()
# outside lib/array.c (under a second).
unit: all
	@tests/layering --self-test
	@tests/unit/run $(UNIT_BINS) | tee $(BUILD)/summary-unit.txt

# The image is built here, outside the tests' private namespaces (it fetches
# Debian packages); tests/system/image runs it. So are upstream's e2e.test
# and agnhost (Go modules) for tests/system/k8s/0012upstream_e2e_smoke_0.
system: all image
	@tests/lab/build-tools.sh --e2e >/dev/null
	@CALICO_C_BUILD=$(abspath $(BUILD)) tests/system/run | tee $(BUILD)/summary-system.txt

asan-unit:
	@$(MAKE) --no-print-directory BUILD=build-asan OPTFLAGS="-O1 -g -fno-omit-frame-pointer" \
		SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" unit

asan: asan-unit
	@$(MAKE) --no-print-directory BUILD=build-asan OPTFLAGS="-O1 -g -fno-omit-frame-pointer" \
		SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" system

# The first run on a fresh Debian 12 root (a clean clone of HEAD there runs
# `make deps all image unit`); outside the tests' private namespaces: it fetches
# Debian packages.
fresh: deps
	@mkdir -p $(BUILD)
	@CALICO_C_BUILD=$(abspath $(BUILD)) tests/fresh/run | tee $(BUILD)/summary-fresh.txt

# The whole first run there: `make demo`, then `make check` (about an hour;
# not a step of `make check`, which runs `make fresh` itself).
first-run: deps
	@mkdir -p $(BUILD)
	@CALICO_C_BUILD=$(abspath $(BUILD)) tests/fresh/run --first-run

# The fuzz build is clang's (libFuzzer); -Wno-error: warnings only clang
# gives are the gcc build's business, not a reason to skip fuzzing.
FUZZ_MAKE = $(MAKE) --no-print-directory BUILD=build-fuzz CC=clang-14 \
	OPTFLAGS="-O1 -g -fno-omit-frame-pointer -Wno-error" \
	SANFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"

fuzz-bins: $(FUZZ_BINS)

# Each target for FUZZ_SECONDS, one after another.
fuzz:
	@$(FUZZ_MAKE) fuzz-bins
	@tests/fuzz/run -t $(FUZZ_SECONDS) $(FUZZ_SRCS:%.c=build-fuzz/%) | tee build-fuzz/summary-fuzz.txt

# Each target over its committed corpus plus a few thousand mutations.
fuzz-smoke:
	@$(FUZZ_MAKE) fuzz-bins
	@tests/fuzz/run -s $(FUZZ_SRCS:%.c=build-fuzz/%) | tee build-fuzz/summary-fuzz-smoke.txt

# The system tests mostly wait (for BGP, the apiserver, traffic); the
# compile-bound stages (ASan unit tests, the fresh root, the fuzz smoke) run
# beside them at nice 19, so they take only what the tests leave idle. Their
# output is printed after the system tests'.
check: deps
	@$(MAKE) --no-print-directory all image
	@$(MAKE) --no-print-directory unit; rc0=$$?; \
	rm -f $(BUILD)/check-rc-*; \
	( nice -n 19 $(MAKE) --no-print-directory asan-unit; echo $$? >$(BUILD)/check-rc-asan; \
	  nice -n 19 $(MAKE) --no-print-directory fresh; echo $$? >$(BUILD)/check-rc-fresh; \
	  nice -n 19 $(MAKE) --no-print-directory fuzz-smoke; echo $$? >$(BUILD)/check-rc-fuzz \
	) >$(BUILD)/check-beside.log 2>&1 </dev/null & beside=$$!; \
	$(MAKE) --no-print-directory system; rc=$$?; \
	wait $$beside; cat $(BUILD)/check-beside.log; \
	rc2=$$(cat $(BUILD)/check-rc-asan 2>/dev/null || echo 1); \
	rc3=$$(cat $(BUILD)/check-rc-fresh 2>/dev/null || echo 1); \
	rc4=$$(cat $(BUILD)/check-rc-fuzz 2>/dev/null || echo 1); \
	echo "== summary =="; \
	printf 'unit:        '; tail -n1 $(BUILD)/summary-unit.txt; \
	printf 'system:      '; tail -n1 $(BUILD)/summary-system.txt; \
	printf 'asan unit:   '; tail -n1 build-asan/summary-unit.txt; \
	printf 'fresh root:  '; tail -n1 $(BUILD)/summary-fresh.txt; \
	printf 'fuzz smoke:  '; tail -n1 build-fuzz/summary-fuzz-smoke.txt; \
	tail -qn1 $(BUILD)/summary-unit.txt $(BUILD)/summary-system.txt build-asan/summary-unit.txt \
		$(BUILD)/summary-fresh.txt build-fuzz/summary-fuzz-smoke.txt | \
		awk '{ p += $$(NF-3); f += $$(NF-1) } END { printf "check: %d passed, %d failed\n", p, f }'; \
	test $$rc0 -eq 0 -a $$rc -eq 0 -a $$rc2 -eq 0 -a $$rc3 -eq 0 -a $$rc4 -eq 0

bench: deps all
	@CALICO_C_BUILD=$(abspath $(BUILD)) tests/bench/run

# Calico's own calicoctl and CNI plugin against calico-c (tests/interop/);
# their first build takes 15-30 min (cached in /var/cache/calico-c), so this
# is not part of make check. Built outside the tests' namespaces (Go proxy).
interop: deps all
	@set -a && eval "$$(tests/lab/build-calico.sh)" && set +a && \
	CALICO_C_BUILD=$(abspath $(BUILD)) CALICO_C_TEST_ROOT=$(abspath tests/interop) \
		tests/system/run | tee $(BUILD)/summary-interop.txt

# Longer FRR-as-ToR scenarios (tests/tor/, same layout and runner as the
# system tests); make check keeps the short ones in tests/system/bgp.
tor: deps all
	@CALICO_C_BUILD=$(abspath $(BUILD)) CALICO_C_TEST_ROOT=$(abspath tests/tor) \
		tests/system/run | tee $(BUILD)/summary-tor.txt

# Upstream's sig-network e2e specs on a 3-node lab cluster (tests/conformance/run);
# e2e.test, ginkgo, the agnhost image, CoreDNS and the ClusterNetworkPolicy
# suite are built here, where Go's module proxy is reachable (cached after the
# first time). FOCUS: the run's focuses (default netpol networking conformance;
# also cnp, dualstack).
conformance: deps all image
	@tests/lab/build-tools.sh --conformance >/dev/null
	@CALICO_C_BUILD=$(abspath $(BUILD)) tests/conformance/run $(FOCUS) | tee $(BUILD)/summary-conformance.txt

demo: deps all image
	@CALICO_C_BUILD=$(abspath $(BUILD)) tests/lab/demo

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
