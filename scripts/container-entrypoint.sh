#!/bin/sh
# container-entrypoint.sh: run okrsync in a container, in the foreground, logging JSON
# lines to stdout for the container runtime's log collector.
#
# Install: copy it into the image and make it the entry point, e.g. in a Dockerfile:
#     COPY scripts/container-entrypoint.sh /usr/local/bin/okrsync-entrypoint
#     ENTRYPOINT ["/usr/local/bin/okrsync-entrypoint"]
# and mount the config and a writable state volume:
#     docker run -v "$PWD/config:/config" -v okrsync-state:/var/lib/okrsync \
#         -e OKRSYNC_SMTP_PASSWORD image
#
# See its logs:
#     docker logs -f <container>       # or: kubectl logs -f <pod>
#
# With no arguments it runs `okrsync run` (the config's [schedule]); with arguments it
# runs `okrsync <arguments>` once instead, e.g. `docker run image sync --dry-run` or
# `docker run image run --once` for a Kubernetes CronJob.
#
# `exec` makes okrsync PID 1, so `docker stop` (SIGTERM) reaches it directly: it
# finishes the sync in progress, releases its lock and exits 0. Give it time:
# `docker stop -t 300`, or terminationGracePeriodSeconds in Kubernetes.
set -eu

: "${OKRSYNC_CONFIG:=/config/okrsync.toml}"
: "${OKRSYNC_BIN:=okrsync}"
export OKRSYNC_CONFIG
export PYTHONUNBUFFERED=1

if [ "$#" -eq 0 ]; then
    set -- run
fi
# Logs go to stderr in okrsync; 2>&1 sends them to stdout with everything else.
exec "$OKRSYNC_BIN" --log-format json "$@" 2>&1
