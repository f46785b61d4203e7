//! Prometheus metrics in text format, kept in process (each node exposes its own).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    intakes: AtomicU64,
}

impl Metrics {
    pub fn intake(&self) {
        self.intakes.fetch_add(1, Ordering::Relaxed);
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_string(), route.to_string(), status)).or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(route.to_string()).or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                if seconds <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum += seconds;
            h.count += 1;
        }
    }

    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "# HELP mailroom_http_requests_total HTTP requests by method, route and status.");
        let _ = writeln!(s, "# TYPE mailroom_http_requests_total counter");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    s,
                    "mailroom_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(s, "# HELP mailroom_http_request_duration_seconds HTTP request latency by route.");
        let _ = writeln!(s, "# TYPE mailroom_http_request_duration_seconds histogram");
        if let Ok(l) = self.latency.lock() {
            for (route, h) in l.iter() {
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        s,
                        "mailroom_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    s,
                    "mailroom_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(s, "mailroom_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
                let _ = writeln!(s, "mailroom_http_request_duration_seconds_count{{route=\"{route}\"}} {}", h.count);
            }
        }
        let _ = writeln!(s, "# HELP mailroom_items_registered_total Items registered through the API since start.");
        let _ = writeln!(s, "# TYPE mailroom_items_registered_total counter");
        let _ = writeln!(s, "mailroom_items_registered_total {}", self.intakes.load(Ordering::Relaxed));
        s
    }
}
