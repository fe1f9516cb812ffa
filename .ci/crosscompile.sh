#!/usr/bin/env bash
# Cross-compiles bys-mcp for linux, darwin and windows on amd64 and arm64
# (CGO_ENABLED=0, -trimpath, version/commit/date in -ldflags) into dist/, and
# checks that the Linux builds are static.
#   .ci/crosscompile.sh [VERSION]   (default: the version in bundle/manifest.json)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$CI_ROOT"
VERSION=${1:-$(sed -n 's/^  "version": "\(.*\)",$/\1/p' bundle/manifest.json | head -1)}
[ -n "$VERSION" ] || ci_die "crosscompile: no version"
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo none)
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS="-s -w -X main.version=$VERSION -X main.commit=$COMMIT -X main.date=$DATE"
mkdir -p dist
ci_log "crosscompile: bys-mcp $VERSION ($COMMIT) for 6 targets"

build() { # os arch
  local ext=""
  [ "$1" = windows ] && ext=.exe
  if CGO_ENABLED=0 GOOS=$1 GOARCH=$2 go build -trimpath -ldflags "$LDFLAGS" \
      -o "dist/bys-mcp-$1-$2$ext" . 2>"dist/.build-$1-$2.log"; then
    echo "ci: crosscompile: ok   $1/$2 ($(du -h "dist/bys-mcp-$1-$2$ext" | cut -f1))"
  else
    echo "ci: crosscompile: FAIL $1/$2"; sed 's/^/    /' "dist/.build-$1-$2.log"; return 1
  fi
}

# One build at a time: go build already uses every core, and concurrent
# cross-builds into a cold build cache were seen to fail ("could not import").
passed=0 failed=0
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do
  if build "${target%/*}" "${target#*/}"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
rm -f dist/.build-*.log
# The Linux builds are static (CGO_ENABLED=0), so that they run in a minimal
# container: the build information says so, and for this machine's
# architecture ldd finds no dynamic loader.
for arch in amd64 arm64; do
  bin="dist/bys-mcp-linux-$arch"
  [ -f "$bin" ] || continue
  if go version -m "$bin" | grep -q 'CGO_ENABLED=0'; then
    passed=$((passed + 1)); echo "ci: crosscompile: ok   linux/$arch built with CGO_ENABLED=0"
  else
    failed=$((failed + 1)); echo "ci: crosscompile: FAIL linux/$arch not built with CGO_ENABLED=0"
  fi
done
host_linux="dist/bys-mcp-linux-$(go env GOARCH)"
if [ "$(go env GOOS)" = linux ] && [ -x "$host_linux" ] && command -v ldd >/dev/null 2>&1; then
  if ldd_out=$(ldd "$host_linux" 2>&1); then
    failed=$((failed + 1)); echo "ci: crosscompile: FAIL $host_linux is dynamic: $ldd_out"
  elif printf '%s' "$ldd_out" | grep -q 'not a dynamic executable'; then
    passed=$((passed + 1)); echo "ci: crosscompile: ok   $host_linux is static (ldd: not a dynamic executable)"
  else
    failed=$((failed + 1)); echo "ci: crosscompile: FAIL ldd $host_linux: $ldd_out"
  fi
fi
# The host's own build must report the version it was given.
host="dist/bys-mcp-$(go env GOOS)-$(go env GOARCH)"
if [ -x "$host" ]; then
  if "$host" --version | grep -q "bys-mcp $VERSION (commit $COMMIT"; then
    passed=$((passed + 1)); echo "ci: crosscompile: ok   --version: $("$host" --version)"
  else
    failed=$((failed + 1)); echo "ci: crosscompile: FAIL --version: $("$host" --version)"
  fi
fi
echo "crosscompile: $passed passed, $failed failed"
[ "$failed" = 0 ]
