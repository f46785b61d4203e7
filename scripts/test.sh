#!/usr/bin/env bash
# Runs the whole test suite: Rust unit, property and integration tests (SQLite and PostgreSQL),
# then the browser end-to-end tests in headless Chromium against the real server.
#
# Needs: a PostgreSQL server (MAILROOM_TEST_PG, default postgres://postgres@127.0.0.1:5432/postgres),
# /usr/bin/chromium, Node.js 20+ with npm, python3 with aiosmtpd (the SMTP tests run scripts/smtp-sink.py),
# a CJK font (fonts-wqy-microhei) and poppler-utils (the PDF tests read documents back).
# With CI=true a missing PostgreSQL fails the PostgreSQL tests, and a missing aiosmtpd the SMTP tests.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

echo "==> building (debug)"
cargo build --locked -p mailroom

echo "==> Rust tests (domain, store contract on SQLite and PostgreSQL, API, CLI, crash safety)"
cargo test --locked --workspace

echo "==> browser end-to-end tests (headless Chromium)"
if [ ! -x /usr/bin/chromium ]; then
  echo "chromium is missing: install the Debian package 'chromium'" >&2
  exit 1
fi
cd e2e
npm ci --no-audit --no-fund --loglevel=error
MAILROOM_BIN="$target_dir/debug/mailroom" npm test
