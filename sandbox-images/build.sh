#!/usr/bin/env bash
# Builds the Nightshift sandbox images:
#
#   nightshift/universal:latest    (+ :node<ver>-go<ver>) the toolchains: Node.js, npm, corepack,
#                                  Python 3 + /opt/venv, Go, gcc/make, git, ripgrep, jq
#   nightshift/claude-code:latest  (+ :<cli version>)   Claude Code native executable, on universal
#   nightshift/codex:latest        (+ :<cli version>)   Codex static musl binary, on universal
#
# The agent binaries come from the project's own pinned npm packages in node_modules (run
# `npm ci` first). The universal image's toolchains are staged with the host's npm and go
# (versions pinned below, overridable by the environment):
#   npm pack node-linux-<x64|arm64>@$NODE_VERSION, npm@$NPM_VERSION, corepack@$COREPACK_VERSION
#     each checked against `npm view <pkg>@<ver> dist.integrity` (sha512);
#   go mod download golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-<amd64|arm64>
#     checked by the go command against the checksum database (GOSUMDB).
# Downloads are cached in sandbox-images/.build/downloads/ (with the checked digest next to each);
# a rebuild re-checks the digest and does not download again. Each image's build context is staged
# under sandbox-images/.build/<image>/ (gitignored; hard links where possible) and removed after.
#
# Base image of universal: $BASE_IMAGE when set (e.g. debian:bookworm-slim, the Dockerfile's
# default, for users who can pull from a registry); otherwise the local nightshift/base:bookworm,
# made with debootstrap + docker import by make-base.sh when missing (no registry needed). The
# agent images are built on nightshift/universal:latest.
#
# Idempotent and fast when nothing changed: every image carries a label
# nightshift.build.fingerprint (universal: hash of its Dockerfile, the toolchain versions, the
# architecture and the base image id; agents: of the Dockerfile, extra files, CLI version, binary
# size and the universal image id); an image whose fingerprint matches is not rebuilt. --force
# rebuilds anyway (docker's layer cache still applies; add --no-cache to bypass it, e.g. for apt
# security updates).
#
# Usage: build.sh [--force] [--no-cache] [--verbose] [universal|claude-code|codex ...]
#   (an agent image always brings universal up to date first; `universal` alone builds only it)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/.." && pwd)"
NM="$REPO_ROOT/node_modules"
STAGE_ROOT="$HERE/.build"
DL_DIR="$STAGE_ROOT/downloads"

# Toolchain versions of nightshift/universal (Node.js: the 24.x LTS line, with its npm 11 line).
NODE_VERSION="${NODE_VERSION:-24.22.3}"
NPM_VERSION="${NPM_VERSION:-11.21.2}"
COREPACK_VERSION="${COREPACK_VERSION:-0.36.0}"
GO_VERSION="${GO_VERSION:-1.26.8}"
UNIVERSAL=nightshift/universal

FORCE=0
VERBOSE=0
NO_CACHE=()
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --no-cache) NO_CACHE=(--no-cache); FORCE=1 ;;
    --verbose|-v) VERBOSE=1 ;;
    universal|claude-code|codex) TARGETS+=("$1") ;;
    -h|--help) sed -n '2,35p' "$0"; exit 0 ;;
    *) echo "build: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(universal claude-code codex)
AGENTS=()
for t in "${TARGETS[@]}"; do [ "$t" = universal ] || AGENTS+=("$t"); done

log() { echo "[build] $*"; }
die() { echo "[build] ERROR: $*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "the Docker engine is not reachable (docker info failed); run scripts/setup.sh"

# --- Platform: which npm platform packages hold the binaries. ---------------------------------
case "$(uname -m)" in
  x86_64|amd64)  NPM_ARCH=x64;   GO_ARCH=amd64; RUST_TRIPLE=x86_64-unknown-linux-musl ;;
  aarch64|arm64) NPM_ARCH=arm64; GO_ARCH=arm64; RUST_TRIPLE=aarch64-unknown-linux-musl ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac
CLAUDE_PKG="$NM/@anthropic-ai/claude-code-linux-$NPM_ARCH"
CODEX_PKG="$NM/@openai/codex-linux-$NPM_ARCH/vendor/$RUST_TRIPLE"

