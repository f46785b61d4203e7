#!/usr/bin/env bash
# Durable intake throughput over HTTP.
#
# Starts a fresh server (demo data) on SQLite, then on PostgreSQL, and has N keep-alive
# connections POST /api/v1/items with unique tracking numbers for a fixed time. A 201 is only
# sent once the intake is committed (SQLite: WAL, synchronous=FULL; PostgreSQL: default commit).
# Afterwards the server is killed (SIGKILL), the items in the database are counted and must equal
# the 201s received, and `mailroom verify` must pass. Writes the "intake" section of
# docs/PERFORMANCE.md.
#
# Each backend is measured --runs times (default 3), each time with a fresh database; the verdict
# uses the median, as single runs on a small shared machine vary by ±15 %. Then once more ("keyed")
# with a unique Idempotency-Key on every intake, as the console's intake screen sends.
#
# usage: benches/intake.sh [--duration SECS] [--warmup SECS] [--connections N] [--runs N] [--sqlite-only]
# needs: cargo, curl, jq, sqlite3, psql; PostgreSQL at $MAILROOM_BENCH_PG
#        (default postgres://postgres@127.0.0.1:5432), where throwaway databases are created.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DURATION=20
WARMUP=3
CONNECTIONS=64
RUNS=3
BACKENDS=(sqlite postgres)
COMMAND="benches/intake.sh $*"
while [ $# -gt 0 ]; do
    case $1 in
    --duration) DURATION=$2 && shift 2 ;;
    --warmup) WARMUP=$2 && shift 2 ;;
    --connections) CONNECTIONS=$2 && shift 2 ;;
    --runs) RUNS=$2 && shift 2 ;;
    --sqlite-only) BACKENDS=(sqlite) && shift ;;
    *) die "unknown option $1 (see the header of $0)" ;;
    esac
done
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 1 && $DURATION -le 600 ]] || die "--duration must be 1-600"
[[ $WARMUP =~ ^[0-9]+$ && $WARMUP -le 60 ]] || die "--warmup must be 0-60"
[[ $CONNECTIONS =~ ^[0-9]+$ && $CONNECTIONS -ge 1 && $CONNECTIONS -le 1024 ]] || die "--connections must be 1-1024"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 && $RUNS -le 10 ]] || die "--runs must be 1-10"
require_tools cargo curl jq sqlite3 psql
build

LOAD_BEFORE=$(loadavg)
ROWS=$WORK/rows.md
NOTES=$WORK/notes.md
: >"$ROWS"
: >"$NOTES"
FAILED=0
# Intakes/s of every run, per backend (space-separated); of the keyed run, per backend.
declare -A THROUGHPUT
declare -A KEYED

# run_backend BACKEND RUN KEYS: RUN is the run's number, or "keyed" (KEYS yes).
run_backend() {
    local backend=$1 run=$2 keys=$3 url
    case $backend in
    sqlite) url="sqlite://$WORK/intake-$run.db" ;;
    postgres) url=$(new_pg_db) ;;
    esac
    log "$backend run $run: starting a fresh server with demo data"
    start_server "$url" --demo
    local token people before cpu0 cpu1 out=$WORK/loadgen-$backend.txt
    token=$(token_for demo clerk "$url")
    curl -sf -H "Authorization: Bearer $token" "http://$SERVER_ADDR/api/v1/people?limit=200" |
        jq -r '.items[] | select(.active) | .id' >"$WORK/people.txt"
    [ -s "$WORK/people.txt" ] || die "no people to address items to"
    before=$(sql "$url" "SELECT COUNT(*) FROM item")
    log "$backend run $run: $CONNECTIONS connections, ${WARMUP}s warm-up + ${DURATION}s measured"
    cpu0=$(server_cpu_ticks)
    "$LOADGEN" intake --addr "$SERVER_ADDR" --token "$token" --people-file "$WORK/people.txt" \
        --prefix "BN$(date +%s)" --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" \
        --idempotency-keys "$keys" >"$out"
    cpu1=$(server_cpu_ticks)
    local rss
    rss=$(server_peak_rss_kib)
    # Every answered request has been acknowledged; kill the server without letting it tidy up.
    stop_server KILL
    local created after added verdict throughput cpu_us
    created=$(value total_201 "$out")
    after=$(sql "$url" "SELECT COUNT(*) FROM item")
    added=$((after - before))
    if "$BIN" verify --db "$url" >"$WORK/verify-$backend.txt" 2>&1; then verdict="passes"; else verdict="**FAILS**" && FAILED=1; fi
    [ "$added" -eq "$created" ] || FAILED=1
    throughput=$(value throughput "$out")
    if [ "$keys" = yes ]; then
        KEYED[$backend]=$throughput
    else
        THROUGHPUT[$backend]="${THROUGHPUT[$backend]:-} $throughput"
    fi
    cpu_us=$(((cpu1 - cpu0) * 1000000 / CLK_TCK / (created > 0 ? created : 1)))
    printf '| %s | %s | **%s** | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$backend" "$run" "$throughput" \
        "$(value p50_ms "$out")" "$(value p95_ms "$out")" "$(value p99_ms "$out")" "$(value max_ms "$out")" \
        "$created" "$added" "$(($(value measured_non_2xx "$out") + $(value io_errors "$out")))" "$verdict" \
        "$cpu_us" "$((rss / 1024))" >>"$ROWS"
    log "$backend run $run: $throughput intakes/s, p99 $(value p99_ms "$out") ms; 201s $created, items added $added; verify $verdict"
    [ "$run" = 1 ] || return 0
    case $backend in
    sqlite)
        printf -- '- SQLite: journal_mode=%s (read back from the file), synchronous=FULL and one writer that commits\n  concurrent intakes together (group commit); each 201 is sent after the COMMIT that made it durable.\n' \
            "$(sqlite3 "${url#sqlite://}" 'PRAGMA journal_mode')" >>"$NOTES"
        ;;
    postgres)
        printf -- '- PostgreSQL %s: fsync=%s, synchronous_commit=%s, wal_sync_method=%s (server defaults); intakes\n  that arrive together share one transaction (group commit), each answered after its COMMIT.\n' \
            "$(sql "$url" 'SHOW server_version' | cut -d' ' -f1)" "$(sql "$url" 'SHOW fsync')" \
            "$(sql "$url" 'SHOW synchronous_commit')" "$(sql "$url" 'SHOW wal_sync_method')" >>"$NOTES"
        ;;
    esac
}

