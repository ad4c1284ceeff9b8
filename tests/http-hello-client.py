#!/usr/bin/env python3
"""Clients for tests/http-hello.sh: python's http.client (keep-alive,
bodies, responses to pipelined requests) and a raw socket (malformed,
oversized and chunked requests).  Usage: http-hello-client.py PORT.
Exits 0 when every check holds; prints what failed otherwise."""
import http.client
import socket
import sys

port = int(sys.argv[1])
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def raw(data, timeout=5):
    """Send data on a new connection, return everything until the server closes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    got = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            got += b"<reset>"
            break
        if not chunk:
            break
        got += chunk
    s.close()
    return got


# http.client: keep-alive, a body to discard, then another request on the same socket.
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
conn.request("GET", "/")
r = conn.getresponse()
check(r.status == 200 and r.read() == b"hello\n", "GET: 200 hello")
sock = conn.sock
conn.request("POST", "/form", body=b"x" * 100000, headers={"Content-Type": "text/plain"})
r = conn.getresponse()
check(r.status == 200 and r.read() == b"hello\n", "POST with a body: 200 hello")
conn.request("GET", "/again")
r = conn.getresponse()
check(r.status == 200 and r.read() == b"hello\n", "GET after a body: 200 hello")
check(conn.sock is sock, "keep-alive: the same connection served all three")
conn.close()

# Pipelining: three requests in one write (one with a body), read with http.client's parser.
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
          b"POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde"
          b"GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")


class Unclosable:
    """A reader that HTTPResponse cannot close when a body ends."""
    def __init__(self, f):
        self.f = f

    def __getattr__(self, name):
        return getattr(self.f, name)

    def close(self):
        pass


class OneReader:
    """Every response parses from the same buffered reader: a reader of its
    own would swallow the responses after it."""
    def __init__(self, f):
        self.f = Unclosable(f)

    def makefile(self, mode):
        return self.f


shared = OneReader(s.makefile("rb"))
for i in range(3):
    r = http.client.HTTPResponse(shared)
    r.begin()
    check(r.status == 200 and r.read() == b"hello\n", "pipelined response %d" % (i + 1))
check(shared.f.read(1) == b"", "pipelined: closed after Connection: close")
s.close()

# HTTP/1.0: closed after the answer unless it asks for keep-alive.
got = raw(b"GET / HTTP/1.0\r\n\r\n")
check(got.startswith(b"HTTP/1.1 200 OK\r\n") and got.endswith(b"\r\n\r\nhello\n"),
      "HTTP/1.0: 200 hello, then closed: %r" % got[:80])

# The answered-then-closed cases.
for req, status, name in [
        (b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
         b"501", "chunked"),
        (b"BROKEN\r\n\r\n", b"400", "no target"),
        (b"GET / HTTP/9.9\r\n\r\n", b"400", "bad version"),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", b"400", "header without a colon"),
        (b"GET / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", b"400", "bad Content-Length"),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", b"431", "9000-byte header"),
        (b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 1200, b"431", "8 KiB of headers, no end"),
]:
    got = raw(req)
    check(got.startswith(b"HTTP/1.1 " + status + b" ") and b"Connection: close" in got
          and b"<reset>" not in got, "%s: %s then close, got %r" % (name, status.decode(), got[:80]))

# A header block of just under 8 KiB is fine.
got = raw(b"GET / HTTP/1.1\r\nConnection: close\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n")
check(got.startswith(b"HTTP/1.1 200 OK"), "8000-byte header: 200, got %r" % got[:40])

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
