import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENDPOINTS, type Endpoint } from "../../src/api/endpoints.ts";
import { ERROR_CODES, isErrorCode } from "../../src/api/errors.ts";
import { tryParseReference } from "../../src/oci/spec/reference.ts";
import { TokenStore } from "../../src/server/auth/tokens.ts";
import { cleanupDocker, missing, namePrefix, sh, startServer, TEST_TLS, type TestServer } from "../harness/index.ts";
import { KNOBS, processAlive, rng, rssMiB } from "./lib.ts";

const skip = missing({ docker: true });

/**
 * API fuzz against the compiled shed-server (issue 14): every route of the catalog with
 * malformed bodies, params and queries, wrong methods and types, huge bodies, in both auth
 * modes. No answer may be a 5xx, carry a stack or a host path; the server stays up and its
 * memory comes back under a bound. Nothing it does can reach the network: pulls and pushes
 * only ever get refs that do not parse, images never exist (pull_policy: never), build
 * contexts hold no Dockerfile.
 */
const HOSTILE: unknown[] = [
  "",
  "..",
  "../../etc/passwd",
  "%2e%2e%2f",
  "/",
  "\0",
  "a\0b",
  "a".repeat(64),
  "x".repeat(5000),
  "ü",
  "名前",
  "$(id)",
  "-rf",
  " ",
  "\n",
  "UPPER",
  "fuzz-absent/x:1",
  0,
  -1,
  1e308,
  -1e308,
  2 ** 53,
  0.0001,
  true,
  null,
  [],
  {},
  [1, [2, [3]]],
  { a: { b: { c: {} } } },
];

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** A value that can never make the server talk to a registry: refs that parse are replaced. */
function noNetwork(value: unknown): unknown {
  return typeof value === "string" && tryParseReference(value) ? `${value}/..` : value;
}

function shedName(r: ReturnType<typeof rng>): string {
  return r.chance(0.5) ? encodeURIComponent(String(r.pick(HOSTILE))) : `fz-${r.int(1000)}`;
}

function fieldsOf(ep: Endpoint): string[] {
  const entries = (ep.request as { entries?: Record<string, unknown> } | undefined)?.entries;
  return Object.keys(entries ?? {});
}

function jsonBody(r: ReturnType<typeof rng>, ep: Endpoint): string {
  switch (r.int(8)) {
    case 0:
      return "{not json";
    case 1:
      return "[".repeat(20_000) + "]".repeat(20_000);
    case 2:
      return JSON.stringify(r.pick(HOSTILE));
    case 3:
      return `{"name":"fz-1",${'"x":1,'.repeat(1000)}"y":2}`;
    default: {
      // The endpoint's own fields, each with a hostile value (and some unknown ones).
      const body: Record<string, unknown> = {};
      for (const f of fieldsOf(ep)) if (r.chance(0.7)) body[f] = noNetwork(r.pick(HOSTILE));
      if (r.chance(0.5)) body.name = `fz-${r.int(50)}`;
      if (r.chance(0.2)) body[String(r.pick(HOSTILE)).slice(0, 20)] = r.pick(HOSTILE);
      return JSON.stringify(body);
    }
  }
}

