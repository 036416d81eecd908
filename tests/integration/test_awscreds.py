"""test_awscreds.py — `asakai aws-creds` against moto's STS (the real server, started with the
python3 on PATH that has moto), the real aws CLIs (credential_process), and small local fakes
(a scripted STS for retries and error documents, a GitHub Actions token endpoint).

Every run checks that the web identity token and the secret never reach stderr.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aklib
from aklib import check, check_eq

ROLE = "arn:aws:iam::123456789012:role/deploy"
# a JWT-shaped token (moto does not verify it; the fakes compare it)
TOKEN = ("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0."
         "eyJpc3MiOiJodHRwczovL29pZGMuY2lyY2xlY2kuY29tL29yZy9PIiwic3ViIjoib3JnL08vcHJvamVjdC9QIn0."
         "c2lnbmF0dXJlLW5vdC1jaGVja2VkLWJ5LW1vdG8")
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE+token/with=chars"
AKID = "ASIAEXAMPLEEXAMPLE01"

# variables that must not leak from the machine running the tests into the command
_SCRUB = re.compile(r"^(AWS_|CIRCLE|ACTIONS_|GITHUB_|CI_|GITLAB)")


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not _SCRUB.match(k)}
    env.pop("ASAKAI_SERVER", None)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


def awscreds(args, secrets=(), **env):
    """Runs `asakai aws-creds ARGS`; checks that no secret is on stderr."""
    p = subprocess.run([aklib.asakai_bin(), "aws-creds"] + list(args), capture_output=True,
                       timeout=60, env=_env(**env))
    out, err = p.stdout.decode(), p.stderr.decode()
    for s in (TOKEN, SECRET, SESSION_TOKEN) + tuple(secrets):
        check(s not in err, "a secret (%.12s...) was printed on stderr: %r" % (s, err))
    return p.returncode, out, err


# ---- moto ----------------------------------------------------------------------------------

def _moto_python():
    """The python3 that has moto: PATH's (pyenv), not the runner's /usr/bin/python3."""
    for py in (shutil.which("python3"), "/root/.pyenv/shims/python3"):
        if py and os.access(py, os.X_OK):
            r = subprocess.run([py, "-c", "import moto.server"], capture_output=True, timeout=60)
            if r.returncode == 0:
                return py
    return None


class Moto:
    def __init__(self):
        self.proc = None
        self.url = None

    def __enter__(self):
        py = _moto_python()
        if not py:
            return None
        port = aklib.free_port()
        log = open(os.path.join(aklib.workdir(), "moto.log"), "wb")
        self.proc = subprocess.Popen([py, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.url = "http://127.0.0.1:%d" % port

        def up():
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        aklib.wait_for(up, timeout=30, what="moto.server on port %d" % port)
        return self

    def __exit__(self, *exc):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def skip(why):
    print("# SKIP %s" % why)


# ---- a scripted STS ------------------------------------------------------------------------

def sts_ok_xml(akid=AKID, secret=SECRET, token=SESSION_TOKEN, exp="2031-01-02T03:04:05Z"):
    return (200, "text/xml", (
        '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>%s</AccessKeyId>"
        "<SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken>"
        "<Expiration>%s</Expiration></Credentials><SubjectFromWebIdentityToken>s"
        "</SubjectFromWebIdentityToken><AssumedRoleUser><AssumedRoleId>AROAX:x</AssumedRoleId>"
        "<Arn>arn:aws:sts::123456789012:assumed-role/deploy/x</Arn></AssumedRoleUser>"
        "</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>r-1</RequestId>"
        "</ResponseMetadata></AssumeRoleWithWebIdentityResponse>"
        % (akid, secret.replace("&", "&amp;").replace("<", "&lt;").replace("'", "&apos;"),
           token.replace("&", "&amp;").replace("<", "&lt;").replace("'", "&apos;"), exp)))


def sts_ok_json(exp_epoch=1924916645):
    return (200, "application/json", json.dumps({"AssumeRoleWithWebIdentityResponse": {
        "AssumeRoleWithWebIdentityResult": {
            "Credentials": {"AccessKeyId": AKID, "SecretAccessKey": SECRET,
                            "SessionToken": SESSION_TOKEN, "Expiration": exp_epoch},
            "AssumedRoleUser": {"Arn": "arn:aws:sts::123456789012:assumed-role/deploy/j",
                                "AssumedRoleId": "AROAX:j"},
            "Provider": "arn:aws:iam::123456789012:oidc-provider/x", "Audience": "a"},
        "ResponseMetadata": {"RequestId": "r-2"}}}))


def sts_err(code, message, status=400, typ="Sender"):
    return (status, "text/xml", (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>%s</Type>'
        "<Code>%s</Code><Message>%s</Message></Error><RequestId>req-%s</RequestId>"
        "</ErrorResponse>" % (typ, code, message.replace("&", "&amp;").replace("<", "&lt;"),
                              code)))


class FakeSTS:
    """Answers requests from a script: each entry is (status, content_type, body) or a callable
    taking the parsed form and returning one. The last entry repeats. Records every request."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        fake = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n).decode()
                form = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                fake.requests.append({"headers": dict(self.headers), "form": form,
                                      "path": self.path})
                i = min(len(fake.requests), len(fake.script)) - 1
                ans = fake.script[i]
                if callable(ans):
                    ans = ans(form)
                status, ctype, body = ans
                b = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                self.wfile.write(b)

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()

    def tokens(self):
        return [r["form"].get("WebIdentityToken") for r in self.requests]


