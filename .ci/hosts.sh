#!/usr/bin/env bash
# Real MCP hosts against the built binary, offline and without vendor
# credentials: Claude Code (mcp list + the -p system/init line, default and
# legacy negotiation), Codex (app-server mcpServerStatus/list) and Gemini CLI
# (mcp list), each over stdio and over Streamable HTTP (--sandbox); and, for a
# server with --oauth over HTTP, that Claude Code (mcp list, both negotiations)
# and Codex (mcpServerStatus/list) see it as needing sign-in, not as failed,
# and that Codex signs in headlessly (consent page filled by
# .ci/oauth-login.mjs) and then sees the tools.
# (Gemini CLI's mcp list shows such a server as Disconnected, as it shows a
# dead one: it cannot tell them apart, so it is not checked there.)
#
#   .ci/hosts.sh              run the checks against the real binary
#   .ci/hosts.sh --self-test  show that the checks fail against a binary that
#                             exits at once and one that lacks a tool (which
#                             is also open: it needs no sign-in)
#
# The hosts exit 0 whatever happens, so their output is parsed, and each runs
# under `timeout`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TOOLS_WANTED="place_call,get_call,list_calls,wait_for_call"
SERVER_NAME=bys
T_CLAUDE=${BYS_CI_CLAUDE_TIMEOUT:-60}
T_CODEX=${BYS_CI_CODEX_TIMEOUT:-90}
T_GEMINI=${BYS_CI_GEMINI_TIMEOUT:-60}

# Hosts run with no vendor credentials and no network chatter.
host_env() {
  env -u ANTHROPIC_API_KEY -u ANTHROPIC_AUTH_TOKEN -u CLAUDE_CODE_OAUTH_TOKEN \
    -u OPENAI_API_KEY -u CODEX_API_KEY -u GEMINI_API_KEY -u GOOGLE_API_KEY \
    -u GOOGLE_APPLICATION_CREDENTIALS \
    DISABLE_AUTOUPDATER=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 \
    GEMINI_CLI_TRUST_WORKSPACE=true NO_COLOR=1 CI=true "$@"
}

# Target under test: STDIO_CMD (command + args), HTTP_URL, and OAUTH_URL (a
# server that signs hosts in with OAuth).
STDIO_CMD=()
HTTP_URL=
OAUTH_URL=

# new_home makes a fresh temporary HOME for one check; prints its path.
new_home() { mktemp -d "$CI_WORK/home.XXXXXX"; }

json_args() { # prints the stdio args as a JSON array
  node -e 'console.log(JSON.stringify(process.argv.slice(1)))' -- "${STDIO_CMD[@]:1}"
}

# Each check_* prints one line of detail and returns 0 when the host saw the
# server connected (and, where the host shows them, the four tools).

check_claude_list() { # transport negotiation
  local tr=$1 neg=$2 h out
  h=$(new_home)
  if [ "$tr" = stdio ]; then
    (cd "$h" && HOME=$h host_env timeout "$T_CLAUDE" claude mcp add -s user "$SERVER_NAME" -- "${STDIO_CMD[@]}" </dev/null >/dev/null 2>&1) || true
  else
    (cd "$h" && HOME=$h host_env timeout "$T_CLAUDE" claude mcp add -s user --transport http "$SERVER_NAME" "$HTTP_URL" </dev/null >/dev/null 2>&1) || true
  fi
  out=$(cd "$h" && HOME=$h host_env MCP_PROTOCOL_NEGOTIATION="$neg" timeout "$T_CLAUDE" claude mcp list </dev/null 2>&1) || true
  local line
  line=$(printf '%s\n' "$out" | grep -E "^$SERVER_NAME: " | head -1 || true)
  echo "${line:-no line for $SERVER_NAME in: $(printf '%s' "$out" | tr '\n' ' ' | cut -c1-200)}"
  printf '%s' "$line" | grep -Eq -- '- (✔ )?Connected[[:space:]]*$'
}

