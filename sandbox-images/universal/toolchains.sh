# Sourced by sandbox-images/build.sh: downloads and checks the toolchains of nightshift/universal
# into a download cache, then links them into a build context. Needs, from the caller: log, die,
# DL_DIR, NODE_VERSION, NPM_VERSION, COREPACK_VERSION, GO_VERSION, NPM_ARCH, GO_ARCH.
#
# Cache layout ($DL_DIR): <file> plus <file>.digest, the digest it was checked against when it was
# downloaded (npm: the registry's `dist.integrity`, an SRI string `sha512-<base64>`, see
# https://docs.npmjs.com/cli/v11/configuring-npm/package-lock-json#packages; Go: `sha256-<hex>` of
# the zip the go command verified against the checksum database, see https://go.dev/ref/mod#checksum-database).
# A cached file is re-hashed and compared with its .digest before every use; a mismatch is an
# error (delete the file to download it again).

# SRI-style digest of a file: sha512-<base64> or sha256-<hex>.
file_digest() {
  case "$1" in
    sha512) printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$2" | base64 -w0)" ;;
    sha256) printf 'sha256-%s' "$(sha256sum "$2" | cut -d' ' -f1)" ;;
  esac
}

# check_cached <file> <algo>: the file matches the digest recorded next to it.
check_cached() {
  local f="$1" algo="$2" want got
  want="$(cat "$f.digest")"
  got="$(file_digest "$algo" "$f")"
  [ "$got" = "$want" ] || die "$f does not match its recorded digest ($want); delete it to download it again"
}

# fetch_npm <package> <version> <dest>: `npm pack` into the cache, checked against the registry's
# dist.integrity (sha512). npm itself picks the registry (npm config: registry, proxy, cafile).
fetch_npm() {
  local pkg="$1" ver="$2" dest="$3" want got tmp
  if [ -f "$dest" ] && [ -f "$dest.digest" ]; then check_cached "$dest" sha512; return 0; fi
  command -v npm >/dev/null 2>&1 || die "npm is needed on the host to fetch $pkg@$ver"
  log "downloading $pkg@$ver (npm registry)"
  want="$(npm view "$pkg@$ver" dist.integrity 2>/dev/null)" || die "npm view $pkg@$ver failed (is the version published?)"
  case "$want" in sha512-*) ;; *) die "npm view $pkg@$ver: no sha512 integrity (got '$want')" ;; esac
  tmp="$(mktemp -d "$DL_DIR/.npm.XXXXXX")"
  if ! (cd "$tmp" && npm pack --silent "$pkg@$ver" >/dev/null 2>"$tmp/err"); then
    tail -n 5 "$tmp/err" >&2; rm -rf "$tmp"; die "npm pack $pkg@$ver failed"
  fi
  got="$(file_digest sha512 "$tmp"/*.tgz)"
  if [ "$got" != "$want" ]; then rm -rf "$tmp"; die "$pkg@$ver: tarball digest $got differs from the registry's $want"; fi
  mv "$tmp"/*.tgz "$dest"
  printf '%s\n' "$want" >"$dest.digest"
  rm -rf "$tmp"
}

# fetch_go <version> <dest>: the Go toolchain module zip from the module proxy, verified by the go
# command (go.sum database); the module's extracted copy in a throw-away GOMODCACHE is discarded.
fetch_go() {
  local ver="$1" dest="$2" mod tmp json zip gobin
  mod="golang.org/toolchain@v0.0.1-go$ver.linux-$GO_ARCH"
  if [ -f "$dest" ] && [ -f "$dest.digest" ]; then check_cached "$dest" sha256; return 0; fi
  gobin="$(command -v go || true)"
  [ -n "$gobin" ] || { [ -x /usr/local/go/bin/go ] && gobin=/usr/local/go/bin/go; } \
    || die "go is needed on the host to fetch $mod (install Go from go.dev)"
  log "downloading $mod (Go module proxy)"
  tmp="$(mktemp -d "$DL_DIR/.go.XXXXXX")"
  # Outside any module, in a private module cache (writable, so that it can be removed), with the
  # host's GOPROXY/GOSUMDB/GOPRIVATE but none of its GOFLAGS.
  if ! json="$(cd "$tmp" && GOMODCACHE="$tmp/modcache" GOFLAGS=-modcacherw GOTOOLCHAIN=local GO111MODULE=on \
        "$gobin" mod download -json "$mod" 2>"$tmp/err")"; then
    printf '%s\n' "$json" | grep '"Error"' >&2 || tail -n 5 "$tmp/err" >&2
    rm -rf "$tmp"; die "go mod download $mod failed"
  fi
  zip="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Zip": "\(.*\)",\{0,1\}$/\1/p')"
  [ -f "$zip" ] || { rm -rf "$tmp"; die "go mod download $mod: no zip in its output"; }
  mv "$zip" "$dest"
  file_digest sha256 "$dest" >"$dest.digest"; echo >>"$dest.digest"
  rm -rf "$tmp"
}

# stage_toolchains <context dir>: fills <context>/downloads/{node.tgz,npm.tgz,corepack.tgz,go.zip}
# (hard links into the cache when possible).
stage_toolchains() {
  local ctx="$1" node npm corepack go
  mkdir -p "$DL_DIR" "$ctx/downloads"
  node="$DL_DIR/node-linux-$NPM_ARCH-$NODE_VERSION.tgz"
  npm="$DL_DIR/npm-$NPM_VERSION.tgz"
  corepack="$DL_DIR/corepack-$COREPACK_VERSION.tgz"
  go="$DL_DIR/go$GO_VERSION.linux-$GO_ARCH.zip"
  fetch_npm "node-linux-$NPM_ARCH" "$NODE_VERSION" "$node"
  fetch_npm npm "$NPM_VERSION" "$npm"
  fetch_npm corepack "$COREPACK_VERSION" "$corepack"
  fetch_go "$GO_VERSION" "$go"
  ln -f "$node" "$ctx/downloads/node.tgz" 2>/dev/null || cp "$node" "$ctx/downloads/node.tgz"
  ln -f "$npm" "$ctx/downloads/npm.tgz" 2>/dev/null || cp "$npm" "$ctx/downloads/npm.tgz"
  ln -f "$corepack" "$ctx/downloads/corepack.tgz" 2>/dev/null || cp "$corepack" "$ctx/downloads/corepack.tgz"
  ln -f "$go" "$ctx/downloads/go.zip" 2>/dev/null || cp "$go" "$ctx/downloads/go.zip"
}