# "version" of a package.json-like file, without needing node or jq.
json_version() { sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$1" | head -n1; }

# --- Base image of universal. ---------------------------------------------------------------------
ensure_base() {
  if [ -n "${BASE_IMAGE:-}" ]; then
    if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
      log "pulling $BASE_IMAGE"
      docker pull -q "$BASE_IMAGE" >/dev/null || die "cannot pull $BASE_IMAGE (no registry? unset BASE_IMAGE to use the debootstrapped base)"
    fi
  else
    BASE_IMAGE=nightshift/base:bookworm
    if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
      log "$BASE_IMAGE missing: making it with debootstrap (make-base.sh)"
      bash "$HERE/make-base.sh" --image "$BASE_IMAGE"
    fi
  fi
  BASE_ID="$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")"
  log "base image: $BASE_IMAGE (${BASE_ID:7:12})"
}

# Hard link (instant, no copy) when the source is on the same filesystem, else copy.
link_or_copy() { ln -f "$1" "$2" 2>/dev/null || cp -p "$1" "$2"; }

# fingerprint_of <image:tag>: its nightshift.build.fingerprint label, empty when none.
fingerprint_of() { docker image inspect -f '{{ index .Config.Labels "nightshift.build.fingerprint" }}' "$1" 2>/dev/null || true; }

# docker_build <log file> <docker build args...>: quiet (log to file, tail on failure) or --verbose.
docker_build() {
  local logf="$1"; shift
  local cmd=(docker build --force-rm "${NO_CACHE[@]}" "$@")
  if [ "$VERBOSE" -eq 1 ]; then
    "${cmd[@]}" 2>&1 | tee "$logf"
    [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
  elif ! "${cmd[@]}" >"$logf" 2>&1; then
    tail -n 40 "$logf" >&2
    return 1
  fi
}

image_mb() { docker image inspect -f '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1/1e6}'; }

# --- nightshift/universal. --------------------------------------------------------------------------
# shellcheck source=universal/toolchains.sh
. "$HERE/universal/toolchains.sh"

build_universal() {
  local ctx="$STAGE_ROOT/universal" logf="$STAGE_ROOT/universal.build.log" start=$SECONDS fp have out
  local tag="node$NODE_VERSION-go$GO_VERSION" versions
  versions="node $NODE_VERSION, npm $NPM_VERSION, corepack $COREPACK_VERSION, go $GO_VERSION"
  ensure_base
  # Pinned versions stand for the archives' bytes (the npm registry and the Go proxy never change a
  # published version), so an up-to-date check needs neither the network nor hashing.
  fp="$( { cat "$HERE/universal/Dockerfile";
           echo "universal $NODE_VERSION $NPM_VERSION $COREPACK_VERSION $GO_VERSION $NPM_ARCH $BASE_ID"; } | sha256sum | cut -c1-16 )"
  have="$(fingerprint_of "$UNIVERSAL:latest")"
  if [ "$FORCE" -eq 0 ] && [ "$have" = "$fp" ]; then
    log "$UNIVERSAL:latest is up to date ($versions, fingerprint $fp)"
    UNIVERSAL_ID="$(docker image inspect -f '{{.Id}}' "$UNIVERSAL:latest")"
    return 0
  fi

  rm -rf "$ctx"; mkdir -p "$ctx"
  cp "$HERE/universal/Dockerfile" "$ctx/Dockerfile"
  stage_toolchains "$ctx"
  log "building $UNIVERSAL:latest ($versions) on $BASE_IMAGE (log: ${logf#"$REPO_ROOT"/})"
  docker_build "$logf" \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    --build-arg "NODE_VERSION=$NODE_VERSION" --build-arg "NPM_VERSION=$NPM_VERSION" \
    --build-arg "COREPACK_VERSION=$COREPACK_VERSION" --build-arg "GO_VERSION=$GO_VERSION" \
    --label "nightshift.build.fingerprint=$fp" \
    -t "$UNIVERSAL:latest" -t "$UNIVERSAL:$tag" "$ctx" \
    || { rm -rf "$ctx"; die "docker build of $UNIVERSAL failed (see $logf)"; }
  rm -rf "$ctx"

  # Smoke test: the toolchains run as the sandbox user, offline, at the pinned versions.
  out="$(docker run --rm --network none --user 1000:1000 "$UNIVERSAL:latest" \
          sh -c 'node --version && npm --version && corepack --version && go version && python --version' 2>&1)" \
    || die "$UNIVERSAL: toolchain smoke test failed: $out"
  case "$out" in
    *"v$NODE_VERSION"*"$NPM_VERSION"*"$COREPACK_VERSION"*"go$GO_VERSION "*) ;;
    *) die "$UNIVERSAL: smoke test printed '$(echo "$out" | tr '\n' ' ')', expected $versions" ;;
  esac
  UNIVERSAL_ID="$(docker image inspect -f '{{.Id}}' "$UNIVERSAL:latest")"
  log "built $UNIVERSAL:latest and :$tag in $((SECONDS - start))s ($(echo "$out" | tr '\n' ' ' | sed 's/ $//'); $(image_mb "$UNIVERSAL:latest"))"
}

