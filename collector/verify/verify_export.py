#!/usr/bin/env python3
"""Independent verifier for a Gatehouse audit export (docs/audit-format.md).

Written from the format document only, without Gatehouse code.
Needs: Python 3.9+, `duckdb` (reads the Parquet files) and `cryptography` (Ed25519).

    pip install duckdb cryptography
    python3 verify_export.py EXPORT_DIR [--public-key collector.pub.pem]

Prints "OK ..." and exits 0, or "FAIL at seq N: reason: detail" and exits 1.
"""
import argparse
import base64
import decimal
import hashlib
import json
import os
import sys

import duckdb
from cryptography.hazmat.primitives.serialization import load_pem_public_key

GENESIS = "0" * 64


def es_number(x):
    """ECMAScript Number::toString, which RFC 8785 prescribes for numbers."""
    if isinstance(x, bool):
        raise TypeError("bool is not a number")
    if isinstance(x, int):
        return str(x)
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError("NaN/Infinity are not allowed")
    if x == 0:
        return "0"
    if x < 0:
        return "-" + es_number(-x)
    sign, digits, exp = decimal.Decimal(repr(x)).as_tuple()
    digits = "".join(map(str, digits)).lstrip("0")
    stripped = digits.rstrip("0")
    exp += len(digits) - len(stripped)
    digits = stripped
    k = len(digits)
    n = exp + k
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return mantissa + "e" + ("+" if e >= 0 else "-") + str(abs(e))


