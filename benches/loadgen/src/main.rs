//! A small HTTP/1.1 load generator for the mailroom benchmarks.
//!
//! Every connection is a keep-alive loop that sends one request, waits for the whole response
//! and records its latency. When the run ends each connection finishes the request it has in
//! flight, so the status counts are exact (the intake benchmark compares them with the database).
//!
//! ```text
//! loadgen intake --addr HOST:PORT --token T --people-file F --prefix P [--idempotency-keys yes|no]
//!                [common options]
//! loadgen get    --addr HOST:PORT --token T --paths-file F [common options]
//! common options: --connections N (64) --duration SECS (20) --warmup SECS (2) --threads N (1)
//!                 --rate REQ_PER_SEC (open loop: latency counts from the scheduled send time, less
//!                 up to 2 ms the timer fired late, so waiting for a busy connection shows)
//! ```
//! Results are printed as `key=value` lines.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type Res<T> = Result<T, String>;

/// How late an open-loop send may be before the delay counts as latency (timer granularity).
const TIMER_SLACK: Duration = Duration::from_millis(2);

enum Mode {
    /// POST /api/v1/items with a unique tracking number per request, and with a unique
    /// `Idempotency-Key` if `keys` (as the console's intake screen sends).
    Intake { people: Vec<String>, prefix: String, keys: bool },
    /// GET one of the paths, chosen at random.
    Get { paths: Vec<String> },
}

struct Opts {
    addr: String,
    token: String,
    connections: usize,
    duration: Duration,
    warmup: Duration,
    threads: usize,
    rate: Option<f64>,
    mode: Mode,
}

#[derive(Default)]
struct Stats {
    /// Latencies in microseconds of requests completed in the measured window.
    latencies: Vec<u32>,
    measured_2xx: u64,
    measured_other: u64,
    /// Over the whole run, warm-up included.
    total_201: u64,
    total_200: u64,
    total_other: u64,
    io_errors: u64,
}

fn usage() -> String {
    "usage: loadgen intake|get --addr HOST:PORT --token T (--people-file F --prefix P [--idempotency-keys yes|no] | --paths-file F) \
     [--connections N] [--duration SECS] [--warmup SECS] [--threads N] [--rate R]"
        .to_string()
}

fn lines_of(path: &str) -> Res<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let v: Vec<String> = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
    if v.is_empty() {
        return Err(format!("{path} is empty"));
    }
    Ok(v)
}

fn parse_args() -> Res<Opts> {
    let mut args = std::env::args().skip(1);
    let kind = args.next().ok_or_else(usage)?;
    let get = |name: &str, v: Option<String>| v.ok_or_else(|| format!("{name} needs a value"));
    let (mut addr, mut token, mut people, mut prefix, mut paths) = (None, None, None, None, None);
    let mut keys = false;
    let (mut connections, mut duration, mut warmup, mut threads, mut rate) = (64usize, 20.0f64, 2.0f64, 1usize, None);
    while let Some(a) = args.next() {
        let v = get(&a, args.next())?;
        let num = |v: &str| v.parse::<f64>().map_err(|_| format!("{a}: not a number: {v}"));
        match a.as_str() {
            "--addr" => addr = Some(v),
            "--token" => token = Some(v),
            "--people-file" => people = Some(lines_of(&v)?),
            "--prefix" => prefix = Some(v),
            "--idempotency-keys" => {
                keys = match v.as_str() {
                    "yes" => true,
                    "no" => false,
                    _ => return Err("--idempotency-keys takes yes or no".into()),
                }
            }
            "--paths-file" => paths = Some(lines_of(&v)?),
            "--connections" => connections = num(&v)? as usize,
            "--duration" => duration = num(&v)?,
            "--warmup" => warmup = num(&v)?,
            "--threads" => threads = num(&v)? as usize,
            "--rate" => rate = Some(num(&v)?),
            _ => return Err(format!("unknown option {a}\n{}", usage())),
        }
    }
    let mode = match kind.as_str() {
        "intake" => {
            let prefix = prefix.ok_or("intake needs --prefix")?;
            if !prefix.bytes().all(|b| b.is_ascii_alphanumeric()) || prefix.len() > 40 {
                return Err("--prefix must be at most 40 letters and digits".into());
            }
            Mode::Intake { people: people.ok_or("intake needs --people-file")?, prefix, keys }
        }
        "get" => Mode::Get { paths: paths.ok_or("get needs --paths-file")? },
        _ => return Err(usage()),
    };
    if connections == 0 || connections > 4096 || threads == 0 || !(0.5..=3600.0).contains(&duration) {
        return Err("connections must be 1-4096, threads at least 1, duration 0.5-3600 s".into());
    }
    if !(0.0..=600.0).contains(&warmup) || rate.is_some_and(|r| r <= 0.0) {
        return Err("warmup must be 0-600 s and rate positive".into());
    }
    Ok(Opts {
        addr: addr.ok_or("--addr is required")?,
        token: token.ok_or("--token is required")?,
        connections,
        duration: Duration::from_secs_f64(duration),
        warmup: Duration::from_secs_f64(warmup),
        threads,
        rate,
        mode,
    })
}

