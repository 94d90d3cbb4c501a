import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENDPOINTS, type Endpoint } from "../../src/api/endpoints.ts";
import { startServer, type TestServer } from "../harness/index.ts";

/**
 * The HTTP contract at the edge (issue 14, defects 1 and 6): every path and query parameter
 * of every catalog route is checked before any handler or file access; wrong methods are 405
 * with Allow; bodies past the cap are 413 before they are read. The server's Docker socket
 * points nowhere, so nothing here depends on dockerd.
 */

/** Path-parameter values that must never reach a handler, sent percent-encoded as one segment. */
const HOSTILE = ["../x", "..%2f..%2ftmp%2fprobe", "/", "a/b", "\0", "a\0b", "a".repeat(64), "ü", "名前", " x", "-lead", "%00", "x;y", "$(id)"];
/**
 * Sent as they are, not encoded: already-encoded traversal. (A bare `..` or `.` segment never
 * reaches a route: URL parsing resolves dot segments before routing, so `/api/sheds/x/..` is
 * `/api/sheds`; clients must refuse such names themselves.)
 */
const RAW = ["%2e%2e%2f", "..%2f..%2f..%2ftmp%2fprobe", "%2E%2E%2Fetc%2Fpasswd", "a%2fb", "%00"];

function pathWith(ep: Endpoint, param: string, segment: string): string {
  return ep.path.replace(/\{(\w+)\}/g, (_, p: string) => (p === param ? segment : p === "name" ? "ok" : "default"));
}

