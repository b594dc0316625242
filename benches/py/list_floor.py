"""The floor for `inbound list`: load the config and every token file, print a line each."""
import hashlib
import json
import re
import sys

store = sys.argv[1]
with open(f"{store}/config.json") as f:
    config = json.load(f)
out = []
for s in config["servers"]:
    name = s["name"]
    # Token files are named by the server's id (older stores: a slug and hash of the name).
    stem = s.get("id")
    if not stem:
        slug = "-".join(p for p in re.sub(r"[^a-z0-9]", "-", name.lower()).split("-") if p)[:40]
        digest = hashlib.sha256(name.encode()).hexdigest()[:12]
        stem = f"{slug}-{digest}" if slug else digest
    try:
        with open(f"{store}/tokens/{stem}.json") as f:
            expires = json.load(f).get("tokens", {}).get("expires_at", "-")
    except FileNotFoundError:
        expires = "-"
    out.append(f"{name}  {s.get('state', '')}  {s['host']}  {expires}")
print("\n".join(out))
