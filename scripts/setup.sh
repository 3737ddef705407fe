#!/usr/bin/env bash
# Idempotent machine set-up for Nightshift on a fresh Debian (bookworm) machine, run as root.
# CI runs it (.ci/run); running it again is fast because every step checks before it acts.
#
#   1. apt packages    docker.io debootstrap iptables git chromium   (apt-get only when one is missing;
#                      chromium: the calibration report's HTML is screenshotted headless in its test)
#   2. dockerd         started in the background (no systemd) when `docker info` fails
#   3. temporal CLI    github.com/temporalio/cli v1.5.1 via `go install` into $(go env GOPATH)/bin
#   4. npm ci          when node_modules is missing or package-lock.json is newer than it
#   5. sandbox images  bash sandbox-images/build.sh (universal toolchain image + agent images; base
#                      image via debootstrap, toolchains via the host's npm and go; no image registry)
#   6. test server     io.temporal:temporal-test-server (Maven Central, via mvn) + its runtime jars into
#                      $TEMPORAL_TEST_SERVER_DIR and a launcher script there, for the SDK's time-skipping
#                      test environment (test/helpers/timeSkipping.ts); skipped when java or mvn is missing
#
# Prints one line per step with what it did and how long it took.
#
# Environment knobs:
#   DOCKERD_LOG        dockerd log file (default /var/log/nightshift-dockerd.log)
#   DOCKERD_ARGS       extra dockerd flags, e.g. "--storage-driver=vfs" where overlay2 is unavailable
#   DOCKERD_TIMEOUT    seconds to wait for dockerd to answer (default 60)
#   DOCKERD_PIDFILE    dockerd's pid file (default /var/run/docker.pid; match --pidfile in DOCKERD_ARGS)
#   GO_INSTALL_WAIT    seconds to wait for a temporal `go install` already running (default 1800)
#   SKIP_IMAGES=1      skip step 5
#   TEMPORAL_TEST_SERVER_DIR   where step 6 installs (default ~/.cache/nightshift/temporal-test-server)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

TEMPORAL_MODULE=github.com/temporalio/cli
TEMPORAL_VERSION=v1.5.1
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/nightshift-dockerd.log}"
DOCKERD_TIMEOUT="${DOCKERD_TIMEOUT:-60}"
DOCKERD_PIDFILE="${DOCKERD_PIDFILE:-/var/run/docker.pid}"
GO_INSTALL_WAIT="${GO_INSTALL_WAIT:-1800}"
export DEBIAN_FRONTEND=noninteractive
# Go's usual install location, in case the calling shell is not a login shell.
[ -d /usr/local/go/bin ] && PATH="$PATH:/usr/local/go/bin"

die() { echo "[setup] ERROR: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { print b - a }'; }

# run_step "<name>" <function>: runs the function (in this shell, so it can set STATUS) and prints
# "[setup] <name>: <STATUS> (<seconds>s)".
STATUS=""
run_step() {
  local name="$1" fn="$2" t0
  t0="$(now)"
  STATUS="done"
  "$fn"
  printf '[setup] %-16s %s (%.1fs)\n' "$name:" "$STATUS" "$(elapsed "$t0")"
}

[ "$(id -u)" -eq 0 ] || die "run as root (apt-get, dockerd, debootstrap)"

# --- 1. apt packages -------------------------------------------------------------------------------
# A package counts as present when its command is (so a machine with Docker CE, rather than
# Debian's docker.io, is left alone).
step_apt() {
  local missing=() pair cmd pkg
  for pair in docker:docker.io dockerd:docker.io debootstrap:debootstrap iptables:iptables git:git chromium:chromium; do
    cmd="${pair%%:*}"; pkg="${pair#*:}"
    # debootstrap and iptables live in /usr/sbin, which may not be on a non-root PATH.
    if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ] && [ ! -x "/sbin/$cmd" ]; then
      case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    STATUS="docker.io debootstrap iptables git chromium already installed"
    return 0
  fi
  apt-get update -qq >/tmp/nightshift-apt.log 2>&1 || { tail -n 20 /tmp/nightshift-apt.log >&2; die "apt-get update failed"; }
  apt-get install -y -qq "${missing[@]}" >>/tmp/nightshift-apt.log 2>&1 \
    || { tail -n 20 /tmp/nightshift-apt.log >&2; die "apt-get install ${missing[*]} failed (log: /tmp/nightshift-apt.log)"; }
  STATUS="installed ${missing[*]}"
}

