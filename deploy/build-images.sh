#!/usr/bin/env bash
# Builds the images of docker-compose.yml WITHOUT an image registry, from local bases:
#
#   nightshift/postgres:15            PostgreSQL 15 from Debian's apt, on nightshift/base:bookworm
#   nightshift/temporal:<server>      Temporal server + temporal-sql-tool (go install, pinned) and the
#                                     Temporal CLI, on nightshift/base:bookworm: the auto-setup stand-in
#   nightshift/temporal-ui:<ui>       Temporal Web UI server (go install, pinned; assets embedded)
#   nightshift/worker:latest          Nightshift: the host's dist/ + node_modules on nightshift/universal
#
# and writes deploy/local-images.env, the variables that point docker-compose.yml at them:
#   set -a; . deploy/local-images.env; set +a; docker compose up -d
# (without them, docker-compose.yml uses the official images: postgres, temporalio/auto-setup,
# temporalio/ui, and builds the worker from the root Dockerfile).
#
# Go binaries are compiled once per version into $NIGHTSHIFT_DEPLOY_CACHE (default
# ~/.cache/nightshift/deploy/<module>@<version>/), from the Go module proxy (checked against the
# checksum database by the go command). The first build of the server takes several minutes on a
# small machine; every later run finds the binaries there.
# Bases: nightshift/base:bookworm (sandbox-images/make-base.sh: debootstrap, made when missing) and
# nightshift/universal:latest (sandbox-images/build.sh universal, made when missing).
# The worker image needs `npm ci` and `npm run build` done in this checkout.
#
# Idempotent: every image carries a label nightshift.build.fingerprint (hash of its build inputs);
# an image whose fingerprint matches is not rebuilt. --force rebuilds anyway.
#
# Usage: deploy/build-images.sh [--force] [postgres|temporal|ui|worker ...]   (default: all four)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/.." && pwd)"
STAGE_ROOT="$HERE/.build"
CACHE="${NIGHTSHIFT_DEPLOY_CACHE:-$HOME/.cache/nightshift/deploy}"

# Pinned versions. The server is the one the Temporal CLI of scripts/setup.sh embeds (v1.5.1 →
# server v1.29.1, UI v2.42.1), so `temporal` and the server speak the same API.
TEMPORAL_SERVER_VERSION="${TEMPORAL_SERVER_VERSION:-v1.29.1}"
TEMPORAL_UI_VERSION="${TEMPORAL_UI_VERSION:-v2.42.1}"
TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
POSTGRES_MAJOR=15
BASE_IMAGE=nightshift/base:bookworm
UNIVERSAL_IMAGE=nightshift/universal:latest

FORCE=0
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    postgres|temporal|ui|worker) TARGETS+=("$1") ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "build-images: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(postgres temporal ui worker)

log() { echo "[deploy-images] $*"; }
die() { echo "[deploy-images] ERROR: $*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "the Docker engine is not reachable (docker info failed); run scripts/setup.sh"
[ -d /usr/local/go/bin ] && PATH="$PATH:/usr/local/go/bin"

fingerprint_of() { docker image inspect -f '{{ index .Config.Labels "nightshift.build.fingerprint" }}' "$1" 2>/dev/null || true; }
image_id() { docker image inspect -f '{{.Id}}' "$1"; }

# go_bin <module>@<version> <package path> <binary name>: compiles once into the cache; prints the path.
go_bin() {
  local modver="$1" pkg="$2" name="$3" dir out
  dir="$CACHE/${modver//\//_}"
  out="$dir/$name"
  if [ ! -x "$out" ]; then
    command -v go >/dev/null 2>&1 || die "go is not installed (needed to compile $pkg; Go >= 1.24 from go.dev)"
    mkdir -p "$dir/.gobin"
    log "compiling $pkg@${modver#*@} (once; cached in $dir)" >&2
    # Static (CGO_ENABLED=0) like the official images; GOFLAGS=-mod=mod as scripts/setup.sh.
    GOBIN="$dir/.gobin" CGO_ENABLED=0 GOFLAGS=-mod=mod go install "$pkg@${modver#*@}" >"$dir/build.log" 2>&1 \
      || { tail -n 20 "$dir/build.log" >&2; die "go install $pkg@${modver#*@} failed (log: $dir/build.log)"; }
    mv "$dir/.gobin/$(basename "$pkg")" "$out"
  fi
  echo "$out"
}

# module_dir <module>@<version>: its directory in the module cache (downloaded when missing).
module_dir() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }

