#!/usr/bin/env python3
"""Load generators and peers of bench/tunnel_bench.sh (Python 3 standard library only).

  sink PORT                     TCP server that reads and discards; for each connection prints
                                "BYTES SECONDS" (first byte to EOF) on stdout.
  echo PORT                     TCP echo server (TCP_NODELAY), one thread per connection.
  pingpong SIZE N NAME=PORT...  one connection to 127.0.0.1:PORT per NAME; N rounds, each round
                                one SIZE-byte round trip on every connection in turn
                                (interleaved: drift hits all alike); prints per NAME
                                "NAME p50_ms p99_ms mean_ms" of the round-trip time.
  streams PORTS SINKPORT N SECS listens on SINKPORT (the device), opens N connections to
                                PORTS (the tunnel's entries, comma-separated: stream i goes to
                                the (i mod k)-th) and writes zeros on each; counts what
                                the device receives per stream over SECS seconds (after 1 s of
                                warm-up); prints "aggregate_MBps min median max fairness
                                streams_seen streams_failed" (MB/s = 10^6 bytes/s, fairness =
                                min / (aggregate/N)); a stream that fails is named on stderr.
  idle HOST PORT CA IDENTITY N  opens N TLS WebSocket connections to /v1/connector (subprotocol
                                vigie.tunnel.v1) with the client certificate IDENTITY, at most
                                200 handshakes in flight; answers the broker's pings; prints
                                "upgraded K failed F SECONDS" when all are done, then holds them
                                until SIGTERM (and prints how many are still open every 5 s).
"""
import asyncio
import base64
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import time


def listener(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1024)
    return srv


def serve(port, handler):
    srv = listener(port)
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def sink(conn):
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    total = 0
    first = None
    with conn:
        while True:
            n = conn.recv_into(view)
            if not n:
                break
            if first is None:
                first = time.perf_counter()
            total += n
    if first is not None:
        print(f"{total} {time.perf_counter() - first:.6f}", flush=True)


def echo(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data)


def percentile(sorted_values, p):
    i = min(len(sorted_values) - 1, max(0, int(round(p / 100 * (len(sorted_values) - 1)))))
    return sorted_values[i]


def pingpong(size, rounds, targets):
    conns = []
    for t in targets:
        name, port = t.split("=")
        s = socket.create_connection(("127.0.0.1", int(port)), timeout=30)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conns.append((name, s, []))
    msg = b"p" * size

    def one(s):
        s.sendall(msg)
        got = 0
        while got < size:
            d = s.recv(size - got)
            if not d:
                sys.exit("the echo closed the connection")
            got += len(d)

    for _, s, _ in conns:  # warm-up: the first round trips open the tunnel's stream
        for _ in range(20):
            one(s)
    for _ in range(rounds):
        for _, s, samples in conns:
            t0 = time.perf_counter()
            one(s)
            samples.append((time.perf_counter() - t0) * 1000)
    for name, s, samples in conns:
        samples.sort()
        mean = sum(samples) / len(samples)
        print(f"{name} {percentile(samples, 50):.4f} {percentile(samples, 99):.4f} {mean:.4f}",
              flush=True)
        s.close()


