#!/usr/bin/env python3
"""The real peers of the remote-gateway end-to-end tests (tests/e2e/remote_*_test.sh).

  echo PORT [ADDR] [--banner T]  TCP server on ADDR (127.0.0.1): sends T first (a VNC-like "RFB 003.008\\n"),
                                 then echoes every byte back, one thread per connection.
  sink PORT [ADDR]               TCP server that accepts and never reads (a slow device).
  roundtrip HOST PORT BYTES      sends BYTES random bytes, half-closes, checks the echo is the
                                 same (SHA-256); prints "ok N".
  banner HOST PORT TEXT          connects and checks the first bytes are TEXT.
  expect-closed HOST PORT SECS   connects and checks the peer closes within SECS (no data).
  push HOST PORT BYTES SECS      writes up to BYTES for SECS seconds; prints how many it wrote.
  rogue-broker PORT CERT KEY HOST:PORT
                                 a TLS WebSocket server speaking vigie.tunnel.v1 that sends the
                                 first connector an OPEN for HOST:PORT (which it never granted)
                                 and prints the connector's answer: "close CODE REASON".
  connectors URL CA IDENTITY N   opens N WebSocket connections at once to URL with the client
                                 certificate IDENTITY; prints how many were upgraded, holds
                                 them 2 s, closes them.
"""
import asyncio
import base64
import hashlib
import os
import socket
import ssl
import struct
import sys
import threading
import time

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def serve(port, handler):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1", port))
    srv.listen(128)
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def echo(conn, banner=b""):
    with conn:
        if banner:
            conn.sendall(banner)
        while True:
            data = conn.recv(65536)
            if not data:
                conn.shutdown(socket.SHUT_WR)
                return
            conn.sendall(data)


def sink(conn):
    time.sleep(3600)


def roundtrip(host, port, n):
    payload = os.urandom(n)
    s = socket.create_connection((host, port), timeout=60)
    received = bytearray()

    def reader():
        while True:
            d = s.recv(65536)
            if not d:
                return
            received.extend(d)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    t.join(120)
    if hashlib.sha256(received).digest() != hashlib.sha256(payload).digest():
        sys.exit(f"echo differs: sent {n} bytes, received {len(received)}")
    print(f"ok {n}")


def expect_banner(host, port, text):
    s = socket.create_connection((host, port), timeout=20)
    want = text.encode().decode("unicode_escape").encode()
    got = b""
    while len(got) < len(want):
        d = s.recv(len(want) - len(got))
        if not d:
            break
        got += d
    if got != want:
        sys.exit(f"banner {got!r}, expected {want!r}")
    print("ok banner")


def expect_closed(host, port, secs):
    s = socket.create_connection((host, port), timeout=secs)
    try:
        d = s.recv(1)
    except socket.timeout:
        sys.exit(f"still open after {secs} s")
    except ConnectionResetError:
        d = b""
    if d:
        sys.exit(f"received data {d!r} instead of a close")
    print("ok closed")


def hold(host, port, secs):
    """One echo round trip, then wait for the tunnel to close the stream: prints "open", then
    "closed T" with the epoch time the close arrived (or exits 1 after secs)."""
    s = socket.create_connection((host, port), timeout=secs)
    s.sendall(b"ping")
    got = b""
    while len(got) < 4:
        d = s.recv(4 - len(got))
        if not d:
            sys.exit("closed before the echo")
        got += d
    print("open", flush=True)
    try:
        while s.recv(65536):
            pass
    except socket.timeout:
        sys.exit(f"still open after {secs} s")
    except ConnectionResetError:
        pass
    print(f"closed {time.time():.3f}", flush=True)


def push(host, port, n, secs):
    s = socket.create_connection((host, port), timeout=10)
    s.setblocking(False)
    chunk = b"\0" * 65536
    sent = 0
    end = time.time() + secs
    while sent < n and time.time() < end:
        try:
            sent += s.send(chunk)
        except BlockingIOError:
            time.sleep(0.01)
    print(sent, flush=True)
    time.sleep(float(os.environ.get("HOLD", "0")))