def with_fake(script, fn):
    f = FakeSTS(script)
    try:
        return fn(f)
    finally:
        f.close()


def sh_eval(env_text, names):
    """Evaluates the export lines in /bin/sh and returns the variables' values."""
    script = 'eval "$ASAKAI_OUT"\n' + "".join(
        'printf "%%s\\0" "$%s"\n' % n for n in names)
    p = subprocess.run(["/bin/sh", "-c", script], capture_output=True, timeout=20,
                       env={"ASAKAI_OUT": env_text, "PATH": "/usr/bin:/bin"},
                       cwd=aklib.workdir())
    check_eq(p.returncode, 0, "sh eval exit status (stderr %r)" % p.stderr)
    return dict(zip(names, p.stdout.decode().split("\0")))


CRED_VARS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
             "AWS_CREDENTIAL_EXPIRATION"]


# ---- output formats against moto -----------------------------------------------------------

def test_awscreds_moto_env_and_json():
    with Moto() as m:
        if not m:
            return skip("moto is not installed for the python3 on PATH")
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", m.url, "--duration", "1800"],
                                CIRCLE_OIDC_TOKEN=TOKEN)
        check_eq(rc, 0, "exit status (stderr %r)" % err)
        check(all(ln.startswith("export AWS_") for ln in out.splitlines()), "env lines %r" % out)
        v = sh_eval(out, CRED_VARS)
        check(re.match(r"^ASIA[A-Z0-9]{16}$", v["AWS_ACCESS_KEY_ID"]), "key id %r" % v)
        check_eq(len(v["AWS_SECRET_ACCESS_KEY"]), 40, "secret length")
        check(len(v["AWS_SESSION_TOKEN"]) > 20, "session token %r" % v)
        check(aklib.RFC3339_UTC.match(v["AWS_CREDENTIAL_EXPIRATION"]), "expiration %r" % v)
        check("assumed arn:aws:sts::123456789012:assumed-role/deploy/" in err,
              "summary line on stderr: %r" % err)
        check(v["AWS_SECRET_ACCESS_KEY"] not in err, "secret on stderr")

        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", m.url, "-o", "json"],
                                CIRCLE_OIDC_TOKEN=TOKEN)
        check_eq(rc, 0, "json exit status (stderr %r)" % err)
        j = json.loads(out)
        check_eq(sorted(j), ["AccessKeyId", "Expiration", "SecretAccessKey", "SessionToken"],
                 "json keys")
        check(j["AccessKeyId"].startswith("ASIA"), "json key id %r" % j)
        check(aklib.RFC3339_UTC.match(j["Expiration"]), "json expiration %r" % j)
        check(j["SecretAccessKey"] not in err, "secret on stderr")


def _aws_clis():
    seen, clis = set(), []
    for a in (shutil.which("aws"), "/usr/bin/aws"):
        if a and os.access(a, os.X_OK) and os.path.realpath(a) not in seen:
            seen.add(os.path.realpath(a))
            clis.append(a)
    return clis


def test_awscreds_credential_process_with_real_aws_cli():
    clis = _aws_clis()
    if not clis:
        return skip("no aws CLI installed")
    with Moto() as m:
        if not m:
            return skip("moto is not installed for the python3 on PATH")
        wd = aklib.workdir()
        tfile = os.path.join(wd, "token")
        with open(tfile, "w") as f:
            f.write(TOKEN + "\n")
        cfg = os.path.join(wd, "aws-config")
        with open(cfg, "w") as f:
            f.write("[profile p]\nregion = us-east-1\ncredential_process = %s aws-creds "
                    "--role-arn %s --endpoint %s --token-file %s --session-name ci-proc "
                    "--duration 1800 -o credential-process\n"
                    % (aklib.asakai_bin(), ROLE, m.url, tfile))
        # credential_process alone: the document
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", m.url, "--token-file", tfile,
                                 "-o", "credential-process", "--duration", "1800"])
        check_eq(rc, 0, "credential-process exit (stderr %r)" % err)
        doc = json.loads(out)
        check_eq(doc["Version"], 1, "Version")
        check(aklib.RFC3339_UTC.match(doc["Expiration"]), "Expiration %r" % doc)
        check_eq(err, "", "credential-process is silent on success")
        # a short duration warns (botocore refreshes 15 minutes before expiry)
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", m.url, "--token-file", tfile,
                                 "-o", "credential-process", "--duration", "900"])
        check(rc == 0 and "warning" in err and "1800" in err, "short duration warning %r" % err)
        for cli in clis:
            env = _env(AWS_CONFIG_FILE=cfg, AWS_SHARED_CREDENTIALS_FILE=os.path.join(wd, "none"),
                       HOME=wd)
            p = subprocess.run([cli, "sts", "get-caller-identity", "--profile", "p",
                                "--endpoint-url", m.url, "--output", "json"],
                               capture_output=True, timeout=120, env=env)
            check_eq(p.returncode, 0, "%s get-caller-identity (stderr %r)" % (cli, p.stderr))
            ident = json.loads(p.stdout)
            check_eq(ident["Arn"], "arn:aws:sts::123456789012:assumed-role/deploy/ci-proc",
                     "%s caller identity" % cli)


