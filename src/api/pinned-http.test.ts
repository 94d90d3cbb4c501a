import { X509Certificate } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { selfSigned } from "../server/tls/certificate.ts";
import { ApiClient } from "./client.ts";
import { SERVER_API } from "./endpoints/server.ts";
import type { ShedError } from "./errors.ts";
import { BodyDecoder, PinMismatch, pinnedFetch, preconnect } from "./pinned-http.ts";
import { encodeEvent, readEventStream } from "./sse.ts";
import type { PinnedTls } from "./tls-pin.ts";

/**
 * The small HTTPS client against real TLS servers in this process: the pinned one, and an
 * impostor at another port with its own certificate (a man in the middle as the client sees it).
 */
const pinned = selfSigned("pinned", ["DNS:localhost"]);
const impostor = selfSigned("impostor", ["DNS:localhost", "IP:127.0.0.1"]);
const seen: { path: string; authorization: string | null }[] = [];

function serve(pair: { cert: string; key: string }) {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: pair,
    async fetch(req) {
      const url = new URL(req.url);
      seen.push({ path: url.pathname, authorization: req.headers.get("authorization") });
      if (url.pathname === "/events") {
        const events = [encodeEvent({ event: "progress", data: { phase: "pull", message: "a" } as never }), encodeEvent({ event: "result", data: { ok: true } })];
        return new Response(
          new ReadableStream({
            async start(c) {
              for (const e of events) {
                c.enqueue(new TextEncoder().encode(e));
                await Bun.sleep(5);
              }
              c.close();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      }
      if (url.pathname === "/stuck") return new Promise<Response>(() => {});
      if (url.pathname === "/api/openapi.json") return Response.json({ openapi: "3.1.0", echo: await req.text() });
      return new Response(null, { status: 204 });
    },
  });
}

const good = serve(pinned);
const bad = serve(impostor);
const goodPort = good.port!;
const badPort = bad.port!;
afterAll(() => {
  good.stop(true);
  bad.stop(true);
});

const pinFor = (port: number): PinnedTls => ({ port, certificate: pinned.cert, fingerprint: new X509Certificate(pinned.cert).fingerprint256 });
const url = (port: number, path: string) => new URL(`https://127.0.0.1:${port}${path}`);

describe("pinnedFetch", () => {
  it("answers a JSON call with the pinned certificate even though its names lack the address", async () => {
    const res = await pinnedFetch({ method: "POST", url: url(goodPort, "/api/openapi.json"), headers: new Headers({ authorization: "Bearer t1" }), body: '{"a":1}' }, pinFor(goodPort));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ openapi: "3.1.0", echo: '{"a":1}' });
    expect(seen.at(-1)).toEqual({ path: "/api/openapi.json", authorization: "Bearer t1" });
  });

  it("streams a chunked event stream as it comes", async () => {
    const res = await pinnedFetch({ method: "GET", url: url(goodPort, "/events"), headers: new Headers() }, pinFor(goodPort));
    const progress: unknown[] = [];
    expect(await readEventStream(res.body!, (e) => progress.push(e))).toEqual({ ok: true });
    expect(progress).toHaveLength(1);
  });

  it("a 204 has no body", async () => {
    const res = await pinnedFetch({ method: "DELETE", url: url(goodPort, "/nothing"), headers: new Headers() }, pinFor(goodPort));
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
  });

  it("another certificate at the pinned address is refused before the request (and its token) is written", async () => {
    const before = seen.length;
    const err = await pinnedFetch({ method: "GET", url: url(badPort, "/api/openapi.json"), headers: new Headers({ authorization: "Bearer secret" }) }, pinFor(badPort)).catch((e) => e);
    expect(err).toBeInstanceOf(PinMismatch);
    expect((err as PinMismatch).presented).toBe(new X509Certificate(impostor.cert).fingerprint256);
    expect(seen.length).toBe(before);
  });
});

describe("ApiClient over a pinned server", () => {
  const client = (port: number, timeoutMs = 10_000) => new ApiClient({ name: "far", host: "127.0.0.1", httpPort: 9, sshPort: 0, token: "t2", tls: pinFor(port) }, timeoutMs);

  it("calls the catalog with the token", async () => {
    expect(await client(goodPort).call(SERVER_API.getOpenApi)).toMatchObject({ openapi: "3.1.0" });
    expect(seen.at(-1)?.authorization).toBe("Bearer t2");
  });

  it("a mismatch is TLS_PIN_MISMATCH with both fingerprints and the re-pin command", async () => {
    const err = (await client(badPort).call(SERVER_API.getOpenApi).catch((e) => e)) as ShedError;
    expect(err.code).toBe("TLS_PIN_MISMATCH");
    expect(err.message).toContain(new X509Certificate(impostor.cert).fingerprint256);
    expect(err.message).toContain(pinFor(badPort).fingerprint);
    expect(err.message).toContain("shed server update far --refetch");
  });

  it("a server that never answers is TIMEOUT", async () => {
    const stuck = { ...SERVER_API.getOpenApi, path: "/stuck" } as unknown as typeof SERVER_API.getOpenApi;
    const err = (await client(goodPort, 300).call(stuck).catch((e) => e)) as ShedError;
    expect(err.code).toBe("TIMEOUT");
  });

  it("nobody listening is SERVER_UNREACHABLE, never a plain HTTP retry", async () => {
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("plain") });
    const port = closed.port!;
    closed.stop(true);
    const err = (await client(port).call(SERVER_API.getOpenApi).catch((e) => e)) as ShedError;
    expect(err.code).toBe("SERVER_UNREACHABLE");
  });
});

describe("a connection opened ahead of its request (preconnect)", () => {
  it("carries the next request to that server", async () => {
    preconnect("127.0.0.1", pinFor(goodPort));
    const res = await pinnedFetch({ method: "GET", url: url(goodPort, "/api/openapi.json"), headers: new Headers() }, pinFor(goodPort));
    expect(await res.json()).toMatchObject({ openapi: "3.1.0" });
  });

  it("to an impostor: the call is still TLS_PIN_MISMATCH, nothing written", async () => {
    const before = seen.length;
    preconnect("127.0.0.1", pinFor(badPort));
    const err = await pinnedFetch({ method: "GET", url: url(badPort, "/x"), headers: new Headers({ authorization: "Bearer secret" }) }, pinFor(badPort)).catch((e) => e);
    expect(err).toBeInstanceOf(PinMismatch);
    expect(seen.length).toBe(before);
  });

  it("one for another server is left alone", async () => {
    preconnect("127.0.0.1", pinFor(badPort));
    const res = await pinnedFetch({ method: "GET", url: url(goodPort, "/api/openapi.json"), headers: new Headers() }, pinFor(goodPort));
    expect(res.status).toBe(200);
    await res.body?.cancel();
  });
});

describe("BodyDecoder", () => {
  const decode = (d: BodyDecoder, parts: string[]) => parts.flatMap((p) => d.push(Buffer.from(p))).map((b) => Buffer.from(b).toString()).join("");

  it("chunked, split anywhere", () => {
    const wire = "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\n\r\n";
    for (let cut = 1; cut < wire.length; cut++) {
      const d = new BodyDecoder(undefined, true);
      expect(decode(d, [wire.slice(0, cut), wire.slice(cut)]), `cut at ${cut}`).toBe("hello world");
      expect(d.finished).toBe(true);
    }
  });

  it("content-length stops at its count", () => {
    const d = new BodyDecoder(3, false);
    expect(decode(d, ["ab", "cdef"])).toBe("abc");
    expect(d.finished).toBe(true);
  });
});
