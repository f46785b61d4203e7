#!/usr/bin/env python3
"""A small SMTP server for tests: accepts every message and writes it to a directory.

    python3 scripts/smtp-sink.py --port 2525 --dir /tmp/mails \
        [--host 127.0.0.1] [--auth USER:PASSWORD] [--cert CERT.pem --key KEY.pem [--implicit-tls]]

Each message becomes two files, written atomically in this order:
  N.eml   the message as received (bytes of DATA)
  N.json  the envelope and the message parsed by Python's email package:
          {"mail_from", "rcpt_tos", "auth_user", "tls", "raw_headers": {name: [raw values]},
           "subject" (decoded), "message_id", "content_language",
           "parts": [{"content_type", "charset", "content_id", "disposition", "text" | "size", "sha256"}]}

--auth requires AUTH PLAIN/LOGIN with those credentials before MAIL FROM. --cert/--key offer
STARTTLS (or, with --implicit-tls, TLS from the first byte). "--port 0" picks a free port.
Prints "listening on HOST:PORT" once ready. Needs aiosmtpd (pip install aiosmtpd).
"""

import argparse
import asyncio
import email
import email.policy
import hashlib
import json
import logging
import os
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        n = self.count
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        raw_msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        raw_headers = {}
        for k, v in raw_msg.items():
            raw_headers.setdefault(k.lower(), []).append(str(v))
        parts = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=True) or b""
            entry = {
                "content_type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "content_id": part.get("Content-ID"),
                "disposition": part.get_content_disposition(),
                "sha256": hashlib.sha256(payload).hexdigest(),
                "size": len(payload),
            }
            if part.get_content_maintype() == "text":
                entry["text"] = payload.decode(part.get_content_charset() or "utf-8", "replace")
            parts.append(entry)
        transport = getattr(server, "transport", None)
        transport_tls = transport is not None and transport.get_extra_info("ssl_object") is not None
        auth = session.auth_data
        if isinstance(auth, LoginPassword):
            auth = auth.login.decode("utf-8", "replace")
        info = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth_user": auth if isinstance(auth, str) else None,
            "tls": session.ssl is not None or transport_tls,
            "raw_headers": raw_headers,
            "subject": str(msg.get("Subject", "")),
            "message_id": str(msg.get("Message-ID", "")),
            "content_language": str(msg.get("Content-Language", "")),
            "content_type": msg.get_content_type(),
            "parts": parts,
        }
        for name, data in ((f"{n}.eml", raw), (f"{n}.json", json.dumps(info, ensure_ascii=False).encode("utf-8"))):
            tmp = os.path.join(self.directory, f".{name}.tmp")
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, os.path.join(self.directory, name))
        return "250 OK: message accepted"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--auth", help="USER:PASSWORD required before sending")
    ap.add_argument("--cert", help="PEM certificate chain for STARTTLS / implicit TLS")
    ap.add_argument("--key", help="PEM private key")
    ap.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte (smtps)")
    args = ap.parse_args()
    # Tests provoke failed handshakes and logins on purpose: keep their output quiet.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    os.makedirs(args.dir, exist_ok=True)

    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)

    authenticator = None
    if args.auth:
        user, _, password = args.auth.partition(":")

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == user
                and auth_data.password.decode() == password
            )
            return AuthResult(success=ok, handled=False, auth_data=user if ok else None)

    sink = Sink(args.dir)

    def factory():
        kw = {}
        if authenticator:
            kw.update(authenticator=authenticator, auth_required=True, auth_require_tls=tls is not None)
        if tls is not None and not args.implicit_tls:
            kw.update(tls_context=tls)
        return SMTP(sink, hostname="sink.test", **kw)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(factory, host=args.host, port=args.port, ssl=tls if args.implicit_tls else None)
    )
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main())
