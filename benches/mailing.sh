#!/usr/bin/env bash
# Outbound CSV mailings: how long one request with 5,000 (or --rows N) letters takes.
#
# Starts a fresh server (demo data) on SQLite, then on PostgreSQL, creates a cost centre without
# limits, and POSTs a mailing of N domestic letters as CSV to /api/v1/outbound/mailings (every row
# address-checked and priced, then all items, sends and custody events written in one
# transaction). Each backend is measured --runs times (default 3) on its fresh database; after
# the runs the server is stopped and `mailroom verify` must pass. Writes the "mailing" section of
# docs/PERFORMANCE.md.
#
# usage: benches/mailing.sh [--rows N] [--runs N] [--sqlite-only]
# needs: cargo, curl, jq, sqlite3, psql; PostgreSQL at $MAILROOM_BENCH_PG
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROWS_N=5000
RUNS=3
BACKENDS=(sqlite postgres)
COMMAND="benches/mailing.sh $*"
while [ $# -gt 0 ]; do
    case $1 in
    --rows) ROWS_N=$2 && shift 2 ;;
    --runs) RUNS=$2 && shift 2 ;;
    --sqlite-only) BACKENDS=(sqlite) && shift ;;
    *) die "unknown option $1 (see the header of $0)" ;;
    esac
done
[[ $ROWS_N =~ ^[0-9]+$ && $ROWS_N -ge 1 && $ROWS_N -le 20000 ]] || die "--rows must be 1-20000"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 && $RUNS -le 10 ]] || die "--runs must be 1-10"
require_tools cargo curl jq sqlite3 psql
log "building mailroom (release)"
(cd "$ROOT" && cargo build --release -p mailroom --target-dir "$TARGET_DIR" >&2)

LOAD_BEFORE=$(loadavg)
CSV=$WORK/mailing.csv
{
    echo "recipient,street,city,region,postal_code,country,email"
    for i in $(seq 1 "$ROWS_N"); do
        printf '客户%d,南京西路%d号,上海市,上海市,2000%02d,CN,c%d@example.cn\n' "$i" $((i % 900 + 1)) $((i % 90 + 10)) "$i"
    done
} >"$CSV"
TABLE=$WORK/rows.md
: >"$TABLE"
declare -A SECONDS_OF

run_backend() {
    local backend=$1 url
    case $backend in
    sqlite) url="sqlite://$WORK/mailing.db" ;;
    postgres) url=$(new_pg_db) ;;
    esac
    log "$backend: starting a fresh server with demo data"
    start_server "$url" --demo
    local token auth cc person
    token=$(token_for demo admin "$url")
    auth="Authorization: Bearer $token"
    cc=$(curl -sf -H "$auth" -H 'content-type: application/json' \
        -d '{"code":"CC-BENCH","name":"Benchmark mailings"}' "http://$SERVER_ADDR/api/v1/postage/cost-centres" | jq -r .id)
    person=$(curl -sf -H "$auth" "http://$SERVER_ADDR/api/v1/people?limit=1" | jq -r '.items[0].id')
    [ -n "$cc" ] && [ "$cc" != null ] && [ -n "$person" ] || die "set-up failed"
    local q="method=standard&carrier=china_post&cost_centre_id=$cc&contents=Survey&weight_g=20&requester_person_id=$person"
    local run
    for run in $(seq 1 "$RUNS"); do
        local out=$WORK/answer.json cpu0 cpu1 secs status created
        cpu0=$(server_cpu_ticks)
        read -r status secs < <(curl -s -o "$out" -w '%{http_code} %{time_total}\n' -H "$auth" \
            -H 'content-type: text/csv' --data-binary "@$CSV" "http://$SERVER_ADDR/api/v1/outbound/mailings?$q")
        cpu1=$(server_cpu_ticks)
        created=$(jq -r '.created // 0' "$out")
        [ "$status" = 201 ] && [ "$created" = "$ROWS_N" ] || die "$backend run $run: HTTP $status: $(head -c 300 "$out")"
        SECONDS_OF[$backend]="${SECONDS_OF[$backend]:-} $secs"
        printf '| %s | %s | %s | **%s** | %s | %s |\n' "$backend" "$run" "$ROWS_N" "$secs" \
            "$(awk -v n="$ROWS_N" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')" \
            "$(((cpu1 - cpu0) * 1000000 / CLK_TCK / ROWS_N))" >>"$TABLE"
        log "$backend run $run: $ROWS_N letters in ${secs}s"
    done
    local rss
    rss=$(server_peak_rss_kib)
    stop_server TERM
    "$BIN" verify --db "$url" >"$WORK/verify.txt" 2>&1 || die "$backend: mailroom verify fails: $(tail -n 5 "$WORK/verify.txt")"
    local n
    n=$(sql "$url" "SELECT COUNT(*) FROM outbound WHERE mailing_id IS NOT NULL")
    log "$backend: $n mailing pieces in the database, custody verified, peak RSS $((rss / 1024)) MiB"
    printf -- '- %s: %s mailing pieces in the database afterwards; `mailroom verify` passes; server peak RSS %s MiB.\n' \
        "$backend" "$n" "$((rss / 1024))" >>"$WORK/notes.md"
}

: >"$WORK/notes.md"
for b in "${BACKENDS[@]}"; do
    run_backend "$b"
done

median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

BODY=$WORK/section.md
{
    printf '## Outbound CSV mailing (HTTP)\n\n'
    printf 'Measured %s with `%s` (release build).\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "${COMMAND% }"
    printf -- '- Machine: %s. Load average before the run: %s, after: %s.\n' "$(machine_info)" "$LOAD_BEFORE" "$(loadavg)"
    printf -- '- One `POST /api/v1/outbound/mailings` with %s domestic letters as CSV (a Chinese name and\n' "$ROWS_N"
    printf '  address, an e-mail address each): every row address-checked and priced from the rate table, the\n'
    printf '  budget checked, then every item, send and custody event written in one transaction; the time is\n'
    printf '  until the 201 answer (curl `time_total`). Each run adds %s more items to the same database.\n' "$ROWS_N"
    cat "$WORK/notes.md"
    printf '\n| Backend | Run | Rows | Seconds | Rows/s | server CPU µs/row |\n|---|---:|---:|---:|---:|---:|\n'
    cat "$TABLE"
    printf '\n'
    for b in "${BACKENDS[@]}"; do
        printf -- '- %s: median %s s for %s rows.\n' "$b" "$(median "${SECONDS_OF[$b]}")" "$ROWS_N"
    done
} >"$BODY"
replace_section mailing "$BODY"
log "wrote the mailing section of $DOC"
