#!/usr/bin/env bash
# Install the Debian packages the browser and compose-file tests use, when they are missing and
# this user may install packages. Elsewhere those tests are skipped with a reason, unless
# SMARTCARE_REQUIRE_SYSTEM_TOOLS=1 (CI), where a missing tool fails the run.
set -u
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v xgettext >/dev/null 2>&1 || missing+=(gettext)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "Note: ${missing[*]} not installed; the tests that need them will be skipped." >&2
fi
exit 0
