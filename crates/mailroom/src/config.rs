//! The configuration file: a TOML file whose keys are the `MAILROOM_*` settings without their
//! prefix, in lower case (`smtp_url = "smtp://relay:25"` is `MAILROOM_SMTP_URL`). Tables nest
//! with an underscore (`[smtp] url = …` is also `MAILROOM_SMTP_URL`).
//!
//! Precedence: built-in defaults, then the file, then the environment, then command-line flags.
//! The file is named by `--config PATH` or `MAILROOM_CONFIG`; without either, nothing is read.
//! Loading happens before the runtime starts, so the values can be placed in the process
//! environment, where every setting is already looked up.

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::ffi::OsString;

/// The configuration file named on the command line (`--config PATH` or `--config=PATH`) or by
/// `MAILROOM_CONFIG`.
pub fn config_path(args: &[OsString]) -> Option<OsString> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if a == "--config" {
            return it.next().cloned();
        }
        if let Some(v) = a.to_str().and_then(|s| s.strip_prefix("--config=")) {
            return Some(v.into());
        }
    }
    std::env::var_os("MAILROOM_CONFIG").filter(|v| !v.is_empty())
}

/// The settings a configuration file gives, as `MAILROOM_*` names and values.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>> {
    let table: toml::Table = text.parse().context("the configuration file is not valid TOML")?;
    let mut out = BTreeMap::new();
    flatten("", &table, &mut out)?;
    Ok(out)
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, String>) -> Result<()> {
    for (k, v) in table {
        let key = k.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            bail!("configuration key {k:?}: only letters, digits, '_' and '-' are allowed");
        }
        let name = format!("{prefix}{}", key.replace('-', "_").to_ascii_uppercase());
        let value = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Table(t) => {
                flatten(&format!("{name}_"), t, out)?;
                continue;
            }
            toml::Value::Array(items) => {
                let mut parts = Vec::with_capacity(items.len());
                for i in items {
                    match i {
                        toml::Value::String(s) => parts.push(s.clone()),
                        toml::Value::Integer(n) => parts.push(n.to_string()),
                        _ => bail!("configuration key {name}: a list may hold only strings and numbers"),
                    }
                }
                parts.join(",")
            }
            toml::Value::Datetime(d) => d.to_string(),
        };
        let full = format!("MAILROOM_{name}");
        if full == "MAILROOM_CONFIG" {
            bail!("the configuration file cannot name another configuration file");
        }
        out.insert(full, value);
    }
    Ok(())
}

/// Reads the configuration file, if one is named, and puts each of its settings into the
/// process environment unless the environment already sets it. Call before any thread starts.
pub fn load(args: &[OsString]) -> Result<Vec<String>> {
    let Some(path) = config_path(args) else { return Ok(Vec::new()) };
    let shown = path.to_string_lossy().into_owned();
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read the configuration file {shown}"))?;
    let settings = parse(&text).with_context(|| format!("configuration file {shown}"))?;
    let mut applied = Vec::new();
    for (k, v) in settings {
        if std::env::var_os(&k).is_none() {
            // SAFETY: called from `main` before the async runtime or any other thread exists,
            // so nothing can read the environment concurrently.
            unsafe { std::env::set_var(&k, v) };
            applied.push(k);
        }
    }
    Ok(applied)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_environment_names() {
        let s = parse(
            "smtp_url = \"smtp://relay:25\"\nsweep-secs = 30\n[smtp]\nfrom = \"Mailroom <m@x.cn>\"\n\
             [outbound]\nallow = [\"10.0.0.0/8\", \"hooks.intranet\"]\n",
        )
        .unwrap();
        assert_eq!(s["MAILROOM_SMTP_URL"], "smtp://relay:25");
        assert_eq!(s["MAILROOM_SWEEP_SECS"], "30");
        assert_eq!(s["MAILROOM_SMTP_FROM"], "Mailroom <m@x.cn>");
        assert_eq!(s["MAILROOM_OUTBOUND_ALLOW"], "10.0.0.0/8,hooks.intranet");
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        assert!(parse("smtp_url = ").is_err());
        assert!(parse("\"a b\" = 1").unwrap_err().to_string().contains("only letters"));
        assert!(parse("config = \"x\"").is_err());
        assert!(parse("x = [{a = 1}]").is_err());
    }

    #[test]
    fn the_path_comes_from_the_flag() {
        let a: Vec<OsString> = ["mailroom", "serve", "--config", "/etc/m.toml"].iter().map(Into::into).collect();
        assert_eq!(config_path(&a), Some("/etc/m.toml".into()));
        let a: Vec<OsString> = ["mailroom", "--config=/x.toml", "serve"].iter().map(Into::into).collect();
        assert_eq!(config_path(&a), Some("/x.toml".into()));
    }
}