# --- Agent images: build contexts. ---------------------------------------------------------------
stage_claude_code() {
  local ctx="$1"
  [ -x "$CLAUDE_PKG/claude" ] || die "missing $CLAUDE_PKG/claude (run npm ci)"
  CLI_VERSION="$(json_version "$CLAUDE_PKG/package.json")"
  link_or_copy "$CLAUDE_PKG/claude" "$ctx/claude"
  BINARY_SIZE="$(stat -c %s "$ctx/claude")"
}

stage_codex() {
  local ctx="$1" f
  [ -x "$CODEX_PKG/bin/codex" ] || die "missing $CODEX_PKG/bin/codex (run npm ci)"
  CLI_VERSION="$(json_version "$CODEX_PKG/codex-package.json")"
  mkdir -p "$ctx/codex/bin" "$ctx/codex/codex-path" "$ctx/codex/codex-resources"
  # The package layout minus the voice resources (unused headless, ~50 MB).
  for f in bin/codex bin/codex-code-mode-host codex-path/rg codex-resources/bwrap codex-package.json; do
    [ -e "$CODEX_PKG/$f" ] && link_or_copy "$CODEX_PKG/$f" "$ctx/codex/$f"
  done
  cp "$HERE/codex/config.toml" "$ctx/config.toml"
  BINARY_SIZE="$(stat -c %s "$ctx/codex/bin/codex")"
}

# --- Build one agent image on nightshift/universal. ------------------------------------------------
build_agent() {
  local agent="$1" image="nightshift/$1" ctx="$STAGE_ROOT/$1" logf="$STAGE_ROOT/$1.build.log"
  local start=$SECONDS fp have
  rm -rf "$ctx"; mkdir -p "$ctx"
  cp "$HERE/$agent/Dockerfile" "$ctx/Dockerfile"
  case "$agent" in
    claude-code) stage_claude_code "$ctx" ;;
    codex) stage_codex "$ctx" ;;
  esac

  # Fingerprint of everything that goes into the image except the binary's bytes (hashing 250 MB
  # takes seconds; the pinned version + size stand for them).
  fp="$( { cat "$ctx/Dockerfile"; [ -f "$ctx/config.toml" ] && cat "$ctx/config.toml";
           echo "$agent $CLI_VERSION $BINARY_SIZE $UNIVERSAL_ID"; } | sha256sum | cut -c1-16 )"
  have="$(fingerprint_of "$image:latest")"
  if [ "$FORCE" -eq 0 ] && [ "$have" = "$fp" ]; then
    log "$image:latest is up to date ($agent $CLI_VERSION, fingerprint $fp)"
    rm -rf "$ctx"
    return 0
  fi

  log "building $image:latest ($agent $CLI_VERSION) on $UNIVERSAL:latest (log: ${logf#"$REPO_ROOT"/})"
  docker_build "$logf" \
    --build-arg "BASE_IMAGE=$UNIVERSAL:latest" \
    --build-arg "CLI_VERSION=$CLI_VERSION" \
    --label "nightshift.build.fingerprint=$fp" \
    -t "$image:latest" -t "$image:$CLI_VERSION" "$ctx" \
    || { rm -rf "$ctx"; die "docker build of $image failed (see $logf)"; }
  rm -rf "$ctx"

  # Smoke test: the binary runs as the sandbox user and reports the pinned version.
  local bin="${agent%-code}" out
  out="$(docker run --rm --network none --user 1000:1000 "$image:latest" "$bin" --version 2>&1)" \
    || die "$image: '$bin --version' failed: $out"
  case "$out" in
    *"$CLI_VERSION"*) ;;
    *) die "$image: '$bin --version' printed '$out', expected $CLI_VERSION" ;;
  esac
  log "built $image:latest and :$CLI_VERSION in $((SECONDS - start))s ($out; $(image_mb "$image:latest"))"
}

mkdir -p "$STAGE_ROOT"
build_universal
for agent in "${AGENTS[@]}"; do
  build_agent "$agent"
done
