#!/usr/bin/env python3
"""An independent reading of docs/message-format.md, in Python.

Uses only the standard library and pyca/cryptography: no repat code, no
protobuf library. It verifies and opens the committed worked example, then
writes a new message from the same sender that `repat open` must accept.

usage: 06-message-format.py EXAMPLE_DIR OUT_FILE
"""
import hashlib
import hmac
import json
import os
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


# ---- protobuf, just enough: varints and length-delimited fields
def varint(b, i):
    shift = value = 0
    while True:
        c = b[i]
        i += 1
        value |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return value, i


def fields(b):
    """[(number, value)] in order; value is int or bytes."""
    out, i = [], 0
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise ValueError("unexpected wire type %d" % wt)
        out.append((num, v))
    return out


def one(fs, num):
    vals = [v for n, v in fs if n == num]
    return vals[0] if vals else None


def enc_varint(v):
    out = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        out.append(c | (0x80 if v else 0))
        if not v:
            return bytes(out)


def enc_field(num, v):
    if isinstance(v, int):
        return enc_varint(num << 3) + enc_varint(v)
    return enc_varint(num << 3 | 2) + enc_varint(len(v)) + v


# ---- HPKE (RFC 9180) base mode, DHKEM(X25519, HKDF-SHA256), AES-256-GCM
KEM_ID, KDF_ID, AEAD_ID = 0x0020, 0x0001, 0x0002
KEM_SUITE = b"KEM" + struct.pack(">H", KEM_ID)
HPKE_SUITE = b"HPKE" + struct.pack(">HHH", KEM_ID, KDF_ID, AEAD_ID)


def extract(salt, ikm):
    return hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()


def expand(prk, info, n):
    out, t, c = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([c]), hashlib.sha256).digest()
        out += t
        c += 1
    return out[:n]


def labeled_extract(suite, salt, label, ikm):
    return extract(salt, b"HPKE-v1" + suite + label + ikm)


def labeled_expand(suite, prk, label, info, n):
    return expand(prk, struct.pack(">H", n) + b"HPKE-v1" + suite + label +
                  info, n)


def shared_secret(dh, kem_context):
    eae_prk = labeled_extract(KEM_SUITE, b"", b"eae_prk", dh)
    return labeled_expand(KEM_SUITE, eae_prk, b"shared_secret", kem_context,
                          32)


def key_schedule(ss, info):
    psk_id_hash = labeled_extract(HPKE_SUITE, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(HPKE_SUITE, b"", b"info_hash", info)
    context = b"\0" + psk_id_hash + info_hash
    secret = labeled_extract(HPKE_SUITE, ss, b"secret", b"")
    key = labeled_expand(HPKE_SUITE, secret, b"key", context, 32)
    nonce = labeled_expand(HPKE_SUITE, secret, b"base_nonce", context, 12)
    return key, nonce


def raw(pub):
    return pub.public_bytes(serialization.Encoding.Raw,
                            serialization.PublicFormat.Raw)


def hpke_open(skR, enc, info, aad, ct):
    pkE = X25519PublicKey.from_public_bytes(enc)
    dh = skR.exchange(pkE)
    ss = shared_secret(dh, enc + raw(skR.public_key()))
    key, nonce = key_schedule(ss, info)
    return AESGCM(key).decrypt(nonce, ct, aad)


def hpke_seal(pkR, info, aad, pt):
    skE = X25519PrivateKey.generate()
    enc = raw(skE.public_key())
    ss = shared_secret(skE.exchange(pkR), enc + raw(pkR))
    key, nonce = key_schedule(ss, info)
    return enc, AESGCM(key).encrypt(nonce, pt, aad)


INFO = b"repat/1 payload"
PREFIX = b"repat/1 envelope\0"


def pad_len(n):
    b = 1024
    while b < 65536 and n + 1 > b:
        b *= 2
    if n + 1 <= b:
        return b
    return (n + 1 + 65535) // 65536 * 65536


def unpad(p):
    i = p.rindex(b"\x80")
    if any(p[i + 1:]) or pad_len(i) != len(p):
        raise ValueError("bad padding")
    return p[:i]


def load(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    ex, out_path = sys.argv[1], sys.argv[2]
    inputs = json.loads(load(os.path.join(ex, "inputs.json")))
    sender = os.path.join(ex, "agents", inputs["sender"])
    recipient = os.path.join(ex, "agents", inputs["recipient"])

    # ---- verify the example
    msg = load(os.path.join(ex, "message.repat"))
    se = fields(msg)
    envelope, signature = one(se, 1), one(se, 2)
    cert = x509.load_der_x509_certificate(one(se, 3))
    ca = x509.load_pem_x509_certificate(
        load(os.path.join(recipient, "trust", "TH.crt")))
    cert.verify_directly_issued_by(ca)
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    env = fields(envelope)
    header, enc, ct = one(env, 1), one(env, 2), one(env, 3)
    hdr = fields(header)
    assert one(hdr, 1) == 1, "version"
    assert one(hdr, 5).decode() == cn == inputs["sender"], "sender"
    cert.public_key().verify(signature, PREFIX + envelope)
    print("example: signature by %s verifies" % cn)

    # ---- open it as the recipient
    skR = serialization.load_pem_private_key(
        load(os.path.join(recipient, "enc.key")), None)
    payload = fields(unpad(hpke_open(skR, enc, INFO, header, ct)))
    assert one(payload, 1) == one(hdr, 4), "payload type"
    assert one(payload, 3).decode() == inputs["operator"], "operator"
    form = one(payload, 2)
    print("example: opened, %d form bytes, operator %r" %
          (len(form), one(payload, 3).decode()))

    # ---- write a new message from the same sender with the same form
    new_id = os.urandom(16)
    new_header = b"".join(
        enc_field(n, new_id if n == 2 else v) for n, v in hdr)
    new_payload = (enc_field(1, one(payload, 1)) + enc_field(2, form) +
                   enc_field(3, b"written by the Python check"))
    padded = new_payload + b"\x80"
    padded += b"\0" * (pad_len(len(new_payload)) - len(padded))
    rcert = x509.load_pem_x509_certificate(
        load(os.path.join(recipient, "enc.crt")))
    new_enc, new_ct = hpke_seal(rcert.public_key(), INFO, new_header, padded)
    new_env = (enc_field(1, new_header) + enc_field(2, new_enc) +
               enc_field(3, new_ct))
    sk = serialization.load_pem_private_key(
        load(os.path.join(sender, "sign.key")), None)
    new_sig = sk.sign(PREFIX + new_env)
    sign_der = x509.load_pem_x509_certificate(
        load(os.path.join(sender, "sign.crt"))).public_bytes(
            serialization.Encoding.DER)
    with open(out_path, "wb") as f:
        f.write(enc_field(1, new_env) + enc_field(2, new_sig) +
                enc_field(3, sign_der))
    print("wrote %s (message id %s)" % (out_path, new_id.hex()))


if __name__ == "__main__":
    main()
