#!/usr/bin/python3
# NAME
#	dnsd.py - a tiny authoritative DNS server for the conformance suites
# SYNOPSIS
#	dnsd.py --port P --zone ZONE.json [--pidfile F]
# DESCRIPTION
#	Serves, on 127.0.0.1 (UDP and TCP), exactly the records of a zone
#	file written by spf_suite.py or dkim_suite.py, with the answers
#	dnsmasq cannot give: TXT strings with any byte (NUL, CR, non-ASCII),
#	several strings per record, CNAME chains and loops, NODATA apart
#	from NXDOMAIN, a name that never answers for some types (TIMEOUT)
#	and SERVFAIL.
#
#	ZONE.json: {"name": {"TXT": [["s1", "s2"], ...], "A": ["1.2.3.4"],
#	"AAAA": ["::1"], "MX": [[0, "host"]], "PTR": ["host"],
#	"CNAME": "target", "TIMEOUT": true, "SERVFAIL": true, "DELAY": ms}}
#	(DELAY: answer over UDP only after that many ms). Strings are
#	latin-1, so one char is one byte. Names compare case-insensitively.
#	A TIMEOUT name answers only the types it lists; any other query
#	gets no answer at all.
# DIAGNOSTICS
#	Runs until killed. Malformed queries are dropped.
import argparse
import ipaddress
import json
import os
import socket
import struct
import threading

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "PTR": 12, "MX": 15, "TXT": 16,
         "AAAA": 28, "SPF": 99}


def enc_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label == "":
            continue
        b = label.encode("latin-1")[:63]
        out += bytes([len(b)]) + b
    return out + b"\0"


def dec_name(msg, off):
    labels = []
    while True:
        n = msg[off]
        off += 1
        if n == 0:
            break
        if n & 0xC0:
            raise ValueError("compressed name in question")
        labels.append(msg[off:off + n].decode("latin-1"))
        off += n
    return ".".join(labels), off


def rdata(rtype, value):
    if rtype == "A":
        return ipaddress.IPv4Address(value).packed
    if rtype == "AAAA":
        return ipaddress.IPv6Address(value).packed
    if rtype in ("PTR", "CNAME"):
        return enc_name(value)
    if rtype == "MX":
        return struct.pack("!H", int(value[0])) + enc_name(value[1])
    if rtype in ("TXT", "SPF"):
        out = b""
        for s in value or [""]:
            b = s.encode("latin-1")
            while True:
                out += bytes([min(len(b), 255)]) + b[:255]
                b = b[255:]
                if not b:
                    break
        return out
    raise ValueError(rtype)


def rr(owner, rtype, value):
    d = rdata(rtype, value)
    return (enc_name(owner) + struct.pack("!HHIH", TYPES[rtype], 1, 60,
                                          len(d)) + d)


class Zone:
    def __init__(self, path):
        with open(path, encoding="latin-1") as f:
            raw = json.load(f)
        self.names = {k.lower().rstrip("."): v for k, v in raw.items()}

    def delay(self, qname):
        """seconds to wait before answering qname ("DELAY": ms)"""
        node = self.names.get(qname.lower().rstrip("."))
        return (node or {}).get("DELAY", 0) / 1000.0

    def answer(self, qname, qtype):
        """(rcode, [rr bytes]) or None to stay silent"""
        tname = {v: k for k, v in TYPES.items()}.get(qtype)
        name = qname.lower().rstrip(".")
        answers = []
        for _ in range(10):
            node = self.names.get(name)
            if node is None:
                return (3 if not answers else 3), answers
            if node.get("SERVFAIL"):
                return 2, []
            if "CNAME" in node and tname != "CNAME":
                answers.append(rr(name, "CNAME", node["CNAME"]))
                name = node["CNAME"].lower().rstrip(".")
                continue
            recs = node.get(tname, []) if tname else []
            if not recs and node.get("TIMEOUT"):
                return None
            for v in recs:
                answers.append(rr(name, tname, v))
            return 0, answers
        return 2, []    # CNAME loop: SERVFAIL


def respond(zone, msg):
    if len(msg) < 12:
        return None
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    if flags & 0x8000 or qd != 1:
        return None
    qname, off = dec_name(msg, 12)
    qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
    question = msg[12:off + 4]
    edns = ar > 0
    res = zone.answer(qname, qtype)
    if res is None:
        return None
    rcode, answers = res
    rflags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode
    out = struct.pack("!HHHHHH", qid, rflags, 1, len(answers), 0,
                      1 if edns else 0)
    out += question + b"".join(answers)
    if edns:
        out += b"\0" + struct.pack("!HHIH", 41, 4096, 0, 0)
    return out


def serve_udp(zone, sock):
    while True:
        msg, peer = sock.recvfrom(4096)
        try:
            out = respond(zone, msg)
            wait = zone.delay(dec_name(msg, 12)[0])
        except Exception:
            out, wait = None, 0
        if out is None:
            continue
        if wait > 0:
            threading.Timer(wait, sock.sendto, (out, peer)).start()
        else:
            sock.sendto(out, peer)


def serve_tcp_conn(zone, conn):
    try:
        while True:
            hdr = conn.recv(2)
            if len(hdr) < 2:
                return
            n = struct.unpack("!H", hdr)[0]
            msg = b""
            while len(msg) < n:
                chunk = conn.recv(n - len(msg))
                if not chunk:
                    return
                msg += chunk
            out = respond(zone, msg)
            if out is not None:
                conn.sendall(struct.pack("!H", len(out)) + out)
    except Exception:
        return
    finally:
        conn.close()


def serve_tcp(zone, sock):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_conn, args=(zone, conn),
                         daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--zone", required=True)
    ap.add_argument("--pidfile")
    a = ap.parse_args()
    zone = Zone(a.zone)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", a.port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("127.0.0.1", a.port))
    tcp.listen(16)
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    threading.Thread(target=serve_tcp, args=(zone, tcp), daemon=True).start()
    serve_udp(zone, udp)


if __name__ == "__main__":
    main()
