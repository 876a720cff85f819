// Runs the wasm-check module inside Node.js's WebAssembly engine: verify-then-parse with a good
// signature (in each accepted form), a wrong one and a malformed one, then a parse that writes the
// body back. The signatures are made here with Node's own crypto, independently of the Rust code.
// usage: node check.mjs <module.wasm> <fixtures dir>
import { readFileSync } from "node:fs";
import { createHmac } from "node:crypto";
import { join } from "node:path";
import assert from "node:assert/strict";

const [wasmPath, fixtures] = process.argv.slice(2);
if (!wasmPath || !fixtures) {
  console.error("usage: node check.mjs <module.wasm> <fixtures dir>");
  process.exit(2);
}

const module = await WebAssembly.compile(readFileSync(wasmPath));
// No imports at all: no clock, no randomness, no host functions, nothing an edge runtime lacks.
assert.deepEqual(WebAssembly.Module.imports(module), [], "the module imports nothing");
const { exports: w } = await WebAssembly.instantiate(module, {});

const enc = new TextEncoder();
const dec = new TextDecoder();

function put(bytes) {
  const ptr = w.wasm_alloc(bytes.length);
  new Uint8Array(w.memory.buffer, ptr, bytes.length).set(bytes);
  return [ptr, bytes.length];
}

function withInputs(inputs, f) {
  const bufs = inputs.map((b) => put(typeof b === "string" ? enc.encode(b) : b));
  try {
    return f(...bufs.flat());
  } finally {
    for (const [p, n] of bufs) w.wasm_free(p, n);
  }
}

function withOut(cap, f) {
  const out = w.wasm_alloc(cap);
  try {
    const n = f(out, cap);
    return n >= 0 ? dec.decode(new Uint8Array(w.memory.buffer, out, n).slice()) : n;
  } finally {
    w.wasm_free(out, cap);
  }
}

const OK = 0, OK_UNKNOWN = 1, MALFORMED = -1, MISMATCH = -2, UNPARSEABLE = -3, EMPTY_SECRET = -4;
const secret = "whsec-edge-test";
const hmac = (key, body) => createHmac("sha256", key).update(body).digest("hex");
let checks = 0;

function status(key, body, sig) {
  return withInputs([key, body, sig], (...a) => w.verify_status(...a));
}

for (const name of ["pre-conversation", "post-conversation", "analytics-completed"]) {
  const body = readFileSync(join(fixtures, "examples", `${name}.json`));
  const good = hmac(secret, body);
  // A good signature, in every form a sender uses.
  for (const form of [good, good.toUpperCase(), `sha256=${good}`, `X-Atoms-Signature: sha256=${good}`]) {
    assert.equal(status(secret, body, form), OK, `${name}: ${form.slice(0, 24)}…`);
    checks++;
  }
  // The call id comes out of the parsed event.
  const callId = withInputs([secret, body, good], (...a) => withOut(256, (o, c) => w.verify_and_call_id(...a, o, c)));
  assert.equal(callId, JSON.parse(body).metadata.callId, `${name}: call id`);
  checks++;
  // A wrong signature: the right form, another secret; and a tampered body.
  assert.equal(status(secret, body, hmac("another-secret", body)), MISMATCH, `${name}: wrong secret`);
  const tampered = Buffer.concat([body, enc.encode(" ")]);
  assert.equal(status(secret, tampered, good), MISMATCH, `${name}: tampered body`);
  // Malformed signatures: short, not hex, empty, 33 bytes.
  for (const bad of [good.slice(0, 62), "z".repeat(64), "", `${good}00`, "sha256="]) {
    assert.equal(status(secret, body, bad), MALFORMED, `${name}: malformed ${JSON.stringify(bad.slice(0, 10))}`);
    checks++;
  }
  checks += 2;
}

// Verified but not a delivery; an empty secret; an unknown event type.
const notJson = enc.encode("not json");
assert.equal(status(secret, notJson, hmac(secret, notJson)), UNPARSEABLE, "unparseable");
assert.equal(status("", notJson, hmac(secret, notJson)), EMPTY_SECRET, "empty secret");
const unknown = readFileSync(join(fixtures, "events", "unknown-event-type.json"));
assert.equal(status(secret, unknown, hmac(secret, unknown)), OK_UNKNOWN, "unknown event type");
checks += 3;

// A parse: the body written back reads as the same JSON, null metric values included.
for (const rel of ["examples/post-conversation.json", "events/analytics-no-conversation.json", "events/post-guide-values.json"]) {
  const body = readFileSync(join(fixtures, rel));
  const back = withInputs([body], (p, n) => withOut(body.length * 2 + 64, (o, c) => w.parse_and_write_back(p, n, o, c)));
  assert.equal(typeof back, "string", `${rel}: parse failed with ${back}`);
  assert.deepEqual(JSON.parse(back), JSON.parse(body), `${rel}: round trip`);
  checks++;
}
assert.equal(withInputs([notJson], (p, n) => withOut(64, (o, c) => w.parse_and_write_back(p, n, o, c))), UNPARSEABLE);
checks++;

console.log(`wasm-check: ${checks} checks passed in Node ${process.version} (module imports nothing)`);