/// xorshift64*: enough randomness to spread requests over paths and people.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn build_request(opts: &Opts, conn: usize, seq: u64, rng: &mut Rng) -> Vec<u8> {
    match &opts.mode {
        Mode::Intake { people, prefix, keys } => {
            let person = &people[rng.below(people.len())];
            let body = format!(
                "{{\"tracking_number\":\"{prefix}C{conn:04}N{seq:09}\",\"recipient\":{{\"person_id\":\"{person}\"}},\"kind\":\"parcel\"}}"
            );
            let key = if *keys { format!("Idempotency-Key: {prefix}-{conn}-{seq}\r\n") } else { String::new() };
            format!(
                "POST /api/v1/items HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
                 {key}Content-Length: {}\r\n\r\n{body}",
                opts.addr,
                opts.token,
                body.len()
            )
            .into_bytes()
        }
        Mode::Get { paths } => {
            let path = &paths[rng.below(paths.len())];
            format!("GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\r\n", opts.addr, opts.token)
                .into_bytes()
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads more bytes into `buf`; an orderly close is an error here (we always expect more).
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Res<()> {
    let mut chunk = [0u8; 16384];
    let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
    if n == 0 {
        return Err("connection closed".into());
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// Reads one whole response (Content-Length or chunked) and returns its status code.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Res<u16> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        fill(stream, buf).await?;
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| "response head is not UTF-8".to_string())?;
    let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or("bad status line")?;
    let mut length = None;
    let mut chunked = false;
    for line in head.split("\r\n").skip(1) {
        if let Some((k, v)) = line.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "content-length" {
                length = Some(v.parse::<usize>().map_err(|_| "bad content-length")?);
            } else if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
    }
    buf.drain(..head_end);
    if chunked {
        loop {
            let line_end = loop {
                if let Some(i) = find(buf, b"\r\n") {
                    break i;
                }
                fill(stream, buf).await?;
            };
            let size_text = std::str::from_utf8(&buf[..line_end]).map_err(|_| "bad chunk size")?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| "bad chunk size")?;
            let need = line_end + 2 + size + 2;
            while buf.len() < need {
                fill(stream, buf).await?;
            }
            buf.drain(..need);
            if size == 0 {
                break;
            }
        }
    } else {
        let len = length.unwrap_or(0);
        while buf.len() < len {
            fill(stream, buf).await?;
        }
        buf.drain(..len);
    }
    Ok(status)
}

async fn connect(addr: &str) -> Res<TcpStream> {
    let s = TcpStream::connect(addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(s)
}

async fn connection(opts: Arc<Opts>, conn: usize, start: Instant) -> Stats {
    let mut st = Stats::default();
    let measure_from = start + opts.warmup;
    let end = measure_from + opts.duration;
    let mut rng =
        Rng(0x9E37_79B9_7F4A_7C15 ^ ((conn as u64 + 1) * 0x1234_5678_9ABC_DEF1) ^ start.elapsed().as_nanos() as u64);
    // Open loop: this connection's share of the rate, staggered across connections.
    let interval = opts.rate.map(|r| Duration::from_secs_f64(opts.connections as f64 / r));
    let mut next_send = start + interval.map(|i| i.mul_f64(conn as f64 / opts.connections as f64)).unwrap_or_default();
    let mut stream: Option<TcpStream> = None;
    let mut buf = Vec::with_capacity(16384);
    let mut seq = 0u64;
    let mut failures_in_a_row = 0u32;
    loop {
        if interval.is_some() {
            if next_send >= end {
                break;
            }
            tokio::time::sleep_until(next_send.into()).await;
        } else if Instant::now() >= end {
            break;
        }
        let scheduled = if interval.is_some() { next_send } else { Instant::now() };
        // The timer has millisecond granularity: forgive that much lateness of the sender, but
        // count any longer wait (the connection still busy with the previous request) as latency.
        let counted_from = scheduled.max(Instant::now().min(scheduled + TIMER_SLACK));
        if let Some(i) = interval {
            next_send += i;
        }
        seq += 1;
        let req = build_request(&opts, conn, seq, &mut rng);
        let s = match stream.as_mut() {
            Some(s) => s,
            None => match connect(&opts.addr).await {
                Ok(s) => stream.insert(s),
                Err(e) => {
                    st.io_errors += 1;
                    failures_in_a_row += 1;
                    if failures_in_a_row > 50 {
                        eprintln!("connection {conn}: giving up: {e}");
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        buf.clear();
        let result = match s.write_all(&req).await {
            Ok(()) => read_response(s, &mut buf).await,
            Err(e) => Err(e.to_string()),
        };
        let done = Instant::now();
        match result {
            Ok(status) => {
                failures_in_a_row = 0;
                match status {
                    201 => st.total_201 += 1,
                    200 => st.total_200 += 1,
                    _ => st.total_other += 1,
                }
                if scheduled >= measure_from {
                    if (200..300).contains(&status) {
                        st.measured_2xx += 1;
                    } else {
                        st.measured_other += 1;
                    }
                    st.latencies.push(done.duration_since(counted_from).as_micros().min(u32::MAX as u128) as u32);
                }
            }
            Err(_) => {
                // The request may or may not have been processed; the intake check reports it.
                st.io_errors += 1;
                stream = None;
            }
        }
    }
    st
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn main() -> std::process::ExitCode {
    let opts = match parse_args() {
        Ok(o) => Arc::new(o),
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(opts.threads).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let all = rt.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = (0..opts.connections).map(|c| tokio::spawn(connection(opts.clone(), c, start))).collect();
        let mut all = Stats::default();
        for t in tasks {
            if let Ok(s) = t.await {
                all.latencies.extend(s.latencies);
                all.measured_2xx += s.measured_2xx;
                all.measured_other += s.measured_other;
                all.total_201 += s.total_201;
                all.total_200 += s.total_200;
                all.total_other += s.total_other;
                all.io_errors += s.io_errors;
            } else {
                all.io_errors += 1;
            }
        }
        all
    });
    let mut lat = all.latencies;
    lat.sort_unstable();
    let secs = opts.duration.as_secs_f64();
    let measured = all.measured_2xx + all.measured_other;
    println!("connections={}", opts.connections);
    println!("duration_s={secs}");
    println!("warmup_s={}", opts.warmup.as_secs_f64());
    println!("offered_rate={}", opts.rate.map(|r| format!("{r}")).unwrap_or_else(|| "closed-loop".into()));
    println!("requests={measured}");
    println!("throughput={:.0}", all.measured_2xx as f64 / secs);
    println!("measured_2xx={}", all.measured_2xx);
    println!("measured_non_2xx={}", all.measured_other);
    println!("total_201={}", all.total_201);
    println!("total_200={}", all.total_200);
    println!("total_other_status={}", all.total_other);
    println!("io_errors={}", all.io_errors);
    for (name, p) in [("p50", 50.0), ("p90", 90.0), ("p95", 95.0), ("p99", 99.0), ("p999", 99.9)] {
        println!("{name}_ms={:.2}", percentile(&lat, p));
    }
    println!("max_ms={:.2}", lat.last().copied().unwrap_or(0) as f64 / 1000.0);
    std::process::ExitCode::SUCCESS
}