def test_awscreds_github_env_file():
    def run(f):
        ghenv = os.path.join(aklib.workdir(), "github_env")
        with open(ghenv, "w") as fh:
            fh.write("EARLIER=1\n")
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url, "-o", "github-env",
                                 "--region", "eu-west-1"],
                                CIRCLE_OIDC_TOKEN=TOKEN, GITHUB_ENV=ghenv)
        check_eq(rc, 0, "exit (stderr %r)" % err)
        for v in (SECRET, SESSION_TOKEN, AKID):
            check("::add-mask::%s\n" % v in out, "mask line for %.8s in %r" % (v, out))
        content = open(ghenv).read()
        check_eq(content, "EARLIER=1\n"
                 "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nAWS_SESSION_TOKEN=%s\n"
                 "AWS_CREDENTIAL_EXPIRATION=2031-01-02T03:04:05Z\nAWS_REGION=eu-west-1\n"
                 "AWS_DEFAULT_REGION=eu-west-1\n" % (AKID, SECRET, SESSION_TOKEN),
                 "GITHUB_ENV content")
        # without $GITHUB_ENV: a usage error, nothing printed
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url, "-o", "github-env"],
                                CIRCLE_OIDC_TOKEN=TOKEN)
        check(rc == 2 and "GITHUB_ENV" in err and SECRET not in out, "no GITHUB_ENV %r" % err)
    with_fake([sts_ok_xml()], run)


def test_awscreds_env_output_is_eval_safe():
    """Values with quotes and command substitutions come out exactly, and run nothing."""
    nasty = "it's\"$(touch PWNED)`touch PWNED2`\\n;x"

    def run(f):
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url],
                                secrets=(nasty,), CIRCLE_OIDC_TOKEN=TOKEN)
        check_eq(rc, 0, "exit (stderr %r)" % err)
        v = sh_eval(out, CRED_VARS)
        check_eq(v["AWS_SESSION_TOKEN"], nasty, "session token after eval")
        check_eq(v["AWS_SECRET_ACCESS_KEY"], SECRET, "secret after eval")
        check(not os.path.exists(os.path.join(aklib.workdir(), "PWNED")) and
              not os.path.exists(os.path.join(aklib.workdir(), "PWNED2")),
              "eval ran a command substitution")
    with_fake([sts_ok_xml(token=nasty)], run)


def test_awscreds_json_answer_and_request_shape():
    """STS's JSON answer (Expiration in epoch seconds) and what the request carries."""
    def run(f):
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url + "sts", "-o", "json",
                                 "--duration", "2h", "--session-name", "deploy job/42"],
                                CIRCLE_OIDC_TOKEN=TOKEN)
        check_eq(rc, 0, "exit (stderr %r)" % err)
        j = json.loads(out)
        check_eq(j["Expiration"], "2030-12-31T03:04:05Z", "Expiration from epoch 1924916645")
        check_eq(j["SecretAccessKey"], SECRET, "secret")
        r = f.requests[0]
        check_eq(r["path"], "/sts", "request path")
        check_eq(r["headers"].get("Accept"), "application/json", "Accept header")
        check("Authorization" not in r["headers"], "the call must be unsigned")
        check_eq(r["form"], {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                             "RoleArn": ROLE, "RoleSessionName": "deploy-job-42",
                             "WebIdentityToken": TOKEN, "DurationSeconds": "7200"}, "form")
        check("sanitized to deploy-job-42" in err, "sanitize note %r" % err)
    with_fake([sts_ok_json()], run)


# ---- token sources -------------------------------------------------------------------------

