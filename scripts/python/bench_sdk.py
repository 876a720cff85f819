"""Times the official Python SDK (smallestai) on the same work the Rust benches measure.

Usage:
    python bench_sdk.py --payload FILE_OR_DIR [--payload ...]
                        [--base-url URL --api-key KEY --webhook-id ID]
                        [--rounds N] [--round-seconds S] [--warmup S]

`cargo xtask compare` runs it against the same payload files and the same emulator as the Rust
`measure` binary. Prints one JSON object on stdout; every figure is
{"median", "min", "max", "rounds"} over timed rounds that follow a warm-up:
    parse:    {payload name: events/s}  pydantic model_validate(json.loads(bytes)) with the SDK's
                                        model for the payload's metadata.eventType
                                        (model_validate_json runs at the same speed)
    verify:   {"1k"|"14k"|"1m": bytes/s} hmac.new(secret, body, sha256).hexdigest() + compare_digest
    sha256:   {"1k"|"14k"|"1m": bytes/s} hashlib.sha256(body).digest() (OpenSSL's SHA-256)
    requests: requests/s                 SmallestAI(...).atoms.webhooks.get_webhooks(webhook_id=...),
                                         sequential, one client (keep-alive), retries off
plus "versions" (python, smallestai, pydantic, openssl). A payload is named after its file
(without .json); the verify bodies and secret are those of crates/models/benches/models.rs.
"""

import argparse
import hashlib
import hmac
import json
import os
import platform
import ssl
import statistics
import sys
import time

SECRET = b"whsec_bench_secret_0123456789abcdef"
PATTERN = b'{"a":"0123456789"}'
VERIFY_SIZES = (("1k", 1024), ("14k", 14 * 1024), ("1m", 1 << 20))


def verify_body(size):
    """The verification body of `size` bytes: PATTERN repeated and cut (as in Rust)."""
    return (PATTERN * (size // len(PATTERN) + 1))[:size]


class Plan:
    """Warm up, calibrate one round to `round_seconds`, then time `rounds` rounds."""

    def __init__(self, rounds, round_seconds, warmup):
        self.rounds = rounds
        self.round_seconds = round_seconds
        self.warmup = warmup

    def _calibrate(self, fn):
        started = time.perf_counter()
        n = 1
        while True:
            t = self._run(fn, n)
            if t < self.round_seconds / 4 and n < 1 << 30:
                n *= 2
                continue
            per_call = t / n
            n_round = max(1, int(self.round_seconds / max(per_call, 1e-12)))
            if time.perf_counter() - started >= self.warmup:
                return n_round
            n = n_round

    @staticmethod
    def _run(fn, n):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        return time.perf_counter() - start

    def rate(self, fn, units):
        """Units per second over the rounds: {"median", "min", "max", "rounds"}."""
        n = self._calibrate(fn)
        rates = [n * units / max(self._run(fn, n), 1e-12) for _ in range(self.rounds)]
        return {
            "median": statistics.median(rates),
            "min": min(rates),
            "max": max(rates),
            "rounds": len(rates),
        }


def payload_files(items):
    """The .json files named, or found (sorted) in the folders named, in order."""
    files = []
    for item in items:
        if os.path.isdir(item):
            files += sorted(
                os.path.join(item, f) for f in os.listdir(item) if f.endswith(".json")
            )
        else:
            files.append(item)
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--payload", action="append", required=True,
                    help="a delivery body (NAME.json) or a folder of them; repeatable")
    ap.add_argument("--base-url")
    ap.add_argument("--api-key")
    ap.add_argument("--webhook-id")
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds per figure")
    ap.add_argument("--round-seconds", type=float, default=0.2, help="length of one round")
    ap.add_argument("--warmup", type=float, default=0.2, help="least warm-up per figure, seconds")
    args = ap.parse_args()
    if args.base_url and not (args.api_key and args.webhook_id):
        ap.error("--base-url needs --api-key and --webhook-id")

    import pydantic
    import smallestai
    from smallestai.atoms.types import (
        WebhookEventAnalyticsCompleted,
        WebhookEventPostConversation,
        WebhookEventPreConversation,
    )

    plan = Plan(args.rounds, args.round_seconds, args.warmup)
    models = {
        "pre-conversation": WebhookEventPreConversation,
        "post-conversation": WebhookEventPostConversation,
        "analytics-completed": WebhookEventAnalyticsCompleted,
    }
    out = {
        "versions": {
            "python": platform.python_version(),
            "smallestai": smallestai.__version__,
            "pydantic": pydantic.VERSION,
            "openssl": ssl.OPENSSL_VERSION,
        },
        "parse": {},
        "verify": {},
        "sha256": {},
    }
    for path in payload_files(args.payload):
        with open(path, "rb") as f:
            body = f.read()
        name = os.path.basename(path)[: -len(".json")] if path.endswith(".json") else path
        kind = json.loads(body)["metadata"]["eventType"]
        model = models[kind]
        model.model_validate(json.loads(body))  # fails loudly if the SDK cannot read it
        out["parse"][name] = plan.rate(lambda: model.model_validate(json.loads(body)), 1)

    for label, size in VERIFY_SIZES:
        body = verify_body(size)
        sig = hmac.new(SECRET, body, hashlib.sha256).hexdigest()

        def verify():
            mac = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(mac, sig):
                raise SystemExit("verify failed")

        out["verify"][label] = plan.rate(verify, size)
        out["sha256"][label] = plan.rate(lambda: hashlib.sha256(body).digest(), size)

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
        # Round trips vary more than parsing: rounds twice as long, as on the Rust side.
        requests_plan = Plan(args.rounds, args.round_seconds * 2, args.warmup)
        out["requests"] = requests_plan.rate(
            lambda: api.get_webhooks(webhook_id=args.webhook_id), 1
        )

    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
