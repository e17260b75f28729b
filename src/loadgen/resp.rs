//! RESP2 on the wire: encoding the few commands the generator sends (AUTH, SET, GET) straight into a
//! reused buffer, and parsing replies in place from the read buffer without copying.

/// A malformed reply: the connection cannot be trusted after one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("protocol error: {0}")]
pub struct ProtocolError(pub &'static str);

/// One parsed reply, borrowing from the read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply<'a> {
    /// `+OK` and other simple strings (without the `+`).
    Simple(&'a [u8]),
    /// `-ERR …`, `-NOAUTH …` (without the `-`).
    Error(&'a [u8]),
    /// `:n`.
    Integer(i64),
    /// `$n` followed by n bytes.
    Bulk(&'a [u8]),
    /// `$-1` or `*-1`.
    Nil,
    /// `*n` with its elements (skipped, only their number is kept).
    Array(usize),
}

/// Deepest array nesting accepted (the generator's commands never reply with nested arrays).
const MAX_DEPTH: usize = 8;
/// Largest bulk string accepted, as Redis' own `proto-max-bulk-len` default (512 MiB).
pub const MAX_BULK_LEN: usize = 512 * 1024 * 1024;

/// Parse one reply from the start of `buf`: `Ok(None)` when more bytes are needed, otherwise the
/// reply and the number of bytes it took.
pub fn parse(buf: &[u8]) -> Result<Option<(Reply<'_>, usize)>, ProtocolError> {
    parse_at(buf, 0, 0)
}

fn parse_at(
    buf: &[u8],
    at: usize,
    depth: usize,
) -> Result<Option<(Reply<'_>, usize)>, ProtocolError> {
    let Some(&kind) = buf.get(at) else {
        return Ok(None);
    };
    let Some(eol) = find_crlf(buf, at + 1) else {
        return Ok(None);
    };
    let line = &buf[at + 1..eol];
    let after = eol + 2;
    let reply = match kind {
        b'+' => (Reply::Simple(line), after),
        b'-' => (Reply::Error(line), after),
        b':' => (Reply::Integer(parse_int(line)?), after),
        b'$' => {
            let n = parse_int(line)?;
            if n < 0 {
                (Reply::Nil, after)
            } else {
                let n = usize::try_from(n).map_err(|_| ProtocolError("bulk length"))?;
                if n > MAX_BULK_LEN {
                    return Err(ProtocolError("bulk string longer than 512 MiB"));
                }
                let end = after + n;
                if buf.len() < end + 2 {
                    return Ok(None);
                }
                if &buf[end..end + 2] != b"\r\n" {
                    return Err(ProtocolError("bulk string not followed by CRLF"));
                }
                (Reply::Bulk(&buf[after..end]), end + 2)
            }
        }
        b'*' => {
            let n = parse_int(line)?;
            if n < 0 {
                (Reply::Nil, after)
            } else {
                if depth >= MAX_DEPTH {
                    return Err(ProtocolError("arrays nested too deep"));
                }
                let n = usize::try_from(n).map_err(|_| ProtocolError("array length"))?;
                let mut pos = after;
                for _ in 0..n {
                    match parse_at(buf, pos, depth + 1)? {
                        Some((_, used)) => pos += used,
                        None => return Ok(None),
                    }
                }
                (Reply::Array(n), pos)
            }
        }
        _ => return Err(ProtocolError("unknown reply type byte")),
    };
    Ok(Some((reply.0, reply.1 - at)))
}

/// Position of the next `\r\n` at or after `from`.
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    rest.windows(2).position(|w| w == b"\r\n").map(|i| from + i)
}

fn parse_int(line: &[u8]) -> Result<i64, ProtocolError> {
    let (neg, digits) = match line.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, line),
    };
    if digits.is_empty() {
        return Err(ProtocolError("empty integer"));
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(ProtocolError("non-digit in integer"));
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(d - b'0')))
            .ok_or(ProtocolError("integer overflow"))?;
    }
    Ok(if neg { -v } else { v })
}

