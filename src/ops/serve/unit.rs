//! The systemd unit of `inbound serve` (`serve --print-unit`): `Type=notify` with a watchdog,
//! and a sandbox that leaves serve the store, the network and nothing else it does not need.
//! `systemd-analyze security` rates it "OK" (exposure below 5), and `systemd-analyze verify`
//! passes without a warning (both checked by tests/testsuite/serve.rs).

use std::path::Path;

/// systemd's quoting for a path in ExecStart= and ReadWritePaths=: specifiers (`%`) doubled,
/// and the whole quoted when it holds a space.
fn quote(path: &Path) -> String {
    let p = path.display().to_string().replace('%', "%%");
    if p.contains(char::is_whitespace) || p.contains('"') {
        format!("\"{}\"", p.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        p
    }
}

/// The unit for `binary` serving the store in `store_dir`, with `extra` arguments to serve.
pub fn render(binary: &Path, store_dir: &Path, extra: &[String]) -> String {
    let mut exec = format!("{} serve --config-dir {}", quote(binary), quote(store_dir));
    for arg in extra {
        exec.push(' ');
        exec.push_str(&quote(Path::new(arg)));
    }
    format!(
        "\
# inbound serve: keeps every mailbox's token fresh, tests Confirmed servers on a schedule and
# alerts when one stops working. Install as the user who owns the store:
#   inbound serve --print-unit > ~/.config/systemd/user/inbound.service
#   systemctl --user daemon-reload && systemctl --user enable --now inbound.service
#   loginctl enable-linger \"$USER\"    # keep it running without a login session
# Reload settings: systemctl --user reload inbound. The log: the store's logs/inbound.log.
# The notify command runs inside this sandbox: it can reach the network and write only to
# the store (a local mailer that needs setgid, such as postdrop, will not work here).
[Unit]
Description=inbound serve: keep mailbox tokens fresh and alert when one stops working
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart={exec}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=10s
WatchdogSec=60s
TimeoutStopSec=60s
UMask=0077
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths={store}
PrivateTmp=yes
PrivateDevices=yes
PrivateMounts=yes
PrivateUsers=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
CapabilityBoundingSet=
AmbientCapabilities=
RemoveIPC=yes
DevicePolicy=closed
KeyringMode=private

[Install]
WantedBy=default.target
",
        store = quote(store_dir)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_spaces_and_percent_signs_are_quoted_for_systemd() {
        let unit = render(
            Path::new("/opt/my tools/inbound"),
            Path::new("/home/a/100%/inbound"),
            &["--notify-url".into(), "http://127.0.0.1:9/hook".into()],
        );
        assert!(unit.contains(
            "ExecStart=\"/opt/my tools/inbound\" serve --config-dir /home/a/100%%/inbound --notify-url http://127.0.0.1:9/hook"
        ), "{unit}");
        assert!(unit.contains("ReadWritePaths=/home/a/100%%/inbound"));
        assert!(unit.contains("Type=notify"));
    }
}
