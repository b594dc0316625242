//! In-process store and protocol work: reading the configuration at 1,000 and 10,000
//! servers, and the XOAUTH2 string.

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

criterion_group!(benches, store_load, xoauth2);
criterion_main!(benches);
