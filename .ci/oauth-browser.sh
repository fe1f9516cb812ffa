#!/usr/bin/env bash
# The --oauth consent page in a real browser (issue 24): Debian's chromium,
# headless, driven by playwright-core (pinned in lib.sh; no browser
# download), runs test/oauth-browser/consent.mjs against the built binary.
# Screenshots are kept in $BYS_OAUTH_OUT (default test/oauth-browser/out,
# ignored by git) as the artefacts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  ci_log "oauth-browser: installing chromium (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y -q chromium >/dev/null 2>&1) || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null) \
    || { echo "oauth-browser: 0 passed, 1 failed (chromium could not be installed)"; exit 1; }
fi
[ -n "${CI_TOOLS:-}" ] || ci_tools_install
if [ -z "${BYS_BIN:-}" ]; then ci_workdir; ci_build_binary "$CI_WORK/bys-mcp"; fi
out=${BYS_OAUTH_OUT:-$CI_ROOT/test/oauth-browser/out}
rc=0
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 CHROMIUM="$CHROMIUM" OAUTH_OUT="$out" BYS_BIN="$BYS_BIN" \
  PLAYWRIGHT_CORE="$CI_TOOLS/tools/node_modules/playwright-core" \
  timeout 180 node "$CI_ROOT/test/oauth-browser/consent.mjs" || rc=$?
if [ "$rc" != 0 ]; then
  echo "oauth-browser: 0 passed, 1 failed (exit $rc; screenshots so far in $out)"
fi
exit "$rc"
