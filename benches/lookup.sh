#!/usr/bin/env bash
# Tracking lookup and "my mail" latency over HTTP with a million items.
#
# For SQLite, then PostgreSQL: a fresh database with the demo data, `mailroom seed --items N`
# (timed), then GET /api/v1/items?tracking=<random existing tracking number> (demo clerk) and
# GET /api/v1/me/items (demo employee) under several loads. Writes the "lookup" section of
# docs/PERFORMANCE.md.
#
# usage: benches/lookup.sh [--items N] [--duration SECS] [--sqlite-only]
# needs: cargo, curl, jq, sqlite3, psql; PostgreSQL at $MAILROOM_BENCH_PG
#        (default postgres://postgres@127.0.0.1:5432), where throwaway databases are created.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ITEMS=1000000
DURATION=10
WARMUP=2
BACKENDS=(sqlite postgres)
COMMAND="benches/lookup.sh $*"
while [ $# -gt 0 ]; do
    case $1 in
    --items) ITEMS=$2 && shift 2 ;;
    --duration) DURATION=$2 && shift 2 ;;
    --sqlite-only) BACKENDS=(sqlite) && shift ;;
    *) die "unknown option $1 (see the header of $0)" ;;
    esac
done
[[ $ITEMS =~ ^[0-9]+$ && $ITEMS -ge 1000 && $ITEMS -le 20000000 ]] || die "--items must be 1000-20000000"
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 1 && $DURATION -le 600 ]] || die "--duration must be 1-600"
require_tools cargo curl jq sqlite3 psql
build

# name|loadgen options. The open-loop rows hold a steady rate; the 64-connection row shows the
# capacity (and what queueing past it does to latency).
LOADS=(
    "1 connection, closed loop|--connections 1"
    "8 connections, closed loop|--connections 8"
    "200 req/s offered, open loop|--connections 16 --rate 200"
    "500 req/s offered, open loop|--connections 32 --rate 500"
    "64 connections, closed loop|--connections 64"
)

LOAD_BEFORE=$(loadavg)
ROWS=$WORK/rows.md
SEEDS=$WORK/seeds.md
MISSES=$WORK/misses.md
: >"$MISSES"
: >"$ROWS"
: >"$SEEDS"
FAILED=0

# The largest private (RssAnon) and file-mapped (RssFile) memory of the server seen after a row.
PEAK_ANON=0
PEAK_FILE=0
sample_memory() {
    local anon file
    anon=$(server_rss_kib RssAnon)
    file=$(server_rss_kib RssFile)
    [ "$anon" -le "$PEAK_ANON" ] || PEAK_ANON=$anon
    [ "$file" -le "$PEAK_FILE" ] || PEAK_FILE=$file
}

measure() {
    local backend=$1 what=$2 token=$3 paths=$4
    local entry name opts out
    for entry in "${LOADS[@]}"; do
        name=${entry%%|*}
        opts=${entry#*|}
        out=$WORK/loadgen.txt
        # shellcheck disable=SC2086 # $opts is a list of options
        "$LOADGEN" get --addr "$SERVER_ADDR" --token "$token" --paths-file "$paths" \
            --duration "$DURATION" --warmup "$WARMUP" $opts >"$out"
        sample_memory
        local errors=$(($(value measured_non_2xx "$out") + $(value io_errors "$out")))
        [ "$errors" -eq 0 ] || FAILED=1
        printf '| %s | %s | %s | %s | %s | %s | **%s** | %s | %s | %s |\n' "$backend" "$what" "$name" \
            "$(value throughput "$out")" "$(value p50_ms "$out")" "$(value p95_ms "$out")" "$(value p99_ms "$out")" \
            "$(value p999_ms "$out")" "$(value max_ms "$out")" "$errors" >>"$ROWS"
        log "$backend $what, $name: $(value throughput "$out")/s, p99 $(value p99_ms "$out") ms"
        # The target holds for the loads a mailroom offers (one client, or a steady rate); the
        # 8- and 64-connection closed-loop rows measure capacity, where queueing sets the latency.
        case $name in
        "1 connection"* | *"open loop")
            if awk -v p="$(value p99_ms "$out")" 'BEGIN { exit !(p > 5) }'; then
                printf -- '- %s, %s, %s: p99 %s ms\n' "$backend" "$what" "$name" "$(value p99_ms "$out")" >>"$MISSES"
            fi
            ;;
        esac
    done
}

