//! `inbound doctor`.

use crate::cli::DoctorArgs;
use crate::cli::output;
use crate::cli::report::report;
use crate::model::health::Level;
use crate::ops as core_ops;
use crate::services::imap::Timeouts;
use crate::store::Store;
use std::time::Duration;

pub(super) async fn doctor(store: &Store, a: DoctorArgs) -> u8 {
    let timeouts = match a.timeout {
        Some(secs) => {
            let d = Duration::from_secs(secs.clamp(1, 600));
            Timeouts {
                connect: d,
                tls: d,
                command: d,
                authenticate: d,
            }
        }
        None => Timeouts::default(),
    };
    match core_ops::doctor::diagnose(store, &a.name, timeouts, |_| {}).await {
        Ok(report) => {
            if a.json {
                out!("{}", output::pretty(&report));
            } else {
                crate::cli::checks::print_report(&report);
            }
            report.level as u8
        }
        Err(e) => {
            report(&e);
            Level::Unknown as u8
        }
    }
}
