#!/usr/bin/env bash
# Restarts the machine's Docker engine the way scripts/setup.sh starts it (no systemd here): stops
# the running dockerd (SIGTERM to the pid in $DOCKERD_PIDFILE, waits for it to exit), starts it
# again in the background with the same arguments and log ($DOCKERD_LOG), and waits until
# `docker info` answers. Used by the fault matrix's dockerd-restart row (NIGHTSHIFT_FAULTS_DOCKERD=1):
# it disrupts every Docker user of the machine.
set -euo pipefail
DOCKERD_PIDFILE="${DOCKERD_PIDFILE:-/var/run/docker.pid}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/nightshift-dockerd.log}"
DOCKERD_TIMEOUT="${DOCKERD_TIMEOUT:-60}"
die() { echo "[restart-dockerd] $*" >&2; exit 1; }

[ -f "$DOCKERD_PIDFILE" ] || die "no pid file $DOCKERD_PIDFILE (is dockerd running?)"
pid="$(cat "$DOCKERD_PIDFILE")"
kill -0 "$pid" 2>/dev/null || die "dockerd pid $pid (from $DOCKERD_PIDFILE) is not running"
# Its arguments, NUL-separated, without argv[0].
mapfile -d '' args < <(tail -z -n +2 "/proc/$pid/cmdline")
kill -TERM "$pid"
for _ in $(seq $((DOCKERD_TIMEOUT * 2))); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
kill -0 "$pid" 2>/dev/null && die "dockerd (pid $pid) did not exit within ${DOCKERD_TIMEOUT}s"
nohup dockerd "${args[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null &
new=$!
disown "$new" 2>/dev/null || true
for _ in $(seq $((DOCKERD_TIMEOUT * 2))); do
  docker info >/dev/null 2>&1 && { echo "[restart-dockerd] dockerd restarted (pid $pid -> $new)"; exit 0; }
  kill -0 "$new" 2>/dev/null || { tail -n 30 "$DOCKERD_LOG" >&2; die "dockerd (pid $new) exited during start-up"; }
  sleep 0.5
done
die "dockerd (pid $new) did not answer within ${DOCKERD_TIMEOUT}s; log: $DOCKERD_LOG"
