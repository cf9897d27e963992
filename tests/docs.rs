//! The documents say what the code and the template do: the README's table of stack parameters
//! is the template's (names, defaults, descriptions), and every link between the README and
//! docs/ leads to a file and a heading that exist.

use std::collections::BTreeMap;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A parameter as the template declares it: its default (`None`: required) and description.
#[derive(Debug, Default)]
struct Parameter {
    default: Option<String>,
    description: String,
}

/// The template's `Parameters`, read from its YAML lines: `Default:` and `Description:` (one
/// line, or a folded `>-` block).
fn template_parameters() -> BTreeMap<String, Parameter> {
    let template = read("template.yaml");
    let mut lines = template.lines().skip_while(|l| *l != "Parameters:").skip(1);
    let mut params: BTreeMap<String, Parameter> = BTreeMap::new();
    let mut current = String::new();
    let mut folding = false;
    while let Some(line) = lines.next().filter(|l| l.is_empty() || l.starts_with(' ')) {
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
            if !name.starts_with([' ', '#']) {
                current = name.to_string();
                params.insert(current.clone(), Parameter::default());
                continue;
            }
        }
        let p = params.get_mut(&current).expect("a parameter");
        let field = line.trim_start();
        folding &= line.starts_with("      ");
        if folding {
            p.description = format!("{} {field}", p.description).trim().to_string();
        } else if let Some(v) = field.strip_prefix("Default: ") {
            p.default = Some(v.trim_matches('"').to_string());
        } else if let Some(v) = field.strip_prefix("Description: ") {
            folding = v == ">-";
            p.description = if folding {
                String::new()
            } else {
                v.to_string()
            };
        }
    }
    params
}

/// The README's rows `| \`Name\` | meaning | default |` in the table of stack parameters.
fn readme_parameters() -> BTreeMap<String, (String, String)> {
    let readme = read("README.md");
    let table = readme
        .split("| parameter | meaning | default |")
        .nth(1)
        .expect("the README's table of stack parameters");
    table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            let name = cells[0].trim_matches('`').to_string();
            (name, (cells[1].to_string(), cells[2].to_string()))
        })
        .collect()
}

#[test]
fn the_readmes_parameters_are_the_templates() {
    let template = template_parameters();
    let readme = readme_parameters();
    assert_eq!(
        readme.keys().collect::<Vec<_>>(),
        template.keys().collect::<Vec<_>>(),
        "the same parameters"
    );
    for (name, p) in &template {
        let (meaning, default) = &readme[name];
        let expected = match p.default.as_deref() {
            None => "— (required)".to_string(),
            Some("") => "empty".to_string(),
            Some(d) => format!("`{d}`"),
        };
        assert_eq!(default, &expected, "{name}'s default");
        if !p.description.is_empty() {
            assert_eq!(meaning, &p.description, "{name}'s description");
        }
    }
    assert_eq!(
        template["ClusterIdPrefix"].default.as_deref(),
        Some("clone-")
    );
}

/// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim_start_matches('#')
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn every_link_between_the_documents_leads_somewhere() {
    let mut documents = vec!["README.md".to_string()];
    for entry in std::fs::read_dir(Path::new(ROOT).join("docs")).expect("docs/") {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        documents.push(format!("docs/{name}"));
    }
    assert!(documents.len() >= 5, "{documents:?}");
    for doc in &documents {
        let text = read(doc);
        let dir = Path::new(doc).parent().unwrap_or(Path::new(""));
        for link in text.split("](").skip(1).filter_map(|s| s.split(')').next()) {
            if link.starts_with("http") || link.starts_with('<') {
                continue;
            }
            let (file, fragment) = link.split_once('#').unwrap_or((link, ""));
            let target = if file.is_empty() {
                doc.clone()
            } else {
                dir.join(file).to_string_lossy().to_string()
            };
            let body = read(&target);
            if !fragment.is_empty() {
                let found = body
                    .lines()
                    .filter(|l| l.starts_with('#'))
                    .any(|l| anchor(l) == fragment);
                assert!(
                    found,
                    "{doc}: link {link}: no heading #{fragment} in {target}"
                );
            }
        }
    }
}
