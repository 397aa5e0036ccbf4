#!/usr/bin/env bash
# What the tests need from the system, installed when missing: Debian's chromium (browser tests,
# launched by Playwright with executablePath, never a downloaded browser), python3-websockets (the
# independent interop peer), openssl (the wss test makes a self-signed certificate), iproute2 (ss
# reads a listening socket's accept queue) and redis-server (scale-out tests). As root with apt-get
# it installs them; otherwise it says in one line what to run.
set -euo pipefail

missing=()
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
/usr/bin/python3 -c 'import websockets' 2>/dev/null || missing+=(python3-websockets)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v ss >/dev/null 2>&1 || missing+=(iproute2)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "setup: missing ${missing[*]}; run: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
exit 1