# build_image <name:tag> <context dir> <fingerprint input text> [docker build args...]
build_image() {
  local image="$1" ctx="$2" fp have logf="$STAGE_ROOT/$(basename "$2").build.log" start=$SECONDS
  fp="$(printf '%s' "$3" | sha256sum | cut -c1-16)"; shift 3
  have="$(fingerprint_of "$image")"
  if [ "$FORCE" -eq 0 ] && [ "$have" = "$fp" ]; then
    log "$image is up to date (fingerprint $fp)"
    rm -rf "$ctx"; return 0
  fi
  log "building $image (log: ${logf#"$REPO_ROOT"/})"
  docker build --force-rm "$@" --label "nightshift.build.fingerprint=$fp" -t "$image" "$ctx" >"$logf" 2>&1 \
    || { tail -n 30 "$logf" >&2; rm -rf "$ctx"; die "docker build of $image failed (log: $logf)"; }
  rm -rf "$ctx"
  log "built $image in $((SECONDS - start))s"
}

ensure_base() {
  docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || bash "$REPO_ROOT/sandbox-images/make-base.sh" --image "$BASE_IMAGE"
}

# Hashes of files (content), for fingerprints.
hash_files() { (cd "$1" && shift && sha256sum "$@") ; }

build_postgres() {
  ensure_base
  local ctx="$STAGE_ROOT/postgres"
  rm -rf "$ctx"; mkdir -p "$ctx"
  cp "$HERE/postgres/Dockerfile" "$HERE/postgres/entrypoint.sh" "$ctx/"
  build_image "nightshift/postgres:$POSTGRES_MAJOR" "$ctx" \
    "$(hash_files "$ctx" Dockerfile entrypoint.sh) $(image_id "$BASE_IMAGE")" --build-arg "BASE_IMAGE=$BASE_IMAGE"
}

build_temporal() {
  ensure_base
  local ctx="$STAGE_ROOT/temporal" server sqltool cli mod have
  server="$(go_bin "go.temporal.io/server@$TEMPORAL_SERVER_VERSION" go.temporal.io/server/cmd/server server)"
  sqltool="$(go_bin "go.temporal.io/server@$TEMPORAL_SERVER_VERSION" go.temporal.io/server/cmd/tools/sql sql)"
  # The CLI: scripts/setup.sh's binary when it is the pinned version, else compiled here.
  cli="$(go env GOPATH)/bin/temporal"
  have="$({ go version -m "$cli" 2>/dev/null || true; } | awk '$1 == "mod" && $2 == "github.com/temporalio/cli" { print $3 }')"
  [ "$have" = "$TEMPORAL_CLI_VERSION" ] || cli="$(go_bin "github.com/temporalio/cli@$TEMPORAL_CLI_VERSION" github.com/temporalio/cli/cmd/temporal temporal)"
  mod="$(module_dir "go.temporal.io/server@$TEMPORAL_SERVER_VERSION")"
  [ -f "$mod/config/docker.yaml" ] || die "no config/docker.yaml in $mod"
  rm -rf "$ctx"; mkdir -p "$ctx/bin" "$ctx/config/dynamicconfig"
  cp "$HERE/temporal/Dockerfile" "$HERE/temporal/auto-setup.sh" "$ctx/"
  cp "$server" "$ctx/bin/temporal-server"; cp "$sqltool" "$ctx/bin/temporal-sql-tool"; cp "$cli" "$ctx/bin/temporal"
  # The server's own config template (rendered from the environment at start) and its default
  # dynamic config, as in the official image.
  cp "$mod/config/docker.yaml" "$ctx/config/docker.yaml"
  cp "$mod/config/dynamicconfig/docker.yaml" "$ctx/config/dynamicconfig/docker.yaml"
  chmod -R u+w "$ctx"
  build_image "nightshift/temporal:${TEMPORAL_SERVER_VERSION#v}" "$ctx" \
    "$(hash_files "$ctx" Dockerfile auto-setup.sh config/docker.yaml) $TEMPORAL_SERVER_VERSION $TEMPORAL_CLI_VERSION $(image_id "$BASE_IMAGE")" \
    --build-arg "BASE_IMAGE=$BASE_IMAGE"
}

