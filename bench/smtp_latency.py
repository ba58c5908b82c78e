#!/usr/bin/env python3
"""SMTP intake latency and throughput probe for tlpmaild (a benchmark, not a
test): C concurrent connections each send M messages of S bytes over one
session, and the time from sending the end of DATA (<CRLF>.<CRLF>) to
reading the 250 is recorded for every message. Prints one JSON object.
Usage: smtp_latency.py HOST PORT RCPT CONNECTIONS MESSAGES SIZE"""

import asyncio
import json
import sys
import time


async def reply(reader):
    """Reads one (possibly multi-line) reply; returns (code, text)."""
    lines = []
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed")
        lines.append(line.decode("ascii", "replace").rstrip("\r\n"))
        if len(line) < 4 or line[3:4] != b"-":
            return int(lines[-1][:3]), lines


async def expect(reader, code):
    got, lines = await reply(reader)
    if got != code:
        raise RuntimeError(f"expected {code}, got {lines}")


async def client(host, port, rcpt, count, body, latencies, failures):
    reader, writer = await asyncio.open_connection(host, port)
    await expect(reader, 220)
    writer.write(b"EHLO bench.example\r\n")
    await expect(reader, 250)
    for i in range(count):
        writer.write(b"MAIL FROM:<bench@sender.example>\r\n")
        await expect(reader, 250)
        writer.write(b"RCPT TO:<" + rcpt.encode() + b">\r\n")
        await expect(reader, 250)
        writer.write(b"DATA\r\n")
        await expect(reader, 354)
        writer.write(body)
        await writer.drain()
        t0 = time.perf_counter()
        writer.write(b".\r\n")
        code, lines = await reply(reader)
        t1 = time.perf_counter()
        if code == 250:
            latencies.append(t1 - t0)
        else:
            failures.append(lines[-1])
    writer.write(b"QUIT\r\n")
    await reply(reader)
    writer.close()


def make_body(size):
    head = (b"From: bench@sender.example\r\nTo: list\r\n"
            b"Subject: [TLP:GREEN] benchmark\r\n\r\n")
    line = b"x" * 76 + b"\r\n"
    n = max(0, size - len(head)) // len(line) + 1
    return head + line * n


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, int(round(p / 100.0 * (len(sorted_values) - 1))))
    return sorted_values[k]


async def main():
    host, port, rcpt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    conns, per_conn, size = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    body = make_body(size)
    latencies, failures = [], []
    start = time.perf_counter()
    await asyncio.gather(*(client(host, port, rcpt, per_conn, body, latencies, failures)
                           for _ in range(conns)))
    wall = time.perf_counter() - start
    lat = sorted(latencies)
    print(json.dumps({
        "connections": conns, "messages": len(lat), "failed": len(failures),
        "size": len(body), "seconds": round(wall, 3),
        "messages_per_second": round(len(lat) / wall, 1) if wall else None,
        "p50_ms": round(percentile(lat, 50) * 1000, 2) if lat else None,
        "p99_ms": round(percentile(lat, 99) * 1000, 2) if lat else None,
        "first_failure": failures[0] if failures else None}))


if __name__ == "__main__":
    asyncio.run(main())