def canonical_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return es_number(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(canonical_value(e) for e in v) + "]"
    raise TypeError("unexpected value type %r" % type(v))


def canonical_json(obj):
    """RFC 8785 for flat objects with ASCII keys: sorted keys, no whitespace, nulls left out."""
    items = sorted((k, v) for k, v in obj.items() if v is not None)
    return "{" + ",".join(json.dumps(k) + ":" + canonical_value(v) for k, v in items) + "}"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Failure(Exception):
    def __init__(self, seq, reason, detail):
        super().__init__("FAIL at seq %s: %s: %s" % (seq, reason, detail))


def check_files(root, manifest):
    present = set()
    for dirpath, _, files in os.walk(root):
        for name in files:
            present.add(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    present.discard("manifest.json")
    for f in manifest["files"]:
        seq = f.get("first_seq") or manifest.get("first_seq") or 0
        if f["path"] not in present:
            raise Failure(seq, "file_mismatch", "%s is listed but missing" % f["path"])
        present.discard(f["path"])
        if sha256_file(os.path.join(root, f["path"])) != f["sha256"]:
            raise Failure(seq, "file_mismatch", "%s does not match its sha256" % f["path"])
    if present:
        raise Failure(manifest.get("first_seq") or 0, "file_mismatch", "%s is not in the manifest" % sorted(present)[0])


def rows(con, paths, link):
    """Yields (record dict, is_link) sorted by seq; TIMESTAMP columns as epoch microseconds."""
    if not paths:
        return
    source = "read_parquet(%s, hive_partitioning = false)" % json.dumps(paths).replace('"', "'")
    columns = con.execute("DESCRIBE SELECT * FROM " + source).fetchall()
    select = ", ".join(
        'epoch_us("%s") AS "%s"' % (c[0], c[0]) if c[1].startswith("TIMESTAMP") else '"%s"' % c[0] for c in columns
    )
    cursor = con.execute("SELECT %s FROM %s ORDER BY seq" % (select, source))
    names = [c[0] for c in columns]
    while True:
        batch = cursor.fetchmany(10000)
        if not batch:
            return
        for values in batch:
            yield dict(zip(names, values)), link


def merged(con, records, links):
    a, b = rows(con, records, False), rows(duckdb.connect(), links, True)
    x, y = next(a, None), next(b, None)
    while x is not None or y is not None:
        if y is None or (x is not None and x[0]["seq"] < y[0]["seq"]):
            yield x
            x = next(a, None)
        else:
            yield y
            y = next(b, None)


def verify(root, pinned_pem):
    with open(os.path.join(root, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    check_files(root, manifest)
    if manifest["file_format"] != "parquet":
        return "OK files match the manifest (CSV export: chain not checked)"
    keys = {k["key_id"]: k["pem"] for k in manifest["public_keys"]}
    if pinned_pem is not None:
        keys = {kid: pem for kid, pem in keys.items() if pem.strip() == pinned_pem.strip()}
    kinds = {"records": [], "chain_links": []}
    for f in manifest["files"]:
        if f["kind"] in kinds:
            kinds[f["kind"]].append(os.path.join(root, f["path"]))
    checkpoints = {c["seq"]: c for c in manifest["checkpoints"]}
    hashes_at = {}
    prev_hash = manifest.get("first_prev_hash")
    prev_seq = None
    count = links = 0
    for record, link in merged(duckdb.connect(), kinds["records"], kinds["chain_links"]):
        seq = record["seq"]
        if record["chain_id"] != manifest["chain_id"]:
            raise Failure(seq, "foreign_chain", "row of another chain")
        if prev_seq is not None and seq == prev_seq:
            raise Failure(seq, "duplicate", "seq occurs twice")
        if prev_seq is not None and seq != prev_seq + 1:
            raise Failure(prev_seq + 1, "missing", "rows %d..%d are missing" % (prev_seq + 1, seq - 1))
        if prev_seq is None and seq != manifest["first_seq"]:
            raise Failure(manifest["first_seq"], "missing", "export starts at seq %d" % seq)
        stored = record.pop("hash")
        if not link:
            try:
                computed = hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()
            except (TypeError, ValueError) as error:
                raise Failure(seq, "altered", "row holds a value outside the format (%s)" % error)
            if computed != stored:
                raise Failure(seq, "altered", "row content does not match its hash")
        if prev_hash is not None and record["prev_hash"] != prev_hash:
            raise Failure(seq, "broken_link", "prev_hash does not match the previous row's hash")
        if seq in checkpoints:
            hashes_at[seq] = stored
        prev_hash, prev_seq = stored, seq
        links += link
        count += not link
    if prev_seq != manifest["last_seq"]:
        raise Failure((prev_seq or 0) + 1, "missing", "export ends at seq %s, manifest says %s" % (prev_seq, manifest["last_seq"]))
    for seq in sorted(checkpoints):
        c = checkpoints[seq]
        pem = keys.get(c["key_id"])
        if pem is None:
            raise Failure(seq, "unknown_key", "checkpoint signed by an untrusted key %s" % c["key_id"])
        message = canonical_json({"chain_id": c["chain_id"], "seq": c["seq"], "hash": c["hash"], "time": c["time"]})
        try:
            load_pem_public_key(pem.encode()).verify(base64.b64decode(c["signature"]), message.encode("utf-8"))
        except Exception:
            raise Failure(seq, "bad_signature", "checkpoint signature is invalid")
        if hashes_at.get(seq) != c["hash"]:
            raise Failure(seq, "checkpoint_mismatch", "row differs from the signed checkpoint")
    if prev_seq is not None and prev_seq not in checkpoints:
        raise Failure(prev_seq, "missing_signature", "last row is not covered by a checkpoint")
    return "OK chain %s: %d records + %d links (seq %s..%s), %d checkpoints verified" % (
        manifest["chain_id"], count, links, manifest["first_seq"], manifest["last_seq"], len(checkpoints))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--public-key", help="PEM file of the collector's public key, obtained out of band")
    args = parser.parse_args()
    pinned = open(args.public_key, encoding="utf-8").read() if args.public_key else None
    try:
        print(verify(args.dir, pinned))
        return 0
    except Failure as failure:
        print(str(failure))
        return 1


if __name__ == "__main__":
    sys.exit(main())
