#!/usr/bin/env python3
"""tlslite-ng (a second TLS implementation, pure Python) as a peer of securechannel.

  tlslite_peer.py client HOST PORT SNI VERSION [--cert PEM --key PEM] [--resume]
      Handshake (VERSION 1.2 or 1.3), send `GET /` asking for JSON, print one JSON line per
      connection: version, cipher suite, resumed, the server certificate's SHA-1, the body.
      --resume: a second connection resumes the first one's session.
  tlslite_peer.py server PORT CERT KEY [--request-cert]
      Accept one connection, answer any request with a fixed body, print one JSON line
      describing the handshake, exit.

Used by crates/cli/tests/tlslite_interop.rs; every socket has a timeout.
"""
import json
import socket
import sys

from tlslite.api import (HandshakeSettings, TLSConnection, X509CertChain,
                         parsePEMKey)

TIMEOUT = 15


def settings(version):
    s = HandshakeSettings()
    v = {"1.2": (3, 3), "1.3": (3, 4)}[version]
    s.minVersion = v
    s.maxVersion = v
    return s


def chain_and_key(cert, key):
    with open(cert) as f:
        chain = X509CertChain()
        chain.parsePemList(f.read())
    with open(key) as f:
        private = parsePEMKey(f.read(), private=True)
    return chain, private


def describe(conn):
    cert = None
    if conn.session.serverCertChain is not None:
        cert = conn.session.serverCertChain.getFingerprint()
    client_cert = None
    if conn.session.clientCertChain is not None:
        client_cert = conn.session.clientCertChain.getFingerprint()
    return {
        "version": "TLS 1.%d" % (conn.version[1] - 1),
        "cipher": conn.getCipherName(),
        "suite": conn.session.cipherSuite,
        "resumed": bool(conn.resumed),
        "server_cert_sha1": cert,
        "client_cert_sha1": client_cert,
    }


def client(args):
    host, port, sni, version = args[0], int(args[1]), args[2], args[3]
    cert = key = None
    if "--cert" in args:
        cert, key = chain_and_key(args[args.index("--cert") + 1],
                                  args[args.index("--key") + 1])
    rounds = 2 if "--resume" in args else 1
    session = None
    for _ in range(rounds):
        sock = socket.create_connection((host, port), timeout=TIMEOUT)
        conn = TLSConnection(sock)
        conn.handshakeClientCert(cert, key, session=session,
                                 settings=settings(version), serverName=sni)
        out = describe(conn)
        request = ("GET / HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n"
                   "Connection: close\r\n\r\n" % sni)
        conn.write(request.encode())
        body = b""
        while True:
            try:
                chunk = conn.read()
            except Exception as e:  # a peer closing without close_notify
                body += ("\n[read ended: %s]" % e).encode()
                break
            if not chunk:
                break
            body += chunk
        out["response"] = body.decode("utf-8", "replace")
        session = conn.session
        try:
            conn.close()
        except Exception:
            pass
        print(json.dumps(out), flush=True)


def server(args):
    port, cert, key = int(args[0]), args[1], args[2]
    chain, private = chain_and_key(cert, key)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1)
    listener.settimeout(TIMEOUT)
    print("listening", flush=True)
    sock, _ = listener.accept()
    sock.settimeout(TIMEOUT)
    conn = TLSConnection(sock)
    s = HandshakeSettings()
    conn.handshakeServer(certChain=chain, privateKey=private,
                         reqCert="--request-cert" in args, settings=s)
    out = describe(conn)
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = conn.read()
        if not chunk:
            break
        request += chunk
    body = b"hello from tlslite-ng\n"
    conn.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
               b"Connection: close\r\n\r\n%s" % (len(body), body))
    out["request"] = request.decode("utf-8", "replace")
    conn.close()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    {"client": client, "server": server}[sys.argv[1]](sys.argv[2:])
