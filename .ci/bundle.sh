#!/usr/bin/env bash
# Validates bundle/manifest.json with @anthropic-ai/mcpb (pinned in lib.sh),
# packs the MCP Bundle dist/bys-mcp-VERSION.mcpb from the cross-compiled
# binaries in dist/ (run .ci/crosscompile.sh first), then unpacks it and runs
# the bundled server the way a desktop host would (sandbox on, no key).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ci: bundle: ok   $*"; }
bad() { FAILED=$((FAILED + 1)); echo "ci: bundle: FAIL $*"; }

main() {
  ci_workdir
  ci_tools_install
  cd "$CI_ROOT"
  local version stage out
  version=$(node -p 'require("./bundle/manifest.json").version')
  if out=$(mcpb validate bundle/manifest.json 2>&1); then ok "mcpb validate: $(printf '%s' "$out" | tail -1)"; else bad "mcpb validate: $out"; fi

  stage="$CI_WORK/stage"
  mkdir -p "$stage/server"
  cp bundle/manifest.json "$stage/manifest.json"
  cp bundle/bys-mcp.sh "$stage/server/bys-mcp"
  chmod 755 "$stage/server/bys-mcp"
  local t missing=0
  for t in linux-amd64 linux-arm64 darwin-amd64 darwin-arm64; do
    if [ -f "dist/bys-mcp-$t" ]; then cp "dist/bys-mcp-$t" "$stage/server/"; chmod 755 "$stage/server/bys-mcp-$t"
    else bad "dist/bys-mcp-$t missing (run .ci/crosscompile.sh)"; missing=1; fi
  done
  # Windows on arm64 runs the amd64 build (the manifest has one entry per OS).
  if [ -f dist/bys-mcp-windows-amd64.exe ]; then cp dist/bys-mcp-windows-amd64.exe "$stage/server/bys-mcp.exe"
  else bad "dist/bys-mcp-windows-amd64.exe missing"; missing=1; fi
  [ "$missing" = 0 ] || { echo "bundle: $PASSED passed, $FAILED failed"; return 1; }

  local mcpb="dist/bys-mcp-$version.mcpb"
  rm -f "$mcpb"
  if out=$(mcpb pack "$stage" "$mcpb" 2>&1) && [ -s "$mcpb" ]; then
    ok "mcpb pack: $mcpb ($(du -h "$mcpb" | cut -f1))"
  else
    bad "mcpb pack: $(printf '%s' "$out" | tail -5)"; echo "bundle: $PASSED passed, $FAILED failed"; return 1
  fi
  if out=$(mcpb info "$mcpb" 2>&1); then ok "mcpb info: $(printf '%s' "$out" | head -2 | tr '\n' ' ')"; else bad "mcpb info: $out"; fi
  # server.json for this bundle: the committed one with the bundle's SHA-256.
  local sha
  sha=$(sha256sum "$mcpb" | cut -d' ' -f1)
  node -e '
    const fs=require("fs"); const j=JSON.parse(fs.readFileSync("server.json","utf8"));
    for (const p of j.packages) if (p.registryType==="mcpb") p.fileSha256=process.argv[1];
    fs.writeFileSync("dist/server.json", JSON.stringify(j,null,2)+"\n");' "$sha"
  ok "dist/server.json written with fileSha256 $sha"

  # Unpack and start the bundled server as a host would on this machine.
  mcpb unpack "$mcpb" "$CI_WORK/unpacked" >/dev/null 2>&1 || true
  local entry="$CI_WORK/unpacked/server/bys-mcp"
  if [ -x "$entry" ]; then ok "unpacked entry point is executable"; else bad "unpacked entry point $entry is missing or not executable"; fi
  if out=$("$entry" --version 2>&1) && printf '%s' "$out" | grep -q "bys-mcp $version"; then ok "bundled --version: $out"; else bad "bundled --version: $out"; fi
  out=$( { printf '%s\n' \
      '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"ci","version":"0"}}}' \
      '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
      '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'; sleep 2; } \
    | BYS_API_KEY= BYS_SANDBOX=true timeout 10 "$entry" 2>/dev/null) || true
  local tools
  tools=$(printf '%s\n' "$out" | node -e '
    let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
      for (const l of s.split("\n")) { try { const m=JSON.parse(l); if (m.id===2) console.log(m.result.tools.map(t=>t.name).sort().join(",")); } catch {} }})')
  # The server must offer exactly the tools the manifest declares.
  local want
  want=$(node -e 'console.log(require(process.argv[1]).tools.map(t=>t.name).sort().join(","))' "$CI_ROOT/bundle/manifest.json")
  if [ -n "$want" ] && [ "$tools" = "$want" ]; then ok "bundled server (BYS_SANDBOX=true, empty key) lists $tools"; else bad "bundled server tools: '${tools}' $(printf '%s' "$out" | head -c 300)"; fi
  echo "bundle: $PASSED passed, $FAILED failed"
  [ "$FAILED" = 0 ]
}

main "$@"
