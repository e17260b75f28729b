//! The per-run AUTH token: 32 random letters and digits from the operating system's generator.
//! Letters and digits only, so it needs no quoting anywhere (ElastiCache also allows `!&#$^<>-`,
//! which are shell metacharacters), and 32 characters of 62 symbols give ~190 bits.

use crate::config::Secret;

/// Length of the token (ElastiCache allows 16–128).
pub const TOKEN_LEN: usize = 32;
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A new random token.
pub fn new_auth_token() -> anyhow::Result<Secret> {
    let mut out = String::with_capacity(TOKEN_LEN);
    let mut buf = [0u8; 64];
    while out.len() < TOKEN_LEN {
        getrandom::fill(&mut buf)
            .map_err(|e| anyhow::anyhow!("reading random bytes for the AUTH token: {e}"))?;
        // Rejection sampling: 248 = 4 × 62, so accepted bytes map uniformly onto the alphabet.
        for b in buf.iter().filter(|b| **b < 248) {
            if out.len() == TOKEN_LEN {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]));
        }
    }
    Ok(Secret::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_alphanumeric_and_different() {
        let a = new_auth_token().unwrap();
        let b = new_auth_token().unwrap();
        assert_eq!(a.expose().len(), TOKEN_LEN);
        assert!(a.expose().bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert_eq!(format!("{a}"), "***");
    }
}
