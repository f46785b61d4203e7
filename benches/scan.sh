#!/usr/bin/env bash
# Label-photo decoding: decode rate and time per image of `mailroom scan-image` beside
# zxing-cpp (from PyPI, in a virtualenv under the benchmark's temporary directory — a peer for
# comparison, not a dependency) on the same fixed, seeded set of generated label images per
# symbology x degradation. Writes the "scan" section of docs/PERFORMANCE.md.
#
#   benches/scan.sh [--per-cell N] [--seed S]
#
# Needs python3 (with venv) and network access to PyPI for zxing-cpp, Pillow and numpy.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PER_CELL=20
SEED=42
COMMAND="benches/scan.sh"
while [ $# -gt 0 ]; do
    case $1 in
    --per-cell)
        PER_CELL=$2
        COMMAND="$COMMAND --per-cell $2"
        shift 2
        ;;
    --seed)
        SEED=$2
        COMMAND="$COMMAND --seed $2"
        shift 2
        ;;
    *) die "unknown option $1 (use --per-cell N, --seed S)" ;;
    esac
done

require_tools python3
log "building mailroom (release)"
(cd "$ROOT" && cargo build --release -p mailroom --target-dir "$TARGET_DIR" >&2)

log "installing zxing-cpp, Pillow and numpy into $WORK/venv"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check "zxing-cpp==3.1.1" "pillow==13.0.0" "numpy>=2,<3" >&2

LOAD_BEFORE=$(loadavg)
BODY=$WORK/section.md
"$WORK/venv/bin/python" "$ROOT/benches/scan_bench.py" --bin "$BIN" --out "$WORK/images" \
    --per-cell "$PER_CELL" --seed "$SEED" --section "$BODY" --command "$COMMAND"
printf -- '- Machine: %s. Load average before the run: %s, after: %s.\n' "$(machine_info)" "$LOAD_BEFORE" "$(loadavg)" >>"$BODY"
replace_section scan "$BODY"
cat "$BODY" >&2
