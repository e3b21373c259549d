//! The emulated Ollama over real HTTP/1.1, with the standard library only: one thread per
//! connection, requests parsed from the request line, headers and a `Content-Length` (or
//! chunked) body; responses with a status line, `Date`, `Content-Type` and
//! `Content-Length`, NDJSON streams written line by line with `Transfer-Encoding: chunked`
//! (as Go's net/http does once a handler flushes). The machine is re-opened for every request,
//! so restarts and state changes on the emulated Mac are seen; when no `ollama serve` runs
//! there the connection is closed at once, so clients get a connection error.
//!
//! Like `allowedHostsMiddleware` (ollama/ollama `server/routes.go`), a server bound to a
//! loopback address answers 403 with no body to a `Host` that is not localhost, a loopback,
//! private or unspecified IP, the Mac's hostname, or a `*.localhost`, `*.local` or
//! `*.internal` name.

use super::api::{Body, Reply};
use crate::http::HttpRequest;
use crate::machine::Machine;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};

/// Serves the emulated Mac in `dir` on `listener` until the listener fails.
pub fn serve(dir: &Path, listener: TcpListener) -> anyhow::Result<()> {
    for stream in listener.incoming() {
        let Ok(stream) = stream else {
            continue;
        };
        let dir: PathBuf = dir.to_path_buf();
        std::thread::spawn(move || {
            let _ = connection(&dir, stream);
        });
    }
    Ok(())
}

struct Incoming {
    request: HttpRequest,
    host: Option<String>,
    keep_alive: bool,
}

fn bad(message: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.to_string())
}

/// Reads one request; `None` at a clean end of the connection.
fn read_request(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
) -> std::io::Result<Option<Incoming>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), version) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("malformed request line"));
    };
    let (method, target) = (method.to_string(), target.to_string());
    let http10 = version == Some("HTTP/1.0");
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            return Err(bad("connection closed in the headers"));
        }
        let header = header.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    if get("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let mut body: Vec<u8> = Vec::new();
    if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .map_err(|_| bad("bad chunk size"))?;
            if size == 0 {
                let mut trailer = String::new();
                while reader.read_line(&mut trailer)? > 2 {
                    trailer.clear();
                }
                break;
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
        }
    } else if let Some(length) = get("content-length") {
        let length: usize = length.parse().map_err(|_| bad("bad Content-Length"))?;
        body = vec![0; length];
        reader.read_exact(&mut body)?;
    }
    let connection = get("connection").unwrap_or_default().to_ascii_lowercase();
    let keep_alive = if http10 {
        connection == "keep-alive"
    } else {
        connection != "close"
    };
    Ok(Some(Incoming {
        request: HttpRequest {
            method,
            path: target,
            body: (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned()),
        },
        host: get("host"),
        keep_alive,
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        499 => "",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// `Date:` in the RFC 7231 format Go writes (`Mon, 02 Jan 2006 15:04:05 GMT`).
fn http_date() -> String {
    super::gofmt::utc_format(
        std::time::SystemTime::now(),
        time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ),
    )
}

fn write_reply(
    stream: &mut TcpStream,
    reply: &Reply,
    head: bool,
    keep_alive: bool,
) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nDate: {}\r\n",
        reply.status,
        reason(reply.status),
        http_date()
    );
    if !reply.content_type.is_empty() {
        out.push_str(&format!("Content-Type: {}\r\n", reply.content_type));
    }
    if !keep_alive {
        out.push_str("Connection: close\r\n");
    }
    match &reply.body {
        Body::Text(text) => {
            out.push_str(&format!("Content-Length: {}\r\n\r\n", text.len()));
            if !head {
                out.push_str(text);
            }
            stream.write_all(out.as_bytes())?;
        }
        Body::Lines(lines) => {
            out.push_str("Transfer-Encoding: chunked\r\n\r\n");
            stream.write_all(out.as_bytes())?;
            stream.flush()?;
            if !head {
                for line in lines {
                    let chunk = format!("{line}\n");
                    stream.write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes())?;
                    stream.flush()?;
                }
            }
            stream.write_all(b"0\r\n\r\n")?;
        }
    }
    stream.flush()
}

/// `allowedHostsMiddleware` for a server bound to a loopback address.
fn host_allowed(machine: &Machine, host_header: Option<&str>) -> bool {
    let bound_loopback = super::server::running(machine).is_some_and(|running| {
        let url = running.env.host_url(&mut Vec::new());
        url.host == "localhost" || url.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    });
    if !bound_loopback {
        return true;
    }
    let raw = host_header.unwrap_or_default().to_ascii_lowercase();
    let host = match raw.rsplit_once(':') {
        Some((h, port)) if !h.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            h.trim_matches(|c| c == '[' || c == ']').to_string()
        }
        _ => raw.trim_matches(|c| c == '[' || c == ']').to_string(),
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        let private = match ip {
            IpAddr::V4(v4) => v4.is_private() || v4.is_link_local(),
            IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
        };
        if ip.is_loopback() || ip.is_unspecified() || private {
            return true;
        }
    }
    let hostname = machine.info.hostname.to_ascii_lowercase();
    host.is_empty()
        || host == "localhost"
        || host == hostname
        || ["localhost", "local", "internal"]
            .iter()
            .any(|tld| host.ends_with(&format!(".{tld}")))
}

fn connection(dir: &Path, mut stream: TcpStream) -> std::io::Result<()> {
    let open = || Machine::open(dir).map_err(|e| std::io::Error::other(e.to_string()));
    if !super::is_serving(&open()?) {
        let _ = stream.shutdown(std::net::Shutdown::Both);
        return Ok(());
    }
    let mut reader = BufReader::new(stream.try_clone()?);
    loop {
        let Some(incoming) = read_request(&mut reader, &mut stream)? else {
            return Ok(());
        };
        let machine = open()?;
        let head = incoming.request.method.eq_ignore_ascii_case("HEAD");
        let reply = if host_allowed(&machine, incoming.host.as_deref()) {
            match super::reply(&machine, &incoming.request) {
                Ok(reply) => reply,
                Err(_) => {
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                    return Ok(());
                }
            }
        } else {
            Reply {
                status: 403,
                content_type: String::new(),
                body: Body::Text(String::new()),
            }
        };
        write_reply(&mut stream, &reply, head, incoming.keep_alive)?;
        if !incoming.keep_alive {
            let _ = stream.shutdown(std::net::Shutdown::Both);
            return Ok(());
        }
    }
}
