"""Client side of scripts/bench-proxy.sh: the same measurements against direct XOAUTH2 to the
test Dovecot, `inbound proxy` and the peer `emailproxy`, with the same Python client.

  proxy_bench.py seed MB                       append about MB megabytes to INBOX (direct)
  proxy_bench.py login WAY RUNS                connect → tagged OK of the login, RUNS times
  proxy_bench.py fetch WAY RUNS [PID]          FETCH 1:* BODY.PEEK[]: MB/s, proxy CPU s per GB
  proxy_bench.py idle WAY N PID                N logged-in idle sessions: proxy RSS, idle CPU
  proxy_bench.py tunnel RUNS INBOUND NAME      spawn `inbound tunnel NAME` → `* PREAUTH`
  proxy_bench.py test RUNS INBOUND NAME        wall time of `inbound test NAME`

WAY is direct (imaps to DOVECOT_PORT, AUTHENTICATE XOAUTH2 with TOKEN), inbound (plain LOGIN
to INBOUND_PORT with INBOUND_PASSWORD) or emailproxy (plain LOGIN to EMAILPROXY_PORT with
EMAILPROXY_PASSWORD). Everything else comes from the environment bench-proxy.sh sets.
"""

import base64
import os
import resource
import socket
import ssl
import statistics
import subprocess
import sys
import time

ENV = os.environ
USER = ENV["IMAP_USER"]