check_claude_init() { # transport negotiation
  local tr=$1 neg=$2 h out
  h=$(new_home)
  if [ "$tr" = stdio ]; then
    # Started through a wrapper that records what Claude Code sends, to show
    # which protocol era it negotiated.
    { echo '#!/usr/bin/env bash'; printf 'exec'; printf ' %q' "${STDIO_CMD[@]}"; printf ' < <(exec tee %q)\n' "$h/sent.log"; } >"$h/spy.sh"
    chmod +x "$h/spy.sh"
    printf '{"mcpServers":{"%s":{"type":"stdio","command":"%s","args":[]}}}\n' "$SERVER_NAME" "$h/spy.sh" >"$h/mcp.json"
  else
    printf '{"mcpServers":{"%s":{"type":"http","url":"%s"}}}\n' "$SERVER_NAME" "$HTTP_URL" >"$h/mcp.json"
  fi
  out=$(cd "$h" && HOME=$h host_env MCP_PROTOCOL_NEGOTIATION="$neg" timeout "$T_CLAUDE" \
    claude -p hi --output-format stream-json --verbose --strict-mcp-config --mcp-config "$h/mcp.json" </dev/null 2>/dev/null | head -1) || true
  local res
  res=$(printf '%s\n' "$out" | node "$CI_ROOT/.ci/check-json.mjs" claude-init "$SERVER_NAME" "$TOOLS_WANTED") || { echo "$res"; return 1; }
  if [ "$tr" = stdio ]; then
    # Default negotiation is the stateless 2026-07-28 era (server/discover, no
    # initialize); legacy is 2025-11-25 with initialize.
    if [ "$neg" = legacy ]; then
      grep -q '"method":"initialize"' "$h/sent.log" || { echo "legacy negotiation sent no initialize"; return 1; }
      res="$res; era: initialize $(grep -o '"protocolVersion":"[^"]*"' "$h/sent.log" | head -1)"
    else
      grep -q '"method":"server/discover"' "$h/sent.log" || { echo "default negotiation sent no server/discover"; return 1; }
      ! grep -q '"method":"initialize"' "$h/sent.log" || { echo "default negotiation fell back to initialize"; return 1; }
      res="$res; era: server/discover, no initialize"
    fi
  fi
  echo "$res"
}

# check_claude_oauth: claude mcp list shows the --oauth server as needing
# sign-in ("! Needs authentication"), not as failed to connect.
check_claude_oauth() { # negotiation
  local neg=$1 h out line
  h=$(new_home)
  (cd "$h" && HOME=$h host_env timeout "$T_CLAUDE" claude mcp add -s user --transport http "$SERVER_NAME" "$OAUTH_URL" </dev/null >/dev/null 2>&1) || true
  out=$(cd "$h" && HOME=$h host_env MCP_PROTOCOL_NEGOTIATION="$neg" timeout "$T_CLAUDE" claude mcp list </dev/null 2>&1) || true
  line=$(printf '%s\n' "$out" | grep -E "^$SERVER_NAME: " | head -1 || true)
  echo "${line:-no line for $SERVER_NAME in: $(printf '%s' "$out" | tr '\n' ' ' | cut -c1-200)}"
  printf '%s' "$line" | grep -Eq -- '- (! )?Needs authentication[[:space:]]*$'
}

# check_codex_oauth: Codex's mcpServerStatus/list says the --oauth server
# wants a login (authStatus notLoggedIn), not that it is unknown.
check_codex_oauth() {
  local h out
  h=$(new_home)
  mkdir -p "$h/codex"
  { echo "[mcp_servers.$SERVER_NAME]"; echo "url = \"$OAUTH_URL\""; echo "startup_timeout_sec = 20"; } >"$h/codex/config.toml"
  out=$(cd "$h" && HOME=$h CODEX_HOME=$h/codex host_env timeout "$T_CODEX" \
    node "$CI_ROOT/.ci/codex-probe.mjs" "$(command -v codex)" $(( (T_CODEX - 5) * 1000 )) </dev/null 2>"$h/codex.err") || true
  if [ -z "$out" ]; then echo "no answer from codex app-server: $(grep -v bubblewrap "$h/codex.err" | tail -2 | tr '\n' ' ' | cut -c1-300)"; return 1; fi
  printf '%s\n' "$out" | node "$CI_ROOT/.ci/check-json.mjs" codex-auth "$SERVER_NAME" ""
}

# check_codex_oauth_signin: Codex signs in headlessly (`codex mcp login
# --no-browser`, Dynamic Client Registration; .ci/oauth-login.mjs fills the
# consent page as the person's browser and pastes the redirect back), then
# sees the tools with its token. (Claude Code cannot: its client id is a
# metadata document on claude.ai, which the server cannot fetch offline.)
check_codex_oauth_signin() {
  local h out
  h=$(new_home)
  mkdir -p "$h/codex"
  { echo 'mcp_oauth_credentials_store = "file"'; echo "[mcp_servers.$SERVER_NAME]"; echo "url = \"$OAUTH_URL\""; echo "startup_timeout_sec = 20"; } >"$h/codex/config.toml"
  out=$(cd "$h" && HOME=$h CODEX_HOME=$h/codex host_env timeout "$T_CODEX" \
    node "$CI_ROOT/.ci/oauth-login.mjs" "" $(( (T_CODEX - 5) * 1000 )) codex mcp login "$SERVER_NAME" --no-browser --oauth-client-registration dcr </dev/null 2>&1) \
    || { echo "$(printf '%s' "$out" | grep -v bubblewrap | tail -1)"; return 1; }
  out=$(cd "$h" && HOME=$h CODEX_HOME=$h/codex host_env timeout "$T_CODEX" \
    node "$CI_ROOT/.ci/codex-probe.mjs" "$(command -v codex)" $(( (T_CODEX - 5) * 1000 )) </dev/null 2>"$h/codex.err") || true
  if [ -z "$out" ]; then echo "no answer from codex app-server: $(grep -v bubblewrap "$h/codex.err" | tail -2 | tr '\n' ' ' | cut -c1-300)"; return 1; fi
  printf '%s\n' "$out" | node "$CI_ROOT/.ci/check-json.mjs" codex "$SERVER_NAME" "$TOOLS_WANTED" | sed 's/^tools:/signed in; tools:/'
  return "${PIPESTATUS[1]}"
}

check_codex() { # transport
  local tr=$1 h out
  h=$(new_home)
  mkdir -p "$h/codex"
  if [ "$tr" = stdio ]; then
    {
      echo "[mcp_servers.$SERVER_NAME]"
      printf 'command = %s\n' "$(node -e 'console.log(JSON.stringify(process.argv[1]))' -- "${STDIO_CMD[0]}")"
      printf 'args = %s\n' "$(json_args)"
      echo "startup_timeout_sec = 20"
    } >"$h/codex/config.toml"
  else
    {
      echo "[mcp_servers.$SERVER_NAME]"
      echo "url = \"$HTTP_URL\""
      echo "startup_timeout_sec = 20"
    } >"$h/codex/config.toml"
  fi
  out=$(cd "$h" && HOME=$h CODEX_HOME=$h/codex host_env timeout "$T_CODEX" \
    node "$CI_ROOT/.ci/codex-probe.mjs" "$(command -v codex)" $(( (T_CODEX - 5) * 1000 )) </dev/null 2>"$h/codex.err") || true
  if [ -z "$out" ]; then echo "no answer from codex app-server: $(grep -v bubblewrap "$h/codex.err" | tail -2 | tr '\n' ' ' | cut -c1-300)"; return 1; fi
  printf '%s\n' "$out" | node "$CI_ROOT/.ci/check-json.mjs" codex "$SERVER_NAME" "$TOOLS_WANTED"
}

check_gemini() { # transport
  local tr=$1 h out line
  h=$(new_home)
  mkdir -p "$h/.gemini"
  if [ "$tr" = stdio ]; then
    printf '{"mcpServers":{"%s":{"command":"%s","args":%s}}}\n' "$SERVER_NAME" "${STDIO_CMD[0]}" "$(json_args)" >"$h/.gemini/settings.json"
  else
    printf '{"mcpServers":{"%s":{"httpUrl":"%s"}}}\n' "$SERVER_NAME" "$HTTP_URL" >"$h/.gemini/settings.json"
  fi
  out=$(cd "$h" && HOME=$h host_env timeout "$T_GEMINI" gemini mcp list </dev/null 2>&1) || true
  line=$(printf '%s\n' "$out" | grep -E "$SERVER_NAME: " | head -1 || true)
  echo "${line:-no line for $SERVER_NAME in: $(printf '%s' "$out" | tr '\n' ' ' | cut -c1-200)}"
  printf '%s' "$line" | grep -Eq -- '- Connected[[:space:]]*$'
}

# The checks: name, whether it can see tools (1), only the connection (0), or
# that the server wants a sign-in (a), then the command.
CHECKS=(
  "claude-list-stdio-default|0|check_claude_list stdio default"
  "claude-list-http-default|0|check_claude_list http default"
  "claude-list-stdio-legacy|0|check_claude_list stdio legacy"
  "claude-list-http-legacy|0|check_claude_list http legacy"
  "claude-init-stdio-default|1|check_claude_init stdio default"
  "claude-init-http-default|1|check_claude_init http default"
  "claude-init-stdio-legacy|1|check_claude_init stdio legacy"
  "claude-init-http-legacy|1|check_claude_init http legacy"
  "codex-stdio|1|check_codex stdio"
  "codex-http|1|check_codex http"
  "gemini-stdio|0|check_gemini stdio"
  "gemini-http|0|check_gemini http"
  "claude-list-oauth-default|a|check_claude_oauth default"
  "claude-list-oauth-legacy|a|check_claude_oauth legacy"
  "codex-oauth|a|check_codex_oauth"
  "codex-oauth-signin|a|check_codex_oauth_signin"
)

# run_checks MODE: MODE "real" expects every check to pass; "dead" expects
# every check to fail; "lacking" expects the tool-seeing checks to fail (the
# connection-only ones are skipped there: they cannot see tools), and the
# sign-in ones, pointed at that open server, to fail too. Checks run
# BYS_CI_HOST_JOBS at a time (the hosts mostly wait); results print in order.
# Adds to PASSED/FAILED.
PASSED=0
FAILED=0
JOBS=${BYS_CI_HOST_JOBS:-3}
run_one() { # index name cmd... : writes "ok|seconds|detail" to $CI_WORK/result.INDEX
  local i=$1 t0=$SECONDS detail ok
  shift
  if detail=$("$@" 2>&1); then ok=1; else ok=0; fi
  detail=$(printf '%s' "$detail" | tail -1 | cut -c1-300)
  printf '%s|%s|%s\n' "$ok" "$((SECONDS - t0))" "$detail" >"$CI_WORK/result.$i"
}
run_checks() {
  local mode=$1 entry name sees cmd i ok secs detail expect_ok running=0
  local -a names=() sees_of=() pids=()
  i=0
  for entry in "${CHECKS[@]}"; do
    IFS='|' read -r name sees cmd <<<"$entry"
    if [ "$mode" = lacking ] && [ "$sees" = 0 ]; then continue; fi
    names[i]=$name
    sees_of[i]=$sees
    rm -f "$CI_WORK/result.$i"
    # shellcheck disable=SC2086
    run_one "$i" $cmd &
    pids+=($!)
    running=$((running + 1))
    # Wait only for the checks (never for the HTTP server, also a child).
    if [ "$running" -ge "$JOBS" ]; then wait -n "${pids[@]}" 2>/dev/null || true; running=$((running - 1)); fi
    i=$((i + 1))
  done
  local p
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for i in "${!names[@]}"; do
    name=${names[i]}
    if [ -f "$CI_WORK/result.$i" ]; then
      IFS='|' read -r ok secs detail <"$CI_WORK/result.$i"
    else
      ok=x secs=? detail="the check did not finish"
    fi
    case "$mode" in
      real|lacking) if [ "$mode" = real ] || [ "${sees_of[i]}" = 0 ]; then expect_ok=1; else expect_ok=0; fi ;;
      dead) expect_ok=0 ;;
    esac
    if [ "$ok" = "$expect_ok" ]; then
      PASSED=$((PASSED + 1))
      if [ "$mode" = real ]; then
        echo "ci: hosts: ok   $name (${secs}s): $detail"
      else
        echo "ci: hosts: ok   $name [$mode] reported failure (${secs}s): $detail"
      fi
    else
      FAILED=$((FAILED + 1))
      echo "ci: hosts: FAIL $name [$mode] expected $([ "$expect_ok" = 1 ] && echo success || echo failure), got $([ "$ok" = 1 ] && echo success || echo failure) (${secs}s): $detail"
    fi
  done
}

