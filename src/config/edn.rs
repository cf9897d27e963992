//! A reader for the EDN subset the original's maintenance config was written in: maps, vectors,
//! lists and sets; keywords, strings, integers, booleans and nil; comments, commas and `#_`
//! discards. It reads into JSON values (keywords become strings), refuses anything else by name,
//! and refuses nesting deeper than `MAX_DEPTH`, so no input can exhaust the stack.

use serde_json::{Map, Value};

/// Deeper than any config needs; shallow enough for a 256 KiB stack.
pub const MAX_DEPTH: usize = 64;

/// Reads one EDN value (and nothing after it but whitespace and comments).
pub fn read(text: &str) -> Result<Value, String> {
    let mut r = Reader {
        chars: text.char_indices().peekable(),
        text,
    };
    let v = r.value(0)?.ok_or("no value")?;
    r.skip_blank();
    match r.chars.peek() {
        None => Ok(v),
        Some((at, _)) => Err(format!("unexpected text at offset {at}")),
    }
}

struct Reader<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    text: &'a str,
}

impl Reader<'_> {
    fn skip_blank(&mut self) {
        while let Some(&(_, c)) = self.chars.peek() {
            if c.is_whitespace() || c == ',' {
                self.chars.next();
            } else if c == ';' {
                for (_, c) in self.chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    /// The next value; `None` at a closing delimiter (left in place) or the end.
    fn value(&mut self, depth: usize) -> Result<Option<Value>, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        self.skip_blank();
        let Some(&(at, c)) = self.chars.peek() else {
            return Ok(None);
        };
        let v = match c {
            ']' | ')' | '}' => return Ok(None),
            '[' | '(' => {
                self.chars.next();
                Value::Array(self.items(depth, if c == '[' { ']' } else { ')' })?)
            }
            '{' => {
                self.chars.next();
                self.map(depth)?
            }
            '#' => return self.dispatch(depth),
            '"' => {
                self.chars.next();
                Value::String(self.string()?)
            }
            ':' => {
                self.chars.next();
                Value::String(self.token())
            }
            _ => atom(&self.token(), at)?,
        };
        Ok(Some(v))
    }

    /// `#{...}` (a set, read as a list) and `#_` (discard the next value).
    fn dispatch(&mut self, depth: usize) -> Result<Option<Value>, String> {
        self.chars.next();
        match self.chars.next() {
            Some((_, '{')) => Ok(Some(Value::Array(self.items(depth, '}')?))),
            Some((_, '_')) => {
                self.value(depth + 1)?
                    .ok_or("nothing to discard after #_")?;
                self.value(depth)
            }
            Some((at, c)) => Err(format!("unsupported EDN tag #{c} at offset {at}")),
            None => Err("text ends after #".into()),
        }
    }

    fn items(&mut self, depth: usize, close: char) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        while let Some(v) = self.value(depth + 1)? {
            out.push(v);
        }
        self.close(close)?;
        Ok(out)
    }

    fn map(&mut self, depth: usize) -> Result<Value, String> {
        let mut out = Map::new();
        while let Some(k) = self.value(depth + 1)? {
            let Value::String(key) = k else {
                return Err(format!("map keys must be keywords or strings, got {k}"));
            };
            let v = self
                .value(depth + 1)?
                .ok_or_else(|| format!("map key :{key} has no value"))?;
            out.insert(key, v);
        }
        self.close('}')?;
        Ok(Value::Object(out))
    }

    fn close(&mut self, close: char) -> Result<(), String> {
        match self.chars.next() {
            Some((_, c)) if c == close => Ok(()),
            Some((at, c)) => Err(format!("expected {close:?}, found {c:?} at offset {at}")),
            None => Err(format!("text ends before {close:?}")),
        }
    }

    fn token(&mut self) -> String {
        let mut out = String::new();
        while let Some(&(_, c)) = self.chars.peek() {
            if c.is_whitespace() || ",;\"()[]{}".contains(c) {
                break;
            }
            out.push(c);
            self.chars.next();
        }
        out
    }

    fn string(&mut self) -> Result<String, String> {
        let mut out = String::new();
        while let Some((at, c)) = self.chars.next() {
            match c {
                '"' => return Ok(out),
                '\\' => out.push(self.escape(at)?),
                c => out.push(c),
            }
        }
        Err(format!("unterminated string in {} bytes", self.text.len()))
    }

    fn escape(&mut self, at: usize) -> Result<char, String> {
        Ok(match self.chars.next().map(|(_, c)| c) {
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some(c @ ('"' | '\\')) => c,
            Some('u') => {
                let hex: String = (0..4)
                    .filter_map(|_| self.chars.next())
                    .map(|(_, c)| c)
                    .collect();
                u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("bad \\u escape at offset {at}"))?
            }
            _ => return Err(format!("bad escape at offset {at}")),
        })
    }
}

fn atom(token: &str, at: usize) -> Result<Value, String> {
    Ok(match token {
        "nil" => Value::Null,
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        t => match t.strip_suffix('N').unwrap_or(t).parse::<i64>() {
            Ok(n) => Value::from(n),
            // Decimals (capacities such as 0.5 ACU): plain digits and one point only.
            Err(_) => match t.parse::<f64>() {
                Ok(x) if x.is_finite() && t.chars().all(|c| c.is_ascii_digit() || c == '.') => {
                    Value::from(x)
                }
                _ => return Err(format!("unsupported EDN value {t:?} at offset {at}")),
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_config_subset() {
        let v = read(
            r#"; maintenance
            {:clusters [{:cluster-id "orders" :target-clone-slots 20, :dry-run? false
                         :note "a \"quoted\" \u00e9" :gone nil} #_{:cluster-id "skipped"}]
             :sets #{1 2} :list (3 4N)}"#,
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"clusters": [{"cluster-id": "orders", "target-clone-slots": 20, "dry-run?": false,
                "note": "a \"quoted\" é", "gone": null}], "sets": [1, 2], "list": [3, 4]})
        );
    }

    #[test]
    fn refuses_what_it_does_not_read() {
        for bad in [
            "{:a}",
            "[1",
            "{:a 1} x",
            "#inst \"2020\"",
            "1.5M",
            "1e3",
            "{[1] 2}",
            "\"open",
            "sym",
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert!(read(&deep).unwrap_err().contains("deeper"));
    }
}
