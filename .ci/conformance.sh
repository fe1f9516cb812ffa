#!/usr/bin/env bash
# The official MCP conformance suite (server scenarios, active suite) against
# `bys-mcp --transport http --sandbox`, under Node 22. Every scenario must pass
# except those listed in .ci/conformance-expected-failures.txt; a listed
# scenario that passes, or no longer runs, fails the check too.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

EXPECTED="$CI_ROOT/.ci/conformance-expected-failures.txt"

main() {
  ci_workdir
  ci_tools_install
  ci_build_binary
  local port url out
  port=$(ci_free_port)
  "$BYS_BIN" --sandbox --transport http --addr "127.0.0.1:$port" >"$CI_WORK/server.log" 2>&1 &
  CI_BG_PIDS+=($!)
  ci_wait_http "http://127.0.0.1:$port/healthz" 10 || ci_die "server did not start: $(tail -3 "$CI_WORK/server.log")"
  url="http://127.0.0.1:$port/mcp"
  ci_log "conformance: $(conformance --version) against $url"
  # The suite exits non-zero when any scenario fails; its summary is parsed.
  timeout 300 conformance server --url "$url" -o "$CI_WORK/results" >"$CI_WORK/conformance.log" 2>&1 || true

  # Summary lines: "✓ name: N passed, M failed" or "✗ name: ...".
  declare -A result=()
  local line name
  while IFS= read -r line; do
    if [[ "$line" =~ ^(✓|✗)\ ([A-Za-z0-9_./-]+):\ [0-9]+\ passed,\ [0-9]+\ failed ]]; then
      name=${BASH_REMATCH[2]}
      if [ "${BASH_REMATCH[1]}" = "✓" ]; then result[$name]=pass; else result[$name]=fail; fi
    fi
  done <"$CI_WORK/conformance.log"
  if [ "${#result[@]}" = 0 ]; then
    tail -30 "$CI_WORK/conformance.log"
    ci_die "conformance: no scenario results (see output above)"
  fi

  # Expected failures: "scenario: reason".
  declare -A expected=()
  local reason init=""
  while IFS= read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    name=${line%%:*}
    reason=${line#*:}
    reason=${reason# }
    [ -n "$reason" ] && [ "$reason" != "$line" ] || ci_die "conformance: expected failure without a reason: $line"
    expected[$name]=$reason
  done <"$EXPECTED"

  local passed=0 failed=0 xfail=0 cap
  for name in $(printf '%s\n' "${!result[@]}" | sort); do
    if [ -n "${expected[$name]+x}" ]; then
      if [ "${result[$name]}" = pass ]; then
        echo "ci: conformance: FAIL $name passes but is listed as an expected failure (remove it from $EXPECTED)"
        failed=$((failed + 1))
        continue
      fi
      reason=${expected[$name]}
      if [[ "$reason" =~ ^capability\ not\ declared:\ ([A-Za-z]+) ]]; then
        cap=${BASH_REMATCH[1]}
        if [ -z "$init" ]; then
          init=$(curl -sS --max-time 10 -X POST "$url" -H 'Content-Type: application/json' \
            -H 'Accept: application/json, text/event-stream' \
            -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"ci","version":"0"}}}')
        fi
        local declared
        declared=$(printf '%s' "$init" | sed -n 's/^data: //p;/^{/p' | node -e '
          let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
            let caps;
            try { caps = JSON.parse(s.trim().split("\n").pop()).result.capabilities; } catch (e) { console.log("error"); return; }
            console.log(caps && typeof caps === "object" ? (process.argv[1] in caps ? "yes" : "no") : "error")})' "$cap")
        [ "$declared" = yes ] || [ "$declared" = no ] || ci_die "conformance: cannot read the server's capabilities from initialize: $(printf '%s' "$init" | head -c 300)"
        if [ "$declared" = yes ]; then
          echo "ci: conformance: FAIL $name fails although the server now declares the $cap capability (fix the server or the list)"
          failed=$((failed + 1))
          continue
        fi
      fi
      echo "ci: conformance: expected failure $name ($reason)"
      xfail=$((xfail + 1))
    elif [ "${result[$name]}" = pass ]; then
      echo "ci: conformance: ok   $name"
      passed=$((passed + 1))
    else
      echo "ci: conformance: FAIL $name"
      sed -n "/=== Running scenario: $name ===/,/=== Running scenario/p" "$CI_WORK/conformance.log" | head -20
      local d
      for d in "$CI_WORK"/results/server-"$name"-*; do
        [ -f "$d/checks.json" ] && node -e '
          for (const c of JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")))
            if (c.status === "FAILURE") console.log("    " + c.id + ": " + (c.errorMessage || c.description));' "$d/checks.json"
      done
      failed=$((failed + 1))
    fi
  done
  for name in "${!expected[@]}"; do
    if [ -z "${result[$name]+x}" ]; then
      echo "ci: conformance: FAIL $name is listed as an expected failure but did not run (remove it)"
      failed=$((failed + 1))
    fi
  done
  ci_log "conformance: $xfail expected failures (suite fixtures / undeclared capabilities)"
  echo "conformance: $passed passed, $failed failed"
  [ "$failed" = 0 ]
}

main "$@"
