//! Loopback HTTP servers for the tests. `serve` reads each request whole (head and body, several
//! on one connection) and answers as its handler says. `start` is a ResponseURL stand-in on it:
//! it records every request's raw headers and body, answering with queued statuses (200 once the
//! queue is empty; 0 never answers).

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone)]
pub struct Captured {
    pub head: String,
    pub body: Vec<u8>,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// What a server answers to one request.
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    /// Ends the connection after this reply.
    pub close: bool,
}

type Handler = dyn Fn(&Captured) -> Option<Reply> + Send + Sync;

/// Starts a server that answers each request as `answer` says (`None`: never, the connection
/// stays open, unanswered); returns its base URL.
pub async fn serve(answer: impl Fn(&Captured) -> Option<Reply> + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answer: Arc<Handler> = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(connection(sock, answer.clone()));
        }
    });
    url
}

async fn connection(mut sock: TcpStream, answer: Arc<Handler>) {
    let mut buf = Vec::new();
    while let Some(request) = read_request(&mut sock, &mut buf).await {
        let Some(reply) = answer(&request) else {
            return std::future::pending::<()>().await;
        };
        let close = if reply.close {
            "connection: close\r\n"
        } else {
            ""
        };
        let text = format!(
            "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\n{close}\r\n{}",
            reply.status,
            reply.content_type,
            reply.body.len(),
            reply.body
        );
        if sock.write_all(text.as_bytes()).await.is_err() || reply.close {
            return;
        }
    }
}

/// The next request on the connection, once its head and `content-length` bytes of body are
/// in; `None` when the client closed the connection first.
async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Captured> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(request) = take_request(buf) {
            return Some(request);
        }
        let n = sock.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Takes one whole request off the front of `buf`, if there is one.
fn take_request(buf: &mut Vec<u8>) -> Option<Captured> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    if buf.len() < head_end + len {
        return None;
    }
    let body = buf[head_end..head_end + len].to_vec();
    buf.drain(..head_end + len);
    Some(Captured { head, body })
}

#[derive(Clone, Default)]
pub struct Capture {
    pub requests: Arc<Mutex<Vec<Captured>>>,
    statuses: Arc<Mutex<Vec<u16>>>,
    /// The status each request was answered with (0: none), in order.
    answered: Arc<Mutex<Vec<u16>>>,
}

impl Capture {
    pub fn requests(&self) -> Vec<Captured> {
        self.requests.lock().unwrap().clone()
    }

    /// The requests answered with success.
    pub fn delivered(&self) -> Vec<Captured> {
        let answered = self.answered.lock().unwrap().clone();
        let requests = self.requests();
        let ok = answered.iter().map(|s| (200..400).contains(s));
        requests
            .into_iter()
            .zip(ok)
            .filter(|(_, ok)| *ok)
            .map(|(r, _)| r)
            .collect()
    }

    pub fn fail_next(&self, statuses: &[u16]) {
        self.statuses.lock().unwrap().extend_from_slice(statuses);
    }

    /// Records the request; the status to answer it with (0: none).
    fn take(&self, request: &Captured) -> u16 {
        self.requests.lock().unwrap().push(request.clone());
        let mut s = self.statuses.lock().unwrap();
        let status = if s.is_empty() { 200 } else { s.remove(0) };
        self.answered.lock().unwrap().push(status);
        status
    }
}

/// Starts the ResponseURL stand-in; returns its base URL and the capture.
pub async fn start() -> (String, Capture) {
    let capture = Capture::default();
    let c = capture.clone();
    let url = serve(move |request| {
        let status = c.take(request);
        (status != 0).then(|| Reply {
            status,
            content_type: "text/plain",
            body: String::new(),
            close: true,
        })
    })
    .await;
    (url, capture)
}
