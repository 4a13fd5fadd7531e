#!/usr/bin/env python3
"""audit_verify.py: an outside auditor's check of a `repat audit export`.

Independent of repat's C code on purpose: Python standard library only
(hashlib, base64), plus the `openssl` command for the Ed25519 signatures
(skipped with --no-signatures). The format is docs/audit.md sections 1-6.

    audit_verify.py EXPORT_DIR [--vkey VERIFIER_KEY] [--no-signatures]

Checks, in order, and names the first entry that does not match:
  1. entries/NNNNNNNN.bin are numbered 0..n-1 with no gap;
  2. each entry's field 1 (index) is its number;
  3. SHA-256(0x00 || entry) equals line NNNNNNNN of leaves.txt;
  4. every checkpoint note (checkpoints/*.note, checkpoint.note) is signed
     by the broker's key, and its root is the RFC 9162 root of the first
     SIZE leaf hashes (so consecutive checkpoints are consistent).
Exit 0 when all hold, 1 otherwise.
"""
import base64
import hashlib
import os
import subprocess
import sys
import tempfile


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(hashes):
    """RFC 9162 section 2.1.1, iteratively (the log may be long)."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    # Fold the perfect subtrees of the size's binary decomposition.
    stack = []  # (height, hash)
    for h in hashes:
        height, cur = 0, h
        while stack and stack[-1][0] == height:
            _, left = stack.pop()
            cur = node_hash(left, cur)
            height += 1
        stack.append((height, cur))
    root = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        root = node_hash(left, root)
    return root


def varint(buf, i):
    shift = value = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def entry_index(buf):
    """Field 1 (uint64 index) of a serialized AuditEntry."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
            if field == 1:
                return value
        elif wire == 2:
            n, i = varint(buf, i)
            i += n
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError("wire type %d" % wire)
        if i > len(buf):
            raise ValueError("truncated field")
    raise ValueError("no index field")


def parse_vkey(vkey):
    name, key_id, key = vkey.strip().split("+", 2)
    pub = base64.b64decode(key, validate=True)
    if len(pub) != 33 or pub[0] != 0x01:
        raise ValueError("not an Ed25519 verifier key")
    want = hashlib.sha256(name.encode() + b"\n\x01" + pub[1:]).digest()[:4]
    if want.hex() != key_id:
        raise ValueError("the key ID does not match the key")
    return name, key_id, pub[1:]


def openssl_verify(pub, text, sig):
    with tempfile.TemporaryDirectory() as d:
        der = bytes.fromhex("302a300506032b6570032100") + pub
        paths = {}
        for name, data in (("pub.der", der), ("msg", text), ("sig", sig)):
            paths[name] = os.path.join(d, name)
            with open(paths[name], "wb") as f:
                f.write(data)
        r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin",
                            "-keyform", "DER", "-inkey", paths["pub.der"],
                            "-rawin", "-in", paths["msg"],
                            "-sigfile", paths["sig"]],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        return r.returncode == 0


def open_checkpoint(note, vkey, check_sig):
    """(size, root) of a signed checkpoint note; raises when bad."""
    name, key_id, pub = vkey
    text, sep, sigs = note.partition(b"\n\n")
    if not sep:
        raise ValueError("no signature block")
    text += b"\n"
    lines = text.decode("utf-8").split("\n")
    origin, size, b64root = lines[0], lines[1], lines[2]
    if origin != name:
        raise ValueError("origin %r is not %r" % (origin, name))
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise ValueError("bad size %r" % size)
    root = base64.b64decode(b64root, validate=True)
    if len(root) != 32:
        raise ValueError("root is not 32 bytes")
    signed = False
    for line in sigs.decode("utf-8").splitlines():
        dash, who, b64 = line.split(" ", 2)
        if dash != "\u2014":
            raise ValueError("bad signature line")
        sig = base64.b64decode(b64, validate=True)
        if who == name and sig[:4].hex() == key_id:
            if check_sig and not openssl_verify(pub, text, sig[4:]):
                raise ValueError("the signature does not verify")
            signed = True
    if not signed:
        raise ValueError("not signed by " + name)
    return int(size), root


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    check_sig = "--no-signatures" not in argv
    vkey_text = None
    if "--vkey" in argv:
        vkey_text = argv[argv.index("--vkey") + 1]
    else:
        with open(os.path.join(out, "broker.vkey")) as f:
            vkey_text = f.read()
    try:
        vkey = parse_vkey(vkey_text)
    except ValueError as e:
        print("FAIL: the verifier key: %s" % e)
        return 1

    names = sorted(n for n in os.listdir(os.path.join(out, "entries"))
                   if n.endswith(".bin"))
    stored = {}
    with open(os.path.join(out, "leaves.txt")) as f:
        for line in f:
            idx, hexh = line.split()
            stored[int(idx)] = hexh
    hashes = []
    bad = None
    for pos, n in enumerate(names):
        idx = int(n[:-4])
        if idx != pos:
            bad = (pos, "entry %d is missing" % pos)
            break
        with open(os.path.join(out, "entries", n), "rb") as f:
            entry = f.read()
        try:
            if entry_index(entry) != pos:
                bad = (pos, "entry %d says it is entry %d"
                       % (pos, entry_index(entry)))
                break
        except ValueError as e:
            bad = (pos, "entry %d does not decode: %s" % (pos, e))
            break
        h = leaf_hash(entry)
        if stored.get(pos) != h.hex():
            bad = (pos, "entry %d does not match its leaf hash" % pos)
            break
        hashes.append(h)

    notes = []
    cdir = os.path.join(out, "checkpoints")
    for n in sorted(os.listdir(cdir)):
        notes.append(os.path.join(cdir, n))
    if os.path.exists(os.path.join(out, "checkpoint.note")):
        notes.append(os.path.join(out, "checkpoint.note"))
    ckpts = []
    for path in notes:
        with open(path, "rb") as f:
            try:
                size, root = open_checkpoint(f.read(), vkey, check_sig)
            except (ValueError, UnicodeDecodeError, IndexError) as e:
                print("FAIL: %s: %s" % (path, e))
                return 1
        base = os.path.basename(path)
        if path.startswith(cdir) and int(base.split(".")[0]) != size:
            print("FAIL: %s holds the checkpoint of size %d (swapped)"
                  % (path, size))
            return 1
        ckpts.append((size, root, path))
    ckpts.sort()
    good = 0
    for size, root, path in ckpts:
        if size > len(hashes):
            at = bad[0] if bad else len(hashes)
            why = bad[1] if bad else "log truncated"
            print("FAIL: first entry that does not match: %d (%s; %s "
                  "covers %d entries)" % (at, why, path, size))
            return 1
        if mth(hashes[:size]) != root:
            print("FAIL: %s does not match entries %d..%d"
                  % (path, good, size - 1))
            return 1
        good = size
    if bad:
        print("FAIL: first entry that does not match: %d (%s)" % bad)
        return 1
    print("ok: %d entries, %d checkpoints, latest %d%s"
          % (len(hashes), len(ckpts), good,
             "" if check_sig else " (signatures not checked)"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