/** One raw HTTP/1.1 request, so nothing on the client side rewrites the target. */
function rawRequest(port: number, method: string, target: string, headers: Record<string, string> = {}, body = ""): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1", () => {
      const lines = [`${method} ${target} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
      sock.write(`${lines.join("\r\n")}\r\n\r\n${body}`);
    });
    let buf = "";
    sock.on("data", (d) => (buf += d.toString()));
    sock.on("error", reject);
    sock.on("close", () => {
      const [head = "", ...rest] = buf.split("\r\n\r\n");
      resolve({ status: Number(head.split(" ")[1]), head, body: rest.join("\r\n\r\n") });
    });
  });
}

describe("the contract checks every parameter before a handler runs", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ config: { docker: { socket: "/nonexistent/docker.sock" } } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const withParams = ENDPOINTS.filter((ep) => /\{\w+\}/.test(ep.path));

  it("the catalog declares a schema for each path parameter", () => {
    for (const ep of withParams) {
      const names = [...ep.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      expect(Object.keys(ep.params ?? {}).sort(), `${ep.method} ${ep.path}`).toEqual(names.sort());
    }
  });

  it("hostile path parameters are 400 INVALID_NAME on every route, and touch no file", async () => {
    let checked = 0;
    for (const ep of withParams) {
      for (const param of [...ep.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!)) {
        const targets = [...HOSTILE.map((v) => encodeURIComponent(v)), ...RAW];
        for (const segment of targets) {
          const target = pathWith(ep, param, segment);
          const res = await rawRequest(server.port, ep.method.toUpperCase(), target);
          const body = JSON.parse(res.body || "{}") as { code?: string; message?: string };
          expect(res.status, `${ep.method} ${target}: ${res.body}`).toBe(400);
          expect(["INVALID_NAME", "INVALID_REQUEST"], `${ep.method} ${target}`).toContain(body.code);
          // The answer says nothing about files outside the state dir.
          expect(body.message ?? "").not.toMatch(/\.json|state file|unreadable/);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("hostile image refs in query strings are 400 INVALID_REQUEST", async () => {
    const refRoutes = ENDPOINTS.filter((ep) => ep.query && "ref" in (ep.query as { entries?: object }).entries!);
    expect(refRoutes.length).toBeGreaterThanOrEqual(4);
    for (const ep of refRoutes) {
      for (const ref of ["..", "../../etc/passwd", "a\0b", "x".repeat(2000), "UPPER//x", "ü:1"]) {
        const res = await fetch(`${server.url}${ep.path}?ref=${encodeURIComponent(ref)}`, { method: ep.method.toUpperCase() });
        const body = (await res.json()) as { code: string };
        expect(res.status, `${ep.method} ${ep.path} ref=${JSON.stringify(ref)}`).toBe(400);
        expect(body.code).toBe("INVALID_REQUEST");
      }
    }
  });

  it("the old traversal is closed: GET /api/sheds/..%2f..%2f..%2ftmp%2fprobe/sessions", async () => {
    await Bun.write("/tmp/probe.json", JSON.stringify({ name: "probe" }));
    try {
      for (const suffix of ["sessions", "logs", "sessions/x"]) {
        const res = await rawRequest(server.port, suffix === "sessions/x" ? "DELETE" : "GET", `/api/sheds/..%2f..%2f..%2ftmp%2fprobe/${suffix}`);
        expect(res.status).toBe(400);
        expect(JSON.parse(res.body).code).toBe("INVALID_NAME");
      }
    } finally {
      await Bun.file("/tmp/probe.json").delete();
    }
  });

  it("a wrong method is 405 with Allow, not 404", async () => {
    const cases: [string, string, string[]][] = [
      ["PUT", "/api/sheds", ["GET", "POST"]],
      ["PATCH", "/api/sheds/ok", ["GET", "DELETE"]],
      ["GET", "/api/sheds/ok/start", ["POST"]],
      ["POST", "/api/images/inspect", ["GET"]],
      ["DELETE", "/api/info", ["GET"]],
    ];
    for (const [method, path, allowed] of cases) {
      const res = await fetch(`${server.url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect((res.headers.get("allow") ?? "").split(/,\s*/).sort(), `${method} ${path}`).toEqual(expect.arrayContaining(allowed));
      expect(((await res.json()) as { code: string }).code).toBe("METHOD_NOT_ALLOWED");
    }
    const unknown = await fetch(`${server.url}/api/nope`, { method: "PUT" });
    expect(unknown.status).toBe(404);
  });

  it("a JSON body over the cap is 413 before it is read; a chunked one too", async () => {
    const big = JSON.stringify({ name: "big", env: { A: "x".repeat(2 * 1024 * 1024) } });
    const res = await fetch(`${server.url}/api/sheds`, { method: "POST", headers: { "content-type": "application/json" }, body: big });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("PAYLOAD_TOO_LARGE");
    expect(body.message).toContain("1048576");
    // No Content-Length: the server counts as it reads and stops at the cap.
    let sent = 0;
    const chunked = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (sent > 64 * 1024 * 1024) return ctrl.close();
        sent += 1 << 20;
        ctrl.enqueue(new Uint8Array(1 << 20).fill(0x20));
      },
    });
    const res2 = await fetch(`${server.url}/api/sheds/ok/stop`, { method: "POST", body: chunked, duplex: "half" } as RequestInit);
    expect(res2.status).toBe(413);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it("numbers past their bounds are 400 with the limit in the message", async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ name: "a", memoryMb: 1e30 }, "memoryMb", "1048576"],
      [{ name: "a", memoryMb: 2 ** 53 }, "memoryMb", "1048576"],
      [{ name: "a", cpus: 1e9 }, "cpus", "256"],
      [{ name: "a", timeoutSeconds: 1e12 }, "timeoutSeconds", "86400"],
      [{ name: "a", cpus: -1 }, "cpus", "0.1"],
    ];
    for (const [body, field, limit] of cases) {
      const res = await fetch(`${server.url}/api/sheds`, { method: "POST", body: JSON.stringify(body) });
      const err = (await res.json()) as { code: string; message: string };
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(err.message).toContain(field);
      expect(err.message).toContain(limit);
    }
    const stop = await fetch(`${server.url}/api/sheds/ok/stop`, { method: "POST", body: JSON.stringify({ timeoutSeconds: 1e9 }) });
    expect(stop.status).toBe(400);
    expect(((await stop.json()) as { message: string }).message).toContain("3600");
    const tail = await fetch(`${server.url}/api/sheds/ok/logs?tail=99999999999999999999`);
    expect(tail.status).toBe(400);
    expect(((await tail.json()) as { message: string }).message).toContain("16777216");
  });

  it("a garbage build archive is 400, not 503", async () => {
    const res = await fetch(`${server.url}/api/images/build`, { method: "POST", body: new Uint8Array(4096).fill(0x41) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("INVALID_REQUEST");
  });
});
