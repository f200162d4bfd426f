#!/usr/bin/python3
# NAME
#	dkim_sign.py - make signed DKIM fixtures at test time (dkimpy)
# SYNOPSIS
#	dkim_sign.py OUTDIR
# DESCRIPTION
#	Generates fresh keys (RSA 2048, 1024 and 512 bits with openssl, an
#	Ed25519 key with PyNaCl), signs a set of messages with dkimpy and
#	writes into OUTDIR: the messages (*.eml), keys.txt ("name value"
#	lines for dkim_suite.py) and expect.txt (file, tab, the expected
#	per-signature results in order, comma-separated, tab, a substring
#	the output must contain or "-").
#
#	Cases: relaxed and simple canonicalization, l= with text appended
#	after signing, two signatures (Ed25519 and RSA), a header changed
#	after signing, a body changed after signing, a 512-bit key, rsa-sha1,
#	an expired x=, a revoked key, a key not published, an unsigned
#	message, more signatures than the milter checks, and garbage
#	DKIM-Signature fields (libopendkim decodes a b= of "!!!" as an
#	empty signature: that one is "fail", not permerror).
# DIAGNOSTICS
#	Exits non-zero when dkimpy, PyNaCl or openssl are missing.
import base64
import os
import subprocess
import sys

import dkim
import nacl.encoding
import nacl.signing

DOMAIN = b"fixtures.example"
MSG = (b"From: Alice <alice@fixtures.example>\r\n"
       b"To: bob@example.net\r\n"
       b"Subject: a signed fixture\r\n"
       b"Date: Mon, 23 Nov 2026 16:00:00 +0000\r\n"
       b"Message-ID: <fixture@fixtures.example>\r\n"
       b"\r\n"
       b"Hello Bob,\r\n"
       b"\r\n"
       b"this  line has  double  spaces.   \r\n"
       b"-- \r\nAlice\r\n")
HEADERS = [b"from", b"to", b"subject", b"date", b"message-id"]


def rsa_key(outdir, bits):
    path = os.path.join(outdir, "rsa%d.pem" % bits)
    subprocess.run(["openssl", "genrsa", "-out", path, str(bits)],
                   check=True, stderr=subprocess.DEVNULL)
    der = subprocess.run(["openssl", "rsa", "-in", path, "-pubout",
                          "-outform", "DER"], check=True,
                         capture_output=True).stdout
    with open(path, "rb") as f:
        return f.read(), base64.b64encode(der).decode()


def sign(msg, sel, key, alg=b"rsa-sha256", canon=(b"relaxed", b"relaxed"),
         length=False, extra=None):
    """one signature; extra = [(tag, value)] forced into the signature"""
    d = dkim.DKIM(msg)
    if extra:
        orig = d.gen_header

        def gen_header(fields, *args):
            fields = [f for f in fields if f[0] not in dict(extra)]
            at = [f[0] for f in fields].index(b"h")
            return orig(fields[:at] + extra + fields[at:], *args)
        d.gen_header = gen_header
    sig = d.sign(sel, DOMAIN, key, signature_algorithm=alg,
                 canonicalize=canon, include_headers=HEADERS, length=length)
    return sig + msg


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    k2048, p2048 = rsa_key(out, 2048)
    k1024, p1024 = rsa_key(out, 1024)
    k512, p512 = rsa_key(out, 512)
    sk = nacl.signing.SigningKey.generate()
    ked = base64.b64encode(bytes(sk))
    ped = base64.b64encode(bytes(sk.verify_key)).decode()
    keys = {
        "rsa2048": "v=DKIM1; k=rsa; p=" + p2048,
        "rsa1024": "v=DKIM1; k=rsa; p=" + p1024,
        "rsa512": "v=DKIM1; k=rsa; p=" + p512,
        "ed": "v=DKIM1; k=ed25519; p=" + ped,
        "revoked": "v=DKIM1; k=rsa; p=",
    }
    with open(os.path.join(out, "keys.txt"), "w") as f:
        for sel, rec in keys.items():
            f.write("%s._domainkey.%s %s\n" % (sel, DOMAIN.decode(), rec))
    cases = []

    def case(name, data, want, needle="-"):
        with open(os.path.join(out, name + ".eml"), "wb") as f:
            f.write(data)
        cases.append((name, want, needle))

    case("relaxed", sign(MSG, b"rsa2048", k2048), "pass",
         "2048-bit")
    case("simple", sign(MSG, b"rsa2048", k2048,
                        canon=(b"simple", b"simple")), "pass")
    case("length", sign(MSG, b"rsa2048", k2048, length=True) +
         b"appended after signing\r\n", "pass")
    case("ed25519", sign(MSG, b"ed", ked, alg=b"ed25519-sha256"), "pass",
         "256-bit")
    two = sign(sign(MSG, b"rsa2048", k2048), b"ed", ked,
               alg=b"ed25519-sha256")
    case("two", two, "pass,pass")
    good = sign(MSG, b"rsa2048", k2048)
    case("tampered-header", good.replace(b"Subject: a signed",
                                         b"Subject: a forged"), "fail",
         "bad signature")
    case("tampered-body", good.replace(b"Hello Bob", b"Hello Eve"), "fail",
         "body hash mismatch")
    case("badname", good.replace(b"d=fixtures.example",
                                 b"d=a..fixtures.example"), "permerror")
    case("key512", sign(MSG, b"rsa512", k512), "policy", "key too small")
    case("sha1", sign(MSG, b"rsa1024", k1024, alg=b"rsa-sha1"), "policy",
         "rsa-sha1")
    case("expired", sign(MSG, b"rsa2048", k2048,
                         extra=[(b"t", b"1000000000"),
                                (b"x", b"1000003600")]),
         "permerror", "signature expired")
    case("revoked", sign(MSG, b"revoked", k2048), "permerror")
    case("nokey", sign(MSG, b"unpublished", k2048), "permerror", "no key")
    case("unsigned", MSG, "none")
    many = MSG
    for _ in range(7):
        many = sign(many, b"ed", ked, alg=b"ed25519-sha256")
    case("many", many, "pass,pass,pass,pass,pass")
    case("garbage", b"DKIM-Signature: v=1; a=rsa-sha256; d=; s=\r\n"
         b"DKIM-Signature: ;;;===;\x7f\xff\r\n"
         b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;"
         b" d=fixtures.example; s=rsa2048; h=from; bh=!!!; b=!!!\r\n" + MSG,
         "permerror,permerror,fail")
    with open(os.path.join(out, "expect.txt"), "w") as f:
        for name, want, needle in cases:
            f.write("%s\t%s\t%s\n" % (name, want, needle))


if __name__ == "__main__":
    main()
