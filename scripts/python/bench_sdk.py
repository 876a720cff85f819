"""Times the official Python SDK (smallestai) on the same work the Rust benches measure.

Usage:
    python bench_sdk.py --payloads DIR [--base-url URL --api-key KEY --webhook-id ID]
                        [--seconds S] [--requests N]

Prints one JSON object on stdout:
    parse:    {payload name: events per second}   pydantic model_validate(json.loads(bytes))
    verify:   {"1k"|"14k"|"1m": bytes per second}  hmac.new(secret, body, sha256) + compare_digest
    sha256:   {"14k": bytes per second}            hashlib.sha256 (OpenSSL) of the same bodies
    requests: requests per second                  SmallestAI(...).atoms.webhooks.get_webhooks(webhook_id=...)
Each figure is the median of several timed rounds.
"""

import argparse
import hashlib
import hmac
import json
import os
import statistics
import sys
import time


def rate(fn, unit_per_call, seconds, rounds=5):
    """Median over `rounds` of (units processed per second), each round about seconds/rounds long."""
    per_round = seconds / rounds
    # Calibrate: how many calls fit in one round.
    n, t = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - start
        if t >= per_round / 4 or n > 1 << 24:
            break
        n *= 2
    calls = max(1, int(n * per_round / max(t, 1e-9)))
    results = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - start
        results.append(calls * unit_per_call / elapsed)
    return statistics.median(results)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--payloads", required=True, help="folder of NAME.json delivery bodies")
    ap.add_argument("--base-url")
    ap.add_argument("--api-key")
    ap.add_argument("--webhook-id")
    ap.add_argument("--seconds", type=float, default=2.0, help="time budget per figure")
    ap.add_argument("--requests", type=int, default=300, help="sequential requests per round")
    args = ap.parse_args()

    from smallestai.atoms.types import (
        WebhookEventAnalyticsCompleted,
        WebhookEventPostConversation,
        WebhookEventPreConversation,
    )

    models = {
        "pre-conversation": WebhookEventPreConversation,
        "post-conversation": WebhookEventPostConversation,
        "analytics-completed": WebhookEventAnalyticsCompleted,
    }
    out = {"parse": {}, "verify": {}, "sha256": {}}
    for name in sorted(os.listdir(args.payloads)):
        if not name.endswith(".json"):
            continue
        body = open(os.path.join(args.payloads, name), "rb").read()
        kind = json.loads(body)["metadata"]["eventType"]
        model = models[kind]
        model.model_validate(json.loads(body))  # fails loudly if the SDK cannot read it
        out["parse"][name[:-5]] = rate(lambda: model.model_validate(json.loads(body)), 1, args.seconds)

    secret = b"whsec_bench_secret_0123456789abcdef"
    pattern = b'{"a":"0123456789"}'
    for label, size in (("1k", 1024), ("14k", 14 * 1024), ("1m", 1 << 20)):
        body = (pattern * (size // len(pattern) + 1))[:size]
        sig = hmac.new(secret, body, hashlib.sha256).hexdigest()

        def verify():
            mac = hmac.new(secret, body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(mac, sig):
                raise SystemExit("verify failed")

        out["verify"][label] = rate(verify, size, args.seconds)
        out["sha256"][label] = rate(lambda: hashlib.sha256(body).digest(), size, args.seconds)

    if args.base_url:
        from smallestai import SmallestAI, SmallestAIEnvironment

        env = SmallestAIEnvironment(
            atoms=args.base_url, waves=args.base_url, waves_ws=args.base_url, payment=args.base_url
        )
        client = SmallestAI(api_key=args.api_key, environment=env, max_retries=0)
        api = client.atoms.webhooks
        got = api.get_webhooks(webhook_id=args.webhook_id).data
        if getattr(got, "id", None) != args.webhook_id:
            raise SystemExit(f"get_webhooks returned {got!r}")
        rounds = []
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(args.requests):
                api.get_webhooks(webhook_id=args.webhook_id)
            rounds.append(args.requests / (time.perf_counter() - start))
        out["requests"] = statistics.median(rounds)

    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
