//! Who holds a TCP port, for the message when the listener's port is busy. Linux only and best
//! effort: the listening socket's inode from /proc/net/tcp{,6}, then the process whose file
//! descriptors include that socket (only our own processes are visible unless root).

use std::fs;

/// `nginx (pid 812)`, or `None` when it cannot be found out.
pub fn holder(port: u16) -> Option<String> {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return None;
    }
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|p| p.bytes().all(|b| b.is_ascii_digit())) else {
            continue;
        };
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = fs::read_link(fd.path()) else {
                continue;
            };
            let target = target.to_string_lossy();
            if let Some(inode) = target.strip_prefix("socket:[").and_then(|t| t.strip_suffix(']'))
                && inodes.iter().any(|i| i == inode)
            {
                let comm = fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
                let comm = crate::sanitize::peer_text(&comm);
                return Some(format!(
                    "{} (pid {pid})",
                    if comm.is_empty() { "a process" } else { &comm }
                ));
            }
        }
    }
    None
}

fn listening_inodes(port: u16) -> Vec<String> {
    let want = format!("{port:04X}");
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address is IP:PORT in hex; state 0A is LISTEN; inode is field 9.
            if f.len() > 9 && f[1].rsplit(':').next() == Some(want.as_str()) && f[3] == "0A" {
                out.push(f[9].to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_our_own_listening_socket() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let who = holder(port).expect("our own socket is visible");
        assert!(who.contains(&format!("pid {}", std::process::id())), "{who}");
    }
}