# --- a minimal WebSocket (RFC 6455) over TLS, enough for the tests' rogue broker -----------

def ws_read_frame(f):
    h = f.read(2)
    if len(h) < 2:
        return None
    n = h[1] & 0x7F
    if n == 126:
        n = struct.unpack(">H", f.read(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", f.read(8))[0]
    mask = f.read(4) if h[1] & 0x80 else b"\0\0\0\0"
    data = bytearray(f.read(n))
    for i in range(len(data)):
        data[i] ^= mask[i % 4]
    return h[0] & 0x0F, bytes(data)


def ws_frame(payload):
    n = len(payload)
    head = bytes([0x82]) + (bytes([n]) if n < 126 else bytes([126]) + struct.pack(">H", n))
    return head + payload


def rogue_broker(port, cert, key, target):
    host, tport = target.rsplit(":", 1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(8)
    print("listening", flush=True)
    raw, _ = srv.accept()
    conn = ctx.wrap_socket(raw, server_side=True)
    f = conn.makefile("rwb", buffering=0)
    request = b""
    while not request.endswith(b"\r\n\r\n"):
        request += f.read(1)
    keyline = [l for l in request.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key:")][0]
    accept = base64.b64encode(hashlib.sha1(keyline.split(b":", 1)[1].strip() + WS_GUID).digest())
    f.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\nSec-WebSocket-Protocol: vigie.tunnel.v1\r\n\r\n")
    # OPEN stream 1 to a host:port no GRANT frame ever named.
    f.write(ws_frame(bytes([1]) + struct.pack(">IHI", 1, int(tport), 65536) + host.encode()))
    while True:
        frame = ws_read_frame(f)
        if frame is None:
            sys.exit("the connector closed without answering")
        opcode, data = frame
        if opcode == 2 and data[0] == 6:  # CLOSE
            print(f"close {data[5]} {data[6:].decode()}", flush=True)
            return
        if opcode == 2 and data[0] == 2:
            sys.exit("the connector opened a host:port it was never granted")


async def one_connector(url_host, url_port, ctx):
    reader, writer = await asyncio.open_connection(url_host, url_port, ssl=ctx,
                                                   server_hostname=url_host)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /v1/connector HTTP/1.1\r\nHost: {url_host}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: vigie.tunnel.v1\r\n\r\n"
                  ).encode())
    await writer.drain()
    status = await reader.readline()
    ok = b" 101 " in status
    return ok, writer


async def many_connectors(url, ca, identity, n):
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=ca)
    ctx.load_cert_chain(identity)
    results = await asyncio.gather(*(one_connector(host, int(port), ctx) for _ in range(n)),
                                   return_exceptions=True)
    upgraded = sum(1 for r in results if not isinstance(r, BaseException) and r[0])
    errors = [r for r in results if isinstance(r, BaseException)]
    print(upgraded, flush=True)
    if errors:
        print(f"first error: {errors[0]!r}", file=sys.stderr)
    await asyncio.sleep(2)
    for r in results:
        if not isinstance(r, BaseException):
            r[1].close()


def main():
    cmd = sys.argv[1]
    if cmd == "echo":
        banner = b""
        if "--banner" in sys.argv:
            banner = sys.argv[sys.argv.index("--banner") + 1].encode().decode("unicode_escape").encode()
            del sys.argv[sys.argv.index("--banner"):sys.argv.index("--banner") + 2]
        serve(int(sys.argv[2]), lambda c: echo(c, banner))
    elif cmd == "sink":
        serve(int(sys.argv[2]), sink)
    elif cmd == "roundtrip":
        roundtrip(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "banner":
        expect_banner(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif cmd == "expect-closed":
        expect_closed(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "hold":
        hold(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "push":
        push(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    elif cmd == "rogue-broker":
        rogue_broker(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
    elif cmd == "connectors":
        asyncio.run(many_connectors(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
