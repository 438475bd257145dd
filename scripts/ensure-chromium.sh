#!/usr/bin/env bash
# Make sure a Chromium is installed for the browser tests (tests/lienthong/web/test_browser.py) and print its path
# on stdout: LIENTHONG_CHROMIUM if set, else a chromium already on the PATH, else Debian's `chromium` package,
# installed with apt-get (as root, or through sudo without a password). Never downloads a browser from elsewhere.
# Progress goes to stderr; exit 1 when no Chromium can be had (the tests then skip, saying why).
set -euo pipefail
say() { printf 'ensure-chromium: %s\n' "$*" >&2; }

if [ -n "${LIENTHONG_CHROMIUM:-}" ]; then
  [ -x "$LIENTHONG_CHROMIUM" ] && { echo "$LIENTHONG_CHROMIUM"; exit 0; }
  say "LIENTHONG_CHROMIUM=$LIENTHONG_CHROMIUM is not an executable"; exit 1
fi
find_one() {
  for name in chromium chromium-browser google-chrome-stable google-chrome; do
    if path=$(command -v "$name" 2>/dev/null); then echo "$path"; return 0; fi
  done
  return 1
}
if find_one; then exit 0; fi

if ! command -v apt-get >/dev/null; then say "no chromium and no apt-get to install it"; exit 1; fi
sudo_=""
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then sudo_="sudo -n"; else say "no chromium, and not root (nor passwordless sudo) to install it"; exit 1; fi
fi
say "installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
if ! $sudo_ apt-get install -y -qq chromium >&2; then
  $sudo_ apt-get update -qq >&2 || true
  $sudo_ apt-get install -y -qq chromium >&2 || { say "apt-get could not install chromium"; exit 1; }
fi
find_one || { say "chromium installed but not found on the PATH"; exit 1; }
