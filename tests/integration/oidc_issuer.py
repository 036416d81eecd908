#!/usr/bin/python3
"""oidc_issuer.py — a test OpenID Connect issuer on 127.0.0.1 over HTTPS (the test PKI's TLS
certificate, trusted through tests/data/pki/ca.pem), for the STS twin's tests.

IAM OIDC provider URLs, and so asakai's sts.oidc_providers[].url, have no port: the issuer
listens on port 443 (the tests run as root) of a random loopback address 127.77.x.y, with a TLS
certificate for that address made on the spot by the test CA (tests/data/pki/ca.key), so that
runs in parallel and anything else on 127.0.0.1:443 do not collide. Issuer(port=0) takes any
free port on 127.0.0.1 with the test PKI's certificate instead (the URLs then carry it).

One server hosts several issuers, one per path prefix, each with its own signing keys:

  iss = Issuer(); iss.start()
  ci = iss.add("circleci/org/<org-id>")      # issuer URL https://127.77.x.y/circleci/org/...
  ci.url                                     # the "iss" claim and the provider URL
  <url>/.well-known/openid-configuration     discovery (issuer, jwks_uri, the fields AWS wants)
  <url>/.well-known/jwks.json                the issuer's current public keys
  ci.rotate()                                # a new signing key (new kid); the old one stays
                                             # published unless drop_old=True
  ci.circleci(...), ci.github(...), ci.gitlab(...)   claims shaped like each CI's ID tokens
  ci.mint(claims, **kw)                      signed with the current key (jwtmint.mint)
  iss.hits(prefix)                           how many requests a path prefix got
"""
import datetime
import ipaddress
import json
import os
import random
import shutil
import ssl
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import jwtmint

HERE = os.path.dirname(os.path.abspath(__file__))
PKI = os.path.normpath(os.path.join(HERE, "..", "data", "pki"))
CA_FILE = os.path.join(PKI, "ca.pem")