run_backend() {
    local backend=$1 url
    case $backend in
    sqlite) url="sqlite://$WORK/lookup.db" ;;
    postgres) url=$(new_pg_db) ;;
    esac
    log "$backend: demo data"
    start_server "$url" --demo
    stop_server TERM
    log "$backend: loading $ITEMS items"
    local seed_out seed_secs
    seed_out=$("$BIN" seed --items "$ITEMS" --tenant demo --db "$url")
    seed_secs=$(sed -n 's/.* in \([0-9.]*\)s$/\1/p' <<<"$seed_out")
    if [ "$backend" = postgres ]; then
        # What autovacuum does shortly after a bulk load (a million inserts pass its insert
        # threshold: vacuum, which sets the visibility map, and analyze); done now so that the
        # run neither overlaps it nor depends on when it comes.
        sql "$url" "VACUUM ANALYZE" >/dev/null
        sql "$url" "CHECKPOINT" >/dev/null
    fi
    # The load leaves about a gigabyte of dirty pages that the kernel would write out during the
    # first minute of measuring (a server holding a million items has long written them).
    sync
    printf '| %s | %s | %s s | %s |\n' "$backend" "$ITEMS" "$seed_secs" \
        "$(awk -v n="$ITEMS" -v s="$seed_secs" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }')" >>"$SEEDS"
    start_server "$url"
    PEAK_ANON=0
    PEAK_FILE=0
    local clerk employee total mine
    clerk=$(token_for demo clerk "$url")
    employee=$(token_for demo employee "$url")
    total=$(sql "$url" "SELECT COUNT(*) FROM item")
    # Random existing tracking numbers of the demo organisation.
    sql "$url" "SELECT tracking_number FROM item WHERE tracking_number IS NOT NULL AND tenant_id =
        (SELECT id FROM tenant WHERE slug = 'demo') ORDER BY random() LIMIT 20000" |
        sed 's#^#/api/v1/items?tracking=#' >"$WORK/tracking.txt"
    echo "/api/v1/me/items" >"$WORK/mine.txt"
    # The answers are right before they are fast.
    local first n
    first=$(head -n 1 "$WORK/tracking.txt")
    n=$(curl -sf -H "Authorization: Bearer $clerk" "http://$SERVER_ADDR$first" | jq '.items | length')
    [ "$n" = 1 ] || die "tracking lookup $first returned $n items"
    mine=$(curl -sf -H "Authorization: Bearer $employee" "http://$SERVER_ADDR/api/v1/me/items" | jq '.items | length')
    [ "$mine" -gt 0 ] || die "my mail is empty"
    log "$backend: $total items; measuring"
    measure "$backend" "tracking lookup" "$clerk" "$WORK/tracking.txt"
    measure "$backend" "my mail (first page, $mine items)" "$employee" "$WORK/mine.txt"
    printf '| %s | %s MiB | %s MiB | %s MiB |\n' "$backend" "$(($(server_peak_rss_kib) / 1024))" \
        "$((PEAK_ANON / 1024))" "$((PEAK_FILE / 1024))" >>"$WORK/rss.md"
    stop_server TERM
}

: >"$WORK/rss.md"
for b in "${BACKENDS[@]}"; do
    run_backend "$b"
done

BODY=$WORK/section.md
{
    printf '## Tracking lookup and "my mail" latency (HTTP, %s items)\n\n' "$ITEMS"
    printf 'Measured %s with `%s` (release build).\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "${COMMAND% }"
    printf -- '- Machine: %s. Load average before the run: %s, after: %s.\n' "$(machine_info)" "$LOAD_BEFORE" "$(loadavg)"
    printf -- '- Data: the demo organisations plus %s synthetic items loaded with `mailroom seed` (each with its\n' "$ITEMS"
    printf '  custody event) into the `demo` organisation, spread over its 130 people.\n'
    printf -- '- Tracking lookup: `GET /api/v1/items?tracking=…` as the demo clerk, each request a random one of\n'
    printf '  20,000 existing tracking numbers. My mail: `GET /api/v1/me/items` as the demo employee (own and\n'
    printf "  department's items, newest first, first page).\n"
    printf -- '- Closed loop: each connection sends its next request when the previous answer arrives. Open loop:\n'
    printf '  requests are sent on a fixed schedule and latency counts from the scheduled time, so queueing\n'
    printf '  shows. %ss warm-up, then %ss measured per row. The load generator (`benches/loadgen`) shares\n' "$WARMUP" "$DURATION"
    printf '  the 2 cores with the server.\n\n'
    printf '| Backend | Request | Load | Requests/s | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | errors |\n'
    printf '|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n'
    cat "$ROWS"
    printf '\nLoading the items (`mailroom seed --items %s`):\n\n| Backend | Items | Time | Items/s |\n|---|---:|---:|---:|\n' "$ITEMS"
    cat "$SEEDS"
    printf '\nServer resident memory: the peak during the run, and the largest seen after any row of how much\n'
    printf 'was private (heap, stacks) and how much was files mapped into memory (the binary, and any\n'
    printf 'database file read through a memory map):\n\n| Backend | Peak RSS | Largest private | Largest mapped files |\n|---|---:|---:|---:|\n'
    cat "$WORK/rss.md"
    printf '\nTarget: p99 at most 5 ms for both requests with 1,000,000 items, on SQLite and PostgreSQL, for one\n'
    printf 'client and for steady offered rates (the "1 connection" and "open loop" rows). The 8- and\n'
    printf '64-connection closed-loop rows measure capacity: each connection sends again the moment it is\n'
    printf 'answered, so requests queue and latency grows with the number of connections.\n'
    if [ -s "$MISSES" ]; then
        printf '**Not met** on these rows:\n\n'
        cat "$MISSES"
    else
        printf 'Met on every such row.\n'
    fi
} >"$BODY"
replace_section lookup "$BODY"
cat "$BODY" >&2
exit "$FAILED"
