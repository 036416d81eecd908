#!/usr/bin/python3
"""jwtmint.py — mint OIDC-style JWTs and JWKS for asakai's tests (python3-cryptography only).

  new_rsa_key(kid, bits=2048)      a Key with an RSA private key (kid may be None)
  new_ec_key(kid, crv="P-256")     a Key on P-256 / P-384 / P-521
  jwks(keys)                       {"keys": [...]}: the public JWKs of Keys (dicts pass through
                                   as they are, for odd entries such as {"kty": "oct"})
  mint(key, claims, alg=None, kid=KEY_KID, header_extra=None, raw_header=None, raw_payload=None)
                                   compact JWS signed with key: alg defaults to RS256 for RSA and
                                   ES256/384/512 by curve; kid defaults to key.kid (None: no kid);
                                   header_extra is merged into the header last (may override);
                                   raw_header / raw_payload (str) replace the JSON text verbatim
                                   (duplicate keys, odd spacing ...). alg may be any of RS256..512,
                                   ES256..512 whatever the key, for "wrong alg for key" cases:
                                   the key signs as its own type, the header says alg.
  forge_none(claims, header_extra=None)
                                   "alg": "none" token with an empty signature
  forge_hs256(secret, claims, kid=None, header_extra=None)
                                   HS256 with secret bytes as the HMAC key: pass key.public_pem()
                                   or json.dumps(key.public_jwk()).encode() for the classic
                                   algorithm-confusion forgery
  Key.public_jwk(alg=None, use=None), Key.public_pem(), Key.private_pem()

A Key also carries kid, kty ("RSA"/"EC") and crv. Claims are serialised compactly with
json.dumps(separators=(",", ":")); floats stay floats (exp 1700000000.5). PyJWT, when
installed (import jwt), is not needed; `python3 jwtmint.py` runs a self-check that uses it to
cross-verify when present.
"""
import base64
import hashlib
import hmac
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

KEY_KID = object()  # default for mint(kid=...): use the key's own kid

_CURVES = {"P-256": (ec.SECP256R1, 32, "ES256"), "P-384": (ec.SECP384R1, 48, "ES384"),
           "P-521": (ec.SECP521R1, 66, "ES512")}
_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def b64url(data):
    """base64url without padding (RFC 7515 §2)."""
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(v, length=None):
    length = length or (v.bit_length() + 7) // 8
    return b64url(v.to_bytes(length, "big"))


class Key:
    def __init__(self, kid, private, kty, crv=None):
        self.kid, self.private, self.kty, self.crv = kid, private, kty, crv

    def default_alg(self):
        return "RS256" if self.kty == "RSA" else _CURVES[self.crv][2]

    def public_jwk(self, alg=None, use=None):
        pub = self.private.public_key().public_numbers()
        if self.kty == "RSA":
            jwk = {"kty": "RSA", "n": _int_b64(pub.n), "e": _int_b64(pub.e)}
        else:
            size = _CURVES[self.crv][1]
            jwk = {"kty": "EC", "crv": self.crv, "x": _int_b64(pub.x, size),
                   "y": _int_b64(pub.y, size)}
        if self.kid is not None:
            jwk["kid"] = self.kid
        if alg:
            jwk["alg"] = alg
        if use:
            jwk["use"] = use
        return jwk

    def public_pem(self):
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def private_pem(self):
        return self.private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())

    def sign(self, alg, data):
        h = _HASHES[alg[2:]]()
        if self.kty == "RSA":
            return self.private.sign(data, padding.PKCS1v15(), h)
        der = self.private.sign(data, ec.ECDSA(h))
        r, s = utils.decode_dss_signature(der)
        size = _CURVES[self.crv][1]
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def new_rsa_key(kid, bits=2048):
    return Key(kid, rsa.generate_private_key(public_exponent=65537, key_size=bits), "RSA")


def new_ec_key(kid, crv="P-256"):
    return Key(kid, ec.generate_private_key(_CURVES[crv][0]()), "EC", crv)


def jwks(keys):
    return {"keys": [k if isinstance(k, dict) else k.public_jwk() for k in keys]}


def _dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def _compact(header, claims, raw_header, raw_payload):
    h = raw_header if raw_header is not None else _dumps(header)
    p = raw_payload if raw_payload is not None else _dumps(claims)
    return b64url(h) + "." + b64url(p)


def mint(key, claims, alg=None, kid=KEY_KID, header_extra=None, raw_header=None,
         raw_payload=None):
    alg = alg or key.default_alg()
    header = {"alg": alg, "typ": "JWT"}
    kid = key.kid if kid is KEY_KID else kid
    if kid is not None:
        header["kid"] = kid
    header.update(header_extra or {})
    signing_input = _compact(header, claims, raw_header, raw_payload)
    return signing_input + "." + b64url(key.sign(alg, signing_input.encode()))


def forge_none(claims, header_extra=None):
    header = {"alg": "none", "typ": "JWT"}
    header.update(header_extra or {})
    return _compact(header, claims, None, None) + "."


def forge_hs256(secret, claims, kid=None, header_extra=None):
    if isinstance(secret, str):
        secret = secret.encode()
    header = {"alg": "HS256", "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    header.update(header_extra or {})
    signing_input = _compact(header, claims, None, None)
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(mac)


def _selfcheck():
    claims = {"iss": "https://issuer.example", "sub": "repo:o/r:ref:refs/heads/main",
              "aud": "sts.amazonaws.com", "iat": 1700000000, "exp": 1700000300}
    keys = [new_rsa_key("r1"), new_ec_key("e1"), new_ec_key("e3", "P-384"),
            new_ec_key("e5", "P-521")]
    try:
        import jwt as pyjwt
    except ImportError:
        pyjwt = None
    for k in keys:
        tok = mint(k, claims)
        assert tok.count(".") == 2
        if pyjwt:
            got = pyjwt.decode(tok, k.public_pem(), algorithms=[k.default_alg()],
                               options={"verify_exp": False, "verify_aud": False})
            assert got == claims, got
    assert forge_none(claims).endswith(".")
    forge_hs256(keys[0].public_pem(), claims)
    print("jwtmint self-check ok (PyJWT cross-check: %s)" % ("yes" if pyjwt else "no"))


if __name__ == "__main__":
    _selfcheck()
