#!/usr/bin/env bash
# Regenerates the README's pictures from the real binary: `inbound demo` in an 80x24 tmux
# pane (over a pretend SSH session, no display), captured screen by screen with
# `tmux capture-pane`, written to assets/screens/*.txt and pasted into README.md between the
# "screens:begin"/"screens:end" markers. Never draw these by hand; run this script.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="$PWD/target/release/inbound"
out=assets/screens
mkdir -p "$out"
sock="inbound-screens-$$"
t() { tmux -L "$sock" "$@"; }
cleanup() { t kill-server 2>/dev/null || true; }
trap cleanup EXIT

t new-session -d -s s -x 80 -y 24 "env -u DISPLAY -u WAYLAND_DISPLAY SSH_CONNECTION='203.0.113.5 50000 192.0.2.10 22' USER=admin BROWSER=/bin/false '$bin' demo; sleep 5"

# Waits until the pane shows $1 (at most 20 s), then saves it as $out/$2.txt.
shot() {
  local needle="$1" name="$2"
  for _ in $(seq 200); do
    if t capture-pane -p -t s | grep -qF -- "$needle"; then
      t capture-pane -p -t s | sed 's/[[:space:]]*$//' > "$out/$name.txt"
      return 0
    fi
    sleep 0.1
  done
  echo "screens: '$needle' never appeared for $name" >&2
  t capture-pane -p -t s >&2
  exit 1
}
keys() { t send-keys -t s "$@"; }

shot "Sales (shared)" review
keys n;     shot "How do you want to register the app" wizard-1-choose
keys Right Enter; shot "Register the application" wizard-1-register
keys Enter; shot "Create a client secret" wizard-2-secret
keys Enter; shot "Grant the IMAP permission" wizard-3-permissions
keys Enter; shot "The incoming mail server" wizard-4-form
keys Enter; shot "waiting for Microsoft" wizard-5-connect-ssh
keys s;     shot "1 I am an admin:" wizard-5-admin-consent
keys a;     shot "waiting for the admin" wizard-5-admin-waiting
keys s;     shot "waiting for Microsoft" wizard-5-connect-again
keys s;     shot "Outlook token is valid" wizard-6-token-valid
keys Enter; shot "● Confirmed" wizard-7-test-confirmed
keys Enter q

# The README section between the markers, rebuilt from the captures.
section=$(
  for f in review wizard-1-register wizard-4-form wizard-5-connect-ssh wizard-6-token-valid wizard-7-test-confirmed; do
    case $f in
      review) title="Review: every server's state and health" ;;
      wizard-1-register) title="Wizard, step 1: register the app" ;;
      wizard-4-form) title="Wizard, step 4: the server form" ;;
      wizard-5-connect-ssh) title="Connect over SSH (no display): link, tunnel, paste-back, device code" ;;
      wizard-6-token-valid) title="Outlook token is valid" ;;
      wizard-7-test-confirmed) title="Test & Confirm → Confirmed" ;;
    esac
    printf '%s\n\n```text\n%s\n```\n\n' "**$title**" "$(cat "$out/$f.txt")"
  done
)
python3 - "$section" <<'PY'
import sys, re
section = sys.argv[1]
readme = open("README.md").read()
begin, end = "<!-- screens:begin (scripts/screens.sh) -->", "<!-- screens:end -->"
new = f"{begin}\n{section.rstrip()}\n\n{end}"
if begin in readme:
    readme = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: new, readme, flags=re.S)
else:
    readme = readme.replace("## Azure portal, in brief", f"## What it looks like\n\nCaptured from `inbound demo` by `scripts/screens.sh` (80×24, over SSH):\n\n{new}\n\n## Azure portal, in brief", 1)
open("README.md", "w").write(readme)
PY
echo "screens: $(ls "$out" | wc -l) captures in $out, README updated"