def test_awscreds_token_sources_in_order():
    def run(f):
        wd = aklib.workdir()
        tfile = os.path.join(wd, "wi-token")
        with open(tfile, "w") as fh:
            fh.write("\n  tok-file \n")
        flagfile = os.path.join(wd, "flag-token")
        with open(flagfile, "w") as fh:
            fh.write("tok-flagfile")
        allsrc = dict(AWS_WEB_IDENTITY_TOKEN_FILE=tfile, CIRCLE_OIDC_TOKEN_V2="tok-v2",
                      CIRCLE_OIDC_TOKEN="tok-v1", GITLAB_ID_TOKEN="tok-gitlab",
                      ACTIONS_ID_TOKEN_REQUEST_URL="http://127.0.0.1:1/never",
                      ACTIONS_ID_TOKEN_REQUEST_TOKEN="never")
        cases = [
            (["--token-env", "GITLAB_ID_TOKEN"], allsrc, "tok-gitlab"),
            (["--token-file", flagfile], allsrc, "tok-flagfile"),
            ([], allsrc, "tok-file"),
            ([], dict(allsrc, AWS_WEB_IDENTITY_TOKEN_FILE=None), "tok-v2"),
            ([], dict(allsrc, AWS_WEB_IDENTITY_TOKEN_FILE=None, CIRCLE_OIDC_TOKEN_V2=None),
             "tok-v1"),
        ]
        for extra, env, want in cases:
            n = len(f.requests)
            rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url] + extra,
                                    secrets=(want,), **env)
            check_eq(rc, 0, "exit with %s (stderr %r)" % (want, err))
            check_eq(f.tokens()[n:], [want], "token sent")
        # a named variable that is empty is an error, not a fallback
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url, "--token-env", "NOPE"],
                                **allsrc)
        check(rc == 1 and "variable NOPE is not set" in err, "unset --token-env %r" % err)
        # nothing at all: a usage error naming what was tried
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url])
        check(rc == 2 and "CIRCLE_OIDC_TOKEN" in err and "id-token: write" in err,
              "no source %r" % err)
        rc, out, err = awscreds(["--endpoint", f.url], CIRCLE_OIDC_TOKEN="x")
        check(rc == 2 and "--role-arn" in err, "no role %r" % err)
        # $AWS_ROLE_ARN / $AWS_ROLE_SESSION_NAME as botocore reads them; CI-derived names
        n = len(f.requests)
        rc, _, err = awscreds(["--endpoint", f.url], CIRCLE_OIDC_TOKEN="tok-v1", AWS_ROLE_ARN=ROLE,
                              CIRCLE_BUILD_NUM="77")
        check_eq(rc, 0, "AWS_ROLE_ARN (stderr %r)" % err)
        check_eq(f.requests[n]["form"]["RoleArn"], ROLE, "role from env")
        check_eq(f.requests[n]["form"]["RoleSessionName"], "circleci-77", "CircleCI session name")
        check_eq(f.requests[n]["form"]["DurationSeconds"], "3600", "default duration")
        rc, _, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url], CIRCLE_OIDC_TOKEN="t1",
                              GITHUB_RUN_ID="9000")
        check_eq(f.requests[-1]["form"]["RoleSessionName"], "github-9000", "GitHub session name")
        rc, _, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url], CIRCLE_OIDC_TOKEN="t1")
        check(re.match(r"^asakai-\d+$", f.requests[-1]["form"]["RoleSessionName"]),
              "default session name %r" % f.requests[-1]["form"])
    with_fake([sts_ok_xml()], run)


class GitHubTokenServer:
    """ACTIONS_ID_TOKEN_REQUEST_URL: checks the bearer and records the audience."""

    def __init__(self, bearer, value):
        self.audiences = []
        gh = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                if self.headers.get("Authorization") != "bearer " + bearer:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                gh.audiences.append(q.get("audience", [None])[0])
                b = json.dumps({"count": 1, "value": value}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                self.wfile.write(b)

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/_apis/token?api-version=2.0" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def test_awscreds_github_actions_token_request():
    gh = GitHubTokenServer("req-bearer-123", "gh-jwt-value")

    def run(f):
        env = dict(ACTIONS_ID_TOKEN_REQUEST_URL=gh.url,
                   ACTIONS_ID_TOKEN_REQUEST_TOKEN="req-bearer-123")
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url],
                                secrets=("gh-jwt-value", "req-bearer-123"), **env)
        check_eq(rc, 0, "exit (stderr %r)" % err)
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url, "--audience",
                                 "https://github.com/octo org"],
                                secrets=("gh-jwt-value", "req-bearer-123"), **env)
        check_eq(rc, 0, "exit with --audience (stderr %r)" % err)
        check_eq(gh.audiences, ["sts.amazonaws.com", "https://github.com/octo org"], "audiences")
        check_eq(f.tokens(), ["gh-jwt-value", "gh-jwt-value"], "tokens sent to STS")
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url, "--max-attempts", "1"],
                                secrets=("gh-jwt-value", "wrong-bearer"),
                                ACTIONS_ID_TOKEN_REQUEST_URL=gh.url,
                                ACTIONS_ID_TOKEN_REQUEST_TOKEN="wrong-bearer")
        check(rc == 1 and "HTTP 401" in err, "wrong bearer %r" % err)
        check_eq(len(f.requests), 2, "no STS call without a token")
    try:
        with_fake([sts_ok_xml()], run)
    finally:
        gh.close()