for b in "${BACKENDS[@]}"; do
    for r in $(seq 1 "$RUNS"); do
        run_backend "$b" "$r" no
    done
    run_backend "$b" keyed yes
done

# median LIST: the median of whitespace-separated integers (the lower middle one for even counts).
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

BODY=$WORK/section.md
{
    printf '## Durable intake throughput (HTTP)\n\n'
    printf 'Measured %s with `%s` (release build).\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "${COMMAND% }"
    printf -- '- Machine: %s. Load average before the run: %s, after: %s.\n' "$(machine_info)" "$LOAD_BEFORE" "$(loadavg)"
    printf -- '- Load: %s keep-alive connections on 127.0.0.1, each POSTing `/api/v1/items` (bearer token of the\n' "$CONNECTIONS"
    printf '  demo clerk, a unique tracking number, a random person of the directory) and waiting for the answer\n'
    printf '  before sending the next; %ss warm-up, then %ss measured. The load generator\n' "$WARMUP" "$DURATION"
    printf '  (`benches/loadgen`) runs on the same 2 cores as the server and takes its share of them.\n'
    printf -- '- Durability check: after the run the server is killed with SIGKILL; the items added to the database\n'
    printf '  must equal the 201 answers received (warm-up included), and `mailroom verify` must pass.\n'
    printf -- '- Runs marked "keyed" send a unique `Idempotency-Key` with every intake, as the console'"'"'s intake\n'
    printf '  screen does (the server records each key with its answer); they are not part of the median.\n'
    cat "$NOTES"
    printf '\n| Backend | Run | Intakes/s | p50 ms | p95 ms | p99 ms | max ms | 201s received | items added | errors | verify | server CPU µs/intake | server peak RSS MiB |\n'
    printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n'
    cat "$ROWS"
    printf '\n'
    for b in "${BACKENDS[@]}"; do
        printf -- '- %s: median %s intakes/s over %s runs (%s); keyed: %s intakes/s.\n' "$b" \
            "$(median "${THROUGHPUT[$b]}")" "$RUNS" "$(sed 's/^ //; s/ /, /g' <<<"${THROUGHPUT[$b]}")" "${KEYED[$b]}"
    done
    printf '\nTarget: at least 5,000 durable intakes/s on SQLite with 64 concurrent clients. '
    if [ -n "${THROUGHPUT[sqlite]:-}" ]; then
        sqlite_median=$(median "${THROUGHPUT[sqlite]}")
        if [ "$sqlite_median" -ge 5000 ]; then
            printf 'Met (median %s/s).\n' "$sqlite_median"
        else
            printf '**Not met**: median %s/s, %s %% short.\n' "$sqlite_median" \
                "$(awk -v m="$sqlite_median" 'BEGIN { printf "%.1f", (5000 - m) / 50 }')"
        fi
    else
        printf '(SQLite not run.)\n'
    fi
} >"$BODY"
replace_section intake "$BODY"
cat "$BODY" >&2
exit "$FAILED"