# --- 2. dockerd ------------------------------------------------------------------------------------
step_dockerd() {
  if docker info >/dev/null 2>&1; then
    STATUS="already running ($(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?'))"
    return 0
  fi
  local pid="" waited=0
  # A dockerd that is still starting (pid file + live process): wait for it rather than start another.
  if [ -f "$DOCKERD_PIDFILE" ] && kill -0 "$(cat "$DOCKERD_PIDFILE")" 2>/dev/null; then
    pid="$(cat "$DOCKERD_PIDFILE")"
    echo "[setup] dockerd: pid $pid is running but not answering yet; waiting"
  else
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    # In the background, immune to hangups and disowned so that it outlives this script (CI runs
    # the tests after it). DOCKERD_ARGS is word-split on purpose.
    # shellcheck disable=SC2086
    nohup dockerd ${DOCKERD_ARGS:-} >>"$DOCKERD_LOG" 2>&1 </dev/null &
    pid=$!
    disown "$pid" 2>/dev/null || true
  fi
  until docker info >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$DOCKERD_LOG" >&2 || true
      die "dockerd (pid $pid) exited during start-up; log: $DOCKERD_LOG"
    fi
    if [ "$waited" -ge $((DOCKERD_TIMEOUT * 2)) ]; then
      tail -n 30 "$DOCKERD_LOG" >&2 || true
      die "dockerd (pid $pid) did not answer within ${DOCKERD_TIMEOUT}s; log: $DOCKERD_LOG"
    fi
    sleep 0.5; waited=$((waited + 1))
  done
  STATUS="started dockerd (pid $pid, log $DOCKERD_LOG)"
}

# --- 3. Temporal CLI -------------------------------------------------------------------------------
# v1.5.1 is installable with `go install` because its go.mod has no replace directives. Later
# versions do have replace directives, which `go install pkg@version` refuses; for those, fetch the
# module (`go mod download -json github.com/temporalio/cli@vX`) and `go build ./cmd/temporal` from
# its directory in the module cache (with GOFLAGS=-mod=mod).
temporal_installed_version() {
  # Built with `go install`, `temporal --version` says 0.0.0-DEV; the module version is in the
  # binary's build info.
  { go version -m "$1" 2>/dev/null || true; } | awk -v m="$TEMPORAL_MODULE" '$1 == "mod" && $2 == m { print $3 }'
}

step_temporal() {
  command -v go >/dev/null 2>&1 || die "go is not installed (needed for the Temporal CLI; Debian's golang-go is too old: install Go >= 1.24 from go.dev)"
  local bin have waited=0
  bin="$(go env GOPATH)/bin/temporal"
  have="$(temporal_installed_version "$bin")"
  if [ "$have" = "$TEMPORAL_VERSION" ]; then
    STATUS="$bin is $TEMPORAL_VERSION already"
    return 0
  fi
  # Another `go install` of the CLI in progress (e.g. started by the machine's provisioning): wait
  # for it instead of compiling the same thing twice on a small machine.
  if pgrep -f "go install $TEMPORAL_MODULE/cmd/temporal@" >/dev/null 2>&1; then
    echo "[setup] temporal CLI: waiting for a running 'go install' (up to ${GO_INSTALL_WAIT}s)"
    while pgrep -f "go install $TEMPORAL_MODULE/cmd/temporal@" >/dev/null 2>&1; do
      [ "$waited" -lt "$GO_INSTALL_WAIT" ] || die "the running 'go install' of the Temporal CLI did not finish within ${GO_INSTALL_WAIT}s"
      sleep 5; waited=$((waited + 5))
    done
    have="$(temporal_installed_version "$bin")"
    if [ "$have" = "$TEMPORAL_VERSION" ]; then
      STATUS="waited for the running go install: $bin is $TEMPORAL_VERSION"
      return 0
    fi
  fi
  GOFLAGS=-mod=mod go install "$TEMPORAL_MODULE/cmd/temporal@$TEMPORAL_VERSION" >/tmp/nightshift-go-install.log 2>&1 \
    || { tail -n 20 /tmp/nightshift-go-install.log >&2; die "go install of the Temporal CLI failed (log: /tmp/nightshift-go-install.log)"; }
  have="$(temporal_installed_version "$bin")"
  [ "$have" = "$TEMPORAL_VERSION" ] || die "$bin reports module version '${have:-none}', expected $TEMPORAL_VERSION"
  STATUS="installed $bin $TEMPORAL_VERSION"
}

