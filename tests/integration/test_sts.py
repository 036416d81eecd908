#!/usr/bin/python3
"""The STS twin end to end with the REAL AWS clients: aws-cli v2 (Debian's /usr/bin/aws), aws-cli
v1 (`python3 -m awscli` from the pyenv Python, when present) and boto3 send
AssumeRoleWithWebIdentity to `asakai serve` (--endpoint-url http://127.0.0.1:PORT/sts) with
tokens from tests/integration/oidc_issuer.py (HTTPS discovery + JWKS, key rotation) shaped like
CircleCI, GitHub and GitLab ID tokens, then GetCallerIdentity with the issued credentials.
Every rejection path of issue 5 is checked through the CLI's exit status and AWS's error code;
the audit (/api/v1/oidc/log) must record the real reason; a CI job calls /api/v1 with SigV4."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import uuid

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import aklib
import jwtmint
from aklib import Daemon, check, check_eq, request
from oidc_issuer import CA_FILE, Issuer

ACCT = "123456789012"
ORG = "5a6b7c8d-0000-4000-8000-00000000c1c1"
PROJ = "9f8e7d6c-0000-4000-8000-00000000beef"
API_TOKEN = "sts-test-api-token-0123456789"
AWS_V2 = "/usr/bin/aws"
DEAD_ISSUER = "https://127.0.0.3/dead"  # loopback, nothing listens on :443 there


def _aws_v1_python():
    """The Python that has aws-cli v1 (`python3 -m awscli`), or None."""
    cands = ["/root/.pyenv/shims/python3", shutil.which("python3") or ""]
    for c in cands:
        if not c or not os.path.exists(c):
            continue
        try:
            out = subprocess.run([c, "-c", "import sys, awscli; print(sys.executable, "
                                  "awscli.__version__)"], capture_output=True, text=True,
                                 timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        parts = out.stdout.split()
        if out.returncode == 0 and len(parts) == 2 and parts[1].startswith("1."):
            return parts[0]  # the real interpreter, not the pyenv shim
    return None


def clis():
    """[(name, argv prefix, exit status for a service error)]."""
    out = []
    if os.access(AWS_V2, os.X_OK):
        out.append(("aws-cli v2", [AWS_V2], 254))
    v1 = _aws_v1_python()
    if v1:
        out.append(("aws-cli v1", [v1, "-m", "awscli"], 255))
    check(out, "no aws CLI found: run scripts/deps.sh (awscli)")
    return out


def policy(provider_arn, aud_key, aud, sub_key, sub_pattern, deny_sub=None):
    stmts = [{"Sid": "ci", "Effect": "Allow", "Principal": {"Federated": provider_arn},
              "Action": "sts:AssumeRoleWithWebIdentity",
              "Condition": {"StringEquals": {aud_key: aud},
                            "StringLike": {sub_key: sub_pattern}}}]
    if deny_sub:
        stmts.append({"Sid": "blocked", "Effect": "Deny", "Principal": {"Federated": provider_arn},
                      "Action": "sts:AssumeRoleWithWebIdentity",
                      "Condition": {"StringLike": {sub_key: deny_sub}}})
    return {"Version": "2012-10-17", "Statement": stmts}


def _yq(s):
    return "'" + str(s).replace("'", "''") + "'"


class StsStack:
    """An HTTPS OIDC issuer with three CI issuers + a daemon whose STS twin trusts them."""

    def __init__(self, refetch="1s", extra_providers=()):
        self.iss = Issuer().start()
        self.ci = self.iss.add("circleci/org/" + ORG)
        self.gh = self.iss.add("github")
        self.gl = self.iss.add("gitlab")
        self.d = Daemon(name="sts", extra_server={"api_token": _yq(API_TOKEN)})
        self.endpoint = self.d.url + "/sts"
        self.roles = {}
        prov = lambda i: "arn:aws:iam::%s:oidc-provider/%s" % (ACCT, i.host_path)
        ci_hp, gh_hp, gl_hp = self.ci.host_path, self.gh.host_path, self.gl.host_path
        self._role("circleci-deploy", policy(prov(self.ci), ci_hp + ":aud", ORG, ci_hp + ":sub",
                                             "org/%s/project/%s/user/*" % (ORG, PROJ),
                                             deny_sub="org/%s/project/%s/user/blocked-*" %
                                             (ORG, PROJ)))
        self._role("github-deploy", policy(prov(self.gh), gh_hp + ":aud", "sts.amazonaws.com",
                                           gh_hp + ":sub",
                                           "repo:octo-org/octo-repo:ref:refs/heads/main"))
        self._role("gitlab-deploy", policy(prov(self.gl), gl_hp + ":aud", self.gl.url,
                                           gl_hp + ":sub",
                                           "project_path:my-group/my-project:ref_type:branch:"
                                           "ref:*"), max_session=7200)
        lines = ["sts:", "  enabled: true", "  exp_leeway: 5m", "  jwks_cache_ttl: 1h",
                 "  jwks_refetch_min_interval: %s" % refetch, "  oidc_providers:"]
        for i, aud in ((self.ci, ORG), (self.gh, "sts.amazonaws.com"), (self.gl, self.gl.url)):
            lines += ["    - url: " + _yq(i.url), "      client_id_list: [%s]" % _yq(aud),
                      "      ca_file: " + _yq(CA_FILE), "      max_token_age: 2h"]
        for url, aud in extra_providers:
            lines += ["    - url: " + _yq(url), "      client_id_list: [%s]" % _yq(aud),
                      "      ca_file: " + _yq(CA_FILE)]
        lines.append("  roles:")
        for name, (pol, max_s) in self.roles.items():
            lines += ["    - name: " + name, '      account_id: "%s"' % ACCT,
                      "      max_session_duration: %d" % max_s,
                      "      assume_role_policy: " + _yq(json.dumps(pol))]
            if name == "github-deploy":  # the one role whose sessions may call /api/v1
                lines.append("      api_access: true")
        with open(self.d.cfg_path, "a") as f:
            f.write("\n".join(lines) + "\n")
        self.home = tempfile.mkdtemp(prefix="aws-home-", dir=aklib.workdir())

    def _role(self, name, pol, max_session=3600):
        self.roles[name] = (pol, max_session)

    @staticmethod
    def arn(role):
        return "arn:aws:iam::%s:role/%s" % (ACCT, role)

    def __enter__(self):
        try:
            self.d.start()
        except Exception:
            self.iss.close()
            raise
        return self

    def __exit__(self, et, ev, tb):
        try:
            self.d.__exit__(et, ev, tb)
        finally:
            self.iss.close()
        return False

    # -- clients --
    def env(self, creds=None):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.home,
             "AWS_CONFIG_FILE": os.path.join(self.home, "none"),
             "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.home, "none"),
             "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
             "AWS_PAGER": "", "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard",
             "NO_PROXY": "*", "LC_ALL": "C.UTF-8"}
        if creds:
            e.update({"AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                      "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                      "AWS_SESSION_TOKEN": creds["SessionToken"]})
        return e

    def cli(self, argv, args, creds=None):
        p = subprocess.run(argv + args + ["--endpoint-url", self.endpoint, "--output", "json"],
                           capture_output=True, text=True, timeout=60, env=self.env(creds),
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr

    def assume(self, argv, role, token, session="ci-session", duration=None):
        args = ["sts", "assume-role-with-web-identity", "--role-arn", self.arn(role),
                "--role-session-name", session, "--web-identity-token", token]
        if duration is not None:
            args += ["--duration-seconds", str(duration)]
        return self.cli(argv, args)

    def api(self, path, headers=None):
        return request("GET", self.d.url + path, headers=headers or {})

    def log(self, result=None):
        r = self.api("/api/v1/oidc/log" + ("?result=" + result if result else ""),
                     {"Authorization": "Bearer " + API_TOKEN})
        check(r.status == 200, "GET /api/v1/oidc/log: %r" % r)
        return r.json()


def expect_error(rc_out_err, want_rc, code, msg_part=None, what=""):
    rc, out, err = rc_out_err
    check(rc == want_rc, "%s: exit %d (want %d); stdout %r stderr %r" % (what, rc, want_rc,
                                                                        out[:300], err[-600:]))
    check("(%s)" % code in err, "%s: want AWS error code %s in: %r" % (what, code, err[-600:]))
    if msg_part:
        check(msg_part in err, "%s: want %r in: %r" % (what, msg_part, err[-600:]))


def signed_request(creds, method, url, body=b"", service="sts", headers=None):
    """A request signed by botocore's own SigV4 signer (an independent implementation)."""
    h = dict(headers or {})
    req = AWSRequest(method=method, url=url, data=body, headers=h)
    SigV4Auth(Credentials(creds["AccessKeyId"], creds["SecretAccessKey"],
                          creds["SessionToken"]), service, "us-east-1").add_auth(req)
    return dict(req.headers.items())


