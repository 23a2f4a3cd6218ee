//! Reading a password without ever printing it.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, bail};

/// From `--password-file` (its first line), else the environment variable
/// `env_var`, else an interactive prompt (asked twice).
pub fn read_password(file: Option<&Path>, env_var: &str, what: &str) -> anyhow::Result<String> {
    if let Some(f) = file {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("cannot read the password file {}", f.display()))?;
        let pw = text.lines().next().unwrap_or_default().to_owned();
        if pw.is_empty() {
            bail!("the password file {} is empty", f.display());
        }
        return Ok(pw);
    }
    if let Ok(pw) = std::env::var(env_var)
        && !pw.is_empty()
    {
        return Ok(pw);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no password given for {what}: use --password-file FILE or set {env_var}");
    }
    let first = rpassword::prompt_password(format!("Password for {what}: "))
        .context("cannot read the password")?;
    let second = rpassword::prompt_password("Again: ").context("cannot read the password")?;
    if first != second {
        bail!("the two passwords differ");
    }
    Ok(first)
}
