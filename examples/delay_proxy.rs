//! A loopback TCP proxy that holds every server reply for a fixed delay: the known, repeatable
//! slowdown `scripts/bench-gate` injects (like a longer network path to the cache). Requests are
//! forwarded at once; each chunk the server sends is released `DELAY_US` after it arrived, in
//! order, so every request/reply round trip is exactly `DELAY_US` longer. Std only (no runtime
//! timer wheel: `thread::sleep` keeps the delay precise to tens of µs, not whole milliseconds).
//!
//! Usage: `delay_proxy UPSTREAM_PORT DELAY_US SECONDS` — listens on an ephemeral 127.0.0.1 port,
//! prints it on the first line of stdout, forwards to 127.0.0.1:UPSTREAM_PORT and exits after
//! SECONDS (a bound: a forgotten proxy never outlives its bench).

// A bench tool: its interface is one line on stdout, errors on stderr and its exit code.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

fn usage(why: &str) -> ! {
    eprintln!("delay_proxy: {why}\nusage: delay_proxy UPSTREAM_PORT DELAY_US SECONDS");
    std::process::exit(2);
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, name: &str, max: u64) -> T {
    let v = args
        .get(i)
        .unwrap_or_else(|| usage(&format!("{name} is missing")));
    match v.parse::<u64>() {
        Ok(n) if n <= max => v
            .parse()
            .unwrap_or_else(|_| usage(&format!("{name} '{v}' is out of range"))),
        _ => usage(&format!(
            "{name} must be a whole number up to {max}, got '{v}'"
        )),
    }
}

/// Client → server: forward at once.
fn forward(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Server → client: stamp each chunk on arrival, release it `delay` later.
fn delayed(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let writer = thread::spawn(move || {
        for (arrived, chunk) in rx {
            let due = arrived + delay;
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        }
    }
    drop(tx);
    let _ = writer.join();
}

fn serve(client: TcpStream, upstream_port: u16, delay: Duration) -> std::io::Result<()> {
    let server = TcpStream::connect(("127.0.0.1", upstream_port))?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (c2, s2) = (client.try_clone()?, server.try_clone()?);
    thread::spawn(move || forward(c2, s2));
    thread::spawn(move || delayed(server, client, delay));
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let upstream: u16 = arg(&args, 1, "UPSTREAM_PORT", 65_535);
    let delay_us: u64 = arg(&args, 2, "DELAY_US", 10_000_000);
    let secs: u64 = arg(&args, 3, "SECONDS", 86_400);
    if upstream == 0 {
        usage("UPSTREAM_PORT must not be 0");
    }
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap_or_else(|e| {
        eprintln!("delay_proxy: cannot listen on 127.0.0.1: {e}");
        std::process::exit(1)
    });
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    println!("{port}");
    let _ = std::io::stdout().flush();
    thread::spawn(move || {
        thread::sleep(Duration::from_secs(secs));
        std::process::exit(0);
    });
    let delay = Duration::from_micros(delay_us);
    for conn in listener.incoming() {
        match conn.and_then(|c| serve(c, upstream, delay)) {
            Ok(()) => {}
            Err(e) => eprintln!("delay_proxy: {e}"),
        }
    }
}
