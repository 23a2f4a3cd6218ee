//! A strict reader of the OpenMetrics text the nodes' `/metrics` writes,
//! shared by the API's test and the two-node tests, so that both hold the
//! output to the same grammar.

use std::collections::BTreeMap;

use anyhow::{Context, ensure};

/// Reads `text` strictly: every line is a `# HELP`, `# TYPE` or `# UNIT`
/// of a declared `passerelle_` family, a sample `name{labels} value` of
/// one, or the final `# EOF`. Returns the samples, keyed by the series as
/// written (name with its labels), or what broke the grammar.
pub fn parse_openmetrics(text: &str) -> anyhow::Result<BTreeMap<String, f64>> {
    let mut families: Vec<String> = Vec::new();
    let mut samples = BTreeMap::new();
    let lines: Vec<&str> = text.lines().collect();
    ensure!(lines.last() == Some(&"# EOF"), "no final # EOF: {text}");
    for line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut words = rest.splitn(3, ' ');
            let kind = words.next().unwrap_or("");
            let name = words.next().unwrap_or("");
            ensure!(matches!(kind, "HELP" | "TYPE" | "UNIT"), "{line}");
            ensure!(name.starts_with("passerelle_"), "{line}");
            if kind == "TYPE" {
                let t = words.next().unwrap_or("");
                ensure!(matches!(t, "counter" | "gauge" | "histogram"), "{line}");
                families.push(name.to_owned());
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').context("a sample has a value")?;
        let value: f64 = value.parse().with_context(|| line.to_string())?;
        let name = series.split('{').next().unwrap_or("");
        ensure!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        ensure!(
            families.iter().any(|f| name.starts_with(f.as_str())),
            "a sample of no declared family: {line}"
        );
        let labels = &series[name.len()..];
        if !labels.is_empty() {
            ensure!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            for pair in labels[1..labels.len() - 1].split("\",") {
                let (k, v) = pair.split_once("=\"").with_context(|| line.to_string())?;
                ensure!(!k.is_empty() && !v.contains('\n'), "{line}");
            }
        }
        samples.insert(series.to_owned(), value);
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_samples_and_refuses_what_breaks_the_grammar() {
        let text = "# HELP passerelle_x A gauge.\n# TYPE passerelle_x gauge\n\
                    passerelle_x{edge=\"edge-1\",space=\"s\"} 3\npasserelle_x 1.5\n# EOF\n";
        let s = parse_openmetrics(text).expect("valid");
        assert_eq!(
            s.get(r#"passerelle_x{edge="edge-1",space="s"}"#),
            Some(&3.0)
        );
        assert_eq!(s.get("passerelle_x"), Some(&1.5));
        for bad in [
            "passerelle_x 1\n",
            "passerelle_y 1\n# EOF\n",
            "# TYPE passerelle_x gauge\npasserelle_x one\n# EOF\n",
            "# TYPE other gauge\n# EOF\n",
        ] {
            assert!(parse_openmetrics(bad).is_err(), "{bad}");
        }
    }
}
