#!/usr/bin/env bash
# Interoperability and distribution checks, run at the end of .ci/run:
# cross-compiles (in the background), then real hosts and their self-test,
# the MCP conformance suite, the MCP Inspector CLI, the MCP Apps views in
# chromium (.ci/views.sh), the --oauth consent page in chromium
# (.ci/oauth-browser.sh), then the MCP Bundle.
# Every part runs even when an earlier one failed; the exit status and the
# final line sum them up.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

main() {
  local t0=$SECONDS
  ci_workdir
  cd "$CI_ROOT"
  ci_log "interop: building bys-mcp"
  ci_build_binary "$CI_WORK/bys-mcp"
  export BYS_BIN
  # Calling hours are on by default; the hosts place sandbox calls at
  # whatever hour CI runs, and hours are not under test here.
  export BYS_CALLING_HOURS=off BYS_MAX_CALLS_PER_NUMBER=off

  # Cross-compiles use the CPU while the hosts mostly wait on I/O.
  bash .ci/crosscompile.sh >"$CI_WORK/crosscompile.log" 2>&1 &
  local cc_pid=$!
  CI_BG_PIDS+=($cc_pid)

  local ti=$SECONDS
  ci_tools_install
  ci_log "interop: tools ready in $((SECONDS - ti))s"

  local passed=0 failed=0 broken=() part log line ts rc
  run_part() { # name, command...
    part=$1; shift
    log="$CI_WORK/$part.log"
    ts=$SECONDS
    rc=0
    "$@" 2>&1 | tee "$log" || rc=$?
    line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1 || true)
    if [ -n "$line" ]; then
      passed=$((passed + $(printf '%s' "$line" | sed -E 's/^[a-z-]+: ([0-9]+) passed.*/\1/')))
      failed=$((failed + $(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
    fi
    if [ "$rc" != 0 ] || [ -z "$line" ]; then
      broken+=("$part")
      [ -n "$line" ] && [ "$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')" != 0 ] || failed=$((failed + 1))
    fi
    ci_log "interop: $part took $((SECONDS - ts))s"
  }

  run_part hosts bash .ci/hosts.sh
  run_part hosts-self-test bash .ci/hosts.sh --self-test
  run_part conformance bash .ci/conformance.sh
  run_part inspector bash .ci/inspector.sh
  run_part views bash .ci/views.sh
  run_part oauth-browser bash .ci/oauth-browser.sh
  ts=$SECONDS
  wait "$cc_pid" && rc=0 || rc=$?
  CI_BG_PIDS=()
  cat "$CI_WORK/crosscompile.log"
  line=$(grep -E '^crosscompile: [0-9]+ passed' "$CI_WORK/crosscompile.log" | tail -1 || true)
  if [ -n "$line" ]; then
    passed=$((passed + $(printf '%s' "$line" | sed -E 's/^[a-z-]+: ([0-9]+) passed.*/\1/')))
    failed=$((failed + $(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
  fi
  if [ "$rc" != 0 ] || [ -z "$line" ]; then
    broken+=(crosscompile)
    [ -n "$line" ] || failed=$((failed + 1))
  fi
  ci_log "interop: waited $((SECONDS - ts))s for the cross-compiles"
  if [ "$rc" = 0 ]; then
    run_part bundle bash .ci/bundle.sh
  else
    ci_log "interop: bundle skipped: the cross-compiles failed"
    broken+=(bundle); failed=$((failed + 1))
  fi

  ci_log "interop: done in $((SECONDS - t0))s${broken:+; failed parts: ${broken[*]}}"
  echo "interop: $passed passed, $failed failed"
  [ "${#broken[@]}" = 0 ]
}

main "$@"
