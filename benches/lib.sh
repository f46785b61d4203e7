# Shared helpers for the benchmark scripts (sourced, not run).
# Everything listens on 127.0.0.1 only; every wait is bounded.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release/mailroom
LOADGEN=$TARGET_DIR/loadgen/release/mailroom-loadgen
DOC=$ROOT/docs/PERFORMANCE.md
# PostgreSQL server to create throwaway databases on (no database name).
PG_BASE=${MAILROOM_BENCH_PG:-postgres://postgres@127.0.0.1:5432}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mailroom-bench.XXXXXX")
SERVER_PID=""
SERVER_ADDR=""

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

require_tools() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || die "$t is required"
    done
}

cleanup() {
    stop_server KILL || true
    local db
    if [ -f "$WORK/pg_databases" ]; then
        while read -r db; do
            psql -q "$PG_BASE/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
        done <"$WORK/pg_databases"
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

build() {
    log "building mailroom (release) and the load generator"
    (cd "$ROOT" && cargo build --release -p mailroom --target-dir "$TARGET_DIR" >&2)
    cargo build --release --manifest-path "$ROOT/benches/loadgen/Cargo.toml" --target-dir "$TARGET_DIR/loadgen" >&2
}

# A fresh PostgreSQL database; prints its URL. Callers take the URL with `$(new_pg_db)`, a
# subshell, so the name is recorded in a file for `cleanup` to drop, not in a variable.
new_pg_db() {
    local name
    touch "$WORK/pg_databases"
    name="mr_bench_$(date +%s)_$$_$(wc -l <"$WORK/pg_databases")"
    psql -q "$PG_BASE/postgres" -c "CREATE DATABASE $name" >/dev/null || die "cannot create database $name on $PG_BASE"
    echo "$name" >>"$WORK/pg_databases"
    printf '%s/%s\n' "$PG_BASE" "$name"
}

# start_server DB_URL [extra serve args…]: starts `mailroom serve` on a free loopback port and
# waits (bounded) until it answers; sets SERVER_PID and SERVER_ADDR.
start_server() {
    local url=$1
    shift
    local out=$WORK/serve.out
    : >"$out"
    # Attachments are encrypted at rest: a throwaway master key for the benchmark databases
    # (SQLite with --demo would keep one next to its file; PostgreSQL needs it configured).
    if [ -z "${MAILROOM_MASTER_KEY_FILE:-}" ]; then
        "$BIN" keys generate >"$WORK/master.keys"
        chmod 600 "$WORK/master.keys"
        export MAILROOM_MASTER_KEY_FILE=$WORK/master.keys
    fi
    "$BIN" serve --db "$url" --addr 127.0.0.1:0 "$@" >"$out" 2>"$WORK/serve.log" &
    SERVER_PID=$!
    local i
    for i in $(seq 1 600); do
        SERVER_ADDR=$(sed -n 's#^mailroom listening on http://\([0-9.:]*\)/.*#\1#p' "$out" | head -n 1)
        if [ -n "$SERVER_ADDR" ] && curl -sf "http://$SERVER_ADDR/healthz" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited: $(tail -n 5 "$WORK/serve.log")"
        sleep 0.2
    done
    die "the server did not come up within 120 s"
}

# stop_server [TERM|KILL]: stops the server started by start_server (only that process).
stop_server() {
    local sig=${1:-TERM}
    [ -n "$SERVER_PID" ] || return 0
    kill "-$sig" "$SERVER_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 150); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.2
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    { wait "$SERVER_PID"; } 2>/dev/null || true
    SERVER_PID=""
}

# CPU time (user + system, clock ticks) and peak resident memory (KiB) of the server.
server_cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
server_peak_rss_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status"; }
# server_rss_kib FIELD: the server's current RssAnon (private memory) or RssFile (mapped files).
server_rss_kib() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$SERVER_PID/status"; }
CLK_TCK=$(getconf CLK_TCK)

token_for() { "$BIN" token create --tenant "$1" --user "$2" --db "$3"; }

# sql URL QUERY: one value from the database (sqlite3 or psql).
sql() {
    case $1 in
    sqlite://*) sqlite3 "${1#sqlite://}" "$2" ;;
    *) psql -qtAX "$1" -c "$2" ;;
    esac
}

# value KEY FILE: the value of a `key=value` line.
value() { sed -n "s/^$1=//p" "$2" | head -n 1; }

machine_info() {
    local model mem
    model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    mem=$(awk '/^MemTotal:/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
    printf '%s CPUs (nproc), %s, %s RAM, Linux %s' "$(nproc)" "${model:-unknown CPU}" "$mem" "$(uname -r)"
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# replace_section NAME FILE: puts FILE's contents between the NAME markers of docs/PERFORMANCE.md
# (appending the section if it is not there yet).
replace_section() {
    local name=$1 body=$2
    local begin="<!-- bench:$name:begin -->" end="<!-- bench:$name:end -->"
    if [ ! -f "$DOC" ]; then
        printf '# Performance\n\nFigures below are written by the scripts in `benches/`; each section names the command that produced it.\n' >"$DOC"
    fi
    if grep -qF "$begin" "$DOC"; then
        awk -v begin="$begin" -v end="$end" -v body="$body" '
            $0 == begin { print; while ((getline line < body) > 0) print line; skip = 1; next }
            $0 == end { skip = 0 }
            !skip { print }
        ' "$DOC" >"$WORK/doc.new"
        mv "$WORK/doc.new" "$DOC"
    else
        { printf '\n%s\n' "$begin"; cat "$body"; printf '%s\n' "$end"; } >>"$DOC"
    fi
    log "updated the '$name' section of docs/PERFORMANCE.md"
}
