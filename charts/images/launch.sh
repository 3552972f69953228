#!/bin/bash
# The weave-kube image's entrypoint (container "weave"): the init step unless the DaemonSet ran it
# in an init container (INIT_CONTAINER=true), then the router. weaver reads every setting of the
# spec from the environment itself (router/flags.cc); arguments given to the container (the
# manifest's args) are passed on to it.
set -euo pipefail

if [ "${INIT_CONTAINER:-}" != true ]; then
  /home/weave/init.sh
fi
# Where the manifest mounts the host's /etc/machine-id (the peer name comes from it); weaver's
# own default is / for running outside a container.
export HOST_ROOT="${HOST_ROOT:-/host}"
exec /home/weave/weaver "$@"
