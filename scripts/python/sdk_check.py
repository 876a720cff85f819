#!/usr/bin/env python3
"""Drive an Atoms-compatible webhook API with the official Python SDK.

This is a cross-check for atoms-webhook: if the official `smallestai` SDK
(pinned to 5.14.0) can talk to a server and gets the documented answers back,
the server behaves like the real Atoms API as far as that SDK can tell.

Three independent modes, any combination of which can be used in one run:

  --base-url URL [--api-key KEY] [--agent-id HEX24]
      Run the webhook API scenario against a server that serves /webhook,
      /webhook/{id} and /agent/{agentId}/webhook-subscriptions at the root of
      URL (for the real API: https://api.smallest.ai/atoms/v1).

  --events-dir DIR
      Parse every DIR/*.json delivery body with the SDK's pydantic delivery
      model picked by metadata.eventType, dump it back and compare.

  --verify-dir DIR --secret SECRET
      For every DIR/NAME.json with a DIR/NAME.sig (lowercase hex), check that
      HMAC-SHA256(SECRET, raw bytes of NAME.json) equals the signature.

Each check prints `ok <name>` or `FAIL <name>: <reason>`; the last line is
`N passed, M failed`, and the exit status is 1 when anything failed
(2 on a usage error). Only the standard library and smallestai are used
(plus httpx, which smallestai itself depends on and brings along).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Set

# The SDK only sends telemetry from its CLI, but make sure nothing phones home.
os.environ.setdefault("SMALLESTAI_TELEMETRY", "0")

from smallestai import SmallestAI, SmallestAIEnvironment  # noqa: E402
from smallestai.atoms.errors import BadRequestError, NotFoundError, UnauthorizedError  # noqa: E402
from smallestai.atoms.types import (  # noqa: E402
    Webhook,
    WebhookAgent,
    WebhookEventAnalyticsCompleted,
    WebhookEventEnvelope,
    WebhookEventPostConversation,
    WebhookEventPreConversation,
    WebhookSubscription,
)
from smallestai.atoms.webhooks import CreateWebhooksRequestEventsItem  # noqa: E402
from smallestai.core.api_error import ApiError  # noqa: E402

# Messages the API documents for its 400 answers.
MSG_DUPLICATE_URL = "A webhook with this URL has already been registered"
MSG_STILL_ASSIGNED = (
    "Cannot delete webhook: It is currently assigned to one or more agents. "
    "Please remove all agent assignments first."
)
MSG_INVALID_ID = "The provided Webhook ID is invalid."

OBJECT_ID = re.compile(r"[0-9a-f]{24}")
DEFAULT_AGENT_ID = "60d0fe4f5311236168a109ca"

# Delivery models of the SDK, keyed by metadata.eventType.
DELIVERY_MODELS = {
    "pre-conversation": WebhookEventPreConversation,
    "post-conversation": WebhookEventPostConversation,
    "analytics-completed": WebhookEventAnalyticsCompleted,
}


# --------------------------------------------------------------------------
# Tiny check runner
# --------------------------------------------------------------------------


class CheckFailed(Exception):
    """Raised inside a check body to fail it with a readable reason."""


class Runner:
    """Counts results and prints one line per check."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, body: Callable[[], Optional[str]]) -> bool:
        """Run `body`; it passes unless it raises. A returned string is shown as a note."""
        try:
            note = body()
        except CheckFailed as exc:
            return self._fail(name, str(exc))
        except ApiError as exc:  # an SDK call failed where it should have succeeded
            return self._fail(name, f"unexpected {type(exc).__name__} (HTTP {exc.status_code}): {short(exc.body)}")
        except Exception as exc:  # noqa: BLE001 - any crash is a failed check, not a crashed run
            return self._fail(name, f"{type(exc).__name__}: {exc}")
        self.passed += 1
        print(f"ok {name}" + (f" ({note})" if note else ""), flush=True)
        return True

    def fail(self, name: str, reason: str) -> bool:
        return self._fail(name, reason)

    def _fail(self, name: str, reason: str) -> bool:
        self.failed += 1
        # Keep the one-line-per-check contract even for multi-line pydantic errors.
        reason = " | ".join(line.strip() for line in reason.splitlines() if line.strip())
        print(f"FAIL {name}: {reason}", flush=True)
        return False