build_ui() {
  ensure_base
  local ctx="$STAGE_ROOT/ui" bin mod
  bin="$(go_bin "github.com/temporalio/ui-server/v2@$TEMPORAL_UI_VERSION" github.com/temporalio/ui-server/v2/cmd/server server)"
  mod="$(module_dir "github.com/temporalio/ui-server/v2@$TEMPORAL_UI_VERSION")"
  rm -rf "$ctx"; mkdir -p "$ctx/bin" "$ctx/config"
  cp "$HERE/ui/Dockerfile" "$ctx/"
  cp "$bin" "$ctx/bin/ui-server"
  cp "$mod/config/docker.yaml" "$ctx/config/docker.yaml"
  chmod -R u+w "$ctx"
  build_image "nightshift/temporal-ui:${TEMPORAL_UI_VERSION#v}" "$ctx" \
    "$(hash_files "$ctx" Dockerfile config/docker.yaml) $TEMPORAL_UI_VERSION $(image_id "$BASE_IMAGE")" \
    --build-arg "BASE_IMAGE=$BASE_IMAGE"
}

build_worker() {
  local ctx="$STAGE_ROOT/worker" nm
  [ -f "$REPO_ROOT/dist/worker/cli.js" ] || die "dist/worker/cli.js missing: run npm run build first"
  nm="$(readlink -f "$REPO_ROOT/node_modules")"
  [ -d "$nm/@temporalio/worker" ] || die "node_modules missing: run npm ci first"
  docker image inspect "$UNIVERSAL_IMAGE" >/dev/null 2>&1 || bash "$REPO_ROOT/sandbox-images/build.sh" universal
  rm -rf "$ctx"; mkdir -p "$ctx/app"
  cp "$HERE/worker/Dockerfile" "$ctx/"
  cp "$REPO_ROOT/package.json" "$REPO_ROOT/package-lock.json" "$ctx/app/"
  # Hard links where possible (no copy); the tests and the agent CLIs' binaries stay out.
  cp -al "$REPO_ROOT/dist" "$ctx/app/dist" 2>/dev/null || cp -a "$REPO_ROOT/dist" "$ctx/app/dist"
  rm -rf "$ctx/app/dist/test"
  cp -al "$nm" "$ctx/app/node_modules" 2>/dev/null || cp -a "$nm" "$ctx/app/node_modules"
  rm -rf "$ctx/app/node_modules/@anthropic-ai/claude-code"* "$ctx/app/node_modules/@openai/codex"*
  build_image nightshift/worker:latest "$ctx" \
    "$(cat "$ctx/Dockerfile" "$REPO_ROOT/package-lock.json" | sha256sum) $(cd "$ctx/app/dist" && find . -type f -printf '%P %s %T@\n' | sort | sha256sum) $(image_id "$UNIVERSAL_IMAGE")" \
    --build-arg "BASE_IMAGE=$UNIVERSAL_IMAGE"
}

mkdir -p "$STAGE_ROOT"
for t in "${TARGETS[@]}"; do "build_$t"; done

cat >"$HERE/local-images.env" <<ENV
# Written by deploy/build-images.sh: docker-compose.yml on the locally built images.
#   set -a; . deploy/local-images.env; set +a
POSTGRES_IMAGE=nightshift/postgres:$POSTGRES_MAJOR
TEMPORAL_IMAGE=nightshift/temporal:${TEMPORAL_SERVER_VERSION#v}
TEMPORAL_UI_IMAGE=nightshift/temporal-ui:${TEMPORAL_UI_VERSION#v}
WORKER_IMAGE=nightshift/worker:latest
ENV
log "images ready; docker-compose.yml uses them after: set -a; . deploy/local-images.env; set +a"
