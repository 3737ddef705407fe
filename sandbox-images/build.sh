#!/usr/bin/env bash
# Builds the Nightshift sandbox images:
#
#   nightshift/claude-code:latest  (+ :<cli version>)   Claude Code native executable
#   nightshift/codex:latest        (+ :<cli version>)   Codex static musl binary
#
# The agent binaries come from the project's own pinned npm packages in node_modules (run
# `npm ci` first); the images hold no Node.js. Each image's build context is staged under
# sandbox-images/.build/<agent>/ (gitignored): the Dockerfile, the binary (hard-linked when
# possible) and any extra files.
#
# Base image: $BASE_IMAGE when set (e.g. debian:bookworm-slim, the Dockerfiles' default, for users
# who can pull from a registry); otherwise the local nightshift/base:bookworm, which is made with
# debootstrap + docker import by make-base.sh when missing (no registry needed).
#
# Idempotent and fast when nothing changed: every image carries a label
# nightshift.build.fingerprint (hash of the Dockerfile, extra files, CLI version, binary size and
# base image id); an image whose fingerprint matches is not rebuilt. --force rebuilds anyway
# (docker's layer cache still applies; add --no-cache to bypass it, e.g. for apt security updates).
#
# Usage: build.sh [--force] [--no-cache] [--verbose] [claude-code|codex ...]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/.." && pwd)"
NM="$REPO_ROOT/node_modules"
STAGE_ROOT="$HERE/.build"

FORCE=0
VERBOSE=0
NO_CACHE=()
AGENTS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --no-cache) NO_CACHE=(--no-cache); FORCE=1 ;;
    --verbose|-v) VERBOSE=1 ;;
    claude-code|codex) AGENTS+=("$1") ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "build: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[ ${#AGENTS[@]} -gt 0 ] || AGENTS=(claude-code codex)

log() { echo "[build] $*"; }
die() { echo "[build] ERROR: $*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "the Docker engine is not reachable (docker info failed); run scripts/setup.sh"

# --- Platform: which npm platform packages hold the binaries. ---------------------------------
case "$(uname -m)" in
  x86_64|amd64)  NPM_ARCH=x64;   RUST_TRIPLE=x86_64-unknown-linux-musl ;;
  aarch64|arm64) NPM_ARCH=arm64; RUST_TRIPLE=aarch64-unknown-linux-musl ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac
CLAUDE_PKG="$NM/@anthropic-ai/claude-code-linux-$NPM_ARCH"
CODEX_PKG="$NM/@openai/codex-linux-$NPM_ARCH/vendor/$RUST_TRIPLE"

# "version" of a package.json-like file, without needing node or jq.
json_version() { sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$1" | head -n1; }

# --- Base image. -------------------------------------------------------------------------------
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

# --- Staging: one build context per agent. -------------------------------------------------------
# Hard link (instant, no copy) when node_modules is on the same filesystem, else copy.
link_or_copy() { ln -f "$1" "$2" 2>/dev/null || cp -p "$1" "$2"; }

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

# --- Build one agent image. --------------------------------------------------------------------
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
           echo "$agent $CLI_VERSION $BINARY_SIZE $BASE_ID"; } | sha256sum | cut -c1-16 )"
  have="$(docker image inspect -f '{{ index .Config.Labels "nightshift.build.fingerprint" }}' "$image:latest" 2>/dev/null || true)"
  if [ "$FORCE" -eq 0 ] && [ "$have" = "$fp" ]; then
    log "$image:latest is up to date ($agent $CLI_VERSION, fingerprint $fp)"
    rm -rf "$ctx"
    return 0
  fi

  log "building $image:latest ($agent $CLI_VERSION) on $BASE_IMAGE (log: ${logf#"$REPO_ROOT"/})"
  local cmd=(docker build --force-rm "${NO_CACHE[@]}"
    --build-arg "BASE_IMAGE=$BASE_IMAGE"
    --build-arg "CLI_VERSION=$CLI_VERSION"
    --label "nightshift.build.fingerprint=$fp"
    -t "$image:latest" -t "$image:$CLI_VERSION"
    "$ctx")
  if [ "$VERBOSE" -eq 1 ]; then
    "${cmd[@]}" 2>&1 | tee "$logf"
    [ "${PIPESTATUS[0]}" -eq 0 ] || die "docker build of $image failed (see $logf)"
  elif ! "${cmd[@]}" >"$logf" 2>&1; then
    tail -n 40 "$logf" >&2
    die "docker build of $image failed (see $logf)"
  fi
  rm -rf "$ctx"

  # Smoke test: the binary runs as the sandbox user and reports the pinned version.
  local bin="${agent%-code}" out
  out="$(docker run --rm --network none --user 1000:1000 "$image:latest" "$bin" --version 2>&1)" \
    || die "$image: '$bin --version' failed: $out"
  case "$out" in
    *"$CLI_VERSION"*) ;;
    *) die "$image: '$bin --version' printed '$out', expected $CLI_VERSION" ;;
  esac
  log "built $image:latest and :$CLI_VERSION in $((SECONDS - start))s ($out; $(docker image inspect -f '{{.Size}}' "$image:latest" | awk '{printf "%.0f MB", $1/1e6}'))"
}

mkdir -p "$STAGE_ROOT"
for agent in "${AGENTS[@]}"; do
  build_agent "$agent"
done