# ---- retries and failures ------------------------------------------------------------------

def test_awscreds_retries_transient_errors():
    idp = sts_err("IDPCommunicationError", "Couldn't connect to the IdP")
    thr = sts_err("Throttling", "Rate exceeded")
    five = (503, "text/html", "<html>busy</html>")
    for script, n in (([idp, idp, sts_ok_xml()], 3), ([thr, sts_ok_xml()], 2),
                      ([five, sts_ok_json()], 2),
                      ([sts_err("InvalidIdentityToken", "Couldn't retrieve verification key from "
                                "your identity provider,  please reference "
                                "AssumeRoleWithWebIdentity documentation for requirements"),
                        sts_ok_xml()], 2)):
        def run(f, script=script, n=n):
            t0 = time.monotonic()
            rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url, "-o", "json"],
                                    CIRCLE_OIDC_TOKEN=TOKEN)
            check_eq(rc, 0, "exit after transient errors (stderr %r)" % err)
            check_eq(len(f.requests), n, "attempts")
            check_eq(json.loads(out)["AccessKeyId"], AKID, "credentials")
            check_eq(err.count("retrying in"), n - 1, "retry lines on stderr %r" % err)
            check(time.monotonic() - t0 < 15, "backoff too long")
        with_fake(script, run)

    def run_exhaust(f):
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url, "--max-attempts", "3"],
                                CIRCLE_OIDC_TOKEN=TOKEN)
        check_eq(rc, 1, "exit when every attempt failed")
        check_eq(len(f.requests), 3, "attempts")
        check("gave up after 3 attempts" in err, "gave-up line %r" % err)
        check_eq(out, "", "nothing on stdout")
    with_fake([idp], run_exhaust)

    # nobody listening: transport errors are retried, then exit 1
    port = aklib.free_port()
    rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", "http://127.0.0.1:%d/" % port,
                             "--max-attempts", "2"], CIRCLE_OIDC_TOKEN=TOKEN)
    check(rc == 1 and "cannot reach STS" in err and err.count("retrying in") == 1,
          "transport failure %r" % err)


def test_awscreds_token_file_reread_between_attempts():
    wd = aklib.workdir()
    tfile = os.path.join(wd, "token")
    with open(tfile, "w") as fh:
        fh.write("tok-A")

    def first(form):
        # the job refreshes the file while STS could not reach the IdP
        with open(tfile, "w") as fh:
            fh.write("tok-B\n")
        return sts_err("IDPCommunicationError", "IdP unreachable")

    def run(f):
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url, "--token-file", tfile],
                                secrets=("tok-A", "tok-B"))
        check_eq(rc, 0, "exit (stderr %r)" % err)
        check_eq(f.tokens(), ["tok-A", "tok-B"], "the second attempt re-read the file")
    with_fake([first, sts_ok_xml()], run)

    # an expired token: retried only when the file hands out a new one
    with open(tfile, "w") as fh:
        fh.write("tok-old")
    expired = sts_err("ExpiredTokenException", "Token expired: current date/time 1624482533 "
                      "must be before the expiration date/time1624482335")

    def run_same(f):
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url, "--token-file", tfile],
                                secrets=("tok-old",))
        check_eq(rc, 1, "exit with a stale token")
        check_eq(len(f.requests), 1, "the same expired token is not sent twice")
        check("An error occurred (ExpiredTokenException) when calling the "
              "AssumeRoleWithWebIdentity operation: Token expired: current date/time 1624482533 "
              "must be before the expiration date/time1624482335" in err, "verbatim %r" % err)
        check("was not renewed" in err, "renewal note %r" % err)
    with_fake([expired], run_same)

    def renew(form):
        with open(tfile, "w") as fh:
            fh.write("tok-new")
        return expired

    def run_renewed(f):
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url, "--token-file", tfile],
                                secrets=("tok-old", "tok-new"))
        check_eq(rc, 0, "exit after renewal (stderr %r)" % err)
        check_eq(f.tokens(), ["tok-old", "tok-new"], "tokens")
    with open(tfile, "w") as fh:
        fh.write("tok-old")
    with_fake([renew, sts_ok_xml()], run_renewed)


