//! The CLI's two pieces of terminal output, by hand (they replaced comfy-table and indicatif,
//! which cost more of the Lambda zip than these few lines): a table with borders only, and a
//! spinner on stderr while `provision --wait` polls.

use std::fmt;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A table drawn with borders only (comfy-table's `UTF8_BORDERS_ONLY`): a box around it, a
/// double rule under the header, columns one blank apart with a blank of padding on each side.
/// A cell may hold several lines; its row is as tall as its tallest cell.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn add_row(&mut self, row: Vec<String>) -> &mut Table {
        self.rows.push(row);
        self
    }

    fn widths(&self) -> Vec<usize> {
        let columns = std::iter::once(&self.header)
            .chain(&self.rows)
            .map(Vec::len)
            .max()
            .unwrap_or(0);
        (0..columns)
            .map(|c| {
                std::iter::once(&self.header)
                    .chain(&self.rows)
                    .filter_map(|r| r.get(c))
                    .flat_map(|cell| cell.lines())
                    .map(|line| line.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }
}

/// One table row, as many text lines as its tallest cell.
fn write_row(f: &mut fmt::Formatter<'_>, widths: &[usize], row: &[String]) -> fmt::Result {
    let cells: Vec<Vec<&str>> = (0..widths.len())
        .map(|c| row.get(c).map_or(Vec::new(), |cell| cell.lines().collect()))
        .collect();
    let height = cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
    for line in 0..height {
        let text: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, &w)| format!("{:w$}", cell.get(line).copied().unwrap_or("")))
            .collect();
        writeln!(f, "│ {} │", text.join("   "))?;
    }
    Ok(())
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let widths = self.widths();
        let inner = widths.iter().map(|w| w + 2).sum::<usize>() + widths.len().saturating_sub(1);
        writeln!(f, "┌{}┐", "─".repeat(inner))?;
        write_row(f, &widths, &self.header)?;
        writeln!(f, "╞{}╡", "═".repeat(inner))?;
        for row in &self.rows {
            write_row(f, &widths, row)?;
        }
        write!(f, "└{}┘", "─".repeat(inner))
    }
}

const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// The spinner's line at tick `n`: a frame and the message, clearing what was there before.
fn spinner_line(n: usize, message: &str) -> String {
    format!("\r{} {message}\x1b[K", FRAMES[n % FRAMES.len()])
}

/// A spinner with a message on stderr, redrawn every 200 ms; drawn only when stderr is a
/// terminal. `finish_and_clear` (or dropping it) stops it and clears its line.
pub struct Spinner {
    message: Arc<Mutex<String>>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Spinner {
    pub fn new() -> Spinner {
        let message = Arc::new(Mutex::new(String::new()));
        let ticker = std::io::stderr().is_terminal().then(|| {
            let message = message.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(200));
                for n in 0.. {
                    tick.tick().await;
                    let line =
                        spinner_line(n, &message.lock().map(|m| m.clone()).unwrap_or_default());
                    let mut err = std::io::stderr().lock();
                    let _ = err.write_all(line.as_bytes());
                    let _ = err.flush();
                }
            })
        });
        Spinner { message, ticker }
    }

    pub fn set_message(&self, message: impl Into<String>) {
        if let Ok(mut m) = self.message.lock() {
            *m = message.into();
        }
    }

    pub fn finish_and_clear(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
            let _ = std::io::stderr().write_all(b"\r\x1b[K");
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_has_borders_a_header_rule_and_padded_columns() {
        let mut t = Table::new(&["NAME", "N"]);
        t.add_row(vec!["orders".into(), "12".into()]);
        t.add_row(vec!["a".into(), "1".into()]);
        let expected = [
            "┌─────────────┐",
            "│ NAME     N  │",
            "╞═════════════╡",
            "│ orders   12 │",
            "│ a        1  │",
            "└─────────────┘",
        ];
        assert_eq!(t.to_string(), expected.join("\n"));
    }

    #[test]
    fn a_cell_of_several_lines_makes_its_row_taller() {
        let mut t = Table::new(&["ID", "KEPT"]);
        t.add_row(vec!["x".into(), "a: old\nbb: new".into()]);
        let expected = [
            "┌──────────────┐",
            "│ ID   KEPT    │",
            "╞══════════════╡",
            "│ x    a: old  │",
            "│      bb: new │",
            "└──────────────┘",
        ];
        assert_eq!(t.to_string(), expected.join("\n"));
    }

    #[test]
    fn the_spinner_line_turns_and_clears_the_rest_of_the_line() {
        assert_eq!(spinner_line(0, "restoring"), "\r⠋ restoring\x1b[K");
        assert_eq!(spinner_line(11, "x"), "\r⠙ x\x1b[K");
    }
}
