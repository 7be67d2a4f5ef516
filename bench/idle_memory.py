#!/usr/bin/env python3
"""Memory per idle TLS connection of a server: open N TLS connections (one keep-alive
request each, then idle), and print the growth of the server's resident memory (the sum
over PIDS) divided by N.

    bench/idle_memory.py HOST:PORT N CAFILE PID [PID...]

Used by bench/wire.sh; needs `ulimit -n` above N.
"""
import socket
import ssl
import sys
import time


def rss_kib(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def main():
    addr, n, cafile, pids = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    host, port = addr.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    before = rss_kib(pids)
    conns = []
    request = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
    for _ in range(n):
        raw = socket.create_connection((host, int(port)), timeout=30)
        tls = ctx.wrap_socket(raw, server_hostname="localhost")
        tls.sendall(request)
        got = b""
        while b"\r\n\r\n" not in got:
            got += tls.recv(65536)
        head, _, body = got.partition(b"\r\n\r\n")
        length = int(
            [h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")][0]
            .split(b":")[1]
        )
        while len(body) < length:
            body += tls.recv(65536)
        conns.append(tls)
    time.sleep(1.0)
    after = rss_kib(pids)
    print(f"{(after - before) / n:.1f} KiB per idle connection (N = {n}; RSS {before} -> {after} KiB)")
    for c in conns:
        c.close()


if __name__ == "__main__":
    main()
