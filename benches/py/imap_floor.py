"""The peer of Test & Confirm: Python imaplib, XOAUTH2 login + EXAMINE INBOX + LOGOUT over
implicit TLS (system roots plus the test CA), through the same proxy."""
import imaplib
import os
import ssl

ctx = ssl.create_default_context()
ctx.load_verify_locations(os.environ["CA_FILE"])
m = imaplib.IMAP4_SSL("127.0.0.1", int(os.environ["PROXY_PORT"]), ssl_context=ctx)
auth = f"user={os.environ['IMAP_USER']}\x01auth=Bearer {os.environ['TOKEN']}\x01\x01".encode()
m.authenticate("XOAUTH2", lambda _: auth)
typ, data = m.select("INBOX", readonly=True)
assert typ == "OK", (typ, data)
m.logout()
print(f"INBOX has {int(data[0])} messages")
