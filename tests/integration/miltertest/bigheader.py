#!/usr/bin/python3
# bigheader.py HOST PORT [KIB] - send one message with a header field of
# KIB KiB (default 1024) over
# the raw milter protocol (miltertest itself crashes on a packet that
# big). libmilter may refuse the packet and drop the connection, or
# answer; either is fine. Prints what happened; exits 0 unless the
# milter could not be reached at all.
import socket
import struct
import sys


def send(s, cmd, data=b""):
    s.sendall(struct.pack("!I", len(data) + 1) + cmd + data)


def recv(s):
    hdr = b""
    while len(hdr) < 4:
        chunk = s.recv(4 - len(hdr))
        if not chunk:
            return None
        hdr += chunk
    (n,) = struct.unpack("!I", hdr)
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            return None
        body += chunk
    return body


# SMFIP_NR_* flag of each step: no reply comes when it was negotiated
NR = {b"C": 0x1000, b"H": 0x2000, b"M": 0x4000, b"R": 0x8000,
      b"T": 0x10000, b"L": 0x80, b"N": 0x40000, b"B": 0x80000}


def step(s, cmd, data=b"", pflags=0):
    send(s, cmd, data)
    if pflags & NR.get(cmd, 0):
        return b"c"
    r = recv(s)
    return None if r is None else r[:1]


def main():
    kib = int(sys.argv[3]) if len(sys.argv) > 3 else 1024
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    # version 6, every action, every protocol step offered
    send(s, b"O", struct.pack("!III", 6, 0x1FF, 0x1FFFFF & ~0x100000))
    r = recv(s)
    if r is None or len(r) < 13:
        print("no negotiation reply")
        return 1
    (pflags,) = struct.unpack("!I", r[9:13])
    steps = [
        (b"C", b"mail.pass.example\x004" + struct.pack("!H", 25) + b"192.0.2.7\x00"),
        (b"H", b"mail.pass.example\x00"),
        (b"M", b"<hostile@pass.example>\x00"),
        (b"R", b"<bob@example.net>\x00"),
        (b"T", b""),
        (b"L", b"X-Big\x00 " + b"A" * (kib * 1024) + b"\x00"),
        (b"N", b""),
        (b"B", b"big\r\n"),
    ]
    for cmd, data in steps:
        try:
            r = step(s, cmd, data, pflags)
        except OSError as e:
            print("connection dropped at %s: %s" % (cmd.decode(), e))
            return 0
        if r is None:
            print("connection closed by the milter at %s" % cmd.decode())
            return 0
    try:
        send(s, b"E")
        while True:
            r = recv(s)
            if r is None or r[:1] in (b"a", b"c", b"r", b"t", b"y"):
                break
    except OSError as e:
        print("connection dropped at E: %s" % e)
        return 0
    print("end of message answered: %r" % (r[:1] if r else None))
    send(s, b"Q")
    s.close()
    return 0


sys.exit(main())
