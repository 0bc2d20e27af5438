#!/usr/bin/python3
"""Decodes a received message with Python's own e-mail parser (an independent reader of what
Vigie wrote): prints {"headers": {...}, "subject": ..., "body": ..., "charset": ...} as JSON."""
import email
import email.policy
import json
import sys

with open(sys.argv[1], "rb") as f:
    m = email.message_from_binary_file(f, policy=email.policy.default)
print(json.dumps({
    "headers": {k: str(v) for k, v in m.items()},
    "subject": str(m["subject"]),
    "body": m.get_content(),
    "charset": m.get_content_charset(),
    "defects": [str(d) for d in m.defects],
}))
