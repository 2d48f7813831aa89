# bird-config: BIRD 2 config rendering (birdcfg) and the control-socket
# client (birdctl); calico-c-birdcfg drives both from a JSON input file.
COMPONENTS += bird-config
bird-config_SRCS := $(wildcard bird-config/*.c)
PROGRAMS += calico-c-birdcfg
calico-c-birdcfg_SRCS := bird-config/cmd/main.c
calico-c-birdcfg_LIBS := bird-config lib
