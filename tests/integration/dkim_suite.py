#!/usr/bin/python3
# NAME
#	dkim_suite.py - DKIM key files and manifests into a dnsmasq config
# SYNOPSIS
#	dkim_suite.py KEYS.txt ERRPORT > dnsmasq.conf
#	dkim_suite.py --errors DNS-ERRORS.txt > errzone.json
# DESCRIPTION
#	The first form writes a dnsmasq config that serves every key record
#	of a libopendkim key file ("name value" lines) as one TXT record,
#	split into strings of at most 255 bytes (RFC 6376 3.6.2.2: the
#	verifier joins them), answers NXDOMAIN for every other name, and
#	forwards the parents of the names in corpora/dkim/mail-dkim's
#	dns-errors.txt to 127.0.0.1#ERRPORT, where dnsd.py serves the zone
#	of the second form: TIMEOUT names never answer, SERVFAIL names fail.
#	A value written as "" (Mail::DKIM's FAKE_DNS) is an empty record.
import json
import sys


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def errors(path):
    zone = {}
    for line in open(path, encoding="latin-1"):
        f = line.split()
        if len(f) != 2 or line.startswith("#"):
            continue
        if f[1] == "TIMEOUT":
            zone[f[0]] = {"TIMEOUT": True}
        elif f[1] == "SERVFAIL":
            zone[f[0]] = {"SERVFAIL": True}
    return zone


def dnsmasq(keys, errport, errfile):
    print("no-resolv\nno-hosts\nlocal=/#/")
    if errfile:
        for name in errors(errfile):
            parent = name.split(".", 2)[-1]
            print("server=/%s/127.0.0.1#%s" % (parent, errport))
    for line in open(keys, encoding="latin-1"):
        line = line.rstrip("\r\n")
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition(" ")
        if "\t" in name:
            name, _, rest = name.partition("\t")
            value = rest + (" " + value if value else "")
        value = value.strip()
        if value == '""':
            value = ""
        chunks = [value[i:i + 255] for i in range(0, len(value), 255)] or [""]
        print("txt-record=%s,%s" % (name, ",".join(quote(c) for c in chunks)))


def main():
    if sys.argv[1] == "--errors":
        json.dump(errors(sys.argv[2]), sys.stdout)
    else:
        dnsmasq(sys.argv[1], sys.argv[2],
                sys.argv[3] if len(sys.argv) > 3 else None)


if __name__ == "__main__":
    main()
