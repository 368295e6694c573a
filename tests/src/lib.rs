//! Shared helpers for Bosun's cross-crate tests.

/// A small deterministic random generator (xorshift64*), so that every test run can be replayed
/// from its printed seed without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is remapped: xorshift cannot leave it).
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    /// A seed from the clock and the process id, for runs that should differ.
    pub fn seed_from_time() -> u64 {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos());
        (nanos as u64) ^ ((std::process::id() as u64) << 32)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }
}