def test_awscreds_failure_is_verbatim_and_final():
    msg = "Not authorized to perform sts:AssumeRoleWithWebIdentity"

    def run(f):
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url],
                                CIRCLE_OIDC_TOKEN=TOKEN)
        check_eq(rc, 1, "exit status")
        check_eq(len(f.requests), 1, "AccessDenied is not retried")
        check("An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity "
              "operation: " + msg in err, "verbatim %r" % err)
        check("HTTP 403" in err and "req-AccessDenied" in err, "status and request id %r" % err)
        check_eq(out, "", "stdout")
    with_fake([sts_err("AccessDenied", msg, status=403)], run)

    # the JSON error document STS sends to Accept: application/json clients
    jerr = (400, "application/json", json.dumps({"Error": {
        "Code": "InvalidIdentityToken", "Message": "Incorrect token audience",
        "Type": "Sender"}, "RequestId": "j-1"}))

    def run_json(f):
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url],
                                CIRCLE_OIDC_TOKEN=TOKEN)
        check(rc == 1 and "(InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity "
              "operation: Incorrect token audience" in err and "j-1" in err, "json error %r" % err)
        check_eq(len(f.requests), 1, "not retried")
    with_fake([jerr], run_json)

    # a server that echoes the request: the token is redacted from what we print
    def echo(form):
        return (400, "text/plain", "bad request: WebIdentityToken=%s" % form["WebIdentityToken"])

    def run_echo(f):
        rc, out, err = awscreds(["--role-arn", ROLE, "--endpoint", f.url],
                                CIRCLE_OIDC_TOKEN=TOKEN)
        check(rc == 1 and "WebIdentityToken=<token>" in err, "redacted echo %r" % err)
    with_fake([echo], run_echo)

    # usage errors
    for args, what in ((["--duration", "600"], "900..43200"), (["-o", "yaml"], "-o takes"),
                       (["--token-env", "A", "--token-file", "B"], "exclude")):
        rc, out, err = awscreds(["--role-arn", ROLE] + args, CIRCLE_OIDC_TOKEN=TOKEN)
        check(rc == 2 and what in err, "usage %r: %r" % (args, err))


def test_awscreds_help():
    p = subprocess.run([aklib.asakai_bin(), "aws-creds", "--help"], capture_output=True,
                       timeout=10, env=_env())
    text = p.stdout.decode()
    check(p.returncode == 0 and "credential-process" in text and "CIRCLE_OIDC_TOKEN_V2" in text
          and "ACTIONS_ID_TOKEN_REQUEST_URL" in text, "help %r" % text[:300])
    p = subprocess.run([aklib.asakai_bin(), "--help"], capture_output=True, timeout=10, env=_env())
    check("aws-creds" in p.stdout.decode() and "oidc" in p.stdout.decode(), "command list")


# ---- against the daemon's STS twin -----------------------------------------------------------

def test_awscreds_against_the_twin_and_oidc_log():
    """The twin verifies the token and answers JSON to our Accept header; aws-cli then uses
    credential_process credentials at the twin; a denial shows AWS's words and lands in
    `asakai oidc log --denied`."""
    import test_sts  # the twin's stack (issuer, daemon config), written for test_sts.py
    with test_sts.StsStack() as s:
        role = s.arn("circleci-deploy")
        tok = s.ci.mint(s.ci.circleci(test_sts.ORG, test_sts.PROJ))
        rc, out, err = awscreds(["--role-arn", role, "--endpoint", s.endpoint, "-o", "json",
                                 "--session-name", "twin-job"], secrets=(tok,),
                                CIRCLE_OIDC_TOKEN_V2=tok)
        check_eq(rc, 0, "exit at the twin (stderr %r)" % err)
        j = json.loads(out)
        check(j["AccessKeyId"].startswith("ASIA") and len(j["SecretAccessKey"]) == 40,
              "twin credentials %r" % j["AccessKeyId"])
        check(j["SecretAccessKey"] not in err, "secret on stderr")
        check("assumed-role/circleci-deploy/twin-job" in err, "summary %r" % err)

        wd = aklib.workdir()
        tfile = os.path.join(wd, "twin-token")
        with open(tfile, "w") as fh:
            fh.write(tok)
        cfg = os.path.join(wd, "twin-config")
        with open(cfg, "w") as fh:
            fh.write("[profile t]\nregion = us-east-1\ncredential_process = %s aws-creds "
                     "--role-arn %s --endpoint %s --token-file %s --session-name proc "
                     "-o credential-process\n" % (aklib.asakai_bin(), role, s.endpoint, tfile))
        env = dict(s.env(), AWS_CONFIG_FILE=cfg)
        p = subprocess.run([test_sts.AWS_V2, "sts", "get-caller-identity", "--profile", "t",
                            "--endpoint-url", s.endpoint, "--output", "json"],
                           capture_output=True, text=True, timeout=60, env=env)
        check_eq(p.returncode, 0, "aws get-caller-identity via credential_process (%r)" % p.stderr)
        check_eq(json.loads(p.stdout)["Arn"],
                 "arn:aws:sts::%s:assumed-role/circleci-deploy/proc" % test_sts.ACCT, "Arn")

        bad = s.ci.mint(s.ci.circleci(test_sts.ORG, test_sts.PROJ, user="blocked-7"))
        rc, out, err = awscreds(["--role-arn", role, "--endpoint", s.endpoint], secrets=(bad,),
                                CIRCLE_OIDC_TOKEN=bad)
        check(rc == 1 and "An error occurred (AccessDenied) when calling the "
              "AssumeRoleWithWebIdentity operation: " in err, "denied at the twin %r" % err)

        p = subprocess.run([aklib.asakai_bin(), "--server", s.d.url, "oidc", "log", "--denied",
                            "-o", "json"], capture_output=True, text=True, timeout=30,
                           env=_env(ASAKAI_TOKEN=test_sts.API_TOKEN))
        check_eq(p.returncode, 0, "oidc log (stderr %r)" % p.stderr)
        rows = json.loads(p.stdout)
        check(rows and all(r["result"] == "denied" for r in rows), "denied rows %r" % rows)
        check(any("blocked-7" in (r.get("subject") or "") for r in rows), "the denial %r" % rows)
        p = subprocess.run([aklib.asakai_bin(), "--server", s.d.url, "oidc", "log", "-o",
                            "table"], capture_output=True, text=True, timeout=30,
                           env=_env(ASAKAI_TOKEN=test_sts.API_TOKEN))
        check(p.returncode == 0 and "allowed" in p.stdout and "denied" in p.stdout and
              "twin-job" in p.stdout, "oidc log table %r" % p.stdout)
        check(tok not in p.stdout and bad not in p.stdout, "a token in the log output")


