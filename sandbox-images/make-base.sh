#!/usr/bin/env bash
# Builds the local base image nightshift/base:bookworm WITHOUT a container registry:
#
#   debootstrap --variant=minbase bookworm <rootfs> <mirror>
#   tar -C <rootfs> -c . | docker import - nightshift/base:bookworm
#
# It is the stand-in for debian:bookworm-slim on machines that can reach a Debian apt mirror but
# no image registry (CI, air-gapped hosts). Users with internet do not need it: the agent
# Dockerfiles default to BASE_IMAGE=debian:bookworm-slim.
#
# Idempotent: does nothing when the image already exists, unless --force is given.
#
# Usage: make-base.sh [--force] [--mirror URL] [--image NAME]
# Environment: DEBIAN_MIRROR (same as --mirror), NIGHTSHIFT_BASE_IMAGE (same as --image).
# Needs root (debootstrap chroots) and a running Docker engine.
set -euo pipefail

IMAGE="${NIGHTSHIFT_BASE_IMAGE:-nightshift/base:bookworm}"
SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-}"
FORCE=0

while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --mirror) MIRROR="${2:?--mirror needs a URL}"; shift ;;
    --image) IMAGE="${2:?--image needs a name}"; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "make-base: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "[make-base] $*"; }
die() { echo "[make-base] ERROR: $*" >&2; exit 1; }

# --- Idempotence: skip when the image is already there. ---------------------------------------
if [ "$FORCE" -eq 0 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "$IMAGE already exists, skipping (use --force to rebuild)"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (apt-get install -y debootstrap)"
docker info >/dev/null 2>&1 || die "the Docker engine is not reachable (docker info failed)"

# --- Mirrors: take them from this machine's apt configuration. ---------------------------------
# Prints the first URI of an apt source whose suites match $1 (a grep -E pattern on the suite),
# from deb822 files (*.sources) and one-line files (*.list). Empty when none matches.
apt_uri_for_suite() {
  local pattern="$1" f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822: stanzas separated by blank lines; pick URIs of a stanza whose Suites match.
    awk -v pat="$pattern" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uris = ""; suites = ""; enabled = 1
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/)    { uris = $i;   sub(/^URIs:[ \t]*/, "", uris) }
          if ($i ~ /^Suites:/)  { suites = $i; sub(/^Suites:[ \t]*/, "", suites) }
          if ($i ~ /^Enabled:[ \t]*no/) { enabled = 0 }
        }
        n = split(suites, s, /[ \t]+/)
        for (j = 1; j <= n; j++) if (enabled && s[j] ~ ("^(" pat ")$")) { split(uris, u, /[ \t]+/); print u[1]; exit }
      }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # one-line format: deb [options] URI SUITE COMPONENTS...
    awk -v pat="$pattern" '
      $1 == "deb" {
        i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) ~ ("^(" pat ")$")) { print $i; exit }
      }' "$f"
  done
}

if [ -z "$MIRROR" ]; then
  MIRROR="$(apt_uri_for_suite "$SUITE" | head -n1)"
fi
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="$(apt_uri_for_suite "$SUITE-security" | head -n1)"
SECURITY_MIRROR="${SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

# --- debootstrap into a temporary directory (removed on exit). ---------------------------------
WORK="$(mktemp -d /tmp/nightshift-base.XXXXXX)"
cleanup() {
  # debootstrap may leave /proc or /sys mounted inside the chroot when it fails half-way.
  local m
  for m in proc sys dev/pts dev; do
    mountpoint -q "$WORK/rootfs/$m" 2>/dev/null && umount -l "$WORK/rootfs/$m" || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

ROOTFS="$WORK/rootfs"
log "debootstrap --variant=minbase $SUITE from $MIRROR (log: $WORK/debootstrap.log)"
start=$SECONDS
if ! debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
  tail -n 30 "$WORK/debootstrap.log" >&2
  [ -f "$ROOTFS/debootstrap/debootstrap.log" ] && tail -n 30 "$ROOTFS/debootstrap/debootstrap.log" >&2
  die "debootstrap failed"
fi
log "debootstrap done in $((SECONDS - start))s"

# --- Make the rootfs look like debian:bookworm-slim where it matters. -------------------------
# apt sources: the release, its updates and the security archive (deb822, like the official image).
rm -f "$ROOTFS/etc/apt/sources.list"
mkdir -p "$ROOTFS/etc/apt/sources.list.d"
cat >"$ROOTFS/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
# Keep the image small: no package cache, no downloaded lists (a build runs apt-get update).
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/apt/*.bin \
       "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/log/* "$ROOTFS"/tmp/* "$ROOTFS"/debootstrap
# Same apt settings as the official slim images: no recommends by default, keep no .debs.
cat >"$ROOTFS/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
echo 'APT::Install-Recommends "false";' >"$ROOTFS/etc/apt/apt.conf.d/docker-no-recommends"
# The container's hostname / resolv.conf are provided by Docker at run time.
: >"$ROOTFS/etc/hostname"
: >"$ROOTFS/etc/resolv.conf"

# --- Import. -----------------------------------------------------------------------------------
log "docker import -> $IMAGE"
start=$SECONDS
tar --numeric-owner -C "$ROOTFS" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["bash"]' \
  --change "LABEL org.opencontainers.image.description=\"Debian $SUITE minbase, debootstrapped from $MIRROR\"" \
  --change "LABEL nightshift.base.mirror=$MIRROR" \
  - "$IMAGE" >/dev/null
log "imported $IMAGE in $((SECONDS - start))s ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