# start_http ARGS...: starts the binary in HTTP mode on a free port; sets HTTP_URL.
start_http() {
  local port
  port=$(ci_free_port)
  "$@" --transport http --addr "127.0.0.1:$port" >"$CI_WORK/http-$port.log" 2>&1 &
  CI_BG_PIDS+=($!)
  HTTP_URL="http://127.0.0.1:$port/mcp"
  ci_wait_http "http://127.0.0.1:$port/healthz" 10 || ci_die "server did not come up on $port: $(tail -3 "$CI_WORK/http-$port.log")"
}

# start_oauth_http: starts the binary with --oauth on a free port (its own
# public URL on loopback; state in the process); sets OAUTH_URL.
start_oauth_http() {
  local port
  port=$(ci_free_port)
  BYS_STATE_DIR=memory "$BYS_BIN" --sandbox --oauth --transport http --addr "127.0.0.1:$port" \
    --public-url "http://127.0.0.1:$port" >"$CI_WORK/oauth-$port.log" 2>&1 &
  CI_BG_PIDS+=($!)
  OAUTH_URL="http://127.0.0.1:$port/mcp"
  ci_wait_http "http://127.0.0.1:$port/healthz" 10 || ci_die "--oauth server did not come up on $port: $(tail -3 "$CI_WORK/oauth-$port.log")"
}