def ticks(pid):
    """utime + stime of a process (and its reaped children) in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    hz = os.sysconf("SC_CLK_TCK")
    return sum(int(x) for x in fields[11:15]) / hz


def cpu_ns(pid):
    """CPU time of every thread of a process, in seconds, to the nanosecond (the scheduler's
    own account in /proc/PID/task/*/schedstat; /proc/PID/stat counts in 10 ms ticks, which is
    0.19 s/GB for one FETCH of 52 MB: coarser than the differences being measured)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that ended meanwhile
    return total / 1e9


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Session:
    """A raw IMAP session: lines and literals read straight off the socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.tag = 0

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise RuntimeError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def command(self, text):
        """Sends a command and reads to its tagged reply; returns (status line, bytes read)."""
        self.tag += 1
        tag = b"b%d" % self.tag
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        total = 0
        while True:
            line = self.line()
            total += len(line) + 2
            if line.startswith(tag + b" "):
                return line, total
            if line.endswith(b"}"):  # a literal: skip its bytes without keeping them
                size = int(line[line.rindex(b"{") + 1 : -1])
                total += size
                have = min(size, len(self.buf))
                self.buf = self.buf[have:]
                size -= have
                while size:
                    chunk = self.sock.recv(min(size, 1 << 20))
                    if not chunk:
                        raise RuntimeError("connection closed in a literal")
                    size -= len(chunk)


_context = None


def tls_context():
    global _context
    if _context is None:
        _context = ssl.create_default_context(cafile=ENV["CA_FILE"])
    return _context


def login(way):
    """Connects and logs in; returns the session (greeting read, login OK)."""
    if way == "direct":
        raw = socket.create_connection(("127.0.0.1", int(ENV["DOVECOT_PORT"])))
        sock = tls_context().wrap_socket(raw, server_hostname="localhost")
        s = Session(sock)
        s.line()
        ir = base64.b64encode(f"user={USER}\1auth=Bearer {ENV['TOKEN']}\1\1".encode()).decode()
        status, _ = s.command(f"AUTHENTICATE XOAUTH2 {ir}")
    else:
        # "compare": a second inbound proxy (another build) on the same store and password.
        ours = way in ("inbound", "compare")
        port = int(ENV[{"inbound": "INBOUND_PORT", "compare": "COMPARE_PORT"}.get(way, "EMAILPROXY_PORT")])
        password = ENV["INBOUND_PASSWORD" if ours else "EMAILPROXY_PASSWORD"]
        s = Session(socket.create_connection(("127.0.0.1", port)))
        s.line()
        status, _ = s.command(f'LOGIN "{USER}" "{password}"')
    if b" OK" not in status[:8]:
        raise RuntimeError(f"{way}: login refused: {status!r}")
    return s


def logout(s):
    try:
        s.command("LOGOUT")
    except RuntimeError:
        pass
    s.sock.close()


def ms(samples):
    samples = sorted(samples)
    p90 = samples[int(len(samples) * 0.9) - 1] if len(samples) >= 10 else samples[-1]
    return f"median {statistics.median(samples) * 1e3:.1f} ms, p90 {p90 * 1e3:.1f} ms, min {samples[0] * 1e3:.1f} ms (n={len(samples)})"


def cmd_seed(mb):
    s = login("direct")
    body = ("x" * 76 + "\r\n") * (100 * 1024 // 78)
    n = 0
    total = 0
    while total < mb * 1024 * 1024:
        msg = (
            f"From: bench@example.net\r\nTo: {USER}\r\nSubject: bench {n}\r\n"
            f"Message-ID: <bench-{n}@example.net>\r\n\r\n{body}"
        ).encode()
        s.tag += 1
        tag = b"b%d" % s.tag
        s.sock.sendall(tag + b" APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        while True:
            line = s.line()
            if line.startswith(tag + b" "):
                break
        if b" OK" not in line:
            raise RuntimeError(line)
        n += 1
        total += len(msg)
    logout(s)
    print(f"seeded {n} messages, {total / 1e6:.1f} MB")


def cmd_login(way, runs):
    samples = []
    for _ in range(runs + 3):
        start = time.perf_counter()
        s = login(way)
        samples.append(time.perf_counter() - start)
        logout(s)
    print(f"login {way}: {ms(samples[3:])}")


def cmd_fetch(way, runs, pid):
    rates = []
    cpu_per_gb = []
    for _ in range(runs):
        s = login(way)
        s.command("EXAMINE INBOX")
        before = cpu_ns(pid) if pid else 0
        start = time.perf_counter()
        status, size = s.command("FETCH 1:* BODY.PEEK[]")
        elapsed = time.perf_counter() - start
        after = cpu_ns(pid) if pid else 0
        if b" OK" not in status[:8]:
            raise RuntimeError(status)
        rates.append(size / elapsed / 1e6)
        if pid:
            cpu_per_gb.append((after - before) / (size / 1e9))
        logout(s)
        mb = size / 1e6
    line = f"fetch {way}: {mb:.1f} MB, MB/s " + ", ".join(f"{r:.0f}" for r in rates)
    if pid:
        line += "; proxy CPU s/GB " + ", ".join(f"{c:.2f}" for c in cpu_per_gb)
    print(line)


def cmd_idle(way, n, pid):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 100)), hard))
    base = rss_kib(pid)
    sessions = [login(way) for _ in range(n)]
    time.sleep(2)  # let the proxy settle after the logins
    held = rss_kib(pid)
    cpu0 = ticks(pid)
    time.sleep(10)
    idle_cpu = ticks(pid) - cpu0
    print(
        f"idle {way}: {n} sessions, RSS {base} KiB → {held} KiB, "
        f"{(held - base) / n:.1f} KiB per session; CPU in 10 s idle: {idle_cpu * 1e3:.0f} ms"
    )
    for s in sessions:
        s.sock.close()


def cmd_tunnel(runs, inbound, name):
    samples = []
    for _ in range(runs + 2):
        start = time.perf_counter()
        p = subprocess.Popen([inbound, "tunnel", name], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = p.stdout.readline()
        samples.append(time.perf_counter() - start)
        if not line.startswith(b"* PREAUTH"):
            raise RuntimeError(f"tunnel said {line!r}")
        p.stdin.write(b"z LOGOUT\r\n")
        p.stdin.close()
        p.stdout.read()
        p.wait()
    print(f"tunnel start → PREAUTH: {ms(samples[2:])}")


def cmd_test(runs, inbound, name):
    samples = []
    for _ in range(runs + 2):
        start = time.perf_counter()
        subprocess.run([inbound, "test", name], check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    print(f"inbound test (whole process): {ms(samples[2:])}")


def main():
    what, args = sys.argv[1], sys.argv[2:]
    if what == "seed":
        cmd_seed(int(args[0]))
    elif what == "login":
        cmd_login(args[0], int(args[1]))
    elif what == "fetch":
        cmd_fetch(args[0], int(args[1]), int(args[2]) if len(args) > 2 else None)
    elif what == "idle":
        cmd_idle(args[0], int(args[1]), int(args[2]))
    elif what == "tunnel":
        cmd_tunnel(int(args[0]), args[1], args[2])
    elif what == "test":
        cmd_test(int(args[0]), args[1], args[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
