#!/bin/sh
# Runs a command in a cgroup delegated to it on a systemd host (a transient scope with
# Delegate=yes), as jaild-priv requires there; elsewhere runs it as it is.
[ -d /run/systemd/system ] && exec systemd-run --scope --quiet --collect -p Delegate=yes "$@"
exec "$@"