def streams(ports, sink_port, n, secs):
    counts = [0] * n
    seen = set()
    failed = set()
    srv = listener(sink_port)

    def device(conn):
        with conn:
            head = b""
            while len(head) < 4:
                d = conn.recv(4 - len(head))
                if not d:
                    return
                head += d
            i = struct.unpack(">I", head)[0]
            seen.add(i)
            buf = bytearray(1 << 18)
            view = memoryview(buf)
            while True:
                try:
                    k = conn.recv_into(view)
                except OSError:
                    return
                if not k:
                    return
                counts[i] += k

    def accept():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=device, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    stop = threading.Event()
    chunk = b"\0" * (1 << 18)

    def source(i):
        try:
            s = socket.create_connection(("127.0.0.1", ports[i % len(ports)]), timeout=60)
            s.sendall(struct.pack(">I", i))
            while not stop.is_set():
                s.sendall(chunk)
        except OSError as e:
            if not stop.is_set():
                failed.add(i)
                sys.stderr.write(f"stream {i}: {e!r}\n")  # one write: threads do not interleave
                sys.stderr.flush()

    threads = [threading.Thread(target=source, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.time() + 30
    while len(seen) < n and len(failed) < n and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # warm-up
    before = list(counts)
    t0 = time.perf_counter()
    time.sleep(secs)
    after = list(counts)
    elapsed = time.perf_counter() - t0
    stop.set()
    rates = sorted((a - b) / elapsed / 1e6 for a, b in zip(after, before))
    aggregate = sum(rates)
    fairness = rates[0] / (aggregate / n) if aggregate > 0 else 0.0
    print(f"{aggregate:.1f} {rates[0]:.2f} {percentile(rates, 50):.2f} {rates[-1]:.2f} "
          f"{fairness:.3f} {len(seen)} {len(failed)}", flush=True)
    os._exit(0)  # the sources are blocked in sendall: leave without joining them


# --- idle connectors: a minimal WebSocket client (RFC 6455), enough to answer pings -----------

async def ws_frames(reader):
    while True:
        h = await reader.readexactly(2)
        n = h[1] & 0x7F
        if n == 126:
            n = struct.unpack(">H", await reader.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", await reader.readexactly(8))[0]
        if h[1] & 0x80:
            await reader.readexactly(4)  # a server does not mask; skip a mask anyway
        yield h[0] & 0x0F, await reader.readexactly(n)


def ws_client_frame(opcode, payload):
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


async def idle_connector(host, port, ctx, gate, state):
    async with gate:
        reader, writer = await asyncio.open_connection(host, port, ssl=ctx,
                                                       server_hostname=host)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET /v1/connector HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: vigie.tunnel.v1\r\n"
                      f"\r\n").encode())
        await writer.drain()
        status = await reader.readline()
        if b" 101 " not in status:
            raise RuntimeError(f"not upgraded: {status!r}")
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
    state["open"] += 1
    try:
        async for opcode, payload in ws_frames(reader):
            if opcode == 9:  # ping: pong with the same payload
                writer.write(ws_client_frame(0xA, payload))
                state["pings"] += 1
            elif opcode == 8:
                break
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        pass
    finally:
        state["open"] -= 1
        state["lost"] += 1
    return writer


async def idle(host, port, ca, identity, n):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.load_cert_chain(identity)
    gate = asyncio.Semaphore(200)
    state = {"open": 0, "lost": 0, "pings": 0}
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(idle_connector(host, port, ctx, gate, state)) for _ in range(n)]
    # Done when every task is either holding its connection or has failed.
    while True:
        failed = sum(1 for t in tasks if t.done())
        if state["open"] + failed >= n:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - t0
    errors = [t.exception() for t in tasks if t.done() and t.exception() is not None]
    print(f"upgraded {state['open']} failed {n - state['open']} {elapsed:.1f}", flush=True)
    if errors:
        print(f"first error: {errors[0]!r}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 5)
        except asyncio.TimeoutError:
            print(f"open {state['open']} lost {state['lost']} pings {state['pings']}", flush=True)
    print(f"open {state['open']} lost {state['lost']} pings {state['pings']}", flush=True)
    os._exit(0)


def main():
    cmd = sys.argv[1]
    if cmd == "sink":
        serve(int(sys.argv[2]), sink)
    elif cmd == "echo":
        serve(int(sys.argv[2]), echo)
    elif cmd == "pingpong":
        pingpong(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
    elif cmd == "streams":
        streams([int(p) for p in sys.argv[2].split(",")], int(sys.argv[3]), int(sys.argv[4]),
                float(sys.argv[5]))
    elif cmd == "idle":
        asyncio.run(idle(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5],
                         int(sys.argv[6])))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