/// Decimal digits of `n` into `buf`, returning the used tail (no allocation).
fn digits(n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        // `n % 10` is below 10, so the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        {
            buf[i] = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

fn push_header(out: &mut Vec<u8>, kind: u8, n: u64) {
    let mut b = [0u8; 20];
    out.push(kind);
    out.extend_from_slice(digits(n, &mut b));
    out.extend_from_slice(b"\r\n");
}

fn push_bulk(out: &mut Vec<u8>, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    push_header(out, b'$', len as u64);
    for p in parts {
        out.extend_from_slice(p);
    }
    out.extend_from_slice(b"\r\n");
}

/// Append `*n` and the bulk strings of a command; returns the bytes written.
pub fn encode(out: &mut Vec<u8>, args: &[&[u8]]) -> usize {
    let before = out.len();
    push_header(out, b'*', args.len() as u64);
    for a in args {
        push_bulk(out, &[a]);
    }
    out.len() - before
}

/// Append `SET <prefix><index> <value>`; returns the bytes written.
pub fn encode_set(out: &mut Vec<u8>, prefix: &[u8], index: u64, value: &[u8]) -> usize {
    let before = out.len();
    let mut b = [0u8; 20];
    out.extend_from_slice(b"*3\r\n$3\r\nSET\r\n");
    push_bulk(out, &[prefix, digits(index, &mut b)]);
    push_bulk(out, &[value]);
    out.len() - before
}

/// Append `GET <prefix><index>`; returns the bytes written.
pub fn encode_get(out: &mut Vec<u8>, prefix: &[u8], index: u64) -> usize {
    let before = out.len();
    let mut b = [0u8; 20];
    out.extend_from_slice(b"*2\r\n$3\r\nGET\r\n");
    push_bulk(out, &[prefix, digits(index, &mut b)]);
    out.len() - before
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &[u8]) -> (Reply<'_>, usize) {
        match parse(s) {
            Ok(Some(r)) => r,
            other => panic!("expected a reply from {s:?}, got {other:?}"),
        }
    }

    #[test]
    fn parses_each_reply_type() {
        assert_eq!(one(b"+OK\r\n"), (Reply::Simple(b"OK"), 5));
        assert_eq!(one(b"-ERR bad\r\n"), (Reply::Error(b"ERR bad"), 10));
        assert_eq!(one(b":-42\r\n"), (Reply::Integer(-42), 6));
        assert_eq!(one(b"$3\r\nfoo\r\n"), (Reply::Bulk(b"foo"), 9));
        assert_eq!(one(b"$0\r\n\r\n"), (Reply::Bulk(b""), 6));
        assert_eq!(one(b"$-1\r\n"), (Reply::Nil, 5));
        assert_eq!(one(b"*-1\r\n"), (Reply::Nil, 5));
        assert_eq!(one(b"*2\r\n$1\r\na\r\n:1\r\n"), (Reply::Array(2), 15));
    }

    #[test]
    fn bulk_may_contain_crlf() {
        assert_eq!(one(b"$4\r\n\r\n\r\n\r\n"), (Reply::Bulk(b"\r\n\r\n"), 10));
    }

    #[test]
    fn every_prefix_of_a_reply_is_incomplete() {
        let full: &[u8] = b"$5\r\nhello\r\n+OK\r\n";
        for cut in 0..11 {
            assert_eq!(parse(&full[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(one(&full[..11]), (Reply::Bulk(b"hello"), 11));
        let arr: &[u8] = b"*2\r\n$1\r\na\r\n$-1\r\n";
        for cut in 0..arr.len() {
            assert_eq!(parse(&arr[..cut]), Ok(None), "cut at {cut}");
        }
    }

    #[test]
    fn consecutive_replies_parse_one_by_one() {
        let buf: &[u8] = b"+OK\r\n$-1\r\n$2\r\nhi\r\n-NOAUTH x\r\n";
        let mut at = 0;
        let mut got = Vec::new();
        while let Ok(Some((r, used))) = parse(&buf[at..]) {
            got.push(format!("{r:?}"));
            at += used;
        }
        assert_eq!(at, buf.len());
        assert_eq!(got.len(), 4);
        assert!(got[3].starts_with("Error"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse(b"?what\r\n").is_err());
        assert!(parse(b":12a\r\n").is_err());
        assert!(parse(b"$3\r\nfooXY").is_err());
        assert!(parse(b"$\r\n").is_err());
    }

    #[test]
    fn encodes_commands() {
        let mut out = Vec::new();
        let n = encode_set(&mut out, b"memtier-", 42, b"xyz");
        assert_eq!(
            out,
            b"*3\r\n$3\r\nSET\r\n$10\r\nmemtier-42\r\n$3\r\nxyz\r\n"
        );
        assert_eq!(n, out.len());
        out.clear();
        encode_get(&mut out, b"k", 0);
        assert_eq!(out, b"*2\r\n$3\r\nGET\r\n$2\r\nk0\r\n");
        out.clear();
        encode(&mut out, &[b"AUTH", b"u", b"p"]);
        assert_eq!(out, b"*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$1\r\np\r\n");
        let mut b = [0u8; 20];
        assert_eq!(digits(u64::MAX, &mut b), b"18446744073709551615");
    }
}