def short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def require(condition: bool, reason: str) -> None:
    if not condition:
        raise CheckFailed(reason)


def expect_error(call: Callable[[], Any], exc_type: type, status: int, message: Optional[str] = None) -> str:
    """Assert that `call` fails with the given SDK exception, HTTP status and (optionally) message.

    The documented error body is {"status": false, "errors": ["message", ...]};
    when a message is given it must be one of the `errors` entries verbatim.
    """
    try:
        result = call()
    except ApiError as exc:
        require(
            exc.status_code == status,
            f"expected HTTP {status}, got HTTP {exc.status_code} ({type(exc).__name__}): {short(exc.body)}",
        )
        require(
            isinstance(exc, exc_type),
            f"SDK raised {type(exc).__name__}, expected {exc_type.__name__}",
        )
        body = exc.body
        require(isinstance(body, dict), f"error body is not a JSON object: {short(body)}")
        require(body.get("status") is False, f'error body lacks "status": false: {short(body)}')
        errors = body.get("errors")
        require(
            isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors),
            f'error body lacks a non-empty "errors" list of strings: {short(body)}',
        )
        if message is not None:
            require(message in errors, f"expected message {message!r} in errors, got {errors!r}")
        return ""
    raise CheckFailed(f"expected HTTP {status}, but the call succeeded: {short(dump(result))}")


def dump(model: Any) -> Any:
    """JSON-ready view of an SDK response object, for messages."""
    if hasattr(model, "model_dump"):
        return model.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return model


# --------------------------------------------------------------------------
# API scenario
# --------------------------------------------------------------------------


def make_client(base_url: str, api_key: str) -> SmallestAI:
    """An SDK client whose Atoms requests go to `base_url`.

    SmallestAI has no `base_url` argument: the host comes from an
    SmallestAIEnvironment, whose `atoms` field is the prefix every Atoms call
    is joined to (`{atoms.rstrip('/')}/webhook`, etc.). Retries are turned off
    so that each SDK call is exactly one HTTP request and errors surface as-is
    (the SDK would otherwise retry 408/409/429/5xx twice).
    """
    env = SmallestAIEnvironment(atoms=base_url, waves=base_url, waves_ws=base_url, payment=base_url)
    return SmallestAI(api_key=api_key, environment=env, max_retries=0, timeout=30)


