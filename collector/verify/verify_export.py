#!/usr/bin/env python3
"""Independent verifier for a Gatehouse audit export (docs/audit-format.md).

Written from the format document only, without Gatehouse code.
Needs: Python 3.9+, `duckdb` (reads the Parquet files) and `cryptography` (Ed25519).

    pip install duckdb cryptography
    python3 verify_export.py EXPORT_DIR [--public-key collector.pub.pem]

Prints "OK ..." and exits 0, or "FAIL at seq N: reason: detail" and exits 1.
Follows the steps of section 8 in order and stops at the first failure.
"""
import argparse
import base64
import datetime
import decimal
import hashlib
import json
import os
import re
import sys

import duckdb
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

GENESIS = "0" * 64
SIGNATURE_BASE64 = re.compile(r"[A-Za-z0-9+/]{86}==")
# DECIMAL(38, s) values have up to 38 digits; the default context (28) would round them.
decimal.getcontext().prec = 60
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class Failure(Exception):
    def __init__(self, seq, reason, detail):
        super().__init__("FAIL at seq %s: %s: %s" % (seq, reason, detail))


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


def canonical_value(v, scale=None):
    """One value of a flat record (section 3); DECIMAL values are strings with exactly `scale` fraction digits."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, decimal.Decimal):
        if scale is None:
            raise TypeError("DECIMAL without a scale")
        return json.dumps(format(v.quantize(decimal.Decimal(1).scaleb(-scale)), "f"))
    if isinstance(v, (int, float)):
        return es_number(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(canonical_value(e) for e in v) + "]"
    raise TypeError("unexpected value type %r" % type(v))


def canonical_json(obj, scales=None):
    """RFC 8785 for flat records with ASCII keys: sorted keys, no whitespace, nulls left out."""
    scales = scales or {}
    items = sorted((k, v) for k, v in obj.items() if v is not None)
    return "{" + ",".join(json.dumps(k) + ":" + canonical_value(v, scales.get(k)) for k, v in items) + "}"


def canonical_manifest(value):
    """RFC 8785 for the manifest (nested, nulls kept, integers only)."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical_manifest(value[k]) for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical_manifest(e) for e in value) + "]"
    return canonical_value(value)


def key_id(pem):
    der = load_pem_public_key(pem.encode()).public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def ed25519_valid(pem, signature_b64, message):
    if not isinstance(signature_b64, str) or not SIGNATURE_BASE64.fullmatch(signature_b64):
        return False
    try:
        load_pem_public_key(pem.encode()).verify(base64.b64decode(signature_b64, validate=True), message.encode("utf-8"))
        return True
    except Exception:
        return False


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def micros(rfc3339):
    t = datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    return (t - EPOCH) // datetime.timedelta(microseconds=1)


def parquet(paths):
    """Parquet files as one DuckDB relation, Hive partitioning off (the date directory is not a column)."""
    listed = "[" + ", ".join("'%s'" % p.replace("'", "''") for p in paths) + "]"
    return "read_parquet(%s, hive_partitioning = false)" % listed


# 1-2: the manifest and its signature
MAX_MANIFEST_DEPTH = 32


def deeper_than(value, limit):
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if not isinstance(v, (dict, list)):
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in (v.values() if isinstance(v, dict) else v))
    return False


