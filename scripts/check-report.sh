#!/usr/bin/env bash
# Checks that an HTML report renders in headless Chromium: a non-blank screenshot, the plots in
# the rendered DOM, no console errors. Needs Chromium (Debian: apt-get install -y chromium) or
# CHROMIUM_PATH. Usage: scripts/check-report.sh report.html [screenshot.png]
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 report.html [screenshot.png]" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
exec npx --no-install tsx bench/eval-report-check.ts "$@"
