//! Writes a store with N OAuth2 servers and valid tokens, for benchmarks:
//! `cargo run --release --example seed_store -- DIR N`.

#[path = "../benches/support/seed.rs"]
mod seed;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: seed_store DIR N")?;
    let n: usize = args.next().ok_or("usage: seed_store DIR N")?.parse()?;
    seed::seed(std::path::Path::new(&dir), n)?;
    Ok(())
}
