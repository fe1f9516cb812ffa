#!/usr/bin/env bash
# The MCP Inspector's CLI mode against the built binary, over stdio and over
# Streamable HTTP: tools/list, tools/call place_call, then get_call with the
# returned callId. Each Inspector call is a new client; over stdio a new
# server process too, so the stdio server is pointed at one standalone
# sandbox API (`bys-mcp sandbox`) that keeps the call between processes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PASSED=0
FAILED=0
KEY=bys_ak_ci_inspector_000000000001

# check NAME KIND [CALLID] -- inspector args...: runs the Inspector, checks
# its output; sets LAST to the check's one-line result.
LAST=
check() {
  local name=$1 kind=$2 callid=$3 out rc=0
  shift 4
  out=$(timeout 60 inspector --cli "$@" </dev/null 2>"$CI_WORK/inspector.err") || rc=$?
  if LAST=$(printf '%s' "$out" | node "$CI_ROOT/.ci/inspector-check.mjs" "$kind" "$callid"); then
    PASSED=$((PASSED + 1))
    echo "ci: inspector: ok   $name: $LAST"
  else
    FAILED=$((FAILED + 1))
    echo "ci: inspector: FAIL $name (exit $rc): $LAST"
    grep -v 'level=' "$CI_WORK/inspector.err" | tail -5 | sed 's/^/    /' || true
    LAST=
  fi
}

run_flow() { # label, then the target arguments for the Inspector
  local label=$1 id
  shift
  check "$label tools/list" tools-list "" -- "$@" --method tools/list
  check "$label place_call" place-call "" -- "$@" --method tools/call --tool-name place_call \
    --tool-arg to=+14155550123 "objective=Book a table"
  id=$LAST
  if [ -n "$id" ]; then
    check "$label get_call" get-call "$id" -- "$@" --method tools/call --tool-name get_call --tool-arg "callId=$id"
  else
    FAILED=$((FAILED + 1))
    echo "ci: inspector: FAIL $label get_call: no callId from place_call"
  fi
}

main() {
  ci_workdir
  ci_tools_install
  ci_build_binary
  ci_log "inspector: $(inspector --cli --version 2>/dev/null | head -1)"
  local api_port http_port
  api_port=$(ci_free_port)
  "$BYS_BIN" sandbox --addr "127.0.0.1:$api_port" >"$CI_WORK/sandbox-api.log" 2>&1 &
  CI_BG_PIDS+=($!)
  ci_wait_listening "http://127.0.0.1:$api_port/v1/agent/calls" 10 || ci_die "sandbox API did not start: $(tail -3 "$CI_WORK/sandbox-api.log")"
  http_port=$(ci_free_port)
  "$BYS_BIN" --sandbox --transport http --addr "127.0.0.1:$http_port" >"$CI_WORK/server.log" 2>&1 &
  CI_BG_PIDS+=($!)
  ci_wait_http "http://127.0.0.1:$http_port/healthz" 10 || ci_die "server did not start: $(tail -3 "$CI_WORK/server.log")"

  ci_log "inspector: stdio ($BYS_BIN --base-url http://127.0.0.1:$api_port, a sandbox API shared by the processes)"
  run_flow stdio -e "BYS_API_KEY=$KEY" -e BYS_CALLING_HOURS=off -e BYS_MAX_CALLS_PER_NUMBER=off "$BYS_BIN" --base-url "http://127.0.0.1:$api_port"
  ci_log "inspector: Streamable HTTP (http://127.0.0.1:$http_port/mcp)"
  run_flow http "http://127.0.0.1:$http_port/mcp" --transport http
  echo "inspector: $PASSED passed, $FAILED failed"
  [ "$FAILED" = 0 ]
}

main "$@"