function binaryBody(r: ReturnType<typeof rng>): Uint8Array {
  switch (r.int(4)) {
    case 0:
      return new Uint8Array(0);
    case 1:
      return crypto.getRandomValues(new Uint8Array(1 + r.int(64 * 1024)));
    case 2: {
      // A tar header with a right checksum, then garbage: passes the first look, not the rest.
      const header = new Uint8Array(512);
      header.set(new TextEncoder().encode(`fuzz-${r.int(100)}`), 0);
      header.set(new TextEncoder().encode("0000644\0"), 100);
      header.set(new TextEncoder().encode(`${(1 + r.int(4000)).toString(8).padStart(11, "0")}\0`), 124);
      header[156] = 0x30;
      header.set(new TextEncoder().encode("ustar\0"), 257);
      header.fill(0x20, 148, 156);
      const sum = header.reduce((a, b) => a + b, 0);
      header.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, "0")}\0 `), 148);
      return new Uint8Array([...header, ...crypto.getRandomValues(new Uint8Array(r.int(2048)))]);
    }
    default:
      return new TextEncoder().encode("PK\u0003\u0004 not a tar at all");
  }
}

function request(r: ReturnType<typeof rng>): Sent {
  if (r.chance(0.03)) return { method: r.pick(METHODS), path: `/api/${encodeURIComponent(String(r.pick(HOSTILE)))}`, headers: {} };
  const ep = r.pick(ENDPOINTS);
  const method = r.chance(0.8) ? ep.method.toUpperCase() : r.pick(METHODS);
  let path = ep.path.replace("{name}", () => shedName(r)).replace("{session}", () => encodeURIComponent(String(r.pick(HOSTILE))));
  const query = new URLSearchParams();
  for (const key of ["ref", "tag", "force", "start", "tail", "format", "dockerfile", "build_arg", "platform", String(r.pick(HOSTILE)).slice(0, 10)]) {
    if (r.chance(0.3)) query.append(key, String(noNetwork(r.pick(HOSTILE))));
  }
  if (r.chance(0.1)) query.append("ref", "fuzz-absent/x:1");
  if ([...query.keys()].length) path += `?${query}`;
  const headers: Record<string, string> = {};
  if (r.chance(0.2)) headers.accept = "text/event-stream";
  if (r.chance(0.3)) headers["content-type"] = r.pick(["application/json", "application/x-tar", "text/plain", "multipart/form-data; boundary=x"]);
  if (method === "GET" || method === "HEAD") return { method, path, headers };
  const body = ep.binary === "request" ? binaryBody(r) : jsonBody(r, ep);
  return { method, path, headers, body };
}

/** SSE answers are 200 with the outcome inside: an error event's code must not be a 5xx either. */
function sseErrorStatus(text: string): number | undefined {
  const m = /event: error\ndata: (\{.*\})/.exec(text);
  if (!m) return undefined;
  const code = (JSON.parse(m[1]!) as { code?: string }).code;
  return isErrorCode(code) ? ERROR_CODES[code] : 599;
}

describe.skipIf(skip)("API fuzz (compiled shed-server, real dockerd)", () => {
  const roots = mkdtempSync(join(tmpdir(), "shed-fuzz-roots-"));
  let token = "";
  let open: TestServer;
  let locked: TestServer;
  const statuses = new Map<number, number>();
  let total = 0;

  beforeAll(async () => {
    const config = {
      enabled_backends: ["docker"],
      mount_roots: [roots],
      max_archive_bytes: 8 * 1024 * 1024,
      docker: { pull_policy: "never" },
      log_level: "warn",
    };
    open = await startServer({ config });
    locked = await startServer({ config: { ...config, auth: { mode: "token" } } });
    // Minted into the store the server reads (what the SSH bootstrap does; test/server/remote-tls.test.ts covers that path).
    token = new TokenStore(locked.stateDir).mint(3600, "fuzz").token;
  });
  afterAll(async () => {
    console.log(`API fuzz: ${total} requests, seed ${KNOBS.seed}; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    await open?.stop();
    await locked?.stop();
    cleanupDocker();
    rmSync(roots, { recursive: true, force: true });
  });

  async function fuzz(server: TestServer, count: number, seed: number, auth: (r: ReturnType<typeof rng>) => Record<string, string>) {
    const r = rng(seed);
    const failures: string[] = [];
    const before = rssMiB(server.pid);
    const batch = 8;
    for (let i = 0; i < count; i += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, count - i) }, async () => {
          const req = request(r);
          const headers = { ...req.headers, ...auth(r) };
          const res = await fetch(`${server.url}${req.path}`, { method: req.method, headers, body: req.body, tls: TEST_TLS }).catch((err) => err as Error);
          total++;
          if (res instanceof Error) {
            failures.push(`${req.method} ${req.path}: no answer (${res.message})`);
            return;
          }
          const text = req.method === "HEAD" ? "" : await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const status = res.headers.get("content-type")?.includes("event-stream") ? (sseErrorStatus(text) ?? res.status) : res.status;
          const where = `${req.method} ${req.path.slice(0, 200)}`;
          if (status >= 500) failures.push(`${where}: ${status} ${text.slice(0, 300)}`);
          if (/\n\s+at |\.ts:\d|\$bunfs|node_modules/.test(text)) failures.push(`${where}: a stack or source in ${text.slice(0, 300)}`);
          if (text.includes(server.dir)) failures.push(`${where}: a host path in ${text.slice(0, 300)}`);
          if (res.status === 405 && !res.headers.get("allow")) failures.push(`${where}: 405 without Allow`);
        }),
      );
    }
    // Huge bodies: JSON past its cap, an archive past its own.
    const huge = await fetch(`${server.url}/api/sheds`, { method: "POST", headers: auth(rng(1)), body: "x".repeat(3 * 1024 * 1024), tls: TEST_TLS });
    if (huge.status !== 413 && huge.status !== 401) failures.push(`huge JSON: ${huge.status}`);
    const archive = await fetch(`${server.url}/api/images/load`, { method: "POST", headers: auth(rng(1)), body: new Uint8Array(9 * 1024 * 1024), tls: TEST_TLS });
    if (archive.status !== 413 && archive.status !== 401) failures.push(`huge archive: ${archive.status}`);
    total += 2;

    expect(failures.slice(0, 20), `${failures.length} bad answers`).toEqual([]);
    expect(processAlive(server.pid)).toBe(true);
    expect((await fetch(`${server.url}/api/info`, { tls: TEST_TLS })).status).toBe(200);
    const after = rssMiB(server.pid);
    console.log(`API fuzz: shed-server RSS ${before.toFixed(0)} MiB before, ${after.toFixed(0)} MiB after ${count} requests`);
    expect(after).toBeLessThan(Math.max(512, before + 256));
  }

  it(`open mode: ${KNOBS.fuzzRequests} malformed requests, no 5xx, no stack, no host path`, async () => {
    await fuzz(open, KNOBS.fuzzRequests, KNOBS.seed, () => ({}));
    // Nothing the fuzz sent made a shed or a container.
    expect((await open.shedJson(["list"])).sheds).toEqual([]);
    expect(sh(`docker ps -aq --filter name=^${namePrefix}fz-`).trim()).toBe("");
  });

  it(`token mode: ${KNOBS.fuzzRequests} requests with no, wrong and right tokens`, async () => {
    const auth = (r: ReturnType<typeof rng>): Record<string, string> =>
      (
      r.pick([{}, { authorization: "Bearer wrong" }, { authorization: String(r.pick(HOSTILE)).replace(/[^\x20-\x7e]/g, "") }, { authorization: `Bearer ${token}` }, { authorization: `Bearer ${token}` }]) as Record<string, string>);
    await fuzz(locked, KNOBS.fuzzRequests, KNOBS.seed + 1, auth);
    expect(statuses.get(401)).toBeGreaterThan(0);
  });
});