class ApiScenario:
    """The whole webhook lifecycle plus the documented errors, in order."""

    def __init__(self, run: Runner, client: SmallestAI, bad_client: SmallestAI, agent_id: str) -> None:
        self.run = run
        self.api = client.atoms.webhooks
        self.bad_api = bad_client.atoms.webhooks
        self.agent = agent_id
        tag = secrets.token_hex(6)  # fresh URLs so re-runs against a long-lived server do not collide
        self.url_a = f"https://example.com/atoms-sdk-check/{tag}/a"
        self.url_b = f"https://example.com/atoms-sdk-check/{tag}/b"
        self.hook_a: Optional[str] = None
        self.hook_b: Optional[str] = None
        # A syntactically valid id that is (with overwhelming probability) unknown to the server.
        self.unknown_id = secrets.token_hex(12)

    # --- helpers ---------------------------------------------------------

    def needs(self, *ids: Optional[str]) -> None:
        require(all(ids), "skipped: an earlier create step did not produce a webhook id")

    def get_one(self, webhook_id: str) -> Webhook:
        resp = self.api.get_webhooks(webhook_id=webhook_id)
        require(resp.status is True, f"status is {resp.status!r}, expected true")
        require(isinstance(resp.data, Webhook), f"data is {type(resp.data).__name__}, expected one Webhook object")
        return resp.data

    def agent_subscriptions(self) -> List[WebhookSubscription]:
        resp = self.api.get_webhook_subscriptions_for_an_agent(self.agent)
        require(resp.status is True, f"status is {resp.status!r}, expected true")
        require(isinstance(resp.data, list), f"data is {type(resp.data).__name__}, expected a list")
        for s in resp.data:
            require(isinstance(s, WebhookSubscription), f"item is {type(s).__name__}, expected WebhookSubscription")
            require(s.agent_id == self.agent, f"subscription agentId {s.agent_id!r} != {self.agent!r}")
            require(isinstance(s.webhook_id, str), f"subscription webhookId is {s.webhook_id!r}")
            require(bool(s.id), "subscription has no _id")
        return resp.data

    def create(self, url: str, description: str, event_types: Iterable[str]) -> str:
        resp = self.api.create(
            endpoint=url,
            description=description,
            events=[CreateWebhooksRequestEventsItem(agent_id=self.agent, event_type=e) for e in event_types],
        )
        require(resp.status is True, f"status is {resp.status!r}, expected true")
        require(
            isinstance(resp.data, str) and OBJECT_ID.fullmatch(resp.data) is not None,
            f"data {resp.data!r} is not a 24-hex webhook id",
        )
        return resp.data

    # --- the steps -------------------------------------------------------

    def run_all(self) -> None:
        r = self.run
        r.check("create", self.step_create)
        r.check("create-duplicate-url-400", self.step_duplicate)
        r.check("list", self.step_list)
        r.check("get-by-id", self.step_get)
        r.check("update-description-and-headers", self.step_update)
        r.check("update-empty-body-400", self.step_update_empty)
        r.check("update-reserved-header-400", self.step_update_reserved)
        r.check("get-agent-subscriptions", self.step_agent_subs)
        r.check("delete-while-subscribed-400", self.step_delete_subscribed)
        r.check("create-second-webhook", self.step_create_b)
        r.check("replace-agent-subscriptions", self.step_replace)
        r.check("clear-agent-subscriptions", self.step_clear)
        r.check("get-malformed-id-400", lambda: self.malformed(lambda i: self.api.get_webhooks(webhook_id=i)))
        r.check("update-malformed-id-400", lambda: self.malformed(lambda i: self.api.update(i, description="x")))
        r.check("delete-malformed-id-400", lambda: self.malformed(lambda i: self.api.delete(i)))
        # GET /webhook documents no 404, so the SDK raises a plain ApiError for it;
        # PATCH and DELETE document 404 and raise NotFoundError.
        r.check("get-unknown-id-404", lambda: expect_error(
            lambda: self.api.get_webhooks(webhook_id=self.unknown_id), ApiError, 404))
        r.check("update-unknown-id-404", lambda: expect_error(
            lambda: self.api.update(self.unknown_id, description="x"), NotFoundError, 404))
        r.check("delete-unknown-id-404", lambda: expect_error(
            lambda: self.api.delete(self.unknown_id), NotFoundError, 404))
        r.check("wrong-api-key-401", self.step_wrong_key)
        r.check("delete", self.step_delete)
        r.check("get-after-delete-404", self.step_get_deleted)

    def step_create(self) -> str:
        self.hook_a = self.create(self.url_a, "sdk_check webhook A", ["pre-conversation", "post-conversation"])
        return f"id {self.hook_a}"

    def step_duplicate(self) -> str:
        self.needs(self.hook_a)
        return expect_error(
            lambda: self.api.create(
                endpoint=self.url_a,
                description="duplicate",
                events=[CreateWebhooksRequestEventsItem(agent_id=self.agent, event_type="pre-conversation")],
            ),
            BadRequestError, 400, MSG_DUPLICATE_URL,
        )

    def step_list(self) -> str:
        self.needs(self.hook_a)
        resp = self.api.get_webhooks()
        require(resp.status is True, f"status is {resp.status!r}, expected true")
        require(isinstance(resp.data, list), f"data is {type(resp.data).__name__}, expected a list of Webhook")
        require(all(isinstance(w, Webhook) for w in resp.data), "an item of data is not a Webhook object")
        mine = [w for w in resp.data if w.id == self.hook_a]
        require(len(mine) == 1, f"webhook {self.hook_a} appears {len(mine)} times in the list")
        require(mine[0].url == self.url_a, f"url {mine[0].url!r} != {self.url_a!r}")
        # The secret is documented to come back from the list too.
        missing = [w.id for w in resp.data if not w.decrypted_secret_key]
        require(not missing, f"decryptedSecretKey empty/absent in the list for {missing}")
        return f"{len(resp.data)} webhook(s)"

    def step_get(self) -> None:
        self.needs(self.hook_a)
        w = self.get_one(self.hook_a)
        require(w.id == self.hook_a, f"_id {w.id!r} != {self.hook_a!r}")
        require(w.url == self.url_a, f"url {w.url!r} != {self.url_a!r}")
        require(w.description == "sdk_check webhook A", f"description {w.description!r}")
        require(w.status in ("enabled", "disabled"), f"status {w.status!r} not enabled/disabled")
        require(isinstance(w.decrypted_secret_key, str) and w.decrypted_secret_key != "",
                f"decryptedSecretKey is {w.decrypted_secret_key!r}")
        for field in ("organization_id", "created_by"):
            require(isinstance(getattr(w, field), str) and getattr(w, field), f"{field} is {getattr(w, field)!r}")
        # The SDK turns ISO 8601 strings into datetimes; anything unparsable stays a string.
        for field in ("created_at", "updated_at"):
            value = getattr(w, field)
            require(isinstance(value, dt.datetime), f"{field} is {value!r}, not an ISO 8601 timestamp")
        subs = w.subscriptions
        require(isinstance(subs, list), f"subscriptions is {subs!r}, expected a list")
        require(len(subs) == 2, f"expected 2 subscriptions, got {len(subs)}")
        for s in subs:
            require(isinstance(s.agent_id, WebhookAgent),
                    f"subscriptions[].agentId is {s.agent_id!r}, expected a populated {{_id, name, description}} object")
            require(s.agent_id.id == self.agent, f"subscriptions[].agentId._id {s.agent_id.id!r} != {self.agent!r}")
            require(s.webhook_id == self.hook_a, f"subscriptions[].webhookId {s.webhook_id!r} != {self.hook_a!r}")
        types = sorted(s.event_type for s in subs)
        require(types == ["post-conversation", "pre-conversation"], f"subscription eventTypes {types}")

    def step_update(self) -> str:
        self.needs(self.hook_a)
        headers = {"x-api-key": "sdk-check-key", "X-Tenant": "t1"}
        resp = self.api.update(self.hook_a, description="sdk_check webhook A (updated)", headers=headers)
        require(resp.status is True, f"status is {resp.status!r}, expected true")
        require(resp.data == self.hook_a, f"data {resp.data!r}, expected the webhook id {self.hook_a!r}")
        w = self.get_one(self.hook_a)
        require(w.description == "sdk_check webhook A (updated)", f"description after update is {w.description!r}")
        require(w.url == self.url_a, f"url changed by a description-only update: {w.url!r}")
        require(len(w.subscriptions or []) == 2, "subscriptions changed by PATCH")
        # `headers` is not part of the documented Webhook schema, but the SDK keeps
        # unknown fields; if the server echoes them, they must be what we set.
        extra = w.model_extra or {}
        if "headers" in extra:
            require(extra["headers"] == headers, f"headers echoed as {extra['headers']!r}, expected {headers!r}")
            return "headers echoed back and match"
        return "server does not echo headers; only the update answer was checked for them"

    def step_update_empty(self) -> str:
        self.needs(self.hook_a)
        # With every field omitted the SDK sends `{}`; the body needs at least one field.
        return expect_error(lambda: self.api.update(self.hook_a), BadRequestError, 400)

    def step_update_reserved(self) -> str:
        self.needs(self.hook_a)
        return expect_error(lambda: self.api.update(self.hook_a, headers={"X-Signature": "forged"}), BadRequestError, 400)

    def step_agent_subs(self) -> None:
        self.needs(self.hook_a)
        subs = [s for s in self.agent_subscriptions() if s.webhook_id == self.hook_a]
        types = sorted(s.event_type for s in subs)
        require(types == ["post-conversation", "pre-conversation"],
                f"agent's subscriptions to webhook A have eventTypes {types}")

    def step_delete_subscribed(self) -> str:
        self.needs(self.hook_a)
        return expect_error(lambda: self.api.delete(self.hook_a), BadRequestError, 400, MSG_STILL_ASSIGNED)

    def step_create_b(self) -> str:
        self.hook_b = self.create(self.url_b, "sdk_check webhook B", ["pre-conversation"])
        require(self.hook_b != self.hook_a, "second webhook got the same id as the first")
        return f"id {self.hook_b}"

    def step_replace(self) -> None:
        # The agent is now subscribed to A (pre, post) and B (pre). Replacing must
        # leave exactly the new set, on A, and drop the agent from B entirely.
        self.needs(self.hook_a, self.hook_b)
        resp = self.api.replace_webhook_subscriptions_for_an_agent(
            self.agent, event_types=["analytics-completed", "post-conversation"], webhook_id=self.hook_a
        )
        require(resp.status is True, f"status is {resp.status!r}, expected true")
        subs = self.agent_subscriptions()
        got = sorted((s.webhook_id, s.event_type) for s in subs)
        want = sorted([(self.hook_a, "analytics-completed"), (self.hook_a, "post-conversation")])
        require(got == want, f"after replace the agent has {got}, expected {want}")
        b = self.get_one(self.hook_b)
        require(not b.subscriptions, f"webhook B still has subscriptions after replace: {short(dump(b)['subscriptions'])}")

    def step_clear(self) -> None:
        self.needs(self.hook_a)
        resp = self.api.delete_webhook_subscriptions_for_an_agent(self.agent)
        require(resp.status is True, f"status is {resp.status!r}, expected true")
        subs = self.agent_subscriptions()
        require(subs == [], f"agent still has {len(subs)} subscription(s) after clearing")
        a = self.get_one(self.hook_a)
        require(a.subscriptions == [], f"webhook A subscriptions after clearing: {a.subscriptions!r}")

    def malformed(self, call: Callable[[str], Any]) -> str:
        return expect_error(lambda: call("not-a-valid-id"), BadRequestError, 400, MSG_INVALID_ID)

    def step_wrong_key(self) -> str:
        return expect_error(lambda: self.bad_api.get_webhooks(), UnauthorizedError, 401)

    def step_delete(self) -> None:
        self.needs(self.hook_a, self.hook_b)
        for hook in (self.hook_a, self.hook_b):
            resp = self.api.delete(hook)
            require(resp.status is True, f"delete {hook}: status is {resp.status!r}, expected true")
            require(isinstance(resp.data, str) and resp.data, f"delete {hook}: data {resp.data!r}, expected a message")
        listed = {w.id for w in (self.api.get_webhooks().data or [])}
        require(not listed & {self.hook_a, self.hook_b}, "a deleted webhook is still listed")
        self.hook_a_deleted = self.hook_a
        self.hook_a = self.hook_b = None

    def step_get_deleted(self) -> str:
        deleted = getattr(self, "hook_a_deleted", None)
        self.needs(deleted)
        return expect_error(lambda: self.api.get_webhooks(webhook_id=deleted), ApiError, 404)

    def cleanup(self) -> None:
        """Best effort: leave a long-lived server as we found it, even after failures."""
        for call in (
            lambda: self.api.delete_webhook_subscriptions_for_an_agent(self.agent),
            *(lambda h=h: self.api.delete(h) for h in (self.hook_a, self.hook_b) if h),
        ):
            try:
                call()
            except Exception:  # noqa: BLE001 - cleanup never affects the verdict
                pass


