//! Runs a fuzz target's checks without libFuzzer, on any toolchain: over every file given
//! (directories are walked), then, with `--mutate SECONDS`, over random mutations of those files
//! for that long. `mailroom-fuzz-replay TARGET [--mutate SECONDS] PATH...`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn target(name: &str) -> Option<fn(&[u8])> {
    Some(match name {
        "csv_import" => mailroom_fuzz::csv_import,
        "signature" => mailroom_fuzz::signature,
        "receipt" => mailroom_fuzz::receipt,
        "tracking" => mailroom_fuzz::tracking,
        "outbound_url" => mailroom_fuzz::outbound_url,
        _ => return None,
    })
}

fn files(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        if let Ok(rd) = std::fs::read_dir(p) {
            let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            entries.sort();
            for e in entries {
                files(&e, out);
            }
        }
    } else {
        out.push(p.to_path_buf());
    }
}

/// xorshift64*: a small deterministic generator, seeded from the clock.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

const INTERESTING: &[&[u8]] = &[
    b",",
    b"\"",
    b"\n",
    b"\r\n",
    b"\xEF\xBB\xBF",
    b"\x00",
    b"\xFF",
    b";",
    b"-",
    b"data:image/png;base64,",
    b"<svg",
    b" onload=",
    b"<script>",
    b"&#",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"\\u0000",
    b"%",
    b"@",
    b"[::1]",
    b"http://",
    b"https://",
    b"/32",
    b"0x7f.1",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let at = rng.below(input.len() + 1);
        match rng.below(6) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] ^= 1 << rng.below(8);
            }
            1 if !input.is_empty() => {
                let end = (at + rng.below(16)).min(input.len());
                input.drain(at..end);
            }
            2 => {
                let b = (rng.next() & 0xff) as u8;
                input.insert(at, b);
            }
            3 => {
                let tok = INTERESTING[rng.below(INTERESTING.len())];
                input.splice(at..at, tok.iter().copied());
            }
            4 if !seeds.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len());
                let to = (from + rng.below(64)).min(other.len());
                input.splice(at..at, other[from..to].iter().copied());
            }
            _ => {
                let len = input.len();
                input.truncate(rng.below(len + 1));
            }
        }
    }
    input.truncate(1 << 20);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(name) = args.next() else {
        eprintln!("usage: mailroom-fuzz-replay TARGET [--mutate SECONDS] PATH...");
        std::process::exit(2);
    };
    let Some(run) = target(&name) else {
        eprintln!("unknown target {name}: csv_import, signature, receipt, tracking, outbound_url");
        std::process::exit(2);
    };
    let mut secs = 0u64;
    let mut paths = Vec::new();
    while let Some(a) = args.next() {
        if a == "--mutate" {
            secs = args.next().and_then(|s| s.parse().ok()).unwrap_or(60);
        } else {
            files(Path::new(&a), &mut paths);
        }
    }
    let mut seeds = Vec::new();
    for p in &paths {
        let Ok(data) = std::fs::read(p) else { continue };
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            eprintln!("{name}: FAILED on {}", p.display());
            std::process::exit(1);
        }
        seeds.push(data);
    }
    println!("{name}: {} inputs replayed", seeds.len());
    if secs == 0 {
        return;
    }
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut runs = 0u64;
    while Instant::now() < deadline {
        for _ in 0..256 {
            let mut input = if seeds.is_empty() { Vec::new() } else { seeds[rng.below(seeds.len())].clone() };
            mutate(&mut rng, &seeds, &mut input);
            if std::panic::catch_unwind(|| run(&input)).is_err() {
                let dir = Path::new("artifacts").join(&name);
                let file = dir.join(format!("replay-crash-{seed}-{runs}"));
                let saved = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&file, &input));
                eprintln!("{name}: FAILED after {runs} inputs; input saved to {} ({saved:?})", file.display());
                std::process::exit(1);
            }
            runs += 1;
        }
    }
    println!("{name}: {runs} mutated inputs in {secs} s (seed {seed}), no failure");
}