class OneIssuer:
    def __init__(self, server, path):
        self.server = server
        self.path = "/" + path.strip("/")
        self.keys = [jwtmint.new_rsa_key("k-" + uuid.uuid4().hex[:8])]
        self.lock = threading.Lock()

    @property
    def url(self):
        if self.server.port == 443:
            return "https://%s%s" % (self.server.host, self.path)
        return "https://%s:%d%s" % (self.server.host, self.server.port, self.path)

    @property
    def host_path(self):
        return self.url[len("https://"):]

    @property
    def key(self):
        return self.keys[-1]

    def rotate(self, drop_old=False, ec=False):
        k = (jwtmint.new_ec_key("k-" + uuid.uuid4().hex[:8]) if ec else
             jwtmint.new_rsa_key("k-" + uuid.uuid4().hex[:8]))
        with self.lock:
            self.keys = [k] if drop_old else self.keys + [k]
        return k

    def discovery(self):
        return {"issuer": self.url, "jwks_uri": self.url + "/.well-known/jwks.json",
                "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "claims_supported": ["aud", "exp", "iat", "iss", "sub"]}

    def jwks(self):
        with self.lock:
            return jwtmint.jwks(self.keys)

    def mint(self, claims, key=None, **kw):
        return jwtmint.mint(key or self.key, claims, **kw)

    # -- token shapes (oidc-sts.md §5) --
    @staticmethod
    def _times(now=None, lifetime=3600, iat_offset=-5):
        now = int(now if now is not None else time.time())
        return {"iat": now + iat_offset, "exp": now + iat_offset + lifetime}

    def circleci(self, org, project, user="u-" + "1" * 8, aud=None, **over):
        c = {"iss": self.url, "sub": "org/%s/project/%s/user/%s" % (org, project, user),
             "aud": aud or org,
             "oidc.circleci.com/project-id": project,
             "oidc.circleci.com/vcs-origin": "github.com/acme/repo-1",
             "oidc.circleci.com/vcs-ref": "refs/heads/main",
             "oidc.circleci.com/context-ids": [str(uuid.uuid4())],
             "oidc.circleci.com/ssh-rerun": False}
        c.update(self._times(lifetime=3600))
        c.update(over)
        return c

    def github(self, repo="octo-org/octo-repo", ref="refs/heads/main", aud="sts.amazonaws.com",
               **over):
        t = self._times(lifetime=300)
        owner = repo.split("/")[0]
        c = {"jti": str(uuid.uuid4()), "sub": "repo:%s:ref:%s" % (repo, ref), "aud": aud,
             "ref": ref, "sha": "0" * 40, "repository": repo, "repository_owner": owner,
             "actor_id": "12", "repository_visibility": "private", "repository_id": "74",
             "repository_owner_id": "65", "run_id": "1", "run_number": "10", "run_attempt": "1",
             "runner_environment": "github-hosted", "actor": "octocat",
             "workflow": "deploy", "event_name": "push", "ref_type": "branch",
             "job_workflow_ref": "%s/.github/workflows/deploy.yml@%s" % (repo, ref),
             "iss": self.url, "nbf": t["iat"] - 600}
        c.update(t)
        c.update(over)
        return c

    def gitlab(self, project_path="my-group/my-project", ref="main", aud=None, **over):
        t = self._times(lifetime=300)
        c = {"namespace_id": "72", "namespace_path": project_path.split("/")[0],
             "project_id": "20", "project_path": project_path, "user_id": "1",
             "user_login": "sample-user", "pipeline_id": "574", "pipeline_source": "push",
             "job_id": "302", "ref": ref, "ref_type": "branch", "ref_path": "refs/heads/" + ref,
             "ref_protected": "true", "runner_id": 1, "runner_environment": "self-hosted",
             "sha": "714a629c0b401fdce83e847fc9589983fc6f46bc", "jti": str(uuid.uuid4()),
             "iss": self.url, "nbf": t["iat"] - 5,
             "sub": "project_path:%s:ref_type:branch:ref:%s" % (project_path, ref),
             "aud": aud or self.url}
        c.update(t)
        c.update(over)
        return c


def _leaf_for(ip, folder):
    """A server certificate for ip signed by the test CA; (cert path, key path)."""
    with open(os.path.join(PKI, "ca.key"), "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), password=None)
    with open(CA_FILE, "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ip)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(
                ipaddress.ip_address(ip))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    cp, kp = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    with open(cp, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(kp, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cp, kp


class Issuer:
    def __init__(self, port=443):
        self.want_port = port
        self.host = "127.0.0.1"
        self.tmp = None
        self.issuers = {}
        self.log = []
        self.lock = threading.Lock()
        self.port = None
        self.httpd = None

    def add(self, path):
        i = OneIssuer(self, path)
        self.issuers[i.path] = i
        return i

    def hits(self, prefix=""):
        with self.lock:
            return sum(1 for p in self.log if p.startswith(prefix))

    def start(self):
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *a):
                pass

            def do_GET(self):
                with outer.lock:
                    outer.log.append(self.path)
                for base, i in outer.issuers.items():
                    if self.path == base + "/.well-known/openid-configuration":
                        return self._json(i.discovery())
                    if self.path == base + "/.well-known/jwks.json":
                        return self._json(i.jwks())
                self._send(404, b"not found\n", "text/plain")

            def _json(self, obj):
                self._send(200, json.dumps(obj).encode(), "application/json")

            def _send(self, code, body, ctype):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if self.want_port == 443:
            self.httpd = self._bind_443(H, ctx)
        else:
            ctx.load_cert_chain(os.path.join(PKI, "tls-server.pem"),
                                os.path.join(PKI, "tls-server.key"))
            self.httpd = ThreadingHTTPServer(("127.0.0.1", self.want_port), H)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, client_address: None
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True,
                                            do_handshake_on_connect=False)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def _bind_443(self, handler, ctx):
        last = None
        for _ in range(20):
            host = "127.77.%d.%d" % (random.randint(0, 255), random.randint(1, 254))
            try:
                httpd = ThreadingHTTPServer((host, 443), handler)
            except OSError as e:
                last = e
                continue
            self.host = host
            self.tmp = tempfile.mkdtemp(prefix="oidc-issuer-")
            cert, key = _leaf_for(host, self.tmp)
            ctx.load_cert_chain(cert, key)
            return httpd
        raise OSError("the test OIDC issuer cannot listen on port 443 of 127.77.x.y (%s): "
                      "provider URLs have no port, so it needs 443 (run as root)" % last)

    def close(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.close()
        return False


if __name__ == "__main__":
    import urllib.request
    with Issuer(port=int(os.environ.get("ISSUER_PORT", "443"))) as s:
        gh = s.add("github")
        ctx = ssl.create_default_context(cafile=CA_FILE)
        d = json.load(urllib.request.urlopen(gh.url + "/.well-known/openid-configuration",
                                             context=ctx))
        assert d["issuer"] == gh.url, d
        ks = json.load(urllib.request.urlopen(d["jwks_uri"], context=ctx))
        assert ks["keys"][0]["kid"] == gh.key.kid
        print("oidc_issuer self-check ok:", gh.mint(gh.github())[:40] + "...")