# --------------------------------------------------------------------------
# Delivery bodies (--events-dir)
# --------------------------------------------------------------------------


def key_paths(value: Any, prefix: str = "") -> Set[str]:
    """Every object key in `value`, as dotted paths; list items by index."""
    paths: Set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            p = f"{prefix}.{k}" if prefix else k
            paths.add(p)
            paths |= key_paths(v, p)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            paths |= key_paths(v, f"{prefix}[{i}]")
    return paths


def as_instant(value: Any) -> Optional[dt.datetime]:
    """An ISO 8601 timestamp string as a datetime, or None if it is not one."""
    if not isinstance(value, str) or not re.match(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", value):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def value_diffs(a: Any, b: Any, path: str = "") -> List[str]:
    """Paths where two JSON values differ. Timestamps compare as instants
    (the SDK re-renders 07:51:58.813Z as 07:51:58.813000Z), numbers by value,
    but a boolean never equals a number."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: List[str] = []
        for k in a.keys() & b.keys():
            out += value_diffs(a[k], b[k], f"{path}.{k}" if path else k)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path} (length {len(a)} vs {len(b)})"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in value_diffs(x, y, f"{path}[{i}]")]
    ta, tb = as_instant(a), as_instant(b)
    if ta is not None and tb is not None:
        return [] if ta == tb else [path]
    if isinstance(a, bool) or isinstance(b, bool):
        same = type(a) is type(b) and a == b
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        same = a == b  # 1 and 1.0 are the same JSON number
    else:
        same = type(a) is type(b) and a == b
    return [] if same else [path]


def check_event_file(path: Path) -> str:
    try:
        original = json.loads(path.read_bytes())
    except ValueError as exc:
        raise CheckFailed(f"not JSON: {exc}")
    require(isinstance(original, dict), "top level is not a JSON object")
    metadata = original.get("metadata")
    require(isinstance(metadata, dict), "no metadata object")
    event_type = metadata.get("eventType")
    model = DELIVERY_MODELS.get(event_type)
    note = ""
    if model is None:
        # Unknown event types must still parse; only the common envelope is typed then.
        model, note = WebhookEventEnvelope, f"unknown eventType {event_type!r}: checked with the envelope model only"
    parsed = model.model_validate(original)  # full pydantic validation, raises on a bad shape
    again = parsed.model_dump(by_alias=True, exclude_unset=True, mode="json")
    before, after = key_paths(original), key_paths(again)
    lost, gained = sorted(before - after), sorted(after - before)
    require(not lost and not gained, f"key set changed: lost {lost[:5]}, gained {gained[:5]}")
    diffs = value_diffs(original, again)
    require(not diffs, f"values changed at {diffs[:5]}")
    return note or f"{model.__name__}, {len(before)} keys"


# --------------------------------------------------------------------------
# Signatures (--verify-dir)
# --------------------------------------------------------------------------


def check_signature(body_path: Path, secret: bytes) -> None:
    sig_path = body_path.with_suffix(".sig")
    require(sig_path.is_file(), f"no {sig_path.name} next to it")
    given = sig_path.read_text(encoding="ascii").strip()
    require(re.fullmatch(r"[0-9a-f]{64}", given) is not None, f"{sig_path.name} is not 64 lowercase hex digits")
    expected = hmac.new(secret, body_path.read_bytes(), hashlib.sha256).hexdigest()
    require(hmac.compare_digest(expected, given), f"signature mismatch: expected {expected}, file has {given}")


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


def json_files(directory: str) -> List[Path]:
    d = Path(directory)
    if not d.is_dir():
        sys.exit(f"usage error: {directory} is not a directory")
    return sorted(d.glob("*.json"))


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", help="server root, e.g. http://127.0.0.1:8080 or https://api.smallest.ai/atoms/v1")
    ap.add_argument("--api-key", default=os.environ.get("SMALLEST_API_KEY"), help="default: $SMALLEST_API_KEY")
    ap.add_argument("--agent-id", default=DEFAULT_AGENT_ID, help=f"24-hex agent id to subscribe (default {DEFAULT_AGENT_ID})")
    ap.add_argument("--events-dir", help="directory of delivery bodies (*.json) to round-trip through the SDK models")
    ap.add_argument("--verify-dir", help="directory of NAME.json + NAME.sig pairs to verify")
    ap.add_argument("--secret", help="signing secret for --verify-dir")
    args = ap.parse_args(argv)

    if not (args.base_url or args.events_dir or args.verify_dir):
        ap.error("give at least one of --base-url, --events-dir, --verify-dir")
    if args.base_url and not args.api_key:
        ap.error("--base-url needs --api-key (or SMALLEST_API_KEY)")
    if args.verify_dir and args.secret is None:
        ap.error("--verify-dir needs --secret")
    if not OBJECT_ID.fullmatch(args.agent_id):
        ap.error("--agent-id must be 24 lowercase hex digits")

    run = Runner()

    if args.base_url:
        client = make_client(args.base_url, args.api_key)
        bad_client = make_client(args.base_url, args.api_key + "-wrong")
        scenario = ApiScenario(run, client, bad_client, args.agent_id)
        try:
            scenario.run_all()
        finally:
            scenario.cleanup()

    if args.events_dir:
        files = json_files(args.events_dir)
        if not files:
            run.fail("events", f"no *.json files in {args.events_dir}")
        for f in files:
            run.check(f"event {f.name}", lambda f=f: check_event_file(f))

    if args.verify_dir:
        files = json_files(args.verify_dir)
        if not files:
            run.fail("verify", f"no *.json files in {args.verify_dir}")
        for f in files:
            run.check(f"signature {f.name}", lambda f=f: check_signature(f, args.secret.encode("utf-8")))

    print(f"{run.passed} passed, {run.failed} failed")
    return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(main())