def tamper(sig_headers):
    h = dict(sig_headers)
    a = h["Authorization"]
    last = a[-1]
    h["Authorization"] = a[:-1] + ("0" if last != "0" else "1")
    return h


# ---- the happy paths ---------------------------------------------------------------------------

def test_real_clients_assume_and_get_caller_identity():
    with StsStack() as s:
        cases = []
        for name, argv, _ in clis():
            cases.append((name, argv))
        user = "u-" + uuid.uuid4().hex[:8]
        for name, argv in cases:
            for role, issuer, claims in (
                    ("circleci-deploy", s.ci, s.ci.circleci(ORG, PROJ, user=user)),
                    ("github-deploy", s.gh, s.gh.github()),
                    ("gitlab-deploy", s.gl, s.gl.gitlab())):
                tok = issuer.mint(claims)
                rc, out, err = s.assume(argv, role, tok, session="job-42", duration=900)
                check(rc == 0, "%s %s: exit %d: %s" % (name, role, rc, err[-800:]))
                res = json.loads(out)
                c = res["Credentials"]
                check(c["AccessKeyId"].startswith("ASIA") and len(c["AccessKeyId"]) == 20,
                      "AccessKeyId %r" % c["AccessKeyId"])
                check_eq(len(c["SecretAccessKey"]), 40, "secret length")
                check(len(c["SessionToken"]) >= 86, "session token too short")
                check_eq(res["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/%s/job-42" % (ACCT, role), name + " Arn")
                rid = res["AssumedRoleUser"]["AssumedRoleId"]
                check(rid.startswith("AROA") and rid.endswith(":job-42") and len(rid) == 21 + 7,
                      "AssumedRoleId %r" % rid)
                check_eq(res["Provider"], "arn:aws:iam::%s:oidc-provider/%s" %
                         (ACCT, issuer.host_path), "Provider")
                check_eq(res["SubjectFromWebIdentityToken"], claims["sub"], "subject")
                check_eq(res["Audience"], claims["aud"], "Audience")
                # GetCallerIdentity with the issued credentials, by the same CLI
                rc, out, err = s.cli(argv, ["sts", "get-caller-identity"], creds=c)
                check(rc == 0, "%s get-caller-identity: exit %d: %s" % (name, rc, err[-800:]))
                who = json.loads(out)
                check_eq(who["Arn"], res["AssumedRoleUser"]["Arn"], "caller Arn")
                check_eq(who["UserId"], rid, "caller UserId")
                check_eq(who["Account"], ACCT, "caller Account")
        # a wrong secret: SignatureDoesNotMatch through the CLI
        tok = s.ci.mint(s.ci.circleci(ORG, PROJ))
        rc, out, err = s.assume(cases[0][1], "circleci-deploy", tok)
        check(rc == 0, err)
        c = json.loads(out)["Credentials"]
        bad = dict(c, SecretAccessKey="A" * 40)
        expect_error(s.cli(cases[0][1], ["sts", "get-caller-identity"], creds=bad),
                     254 if cases[0][0].endswith("v2") else 255, "SignatureDoesNotMatch",
                     what="wrong secret")
        bad = dict(c, SessionToken=c["SessionToken"][:-4] + "AAAA")
        expect_error(s.cli(cases[0][1], ["sts", "get-caller-identity"], creds=bad),
                     254 if cases[0][0].endswith("v2") else 255, "InvalidClientTokenId",
                     what="wrong session token")


def test_boto3_and_tampered_signature_and_json():
    import boto3
    from botocore.config import Config
    with StsStack() as s:
        sts = boto3.client("sts", region_name="us-east-1", endpoint_url=s.endpoint,
                           aws_access_key_id="x", aws_secret_access_key="y",
                           config=Config(retries={"max_attempts": 1}))
        claims = s.gl.gitlab()
        res = sts.assume_role_with_web_identity(RoleArn=s.arn("gitlab-deploy"),
                                                RoleSessionName="boto3-job",
                                                WebIdentityToken=s.gl.mint(claims),
                                                DurationSeconds=7200)
        c = res["Credentials"]
        left = (c["Expiration"].timestamp() - time.time())
        check(7100 < left <= 7200, "Expiration %s is not ~2h away" % c["Expiration"])
        check(res["ResponseMetadata"]["RequestId"], "no RequestId")
        check_eq(res["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-requestid"),
                 res["ResponseMetadata"]["RequestId"], "x-amzn-RequestId header")
        who = boto3.client("sts", region_name="us-east-1", endpoint_url=s.endpoint,
                           aws_access_key_id=c["AccessKeyId"],
                           aws_secret_access_key=c["SecretAccessKey"],
                           aws_session_token=c["SessionToken"]).get_caller_identity()
        check_eq(who["Arn"], "arn:aws:sts::%s:assumed-role/gitlab-deploy/boto3-job" % ACCT, "Arn")

        # GetCallerIdentity signed by botocore, then one signature character changed
        body = b"Action=GetCallerIdentity&Version=2011-06-15"
        h = signed_request(c, "POST", s.endpoint, body, headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        r = request("POST", s.endpoint, body=body, headers=h)
        check(r.status == 200 and b"<Arn>arn:aws:sts::" in r.body, "signed GCI: %r" % r)
        r = request("POST", s.endpoint, body=body, headers=tamper(h))
        check(r.status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in r.body,
              "tampered GCI: %r" % r)
        # the body changed after signing
        r = request("POST", s.endpoint, body=body + b"&X=1", headers=h)
        check(r.status == 403 and b"SignatureDoesNotMatch" in r.body, "changed body: %r" % r)
        # unsigned
        r = request("POST", s.endpoint, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        check(r.status == 403 and b"MissingAuthenticationToken" in r.body, "unsigned: %r" % r)

        # JSON with Accept: application/json; Expiration in epoch seconds; GET query form
        tok = s.gh.mint(s.gh.github())
        q = urllib.parse.urlencode({"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                                    "RoleArn": s.arn("github-deploy"), "RoleSessionName": "gh",
                                    "WebIdentityToken": tok})
        r = request("POST", s.endpoint, body=q, headers={
            "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"})
        check(r.status == 200, "JSON answer: %r" % r)
        check(r.headers.get("Content-Type", "").startswith("application/json"), "content type")
        j = r.json()["AssumeRoleWithWebIdentityResponse"]
        exp = j["AssumeRoleWithWebIdentityResult"]["Credentials"]["Expiration"]
        check(isinstance(exp, int) and abs(exp - (time.time() + 3600)) < 60,
              "Expiration %r is not epoch seconds an hour away" % exp)
        check_eq(j["ResponseMetadata"]["RequestId"], r.headers.get("x-amzn-RequestId"),
                 "RequestId")
        r = request("GET", s.endpoint + "?" + q)
        check(r.status == 200 and b"<AssumeRoleWithWebIdentityResult>" in r.body,
              "GET query form: %r" % r)
        check(r.headers.get("Content-Type", "").startswith("text/xml"), "xml content type")
        r = request("POST", s.endpoint, body=q, headers={"Accept": "application/json",
                    "Content-Type": "application/x-www-form-urlencoded"})
        r2 = request("POST", s.endpoint, body=q.replace("2011-06-15", "2099-01-01"), headers={
            "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"})
        check(r2.status == 400 and r2.json()["Error"]["Code"] == "InvalidAction",
              "wrong Version: %r" % r2)
        r3 = request("POST", s.endpoint, body=q.replace("Version=2011-06-15&", ""), headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        check(r3.status == 400 and b"<Code>InvalidAction</Code>" in r3.body and
              b"NO_VERSION_SPECIFIED" in r3.body, "no Version: %r" % r3)
        # the secret is never stored in clear, the session token only hashed
        db = open(os.path.join(s.d.data, "asakai.db"), "rb").read()
        check(c["SecretAccessKey"].encode() not in db, "secret stored in clear")
        check(c["SessionToken"].encode() not in db, "session token stored in clear")
        st = os.stat(os.path.join(s.d.data, "sts.key"))
        check_eq(st.st_mode & 0o777, 0o600, "sts.key mode")
        check_eq(st.st_size, 32, "sts.key size")
        check(tok[:60] not in s.d.log_text(), "token in the daemon log")


# ---- every rejection path ----------------------------------------------------------------------

def test_rejections_through_aws_cli():
    name, argv, svc_rc = clis()[0]
    with StsStack(extra_providers=[(DEAD_ISSUER, "x")]) as s:
        now = int(time.time())
        ok_claims = lambda **kw: s.ci.circleci(ORG, PROJ, **kw)
        A = lambda role, tok, **kw: s.assume(argv, role, tok, **kw)
        C = "circleci-deploy"

        expect_error(A(C, s.ci.mint(ok_claims(iat=now - 4000, exp=now - 400))), svc_rc,
                     "ExpiredTokenException", "Token expired: current date/time", "expired")
        expect_error(A(C, s.ci.mint(ok_claims(iat=now - 7300 - 3600, exp=now + 600))), svc_rc,
                     "ExpiredTokenException", "Token too old", "older than max_token_age")
        expect_error(A(C, s.ci.mint(ok_claims(nbf=now + 3600))), svc_rc,
                     "InvalidIdentityToken", what="not yet valid (nbf)")
        expect_error(A(C, s.ci.mint(ok_claims(iat=now + 3600, exp=now + 7200))), svc_rc,
                     "InvalidIdentityToken", what="issued in the future (iat)")
        # another issuer's key, an iss nobody configured
        expect_error(A(C, s.ci.mint(ok_claims(iss="https://evil.example/org/" + ORG))), svc_rc,
                     "InvalidIdentityToken", "No OpenIDConnect provider found", "wrong iss")
        # a configured issuer's iss on a token signed by another issuer's key
        expect_error(A(C, s.gh.mint(ok_claims())), svc_rc, "InvalidIdentityToken",
                     what="iss of one issuer, key of another")
        expect_error(A(C, s.ci.mint(ok_claims(aud="another-org"))), svc_rc,
                     "InvalidIdentityToken", "Incorrect token audience", "wrong aud")
        expect_error(A(C, s.ci.mint(ok_claims(sub="org/%s/project/other/user/x" % ORG))),
                     svc_rc, "AccessDenied", "Not authorized to perform sts:AssumeRoleWith"
                     "WebIdentity", "sub outside the pattern")
        expect_error(A(C, jwtmint.forge_none(ok_claims())), svc_rc, "InvalidIdentityToken",
                     what="alg none")
        expect_error(A(C, jwtmint.forge_hs256(s.ci.key.public_pem(), ok_claims(),
                                              kid=s.ci.key.kid)), svc_rc,
                     "InvalidIdentityToken", what="HS256 with the public key as secret")
        expect_error(A(C, jwtmint.forge_hs256(json.dumps(s.ci.key.public_jwk()).encode(),
                                              ok_claims(), kid=s.ci.key.kid)), svc_rc,
                     "InvalidIdentityToken", what="HS256 with the JWK as secret")
        stranger = jwtmint.new_rsa_key("k-unknown")
        expect_error(A(C, jwtmint.mint(stranger, ok_claims())), svc_rc, "InvalidIdentityToken",
                     what="unknown kid")
        good = s.ci.mint(ok_claims())
        expect_error(A(C, good[:-20]), svc_rc, "InvalidIdentityToken", what="truncated token")
        expect_error(A(C, good.rsplit(".", 1)[0]), svc_rc, "InvalidIdentityToken",
                     what="two segments")
        big = s.ci.mint(ok_claims(pad="x" * 20000))
        expect_error(A(C, big), svc_rc, "ValidationError",
                     "Member must have length less than or equal to 20000", "oversized token")
        expect_error(A(C, good, duration=50000), svc_rc, "ValidationError",
                     "less than or equal to 43200", "duration over 43200")
        expect_error(A(C, good, duration=7200), svc_rc, "ValidationError",
                     "exceeds the MaxSessionDuration", "duration over the role's max")
        expect_error(A("no-such-role", good), svc_rc, "AccessDenied", "Not authorized",
                     "role not found")
        expect_error(A(C, s.ci.mint(ok_claims(user="blocked-7"))), svc_rc, "AccessDenied",
                     "Not authorized", "explicit Deny")
        expect_error(A(C, good, session="bad:name"), svc_rc, "ValidationError",
                     "roleSessionName", "session name pattern")
        expect_error(s.cli(argv, ["sts", "assume-role-with-web-identity", "--role-arn",
                                  "nothing-valid-in-here", "--role-session-name", "x1",
                                  "--web-identity-token", good]),
                     svc_rc, "ValidationError", "is invalid", "malformed RoleArn")
        dead = jwtmint.mint(s.ci.key, ok_claims(iss=DEAD_ISSUER, aud="x"))
        expect_error(A(C, dead), svc_rc, "IDPCommunicationError",
                     "Couldn't retrieve verification key", "IdP unreachable")
        # the accepted token still works after all that
        rc, out, err = A(C, good)
        check(rc == 0, "good token refused after the rejections: %s" % err[-500:])

        # the audit has every exchange, with the real reason
        log = s.log()
        denied = [e for e in log if e["result"] == "denied"]
        check(len(denied) >= 20, "only %d denials audited" % len(denied))
        reasons = " | ".join("%s: %s" % (e["code"], e["reason"]) for e in denied)
        for part in ("explicit deny", "implicit deny", "no role", "IDPCommunicationError",
                     "ExpiredTokenException", "audience"):
            check(part in reasons, "audit reasons lack %r: %s" % (part, reasons[:3000]))
        check(all(e["remote"] == "127.0.0.1" for e in log), "remote address missing")
        allowed = s.log("allowed")
        check(allowed and allowed[0]["action"] == "AssumeRoleWithWebIdentity" and
              allowed[0]["subject"].startswith("org/%s/project/%s/user/" % (ORG, PROJ)) and
              allowed[0]["access_key_id"].startswith("ASIA"), "allowed row: %r" % allowed[:1])
        text = s.d.log_text() + json.dumps(log)
        check(good.split(".")[2][:40] not in text, "a token signature leaked into log/audit")


def test_key_rotation_and_unknown_kid_rate_limit():
    name, argv, svc_rc = clis()[0]
    with StsStack(refetch="2s") as s:
        C = "circleci-deploy"
        claims = lambda: s.ci.circleci(ORG, PROJ)
        rc, out, err = s.assume(argv, C, s.ci.mint(claims()))
        check(rc == 0, err[-500:])
        jwks_path = s.ci.path + "/.well-known/jwks.json"
        n0 = s.iss.hits(jwks_path)
        check_eq(n0, 1, "JWKS fetches after the first exchange")
        # cached: another exchange does not fetch
        rc, out, err = s.assume(argv, C, s.ci.mint(claims()))
        check(rc == 0 and s.iss.hits(jwks_path) == 1, "cache not used")
        time.sleep(2.2)
        # rotation: a token signed by a key published after the cache was filled
        s.ci.rotate(drop_old=True, ec=True)
        rc, out, err = s.assume(argv, C, s.ci.mint(claims()))
        check(rc == 0, "rotated key (ES256) refused: %s" % err[-500:])
        check_eq(s.iss.hits(jwks_path), 2, "one refetch for the new kid")
        # made-up kids: at most one refetch per interval (sent directly: the CLI is too slow
        # to fit four calls in one interval)
        stranger = jwtmint.new_rsa_key("k-made-up")
        time.sleep(2.2)
        for i in range(4):
            q = urllib.parse.urlencode({"Action": "AssumeRoleWithWebIdentity",
                                        "Version": "2011-06-15", "RoleArn": s.arn(C),
                                        "RoleSessionName": "kid%d" % i,
                                        "WebIdentityToken": jwtmint.mint(stranger, claims())})
            r = request("POST", s.endpoint, body=q, headers={
                "Content-Type": "application/x-www-form-urlencoded"})
            check(r.status == 400 and b"<Code>InvalidIdentityToken</Code>" in r.body,
                  "unknown kid %d: %r" % (i, r))
        check_eq(s.iss.hits(jwks_path), 3, "JWKS fetches after 4 unknown kids (rate limit)")
        # the current key still works, without another fetch
        rc, out, err = s.assume(argv, C, s.ci.mint(claims()))
        check(rc == 0, err[-500:])
        check_eq(s.iss.hits(jwks_path), 3, "JWKS fetches at the end")


def test_api_keyless_with_sigv4():
    name, argv, svc_rc = clis()[0]
    with StsStack() as s:
        rc, out, err = s.assume(argv, "github-deploy", s.gh.mint(s.gh.github()),
                                session="ci-api")
        check(rc == 0, err[-500:])
        c = json.loads(out)["Credentials"]
        url = s.d.url + "/api/v1/stats"
        r = s.api("/api/v1/stats")
        check_eq(r.status, 401, "no credentials")
        r = s.api("/api/v1/stats", {"Authorization": "Bearer " + API_TOKEN})
        check_eq(r.status, 200, "bearer token")
        h = signed_request(c, "GET", url, service="execute-api")
        r = s.api("/api/v1/stats", h)
        check(r.status == 200 and isinstance(r.json(), dict), "SigV4 API call: %r" % r)
        h = signed_request(c, "GET", url + "?limit=5&state=parsed", service="execute-api")
        r = s.api("/api/v1/raw?state=parsed&limit=5", h)
        check(r.status == 401, "signed for another path accepted: %r" % r)
        h = signed_request(c, "GET", s.d.url + "/api/v1/raw?limit=5&state=parsed")
        r = s.api("/api/v1/raw?limit=5&state=parsed", h)
        check(r.status == 200, "SigV4 with a query string: %r" % r)
        r = s.api("/api/v1/stats", tamper(signed_request(c, "GET", url)))
        check(r.status == 401 and "SignatureDoesNotMatch" in r.text, "tampered: %r" % r)
        bad = dict(c, AccessKeyId="ASIA" + "A" * 16)
        r = s.api("/api/v1/stats", signed_request(bad, "GET", url))
        check(r.status == 401 and "InvalidClientTokenId" in r.text, "unknown key: %r" % r)
        # a session of a role without api_access proves who it is, and still may not call
        rc, out, err = s.assume(argv, "circleci-deploy", s.ci.mint(s.ci.circleci(ORG, PROJ)),
                                session="no-api")
        check(rc == 0, err[-500:])
        c2 = json.loads(out)["Credentials"]
        r = s.api("/api/v1/stats", signed_request(c2, "GET", url))
        check(r.status == 403 and "AccessDenied" in r.text, "role without api_access: %r" % r)
        api_rows = [e for e in s.log() if e["action"] == "api"]
        check(any(e["result"] == "allowed" and e["session_name"] == "ci-api" for e in api_rows),
              "allowed API call not audited: %r" % api_rows)
        check(sum(1 for e in api_rows if e["result"] == "denied") >= 3,
              "denied API calls not audited: %r" % api_rows)


def test_revoked_role_discovery_issuer_and_api_error_text():
    """Regressions: sessions of a role taken out of sts.roles stopped being accepted (GCI and the
    API); a discovery document without "issuer" is refused (OIDC Discovery §4.3); the API's 401
    says only what AWS would (the real reason stays in the audit)."""
    with StsStack() as s:
        # outside text is cut before the audit and the log: a RoleSessionName and RoleArn that
        # fail validation, the sub of a token that does not verify
        huge = "s" * 100000
        q = urllib.parse.urlencode({"Action": "AssumeRoleWithWebIdentity",
                                    "Version": "2011-06-15", "RoleArn": "arn:aws:iam::%s:role/%s"
                                    % (ACCT, "r" * 100000), "RoleSessionName": huge,
                                    "WebIdentityToken": "a.b.c"})
        r = request("POST", s.endpoint, body=q, headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        check(r.status == 400 and b"ValidationError" in r.body, "huge params: %r" % r)
        stranger = jwtmint.new_rsa_key("k-huge-sub")
        tok = jwtmint.mint(stranger, s.ci.circleci(ORG, PROJ, sub="u" * 14000))
        r = request("POST", s.endpoint, body=urllib.parse.urlencode({
            "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
            "RoleArn": s.arn("circleci-deploy"), "RoleSessionName": "huge-sub",
            "WebIdentityToken": tok}), headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        check(r.status == 400 and b"InvalidIdentityToken" in r.body, "huge sub: %r" % r)
        rows = s.log("denied")
        big = [e for e in rows if (e["session_name"] or "").startswith("sss")]
        check(big and len(big[0]["session_name"]) <= 2048 and len(big[0]["role_arn"]) <= 2048,
              "audit keeps 100 kB of RoleSessionName/RoleArn: %r" %
              [(len(e["session_name"] or ""), len(e["role_arn"] or "")) for e in big])
        sub = [e for e in rows if e["session_name"] == "huge-sub"]
        check(sub and len(sub[0]["subject"]) <= 2048, "audit keeps a 14 kB unverified sub")
        check(huge[:5000] not in s.d.log_text(), "100 kB RoleSessionName in the daemon log")

        # a discovery document that does not name its issuer: no keys from it
        full = s.gl.discovery()
        s.gl.discovery = lambda: {k: v for k, v in full.items() if k != "issuer"}
        q = urllib.parse.urlencode({"Action": "AssumeRoleWithWebIdentity",
                                    "Version": "2011-06-15", "RoleArn": s.arn("gitlab-deploy"),
                                    "RoleSessionName": "gl", "WebIdentityToken":
                                    s.gl.mint(s.gl.gitlab())})
        r = request("POST", s.endpoint, body=q, headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        check(r.status == 400 and b"<Code>IDPCommunicationError</Code>" in r.body,
              "discovery without issuer: %r" % r)

        q = urllib.parse.urlencode({"Action": "AssumeRoleWithWebIdentity",
                                    "Version": "2011-06-15", "RoleArn": s.arn("github-deploy"),
                                    "RoleSessionName": "gh-revoked", "WebIdentityToken":
                                    s.gh.mint(s.gh.github())})
        r = request("POST", s.endpoint, body=q, headers={
            "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"})
        check(r.status == 200, "assume: %r" % r)
        c = r.json()["AssumeRoleWithWebIdentityResponse"]["AssumeRoleWithWebIdentityResult"][
            "Credentials"]
        body = b"Action=GetCallerIdentity&Version=2011-06-15"
        form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        gci = lambda: request("POST", s.endpoint, body=body,
                              headers=signed_request(c, "POST", s.endpoint, body, headers=form))
        api_url = s.d.url + "/api/v1/stats"
        api = lambda creds: s.api("/api/v1/stats", signed_request(creds, "GET", api_url,
                                                                  service="execute-api"))
        r = gci()
        check(r.status == 200 and b"assumed-role/github-deploy/gh-revoked" in r.body,
              "GCI before revocation: %r" % r)
        check_eq(api(c).status, 200, "API before revocation")
        r = api(dict(c, AccessKeyId="ASIA" + "B" * 16))
        check(r.status == 401 and "InvalidClientTokenId" in r.text and
              "not issued" not in r.text, "unknown key: the 401 tells the real reason: %r" % r)
        r = api(dict(c, SessionToken=c["SessionToken"][:-4] + "AAAA"))
        check(r.status == 401 and "InvalidClientTokenId" in r.text and
              "does not belong" not in r.text, "wrong token: the 401 tells the real reason: %r"
              % r)

        # the operator takes the role out of the config and restarts: its sessions end
        s.d.stop()
        text = open(s.d.cfg_path).read()
        check("    - name: github-deploy\n" in text, "role line not found in the config")
        with open(s.d.cfg_path, "w") as f:
            f.write(text.replace("    - name: github-deploy\n", "    - name: github-other\n"))
        s.d.start()
        r = gci()
        check(r.status == 403 and b"<Code>InvalidClientTokenId</Code>" in r.body,
              "GCI after the role was removed: %r" % r)
        r = api(c)
        check(r.status == 401 and "InvalidClientTokenId" in r.text, "API after removal: %r" % r)
        reasons = " | ".join(e["reason"] or "" for e in s.log("denied"))
        check("no longer configured" in reasons, "audit lacks the revocation: %s" % reasons[:2000])
        check("names issuer (none)" in reasons, "audit lacks the discovery issuer: %s" %
              reasons[:2000])
