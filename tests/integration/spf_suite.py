#!/usr/bin/python3
# NAME
#	spf_suite.py - turn the OpenSPF RFC 7208 YAML suite into DNS zones
# SYNOPSIS
#	spf_suite.py SUITE.yml OUTDIR
# DESCRIPTION
#	For scenario N writes OUTDIR/zone-N.json (for dnsd.py) and appends
#	its tests to OUTDIR/tests.txt, one per line, fields separated by
#	\x1f: N, test id, client ip, helo, mail from, expected results
#	(comma-separated; any one matches). Zone rules as the reference
#	drivers (corpora/spf/README.md): a name's TXT records are its TXT
#	entries, else its SPF entries ("TXT: NONE" = none); a list is one
#	record of several strings; TIMEOUT makes the name silent for every
#	type it does not list; CNAME is served as a CNAME. The YAML is read
#	as latin-1 so every byte of a record goes through unchanged.
import json
import os
import sys

import yaml

SEP = "\x1f"


def zone_of(zonedata):
    zone = {}
    for name, recs in (zonedata or {}).items():
        node = {}
        txt, spf, explicit_txt = [], [], False
        for r in recs:
            if not isinstance(r, dict):
                if r == "TIMEOUT":
                    node["TIMEOUT"] = True
                continue
            for k, v in r.items():
                if k == "TXT":
                    explicit_txt = True
                    if v != "NONE":
                        txt.append(v if isinstance(v, list) else [v])
                elif k == "SPF":
                    if v != "NONE":
                        spf.append(v if isinstance(v, list) else [v])
                elif k == "MX":
                    node.setdefault("MX", []).append([v[0], v[1]])
                elif k == "CNAME":
                    node["CNAME"] = v
                else:
                    node.setdefault(k, []).append(str(v))
        records = txt if explicit_txt else spf
        if records:
            node["TXT"] = [[str(s) for s in rec] for rec in records]
        zone[str(name)] = node
    return zone


def main():
    suite, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    with open(suite, encoding="latin-1") as f:
        docs = list(yaml.safe_load_all(f))
    with open(os.path.join(outdir, "tests.txt"), "w",
              encoding="latin-1") as out:
        for n, doc in enumerate(docs):
            with open(os.path.join(outdir, "zone-%d.json" % n), "w",
                      encoding="latin-1") as z:
                json.dump(zone_of(doc.get("zonedata")), z)
            for tid, t in doc["tests"].items():
                want = t["result"]
                if isinstance(want, list):
                    want = ",".join(want)
                fields = [str(n), tid, str(t.get("host", "")),
                          str(t.get("helo", "")),
                          str(t.get("mailfrom", "")), want]
                out.write(SEP.join(f.replace("\n", " ") for f in fields)
                          + "\n")


if __name__ == "__main__":
    main()