# ---- oidc audit / simulate / init (offline) --------------------------------------------------

CI_HOST = "oidc.circleci.com/org/%s" % "5a6b7c8d-0000-4000-8000-00000000c1c1"
CI_ORG = "5a6b7c8d-0000-4000-8000-00000000c1c1"
CI_PROJ = "9f8e7d6c-0000-4000-8000-00000000beef"


def _ci_policy(sub_pattern, with_aud=True):
    cond = {"StringLike": {CI_HOST + ":sub": sub_pattern}}
    if with_aud:
        cond["StringEquals"] = {CI_HOST + ":aud": CI_ORG}
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "circleci", "Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/" + CI_HOST},
        "Action": "sts:AssumeRoleWithWebIdentity", "Condition": cond}]}


def oidc(args, stdin=None):
    p = subprocess.run([aklib.asakai_bin(), "oidc"] + list(args), capture_output=True,
                       text=True, timeout=30, env=_env(), input=stdin)
    return p.returncode, p.stdout, p.stderr


def _write(name, text):
    path = os.path.join(aklib.workdir(), name)
    with open(path, "w") as fh:
        fh.write(text if isinstance(text, str) else json.dumps(text, indent=2))
    return path


def test_oidc_simulate_allow_deny_and_unverified_token():
    import jwtmint
    pol = _write("policy.json", _ci_policy("org/%s/project/%s/user/*" % (CI_ORG, CI_PROJ)))
    prov = "https://" + CI_HOST
    claims = {"iss": prov, "aud": CI_ORG, "exp": 2000000000,
              "sub": "org/%s/project/%s/user/u1" % (CI_ORG, CI_PROJ)}
    rc, out, err = oidc(["simulate", "--policy", pol, "--claims", json.dumps(claims),
                         "--provider", prov])
    check_eq(rc, 0, "allow exit (out %r err %r)" % (out, err))
    check("decision: ALLOW by Statement[0]" in out and 'Sid "circleci"' in out, "allow %r" % out)
    check("nothing was verified" in out, "unverified note %r" % out)
    check(CI_HOST + ":sub = org/" in out, "condition keys listed %r" % out)

    other = dict(claims, sub="org/%s/project/%s/user/u1" % (CI_ORG, "other-project"))
    rc, out, err = oidc(["simulate", "--policy", pol, "--claims", json.dumps(other),
                         "--provider", prov])
    check_eq(rc, 1, "deny exit (out %r err %r)" % (out, err))
    check("decision: DENY" in out and "StringLike" in out and "other-project" in out,
          "deny with the failing condition %r" % out)

    # a token whose signature is garbage: decoded, not verified, and said so
    key = jwtmint.new_rsa_key("k1")
    tok = jwtmint.mint(key, claims)
    tok = tok.rsplit(".", 1)[0] + ".AAAA"
    rc, out, err = oidc(["simulate", "--policy", pol, "--token", tok, "--provider", prov,
                         "--role-session-name", "s1", "-o", "json"])
    check_eq(rc, 0, "token allow exit (err %r)" % err)
    j = json.loads(out)
    check_eq((j["decision"], j["statement"], j["verified"]), ("allow", 0, False), "json result")
    check(any(k.lower() == "sts:rolesessionname" for k in j["keys"]), "session key %r" % j)
    rc, out, err = oidc(["simulate", "--policy", pol, "--token", "-", "--provider", prov],
                        stdin=tok + "\n")
    check(rc == 0 and "WITHOUT verifying" in out, "token from stdin %r" % out)
    # the issuer differs from --provider: said so
    rc, out, err = oidc(["simulate", "--policy", pol, "--token", tok, "--provider",
                         "https://token.actions.githubusercontent.com"])
    check(rc == 1 and "real STS would refuse it" in out, "iss mismatch note %r" % out)

    # errors: a duplicate key in the policy, not a JWT, both --token and --claims
    dup = _write("dup.json", '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                 '"Effect": "Deny", "Principal": "*", "Action": "*"}]}')
    rc, out, err = oidc(["simulate", "--policy", dup, "--claims", "{}", "--provider", prov])
    check(rc == 2 and "dup.json" in err, "duplicate key %r" % err)
    rc, out, err = oidc(["simulate", "--policy", pol, "--token", "not-a-jwt", "--provider",
                         prov])
    check(rc == 2 and "not a JWT" in err, "bad token %r" % err)
    rc, out, err = oidc(["simulate", "--policy", pol, "--token", tok, "--claims", "{}",
                         "--provider", prov])
    check_eq(rc, 2, "both token and claims")


