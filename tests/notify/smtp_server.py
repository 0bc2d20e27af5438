#!/usr/bin/python3
"""A real SMTP server for Vigie's tests (Debian's python3-aiosmtpd), on 127.0.0.1.

Prints the port it listens on, one line, when ready; runs until killed. Every message it
accepts is written to OUT/N.eml (the DATA as received, dot-stuffing undone by the server) with
OUT/N.json (envelope, TLS, authenticated user); every MAIL FROM and AUTH attempt is appended to
OUT/events.log, so that a test can prove that nothing was attempted.
"""
import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tls-cert", help="offer STARTTLS with this certificate chain")
    p.add_argument("--tls-key")
    p.add_argument("--tls12-cbc-only", action="store_true",
                   help="TLS 1.2 with a CBC (non-AEAD) suite only")
    p.add_argument("--auth-user")
    p.add_argument("--auth-password")
    p.add_argument("--auth-in-clear", action="store_true",
                   help="advertise and accept AUTH without TLS")
    p.add_argument("--reject-rcpt", action="append", default=[],
                   help="answer 550 to RCPT TO this address")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)

    def event(text):
        with open(os.path.join(a.out, "events.log"), "a") as f:
            f.write(text + "\n")

    class Handler:
        count = 0

        async def handle_MAIL(self, server, session, envelope, address, options):
            event(f"MAIL {address} tls={session.ssl is not None}")
            envelope.mail_from = address
            return "250 OK"

        async def handle_RCPT(self, server, session, envelope, address, options):
            if address in a.reject_rcpt:
                return "550 5.1.1 no such user here"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            Handler.count += 1
            n = Handler.count
            with open(os.path.join(a.out, f"{n}.eml"), "wb") as f:
                f.write(envelope.original_content)
            user = None
            if session.authenticated and isinstance(session.auth_data, LoginPassword):
                user = session.auth_data.login.decode()
            meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                    "tls": session.ssl is not None, "user": user}
            with open(os.path.join(a.out, f"{n}.json"), "w") as f:
                json.dump(meta, f)
            return f"250 2.0.0 Ok: queued as {n}"

    def authenticator(server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode()
        event(f"AUTH {mechanism} {login} tls={session.ssl is not None}")
        ok = login == a.auth_user and auth_data.password.decode() == a.auth_password
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    tls = None
    if a.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(a.tls_cert, a.tls_key)
        if a.tls12_cbc_only:
            tls.maximum_version = ssl.TLSVersion.TLSv1_2
            tls.set_ciphers("ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA")

    def factory():
        kwargs = {"tls_context": tls, "hostname": "smtp.test"}
        if a.auth_user:
            kwargs.update(authenticator=authenticator, auth_require_tls=not a.auth_in_clear,
                          auth_exclude_mechanism=[])
        return SMTP(Handler(), **kwargs)

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(factory, host="127.0.0.1", port=a.port))
    print(server.sockets[0].getsockname()[1], flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
