#!/usr/bin/env bash
# Screenshot an HTML email (or the HTML part of an .eml) at desktop and phone widths.
#
#   scripts/screenshot_digest.sh IN.html|IN.eml OUT_PREFIX [--dark]
#
# Writes OUT_PREFIX-desktop.png (1200px wide) and OUT_PREFIX-phone.png (390px wide)
# with headless Chromium; --dark forces dark mode (prefers-color-scheme: dark).
# Installs Debian's chromium (and pngquant, to keep the PNGs small) with apt-get when
# missing (needs root). Works offline: the browser's network features are switched off
# and the emails have no external assets.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 IN.html|IN.eml OUT_PREFIX [--dark]" >&2
  exit 2
fi
in=$1 prefix=$2 dark=${3:-}
python=${PYTHON:-python3}

if ! command -v chromium >/dev/null 2>&1; then
  echo "chromium is missing; installing Debian's package" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core pngquant >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
html="$work/page.html"
if [[ $in == *.eml ]]; then
  "$python" - "$in" "$html" <<'PY'
import email, email.policy, sys
with open(sys.argv[1], "rb") as f:
    msg = email.message_from_binary_file(f, policy=email.policy.default)
part = msg.get_body(("html",))
if part is None:
    sys.exit(f"{sys.argv[1]} has no HTML part")
open(sys.argv[2], "w", encoding="utf-8").write(part.get_content())
PY
else
  cp "$in" "$html"
fi

flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --disable-default-apps --hide-scrollbars --mute-audio)
[[ $dark == --dark ]] && flags+=(--force-dark-mode)

# The page height at a width: a copy of the page with a script that writes its
# scrollHeight into the DOM, read back with --dump-dom (the email itself has no script).
measure() {  # width
  local profile probe="$work/probe.html"
  profile=$(mktemp -d)
  { cat "$html"; echo '<script>document.body.setAttribute("data-okrsync-height", document.documentElement.scrollHeight)</script>'; } >"$probe"
  chromium "${flags[@]}" --user-data-dir="$profile" --window-size="$1,800" --dump-dom \
    "file://$probe" 2>/dev/null | grep -o 'data-okrsync-height="[0-9]*"' | grep -o '[0-9]\+' || echo 2400
  rm -rf "$profile"
}

shoot() {  # width out
  local profile height
  height=$(measure "$1")
  profile=$(mktemp -d)
  chromium "${flags[@]}" --user-data-dir="$profile" --window-size="$1,$height" \
    --screenshot="$2" "file://$html" >/dev/null 2>&1
  rm -rf "$profile"
  # Optional: pngquant (Debian package) makes the committed docs images ~4x smaller.
  if command -v pngquant >/dev/null 2>&1; then
    pngquant --force --skip-if-larger --quality 65-90 --output "$2" "$2" || true
  fi
  echo "$2 (${1}x${height}, $(( $(stat -c %s "$2") / 1024 )) KiB)"
}

mkdir -p "$(dirname "$prefix")"
shoot 1200 "$prefix-desktop.png"
shoot 390 "$prefix-phone.png"