# --- 4. npm dependencies ---------------------------------------------------------------------------
step_npm() {
  command -v npm >/dev/null 2>&1 || die "npm is not installed (Node.js >= 20.19 is required)"
  if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
    STATUS="node_modules up to date with package-lock.json"
    return 0
  fi
  local logf=/tmp/nightshift-npm-ci.log
  if npm ci --no-audit --no-fund >"$logf" 2>&1; then
    STATUS="ran npm ci"
    return 0
  fi
  # `npm ci` refuses a lock file that lacks optional platform packages of a dependency ("Missing:
  # @swc/core-darwin-arm64@ from lock file": they are not on every registry mirror, so
  # `npm install` leaves them out of the lock). `npm install --no-save` installs exactly the locked
  # versions and does not rewrite package-lock.json.
  if grep -q "EUSAGE" "$logf" && grep -q "from lock file" "$logf"; then
    echo "[setup] npm ci: package-lock.json lacks optional packages ($(grep -c 'from lock file' "$logf") missing); falling back to npm install --no-save"
    npm install --no-save --no-audit --no-fund >>"$logf" 2>&1 \
      || { tail -n 30 "$logf" >&2; die "npm install failed (log: $logf)"; }
    STATUS="ran npm install --no-save (npm ci refused the lock file)"
    return 0
  fi
  tail -n 30 "$logf" >&2
  die "npm ci failed (log: $logf)"
}

# --- 5. sandbox images -----------------------------------------------------------------------------
step_images() {
  if [ "${SKIP_IMAGES:-0}" = 1 ]; then
    STATUS="skipped (SKIP_IMAGES=1)"
    return 0
  fi
  bash sandbox-images/build.sh
  STATUS="nightshift/universal:latest nightshift/claude-code:latest nightshift/codex:latest ready"
}

# --- 6. Temporal test server (time skipping) ------------------------------------------------------
# The SDK's TestWorkflowEnvironment.createTimeSkipping downloads this server from temporal.download,
# which is not reachable everywhere; Maven Central is. The launcher takes the port as its first
# argument (what the SDK passes) and execs the JVM so that the SDK's kill reaches it.
TEMPORAL_TEST_SERVER_VERSION=1.31.0
TEMPORAL_TEST_SERVER_DIR="${TEMPORAL_TEST_SERVER_DIR:-$HOME/.cache/nightshift/temporal-test-server}"
step_test_server() {
  local dir="$TEMPORAL_TEST_SERVER_DIR" stamp="$TEMPORAL_TEST_SERVER_DIR/VERSION"
  if [ -x "$dir/temporal-test-server" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$TEMPORAL_TEST_SERVER_VERSION" ]; then
    STATUS="$dir is $TEMPORAL_TEST_SERVER_VERSION already"
    return 0
  fi
  if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
    STATUS="skipped (java or mvn missing: the time-skipping tests will be skipped)"
    return 0
  fi
  mkdir -p "$dir"
  rm -rf "$dir/lib"
  cat >"$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>nightshift</groupId><artifactId>temporal-test-server-install</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId>
      <version>$TEMPORAL_TEST_SERVER_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
  mvn -q -B -f "$dir/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dir/lib" \
    >/tmp/nightshift-test-server.log 2>&1 \
    || { tail -n 20 /tmp/nightshift-test-server.log >&2; die "mvn could not fetch temporal-test-server (log: /tmp/nightshift-test-server.log)"; }
  cat >"$dir/temporal-test-server" <<'LAUNCHER'
#!/bin/sh
# Temporal's Java test server (time skipping). Usage: temporal-test-server <port> [--enable-time-skipping]
dir="$(cd "$(dirname "$0")" && pwd)"
exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k -cp "$dir/lib/*" io.temporal.testserver.TestServer "$@"
LAUNCHER
  chmod +x "$dir/temporal-test-server"
  echo "$TEMPORAL_TEST_SERVER_VERSION" >"$stamp"
  STATUS="installed $dir ($(ls "$dir/lib" | wc -l) jars)"
}

T0="$(now)"
run_step "apt packages" step_apt
run_step "dockerd" step_dockerd
run_step "temporal CLI" step_temporal
run_step "npm ci" step_npm
run_step "sandbox images" step_images
run_step "test server" step_test_server
printf '[setup] %-16s total %.1fs\n' "done:" "$(elapsed "$T0")"
