#!/usr/bin/python3
"""make_pki.py — generates the integration tests' PKI into tests/data/pki/ (run once; committed).

  ca.pem / ca.key                  test root CA ("asakai test root CA")
  sns-signing.pem / .key           SNS signing cert, SAN DNS:sns.amazonaws.com, RSA-2048, by ca
  tls-server.pem / .key            TLS server cert for IP:127.0.0.1 (+ DNS:localhost), by ca
  evil-ca.pem / evil-ca.key        a second, untrusted root CA
  evil-signing.pem / .key          signing cert with the same SAN, issued by evil-ca

Validity: 20 years from the day before generation. Usage: make_pki.py [OUTDIR]
"""
import datetime
import ipaddress
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "data", "pki")
YEARS = 20


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "asakai tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def validity(b):
    start = datetime.datetime.utcnow().replace(microsecond=0) - datetime.timedelta(days=1)
    return b.not_valid_before(start).not_valid_after(start + datetime.timedelta(days=365 * YEARS))


def make_ca(cn):
    key = new_key()
    b = x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn))
    b = validity(b.public_key(key.public_key()).serial_number(x509.random_serial_number()))
    b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    b = b.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                      key_encipherment=False, data_encipherment=False,
                                      key_agreement=False, key_cert_sign=True, crl_sign=True,
                                      encipher_only=False, decipher_only=False), critical=True)
    b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    return key, b.sign(key, hashes.SHA256())


def make_leaf(ca_key, ca_cert, cn, sans, server_auth):
    key = new_key()
    b = x509.CertificateBuilder().subject_name(name(cn)).issuer_name(ca_cert.subject)
    b = validity(b.public_key(key.public_key()).serial_number(x509.random_serial_number()))
    b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                        critical=False)
    b = b.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                      key_encipherment=server_auth, data_encipherment=False,
                                      key_agreement=False, key_cert_sign=False, crl_sign=False,
                                      encipher_only=False, decipher_only=False), critical=True)
    if server_auth:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                            critical=False)
    return key, b.sign(ca_key, hashes.SHA256())


def write(out, base, key, cert):
    with open(os.path.join(out, base + ".pem"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        with open(os.path.join(out, base + ".key"), "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(out, exist_ok=True)
    ca_key, ca = make_ca("asakai test root CA")
    sig_key, sig = make_leaf(ca_key, ca, "sns.amazonaws.com",
                             [x509.DNSName("sns.amazonaws.com")], False)
    tls_key, tls = make_leaf(ca_key, ca, "127.0.0.1",
                             [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                              x509.DNSName("localhost")], True)
    evil_key, evil = make_ca("evil root CA")
    esig_key, esig = make_leaf(evil_key, evil, "sns.amazonaws.com",
                               [x509.DNSName("sns.amazonaws.com")], False)
    write(out, "ca", ca_key, ca)
    write(out, "sns-signing", sig_key, sig)
    write(out, "tls-server", tls_key, tls)
    write(out, "evil-ca", evil_key, evil)
    write(out, "evil-signing", esig_key, esig)
    print("wrote test PKI to", os.path.normpath(out))


if __name__ == "__main__":
    main()
