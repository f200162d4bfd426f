#!/usr/bin/python3
"""make_corpus.py - signed message corpus and DNS zone for bench/milter_load

usage: make_corpus.py OUTDIR [--messages N] [--domains D] [--tamper F]
                      [--ed25519 F] [--seed S]

Writes, into OUTDIR (a temporary directory; nothing here is committed):
  msg/NNNN.eml   messages with CRLF line ends and one DKIM-Signature each,
                 bodies of 1 KiB to 64 KiB (log-uniform), signed with
                 dkimpy: RSA-2048 (rsa-sha256) or Ed25519 (ed25519-sha256),
                 relaxed/relaxed or simple/simple canonicalization
  manifest       "pass|fail MAIL_FROM RCPT_TO msg/NNNN.eml" per message;
                 a fraction F (default 0.1) is tampered after signing
                 (half in the body, half in the signed Subject) -> fail
  zone.conf      dnsmasq txt-record lines: the DKIM keys of every domain
                 (d1.bench.example ..., selectors rsa1 and ed1) and an SPF
                 record allowing 192.0.2.0/24, the bench's client addresses
  keys/          the private keys
Names are under .example, not .test: libunbound answers .test itself.

Every message is verified with dkimpy against the generated zone before
the manifest is written, so the expected verdicts are known to be right.
"""

import argparse
import base64
import math
import os
import random
import subprocess
import sys

import dkim
import nacl.encoding
import nacl.signing

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet "
         "kilo lima mike november oscar papa quebec romeo sierra tango "
         "uniform victor whiskey xray yankee zulu mail tally milter "
         "postfix signature header body relaxed simple canonical").split()
SIGNED = [b"from", b"to", b"subject", b"date", b"message-id",
          b"mime-version", b"content-type"]
RCPT = "user@dest.bench.example"


def rsa_key(path):
    """Generate an RSA-2048 key (PKCS#1 PEM); return (pem, dns p= value)."""
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", path,
                    "2048"], check=True, stderr=subprocess.DEVNULL)
    der = subprocess.run(["openssl", "rsa", "-in", path, "-pubout",
                          "-outform", "DER"], check=True,
                         capture_output=True).stdout
    with open(path, "rb") as f:
        return f.read(), base64.b64encode(der).decode()


def ed_key(path, rng):
    """Generate an Ed25519 key; return (base64 seed, dns p= value)."""
    seed = bytes(rng.getrandbits(8) for _ in range(32))
    sk = nacl.signing.SigningKey(seed)
    priv = base64.b64encode(seed)
    with open(path, "wb") as f:
        f.write(priv + b"\n")
    return priv, sk.verify_key.encode(nacl.encoding.Base64Encoder).decode()


def txt_record(name, value):
    """A dnsmasq txt-record line; strings over 255 bytes are split."""
    parts = [value[i:i + 250] for i in range(0, len(value), 250)]
    return "txt-record=%s,%s\n" % (name, ",".join('"%s"' % p for p in parts))


def body_text(rng, size):
    """CRLF text lines of about 'size' bytes."""
    lines, n = [], 0
    while n < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 11)))
        lines.append(line)
        n += len(line) + 2
    return ("\r\n".join(lines) + "\r\n").encode()


def make_message(rng, i, dom):
    size = int(math.exp(rng.uniform(math.log(1024), math.log(65536))))
    head = ("From: Sender %d <sender%d@%s>\r\n"
            "To: <%s>\r\n"
            "Subject: bench message %d\r\n"
            "Date: Mon, 23 Nov 2026 12:%02d:%02d +0000\r\n"
            "Message-ID: <%d.%d@%s>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            % (i, i, dom, RCPT, i, i // 60 % 60, i % 60, i,
               rng.getrandbits(32), dom))
    return head.encode(), body_text(rng, size), "sender%d@%s" % (i, dom)


def tamper(rng, msg):
    """Break the signature: one body byte, or the signed Subject."""
    head, sep, body = msg.partition(b"\r\n\r\n")
    if rng.random() < 0.5:
        k = len(body) // 2
        while not body[k:k + 1].isalpha():
            k += 1
        body = body[:k] + body[k:k + 1].swapcase() + body[k + 1:]
    else:
        head = head.replace(b"Subject: bench", b"Subject: Bench", 1)
    return head + sep + body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--messages", type=int, default=400)
    ap.add_argument("--domains", type=int, default=8)
    ap.add_argument("--tamper", type=float, default=0.1)
    ap.add_argument("--ed25519", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    for d in ("msg", "keys"):
        os.makedirs(os.path.join(a.outdir, d), exist_ok=True)

    keys, zone = {}, {}
    for n in range(1, a.domains + 1):
        dom = "d%d.bench.example" % n
        kp = os.path.join(a.outdir, "keys", dom)
        keys[(dom, "rsa")] = rsa_key(kp + ".rsa.pem")
        keys[(dom, "ed")] = ed_key(kp + ".ed.key", rng)
        zone["rsa1._domainkey." + dom] = \
            "v=DKIM1; k=rsa; p=" + keys[(dom, "rsa")][1]
        zone["ed1._domainkey." + dom] = \
            "v=DKIM1; k=ed25519; p=" + keys[(dom, "ed")][1]
        zone[dom] = "v=spf1 ip4:192.0.2.0/24 -all"
    with open(os.path.join(a.outdir, "zone.conf"), "w") as f:
        for name in sorted(zone):
            f.write(txt_record(name, zone[name]))

    def dnsfunc(name, timeout=5):
        name = name.decode().rstrip(".") if isinstance(name, bytes) else name
        v = zone.get(name.rstrip("."))
        return v.encode() if v else None

    ntamper = int(round(a.messages * a.tamper))
    tampered = set(rng.sample(range(a.messages), ntamper))
    lines, stats = [], {"rsa": 0, "ed": 0, "bytes": 0}
    for i in range(a.messages):
        dom = "d%d.bench.example" % (1 + i % a.domains)
        kind = "ed" if rng.random() < a.ed25519 else "rsa"
        canon = (b"simple", b"simple") if i % 4 == 3 else \
            (b"relaxed", b"relaxed")
        head, body, mail_from = make_message(rng, i, dom)
        msg = head + b"\r\n" + body
        sig = dkim.sign(msg, (kind + "1").encode(), dom.encode(),
                        keys[(dom, kind)][0], canonicalize=canon,
                        include_headers=SIGNED,
                        signature_algorithm=b"ed25519-sha256"
                        if kind == "ed" else b"rsa-sha256")
        msg = sig + msg
        want = "pass"
        if i in tampered:
            msg, want = tamper(rng, msg), "fail"
        if dkim.verify(msg, dnsfunc=dnsfunc) != (want == "pass"):
            sys.exit("make_corpus: message %d does not verify as %s"
                     % (i, want))
        path = "msg/%04d.eml" % i
        with open(os.path.join(a.outdir, path), "wb") as f:
            f.write(msg)
        lines.append("%s %s %s %s\n" % (want, mail_from, RCPT, path))
        stats[kind] += 1
        stats["bytes"] += len(msg)
    with open(os.path.join(a.outdir, "manifest"), "w") as f:
        f.writelines(lines)
    print("corpus: %d messages (%d rsa-2048, %d ed25519, %d tampered), "
          "mean %d bytes, %d domains"
          % (a.messages, stats["rsa"], stats["ed"], ntamper,
             stats["bytes"] // a.messages, a.domains))


if __name__ == "__main__":
    main()
