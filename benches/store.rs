//! In-process store and protocol work: reading the configuration at 1,000 and 10,000
//! servers, the token cache and one server for `inbound token`, the XOAUTH2 string, and
//! building a TLS connector (what one probe paid before the connector was shared; now once
//! per process, during the TCP connect).

#[path = "support/seed.rs"]
mod seed;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn store_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("store_load");
    for n in [1_000, 10_000] {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = seed::seed(&dir.path().join("store"), n).expect("seed");
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| black_box(store.load().expect("load")));
        });
    }
    group.finish();
}

/// What `list`, `show` and `check` read of the token files (through the token cache, which
/// the first call builds), and what `inbound token` reads of `config.json` (one server).
fn token_reads(c: &mut Criterion) {
    let mut group = c.benchmark_group("token_reads");
    for n in [1_000, 10_000] {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = seed::seed(&dir.path().join("store"), n).expect("seed");
        let servers = store.load().expect("load").servers;
        store.token_health_files(&servers).expect("build the cache");
        group.bench_with_input(BenchmarkId::new("health_files_cached", n), &n, |b, _| {
            b.iter(|| black_box(store.token_health_files(&servers).expect("read")));
        });
        let name = format!("server-{}", n / 2);
        group.bench_with_input(BenchmarkId::new("config_one_server", n), &n, |b, _| {
            b.iter(|| black_box(store.load_one(&name).expect("read")));
        });
    }
    group.finish();
}

fn xoauth2(c: &mut Criterion) {
    let token = format!("eyJ0eXAiOiJKV1QiLCJub25jZSI6Ij{:0>1200}", 7);
    c.bench_function("xoauth2_encode", |b| {
        b.iter(|| {
            black_box(inbound::services::xoauth2::encode(
                black_box("mailbox7@contoso.com"),
                &token,
            ))
        });
    });
}

fn tls_connector(c: &mut Criterion) {
    let mut group = c.benchmark_group("tls_connector_build");
    group.sample_size(20);
    group.bench_function("system_roots", |b| {
        b.iter(|| black_box(inbound::services::tls::tls_connector(None).expect("connector")));
    });
    group.finish();
}

criterion_group!(benches, store_load, token_reads, xoauth2, tls_connector);
criterion_main!(benches);
