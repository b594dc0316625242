"""The floor for `inbound token NAME`: load the same store's JSON and print the token."""
import hashlib
import json
import re
import sys

store, name = sys.argv[1], sys.argv[2]
with open(f"{store}/config.json") as f:
    config = json.load(f)
server = next(s for s in config["servers"] if s["name"] == name)
# Token files are named by the server's id (older stores: a slug and hash of the name).
stem = server.get("id")
if not stem:
    slug = "-".join(p for p in re.sub(r"[^a-z0-9]", "-", name.lower()).split("-") if p)[:40]
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    stem = f"{slug}-{digest}" if slug else digest
with open(f"{store}/tokens/{stem}.json") as f:
    print(json.load(f)["tokens"]["access_token"])
