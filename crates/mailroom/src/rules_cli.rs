//! `mailroom rules`: check a rule set and run rule fixtures, offline (no database).

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use mailroom_domain::rules::{DEFAULT_PACK, RuleSet, run_fixtures};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Run rule fixtures (items in, expected decisions out) and print each case's result with
    /// the differences. Exits 1 when a case fails, 2 when the rules or fixtures are invalid.
    Test {
        /// The fixture file (TOML, `[[case]]` tables; see docs/RULES.md).
        file: PathBuf,
        /// The rules to test; without it, the default pack.
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Validate a rule set; prints its rules, or the problem with its line and column.
    Check {
        /// The rules (TOML; see docs/RULES.md).
        file: PathBuf,
    },
    /// Print the default rule pack.
    Default,
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn load(path: Option<&Path>) -> Result<(String, RuleSet)> {
    let (name, src) = match path {
        Some(p) => (p.display().to_string(), read(p)?),
        None => ("the default pack".to_string(), DEFAULT_PACK.to_string()),
    };
    match RuleSet::parse(&src) {
        Ok(rs) => Ok((name, rs)),
        Err(e) => bail!("{name}: {e}"),
    }
}

pub fn run(command: RulesCommand) -> Result<ExitCode> {
    match command {
        RulesCommand::Check { file } => {
            let (name, rs) = load(Some(&file))?;
            let names = rs.rule_names();
            println!("{name}: valid, {} rules", names.len());
            for (i, n) in names.iter().enumerate() {
                println!("  {:>3}. {n}", i + 1);
            }
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Default => {
            print!("{DEFAULT_PACK}");
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Test { file, rules } => {
            let (name, rs) = load(rules.as_deref())?;
            let src = read(&file)?;
            let results = match run_fixtures(&rs, &src) {
                Ok(r) => r,
                Err(e) => bail!("{}: {e}", file.display()),
            };
            let failed = results.iter().filter(|r| !r.passed()).count();
            for r in &results {
                if r.passed() {
                    println!("PASS  {} (line {})", r.name, r.line);
                    continue;
                }
                println!("FAIL  {} (line {})", r.name, r.line);
                for m in &r.mismatches {
                    println!("        {}: expected {}, got {}", m.field, m.expected, m.actual);
                }
                for f in &r.decision.fired {
                    println!("        fired {}: {}", f.rule, f.reasons.join("; "));
                }
            }
            println!("{} cases against {name}: {} passed, {failed} failed", results.len(), results.len() - failed);
            Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}
