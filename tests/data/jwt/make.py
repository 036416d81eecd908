#!/usr/bin/python3
"""make.py — regenerates the JWS/JWKS fixtures of tests/unit/test_crypto.c and test_jwt.c.

Run from the repository root: /usr/bin/python3 tests/data/jwt/make.py
Keys are fresh each run, so every file below changes together; commit them together.

  vectors.txt  one signature vector per line, for ak_pkey_verify:
                 <ALG> RSA <n> <e> <signing input> <signature>
                 <ALG> <crv> <x> <y> <signing input> <signature>
               all base64url; plus "SMALL RSA <n> <e>" (a 1024-bit key that must be refused)
  jwks.json    a key set with the verify keys and entries that must be skipped
  tokens.txt   "<name> <compact JWS>" per line, signed with the keys of jwks.json
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration"))
import jwtmint  # noqa: E402

GITHUB = {
    "jti": "example-id", "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
    "aud": "sts.amazonaws.com", "ref": "refs/heads/main", "repository": "octo-org/octo-repo",
    "repository_owner_id": "65", "iss": "https://token.actions.githubusercontent.com",
    "nbf": 1699999400, "exp": 1700000300, "iat": 1700000000,
}


def vectors():
    lines = []
    si = jwtmint.b64url('{"alg":"RS384"}') + "." + jwtmint.b64url("asakai vectors")
    for alg, key in (("RS384", jwtmint.new_rsa_key(None, 3072)),
                     ("RS512", jwtmint.new_rsa_key(None, 4096)),
                     ("ES384", jwtmint.new_ec_key(None, "P-384")),
                     ("ES512", jwtmint.new_ec_key(None, "P-521"))):
        jwk = key.public_jwk()
        sig = jwtmint.b64url(key.sign(alg, si.encode()))
        if key.kty == "RSA":
            lines.append(" ".join([alg, "RSA", jwk["n"], jwk["e"], si, sig]))
        else:
            lines.append(" ".join([alg, jwk["crv"], jwk["x"], jwk["y"], si, sig]))
    small = jwtmint.new_rsa_key(None, 1024).public_jwk()
    lines.append(" ".join(["SMALL", "RSA", small["n"], small["e"]]))
    return lines


def main():
    rsa1 = jwtmint.new_rsa_key("rsa1")
    rsa2 = jwtmint.new_rsa_key("rsa2")  # published with "alg": "RS512"
    ec1 = jwtmint.new_ec_key("ec1")
    ec384 = jwtmint.new_ec_key("ec384", "P-384")
    other = jwtmint.new_rsa_key("rsa1")  # same kid as rsa1, not published
    enc = jwtmint.new_rsa_key("rsa-enc")
    small = jwtmint.new_rsa_key("rsa-small", 1024)
    keys = [
        rsa1.public_jwk(use="sig"), rsa2.public_jwk(alg="RS512"), ec1.public_jwk(),
        ec384.public_jwk(alg="ES384"),
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        {"kty": "OKP", "kid": "ed", "crv": "Ed25519",
         "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        enc.public_jwk(use="enc"), small.public_jwk(),
        {"kty": "EC", "kid": "k1", "crv": "secp256k1", "x": "AA", "y": "AA"},
    ]
    with open(os.path.join(HERE, "jwks.json"), "w") as f:
        json.dump({"keys": keys}, f, indent=1)
        f.write("\n")

    toks = [
        ("rs256_kid", jwtmint.mint(rsa1, GITHUB)),
        ("rs256_nokid", jwtmint.mint(rsa1, GITHUB, kid=None)),
        ("es256_kid", jwtmint.mint(ec1, GITHUB)),
        ("es256_nokid", jwtmint.mint(ec1, GITHUB, kid=None)),
        ("es384_kid", jwtmint.mint(ec384, GITHUB)),
        ("rs512_rsa2", jwtmint.mint(rsa2, GITHUB, alg="RS512")),
        ("rs256_rsa2_alg_mismatch", jwtmint.mint(rsa2, GITHUB, alg="RS256")),
        ("unknown_kid", jwtmint.mint(rsa1, GITHUB, kid="rotated-away")),
        ("wrong_key_same_kid", jwtmint.mint(other, GITHUB)),
        ("wrong_key_nokid", jwtmint.mint(other, GITHUB, kid=None)),
        ("rs256_kid_ec1", jwtmint.mint(rsa1, GITHUB, kid="ec1")),
        ("es256_kid_rsa1", jwtmint.mint(ec1, GITHUB, kid="rsa1")),
        ("es256_kid_ec384", jwtmint.mint(ec1, GITHUB, kid="ec384")),
        ("kid_of_skipped", jwtmint.mint(enc, GITHUB)),
        ("none", jwtmint.forge_none(GITHUB)),
        ("none_kid", jwtmint.forge_none(GITHUB, {"kid": "rsa1"})),
        ("hs256_pem", jwtmint.forge_hs256(rsa1.public_pem(), GITHUB, kid="rsa1")),
        ("hs256_jwk", jwtmint.forge_hs256(json.dumps(rsa1.public_jwk()).encode(), GITHUB)),
        ("ps256", jwtmint.mint(rsa1, GITHUB, header_extra={"alg": "PS256"})),
    ]
    with open(os.path.join(HERE, "tokens.txt"), "w") as f:
        for name, tok in toks:
            f.write("%s %s\n" % (name, tok))
    with open(os.path.join(HERE, "vectors.txt"), "w") as f:
        f.write("\n".join(vectors()) + "\n")


if __name__ == "__main__":
    main()
