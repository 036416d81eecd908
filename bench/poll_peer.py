#!/usr/bin/python3
"""poll_peer.py — the peer for asakai's poller benchmark: what a team writes with boto3.

For each account: assume the role; then for each region call, one after another,
  ec2 describe_instance_status(IncludeAllInstances=True)      paginated
  rds describe_pending_maintenance_actions                     paginated
  elasticache describe_service_updates + describe_update_actions   paginated
  elasticache describe_events                                  paginated
--threads N runs the work in a ThreadPoolExecutor: one task per account (AssumeRole, one boto3
session, its clients) then one task per account x region. Prints one JSON line:
  {"wall_s": .., "requests": .., "records": .., "errors": .., "threads": ..}

usage (against tests/integration/fakeaws.py in standalone mode):
  poll_peer.py --url http://127.0.0.1:P --key AKID --secret SECRET \
      --accounts 100000000001,100000000002 --regions us-east-1,eu-west-1 [--role asakai-poller]
      [--threads 8]
"""
import argparse
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.records = 0

    def add(self, requests, records):
        with self.lock:
            self.requests += requests
            self.records += records


def walk(client, op, key, counter, **kw):
    n_req = n_rec = 0
    for page in client.get_paginator(op).paginate(**kw):
        n_req += 1
        n_rec += len(page.get(key, []))
    counter.add(n_req, n_rec)


def account_clients(args, account, counter):
    """Assume the account's role; one boto3 session per account (sessions are not thread-safe,
    clients are), three clients per region."""
    sts = boto3.session.Session().client("sts", region_name=args.regions[0], endpoint_url=args.url,
                                         aws_access_key_id=args.key,
                                         aws_secret_access_key=args.secret)
    c = sts.assume_role(RoleArn="arn:aws:iam::%s:role/%s" % (account, args.role),
                        RoleSessionName="poll-peer")["Credentials"]
    counter.add(1, 0)
    session = boto3.session.Session(aws_access_key_id=c["AccessKeyId"],
                                    aws_secret_access_key=c["SecretAccessKey"],
                                    aws_session_token=c["SessionToken"])
    cfg = Config(retries={"max_attempts": 5, "mode": "standard"}, max_pool_connections=4)
    return [{svc: session.client(svc, region_name=r, endpoint_url=args.url, config=cfg)
             for svc in ("ec2", "rds", "elasticache")} for r in args.regions]


def poll_region(clients, counter):
    ec2, rds, ec = clients["ec2"], clients["rds"], clients["elasticache"]
    walk(ec2, "describe_instance_status", "InstanceStatuses", counter, IncludeAllInstances=True)
    walk(rds, "describe_pending_maintenance_actions", "PendingMaintenanceActions", counter)
    walk(ec, "describe_service_updates", "ServiceUpdates", counter)
    walk(ec, "describe_update_actions", "UpdateActions", counter)
    walk(ec, "describe_events", "Events", counter)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--accounts", required=True, help="comma-separated account ids")
    ap.add_argument("--regions", required=True, help="comma-separated regions")
    ap.add_argument("--role", default="asakai-poller")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    args.accounts = [a for a in args.accounts.split(",") if a]
    args.regions = [r for r in args.regions.split(",") if r]
    counter = Counter()
    errors = []
    t0 = time.monotonic()
    if args.threads <= 1:
        for a in args.accounts:
            for clients in account_clients(args, a, counter):
                poll_region(clients, counter)
    else:
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            futs = []
            per_account = [pool.submit(account_clients, args, a, counter) for a in args.accounts]
            for f in per_account:
                try:
                    futs += [pool.submit(poll_region, c, counter) for c in f.result()]
                except Exception as e:  # noqa: B902 - report, keep the measurement
                    errors.append(str(e))
            for f in futs:
                try:
                    f.result()
                except Exception as e:  # noqa: B902
                    errors.append(str(e))
    wall = time.monotonic() - t0
    print(json.dumps({"wall_s": round(wall, 3), "requests": counter.requests,
                      "records": counter.records, "errors": len(errors),
                      "threads": args.threads}))
    for e in errors[:5]:
        sys.stderr.write("poll_peer: %s\n" % e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
