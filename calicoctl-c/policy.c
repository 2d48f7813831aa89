/* placeholder replaced below */
#include "calicoctl-c/ctl.h"
const struct ctl_command ctl_policy_commands[] = { {} };