main() {
  local self_test=0
  [ "${1:-}" = --self-test ] && self_test=1
  ci_workdir
  ci_tools_install
  ci_build_binary
  ci_log "hosts: claude $(claude --version 2>/dev/null | head -1), $(codex --version 2>/dev/null | head -1), gemini $(gemini --version 2>/dev/null | head -1)"

  if [ "$self_test" = 0 ]; then
    STDIO_CMD=("$BYS_BIN" --sandbox)
    start_http "$BYS_BIN" --sandbox
    start_oauth_http
    ci_log "hosts: real binary ($BYS_BIN) over stdio and $HTTP_URL; with --oauth at $OAUTH_URL"
    run_checks real
    echo "hosts: $PASSED passed, $FAILED failed"
  else
    # A binary that exits at once: stdio fails immediately; for HTTP nothing
    # listens on the port it was given.
    printf '#!/bin/sh\nexit 1\n' >"$CI_WORK/exits-at-once"
    chmod +x "$CI_WORK/exits-at-once"
    STDIO_CMD=("$CI_WORK/exits-at-once")
    HTTP_URL="http://127.0.0.1:$(ci_free_port)/mcp"
    OAUTH_URL=$HTTP_URL
    ci_log "hosts self-test: a binary that exits at once"
    run_checks dead
    # A binary that lacks a tool: --read-only withdraws place_call.
    STDIO_CMD=("$BYS_BIN" --read-only --sandbox)
    start_http "$BYS_BIN" --read-only --sandbox
    OAUTH_URL=$HTTP_URL
    ci_log "hosts self-test: a binary that lacks place_call (--read-only) and needs no sign-in; connection-only checks (claude mcp list, gemini mcp list) cannot see tools and are skipped; the sign-in checks must not see it as needing sign-in"
    run_checks lacking
    echo "hosts-self-test: $PASSED passed, $FAILED failed"
  fi
  [ "$FAILED" = 0 ]
}

main "$@"