def test_oidc_audit_formats_and_fail_on():
    # GitHub's issuer is shared by every repository: nothing pins the subject here
    weak = _write("weak.json", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/"
                                         "token.actions.githubusercontent.com"},
        "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}]})
    good = _write("good.json", _ci_policy("org/%s/project/%s/user/*" % (CI_ORG, CI_PROJ)))
    rc, out, err = oidc(["audit", weak])
    check_eq(rc, 1, "weak policy fails at high (out %r err %r)" % (out, err))
    check(re.search(r"AUD-\d\d", out) and "weak.json" in out and "finding(s)" in out,
          "text report %r" % out)
    rc, out, err = oidc(["audit", "-o", "json", weak, good])
    check_eq(rc, 1, "json exit")
    findings = json.loads(out)
    check(findings and all(set(f) >= {"rule", "severity", "source", "path", "message"}
                           for f in findings), "json findings %r" % findings[:1])
    check(any(f["severity"] in ("high", "critical") for f in findings), "a high finding")
    rc, out, err = oidc(["audit", "-o", "sarif", "--fail-on", "none", weak])
    check_eq(rc, 0, "--fail-on none")
    sarif = json.loads(out)
    check_eq(sarif.get("version"), "2.1.0", "SARIF version")
    rc, out, err = oidc(["audit", "--fail-on", "critical", good])
    check_eq(rc, 0, "pinned policy passes (out %r)" % out)
    rc, out, err = oidc(["audit", "--fail-on", "bogus", good])
    check_eq(rc, 2, "bad --fail-on")
    rc, out, err = oidc(["audit", _write("notpolicy.json", {"hello": 1})])
    check(rc == 2 and "notpolicy.json" in err, "not a policy %r" % err)


def _find_key(node, key):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                return v
            r = _find_key(v, key)
            if r is not None:
                return r
    elif isinstance(node, list):
        for v in node:
            r = _find_key(v, key)
            if r is not None:
                return r
    return None


def test_oidc_init_passes_its_own_audit():
    for args in (["--ci", "circleci", "--org-id", CI_ORG, "--project-id", CI_PROJ],
                 ["--ci", "github", "--owner", "octo-org", "--repo", "octo-repo", "--repo-id",
                  "74", "--branch", "main"],
                 ["--ci", "gitlab", "--project-path", "my-group/my-project", "--branch", "main"]):
        rc, out, err = oidc(["init", "--account", "123456789012"] + args)
        check_eq(rc, 0, "init %s (err %r)" % (args[1], err))
        tf = json.loads(out)
        check("aws_iam_role" in out and "aws_iam_openid_connect_provider" in out,
              "tf.json resources %r" % out[:300])
        pol = _find_key(tf, "assume_role_policy")
        check(pol is not None, "assume_role_policy in %r" % out[:300])
        if isinstance(pol, str) and pol.startswith("${jsonencode("):
            continue  # an HCL expression: nothing to audit as JSON here
        path = _write("init-%s.json" % args[1], pol if isinstance(pol, str) else json.dumps(pol))
        rc, out, err = oidc(["audit", "--fail-on", "medium", path])
        check_eq(rc, 0, "init's %s policy passes the audit at medium (out %r)" % (args[1], out))
    rc, out, err = oidc(["init", "--ci", "circleci"])
    check_eq(rc, 2, "init without --account")
    rc, out, err = oidc(["init", "--ci", "jenkins", "--account", "123456789012"])
    check_eq(rc, 2, "init with an unknown CI (err %r)" % err)