def read_manifest(root):
    try:
        with open(os.path.join(root, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f, parse_constant=reject_constant)
    except (OSError, ValueError) as error:
        raise Failure(0, "unreadable_file", "manifest.json cannot be read as JSON (%s)" % error)
    except RecursionError:
        raise Failure(0, "unreadable_file", "manifest.json nests deeper than %d levels" % MAX_MANIFEST_DEPTH)
    if deeper_than(manifest, MAX_MANIFEST_DEPTH):
        raise Failure(0, "unreadable_file", "manifest.json nests deeper than %d levels" % MAX_MANIFEST_DEPTH)
    if not isinstance(manifest, dict) or manifest.get("format") != "gatehouse-audit-export" or manifest.get("version") != 1 \
            or not isinstance(manifest.get("files"), list):
        raise Failure(0, "unreadable_file", "manifest.json is not a Gatehouse audit export manifest")
    return manifest


def check_signature(manifest, keys):
    seq = manifest.get("first_seq") or 0
    signature = manifest.get("signature")
    if not isinstance(signature, dict):
        raise Failure(seq, "manifest_unsigned", "manifest.json carries no signature")
    key = signature.get("key_id")
    pem = keys.get(key) if isinstance(key, str) else None
    if pem is None:
        raise Failure(seq, "unknown_key", "manifest.json is signed by an untrusted key %s" % signature.get("key_id"))
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    if not ed25519_valid(pem, str(signature.get("value", "")), canonical_manifest(unsigned)):
        raise Failure(seq, "manifest_bad_signature", "manifest.json does not match its signature")


# 3-4: the files
def check_files(root, manifest):
    present = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(dirpath, name)
            relative = os.path.relpath(path, root).replace(os.sep, "/")
            if os.path.islink(path) or not (os.path.isdir(path) or os.path.isfile(path)):
                raise Failure(manifest.get("first_seq") or 0, "file_mismatch", "%s is not a regular file" % relative)
            if name in files:
                present[relative] = os.path.getsize(path)
    present.pop("manifest.json", None)
    for f in manifest["files"]:
        seq = f.get("first_seq") or manifest.get("first_seq") or 0
        if f["path"] not in present:
            raise Failure(seq, "file_mismatch", "%s is listed but missing" % f["path"])
        size = present.pop(f["path"])
        if size != f["bytes"]:
            raise Failure(seq, "file_mismatch", "%s is %d bytes, the manifest says %s" % (f["path"], size, f["bytes"]))
        if sha256_file(os.path.join(root, f["path"])) != f["sha256"]:
            raise Failure(seq, "file_mismatch", "%s does not match its sha256" % f["path"])
    if present:
        raise Failure(manifest.get("first_seq") or 0, "file_mismatch", "%s is not in the manifest" % sorted(present)[0])


def check_contents(con, root, manifest):
    totals = {"records": 0, "chain_links": 0, "tool_calls": 0}
    for f in manifest["files"]:
        seq = f.get("first_seq") or manifest.get("first_seq") or 0
        try:
            n, lo, hi = con.execute("SELECT count(*), min(seq), max(seq) FROM " + parquet([os.path.join(root, f["path"])])).fetchone()
        except duckdb.Error as error:
            raise Failure(seq, "unreadable_file", "%s cannot be read as Parquet (%s)" % (f["path"], str(error).splitlines()[0]))
        if (n, lo, hi) != (f["rows"], f["first_seq"], f["last_seq"]):
            raise Failure(seq, "manifest_mismatch", "%s holds %s rows, seq %s..%s; the manifest says %s rows, seq %s..%s"
                          % (f["path"], n, lo, hi, f["rows"], f["first_seq"], f["last_seq"]))
        totals[f["kind"]] = totals.get(f["kind"], 0) + n
    for kind, n in totals.items():
        if manifest["rows"].get(kind) != n:
            raise Failure(manifest.get("first_seq") or 0, "manifest_mismatch", "rows.%s is %s, the files hold %d" % (kind, manifest["rows"].get(kind), n))


# 5-9: the chain
def rows(con, paths):
    """Yields record dicts sorted by seq (TIMESTAMP columns as epoch microseconds), with the DECIMAL scales."""
    if not paths:
        return
    source = parquet(paths)
    columns = con.execute("DESCRIBE SELECT * FROM " + source).fetchall()
    select = ", ".join('epoch_us("%s") AS "%s"' % (c[0], c[0]) if c[1].startswith("TIMESTAMP") else '"%s"' % c[0] for c in columns)
    scales = {c[0]: int(m.group(1)) for c in columns for m in [re.match(r"DECIMAL\(\d+,(\d+)\)", c[1])] if m}
    cursor = con.execute("SELECT %s FROM %s ORDER BY seq" % (select, source))
    names = [c[0] for c in columns]
    while True:
        batch = cursor.fetchmany(10000)
        if not batch:
            return
        for values in batch:
            yield dict(zip(names, values)), scales


def merged(records, links):
    a = ((r, s, False) for r, s in rows(duckdb.connect(), records))
    b = ((r, s, True) for r, s in rows(duckdb.connect(), links))
    x, y = next(a, None), next(b, None)
    while x is not None or y is not None:
        if y is None or (x is not None and x[0]["seq"] < y[0]["seq"]):
            yield x
            x = next(a, None)
        else:
            yield y
            y = next(b, None)


def check_chain(manifest, keys, records, links):
    checkpoints = {c["seq"]: c for c in manifest["checkpoints"]}
    hashes_at = {}
    prev_hash = manifest.get("first_prev_hash")
    prev_seq = None
    count = linked = 0
    try:
        frm, to = micros(manifest["range"]["from"]), micros(manifest["range"]["to"])
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:
        raise Failure(manifest.get("first_seq") or 0, "manifest_mismatch", "range.from/range.to are not RFC 3339 times (%s)" % error)
    tenant = manifest["range"].get("tenant")
    tool_rows = {}
    for record, scales, link in merged(records, links):
        seq = record["seq"]
        if record["chain_id"] != manifest["chain_id"]:
            raise Failure(seq, "foreign_chain", "row of another chain")
        if prev_seq is not None and seq == prev_seq:
            raise Failure(seq, "duplicate", "seq occurs twice")
        if prev_seq is not None and seq != prev_seq + 1:
            raise Failure(prev_seq + 1, "missing", "rows %d..%d are missing" % (prev_seq + 1, seq - 1))
        if prev_seq is None and seq != manifest["first_seq"]:
            raise Failure(manifest["first_seq"], "missing", "export starts at seq %d" % seq)
        if prev_seq is None and record["prev_hash"] != manifest["first_prev_hash"]:
            raise Failure(seq, "broken_link", "the first row does not link to first_prev_hash")
        stored = record.pop("hash")
        if not link:
            try:
                computed = hashlib.sha256(canonical_json(record, scales).encode("utf-8")).hexdigest()
            except (TypeError, ValueError) as error:
                raise Failure(seq, "altered", "row holds a value outside the format (%s)" % error)
            if computed != stored:
                raise Failure(seq, "altered", "row content does not match its hash")
            if not (frm <= record["received_at"] < to) or (tenant is not None and record.get("tenant_id") != tenant):
                raise Failure(seq, "manifest_mismatch", "record lies outside the manifest's range")
            for position, call in enumerate(derived_tool_calls(record.get("tool_calls"))):
                tool_rows[(seq, position)] = (record["chain_id"], record.get("request_id"), record["trace_id"], record["span_id"],
                                              call[0], call[1], call[2], record["start_time"])
        if prev_seq is not None and record["prev_hash"] != prev_hash:
            raise Failure(seq, "broken_link", "prev_hash does not match the previous row's hash")
        if seq in checkpoints:
            hashes_at[seq] = stored
        prev_hash, prev_seq = stored, seq
        linked += link
        count += not link
    if prev_seq != manifest["last_seq"]:
        raise Failure((prev_seq or 0) + 1, "missing", "export ends at seq %s, manifest says %s" % (prev_seq, manifest["last_seq"]))
    for seq in sorted(checkpoints):
        c = checkpoints[seq]
        pem = keys.get(c["key_id"])
        if pem is None:
            raise Failure(seq, "unknown_key", "checkpoint signed by an untrusted key %s" % c["key_id"])
        message = canonical_json({"chain_id": c["chain_id"], "seq": c["seq"], "hash": c["hash"], "time": c["time"]})
        if not ed25519_valid(pem, c["signature"], message):
            raise Failure(seq, "bad_signature", "checkpoint signature is invalid")
        if hashes_at.get(seq) != c["hash"]:
            raise Failure(seq, "checkpoint_mismatch", "row differs from the signed checkpoint")
    if prev_seq is not None and prev_seq not in checkpoints:
        raise Failure(prev_seq, "missing_signature", "last row is not covered by a checkpoint")
    if prev_seq is not None and prev_hash != manifest["last_hash"]:
        raise Failure(prev_seq, "manifest_mismatch", "last_hash is not the hash of the row at last_seq")
    return count, linked, len(checkpoints), tool_rows


# 11: tool_calls against the records
def reject_constant(name):
    raise ValueError("not JSON: " + name)


def derived_tool_calls(raw):
    """Section 2: (call_id, name, arguments) per element of the record's tool_calls JSON array."""
    if not isinstance(raw, str):
        return []
    try:
        parsed = json.loads(raw, parse_constant=reject_constant)
    except (ValueError, RecursionError):
        return []
    if not isinstance(parsed, list):
        return []
    out = []
    for element in parsed:
        e = element if isinstance(element, dict) else {}
        out.append(tuple(well_formed(e.get(k)) if isinstance(e.get(k), str) else None for k in ("id", "name", "arguments")))
    return out


LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def well_formed(text):
    """A JSON string escape may leave a lone surrogate; the rule stores U+FFFD in its place."""
    return LONE_SURROGATE.sub("\ufffd", text)


def check_tool_calls(paths, expected):
    found = []
    if paths:
        found = duckdb.connect().execute(
            "SELECT seq, position, chain_id, request_id, trace_id, span_id, call_id, name, arguments, epoch_us(start_time) FROM %s ORDER BY seq, position"
            % parquet(paths)).fetchall()
    for row in found:
        key = (row[0], row[1])
        if key not in expected:
            raise Failure(row[0], "tool_calls_mismatch", "tool_calls has a row (position %s) that no chained record contains" % row[1])
        if expected.pop(key) != tuple(row[2:]):
            raise Failure(row[0], "tool_calls_mismatch", "tool_calls row at position %s differs from the chained record" % row[1])
    if expected:
        seq = min(expected)[0]
        raise Failure(seq, "tool_calls_mismatch", "a tool call of a chained record is missing from tool_calls")


def verify(root, pinned_pem):
    manifest = read_manifest(root)
    if pinned_pem is not None:
        keys = {key_id(pinned_pem): pinned_pem}
    else:
        listed = manifest.get("public_keys")
        keys = {k["key_id"]: k["pem"] for k in (listed if isinstance(listed, list) else [])
                if isinstance(k, dict) and isinstance(k.get("key_id"), str) and isinstance(k.get("pem"), str)}
    check_signature(manifest, keys)
    check_files(root, manifest)
    if manifest["file_format"] != "parquet":
        return "OK files match the signed manifest (CSV export: chain not checked)"
    check_contents(duckdb.connect(), root, manifest)
    kinds = {"records": [], "chain_links": [], "tool_calls": []}
    for f in manifest["files"]:
        kinds[f["kind"]].append(os.path.join(root, f["path"]))
    count, links, signed, tool_rows = check_chain(manifest, keys, kinds["records"], kinds["chain_links"])
    check_tool_calls(kinds["tool_calls"], tool_rows)
    return "OK chain %s: %d records + %d links (seq %s..%s), %d checkpoints verified" % (
        manifest["chain_id"], count, links, manifest["first_seq"], manifest["last_seq"], signed)


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
    except Exception as error:  # a signed manifest with fields of the wrong shape: still a verdict, not a traceback
        print("FAIL at seq 0: unreadable_file: the export cannot be checked (%s: %s)" % (type(error).__name__, error))
        return 1


if __name__ == "__main__":
    sys.exit(main())
