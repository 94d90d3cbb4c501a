import type { PinnedTls } from "./tls-pin.ts";

/**
 * A small HTTP/1.1 client over `Bun.connect({ tls })` for the CLI's JSON and SSE calls to a
 * pinned HTTPS server. Why not fetch: a process's first HTTPS fetch loads and parses the
 * system CA bundle (several times) before its handshake, whatever the tls options, and a CLI
 * process makes one or two calls; a TLS socket given the pinned certificate as its only CA
 * loads nothing else. Measured with Bun 1.4.5 (bench/tls.bench.ts): fetch over HTTPS ~3.5 ms
 * CPU more than over HTTP per process, this ~0.8 ms.
 *
 * The pin is strict: the request (and the token in it) is written only after the handshake,
 * and only when the peer's certificate is the pinned one (SHA-256 of its DER); anything else
 * ends the connection with a PinMismatch naming what was presented.
 */

/** The certificate the peer presented is not the pinned one. */
export class PinMismatch extends Error {
  constructor(
    /** Its SHA-256 (`AB:CD:...`), or undefined when it presented none. */
    readonly presented: string | undefined,
  ) {
    super(`the peer's TLS certificate (${presented ?? "none"}) is not the pinned one`);
    this.name = "PinMismatch";
  }
}

export interface PinnedRequest {
  method: string;
  url: URL;
  headers: Headers;
  /** Small bodies only (JSON); streamed uploads stay on fetch. */
  body?: string;
  signal?: AbortSignal;
}

/** Errors carry a `code` the client's network-reason mapping knows. */
function closedEarly(): Error {
  return Object.assign(new Error("the connection closed before the answer was complete"), { code: "ConnectionClosed" });
}

/** The peer certificate is acceptable when it is the pinned one; the chain's host name is not checked (the pin says more than a name would). */
export function pinAccepts(pin: PinnedTls, presented: string | undefined, authorizationError: { code?: string } | null | undefined): boolean {
  if (presented !== pin.fingerprint) return false;
  return !authorizationError || authorizationError.code === "ERR_TLS_CERT_ALTNAME_INVALID";
}

/** One request on its own connection (`connection: close`), answered as a fetch Response whose body streams. */
export function pinnedFetch(req: PinnedRequest, pin: PinnedTls): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    let settled = false;
    let head: Buffer | undefined = Buffer.alloc(0);
    let body: BodyDecoder | undefined;
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let socket: { end(): void; write(data: Uint8Array): number } | undefined;
    let pending = requestBytes(req);
    const fail = (err: unknown) => {
      socket?.end();
      if (!settled) {
        settled = true;
        reject(err);
      } else if (body && !body.finished) {
        body.finished = true;
        controller?.error(err);
      }
    };
    const onAbort = () => fail(req.signal?.reason ?? new Error("aborted"));
    if (req.signal?.aborted) return onAbort();
    req.signal?.addEventListener("abort", onAbort, { once: true });
    const finish = () => {
      req.signal?.removeEventListener("abort", onAbort);
      socket?.end();
    };
    const flush = () => {
      if (!socket || pending.length === 0) return;
      const n = socket.write(pending);
      pending = pending.subarray(Math.max(0, n));
    };
    const deliver = (bytes: Uint8Array) => {
      if (body!.finished) return;
      let pieces: Uint8Array[];
      try {
        pieces = body!.push(bytes);
      } catch (err) {
        return fail(err);
      }
      for (const piece of pieces) controller!.enqueue(piece);
      if (body!.finished) {
        controller!.close();
        finish();
      }
    };
    const onHead = (chunk: Uint8Array) => {
      head = Buffer.concat([head!, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (head.length > 64 * 1024) fail(Object.assign(new Error("the answer's headers are too long"), { code: "ProtocolError" }));
        return;
      }
      const parsed = parseHead(head.subarray(0, end).toString("latin1"));
      const rest = head.subarray(end + 4);
      head = undefined;
      if (!parsed) return fail(Object.assign(new Error("the answer is not HTTP/1.1"), { code: "ProtocolError" }));
      const noBody = req.method === "HEAD" || parsed.status === 204 || parsed.status === 304;
      body = new BodyDecoder(noBody ? 0 : parsed.length, parsed.chunked);
      const stream = noBody
        ? null
        : new ReadableStream<Uint8Array>({
            start(c) {
              controller = c;
            },
            cancel() {
              body!.finished = true;
              finish();
            },
          });
      settled = true;
      resolve(new Response(stream, { status: parsed.status, statusText: parsed.statusText, headers: parsed.headers }));
      if (noBody) return finish();
      deliver(rest);
    };
    Bun.connect({
      hostname: req.url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(req.url.port || 443),
      // The pinned certificate as the only CA: no system bundle is loaded (that is the saving);
      // rejectUnauthorized is ours to decide in handshake (a self-signed pin without the
      // address in its names is still the pin).
      tls: {
        ca: pin.certificate,
        rejectUnauthorized: false,
        ...(/^[\d.:[\]]+$/.test(req.url.hostname) ? {} : { serverName: req.url.hostname }),
        ...(pin.clientCert && pin.clientKey ? { cert: pin.clientCert, key: pin.clientKey } : {}),
      },
      socket: {
        open(s) {
          socket = s;
        },
        handshake(s, _success, authorizationError) {
          const presented = (s as unknown as { getPeerCertificate(): { fingerprint256?: string } | undefined }).getPeerCertificate()?.fingerprint256;
          if (!pinAccepts(pin, presented, authorizationError as { code?: string } | null)) return fail(new PinMismatch(presented));
          flush();
        },
        drain() {
          flush();
        },
        data(_s, chunk) {
          if (head) onHead(chunk);
          else if (body) deliver(chunk);
        },
        end() {
          socket?.end();
        },
        close() {
          if (body?.finished) return;
          if (body?.untilClose) {
            body.finished = true;
            controller?.close();
            return finish();
          }
          fail(closedEarly());
        },
        error(_s, err) {
          fail(err);
        },
        connectError(_s, err) {
          fail(err);
        },
      },
    }).catch(fail);
  });
}

function requestBytes(req: PinnedRequest): Uint8Array {
  const lines = [`${req.method} ${req.url.pathname}${req.url.search} HTTP/1.1`, `host: ${req.url.host}`, "connection: close"];
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  req.headers.forEach((value, name) => {
    if (!/^(host|connection|content-length|transfer-encoding)$/i.test(name)) lines.push(`${name}: ${value}`);
  });
  if (body) lines.push(`content-length: ${body.length}`);
  const headBytes = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  return body ? Buffer.concat([headBytes, body]) : headBytes;
}

interface ParsedHead {
  status: number;
  statusText: string;
  headers: Headers;
  length: number | undefined;
  chunked: boolean;
}

export function parseHead(text: string): ParsedHead | undefined {
  const [statusLine, ...lines] = text.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine ?? "");
  if (!m) return undefined;
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const chunked = /\bchunked\b/i.test(headers.get("transfer-encoding") ?? "");
  const len = headers.get("content-length");
  return { status: Number(m[1]), statusText: m[2] ?? "", headers, length: chunked || len === null ? undefined : Number(len), chunked };
}

/** Turns the bytes after the head into the body's bytes: by content-length, chunked, or until the connection closes. */
export class BodyDecoder {
  finished = false;
  readonly untilClose: boolean;
  private remaining: number;
  private buffer = Buffer.alloc(0);
  /** chunked: reading a size line, a chunk's data, the CRLF after it, or the trailers. */
  private state: "size" | "data" | "crlf" | "trailer" = "size";

  constructor(
    length: number | undefined,
    private readonly chunked: boolean,
  ) {
    this.untilClose = !chunked && length === undefined;
    this.remaining = length ?? 0;
    if (!chunked && length === 0) this.finished = true;
  }

  push(bytes: Uint8Array): Uint8Array[] {
    if (this.finished) return [];
    if (this.untilClose) return bytes.length ? [bytes] : [];
    if (!this.chunked) {
      const piece = bytes.subarray(0, this.remaining);
      this.remaining -= piece.length;
      if (this.remaining === 0) this.finished = true;
      return piece.length ? [piece] : [];
    }
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, bytes]) : Buffer.from(bytes);
    const out: Uint8Array[] = [];
    while (!this.finished) {
      if (this.state === "data") {
        if (this.buffer.length === 0) break;
        const piece = this.buffer.subarray(0, this.remaining);
        this.buffer = this.buffer.subarray(piece.length);
        this.remaining -= piece.length;
        out.push(piece);
        if (this.remaining === 0) this.state = "crlf";
        continue;
      }
      const eol = this.buffer.indexOf("\r\n");
      if (eol < 0) break;
      const line = this.buffer.subarray(0, eol).toString("latin1");
      this.buffer = this.buffer.subarray(eol + 2);
      if (this.state === "crlf") this.state = "size";
      else if (this.state === "trailer") {
        if (line === "") this.finished = true;
      } else {
        const size = Number.parseInt(line.split(";")[0]!, 16);
        if (!Number.isFinite(size)) throw Object.assign(new Error("bad chunk size in the answer"), { code: "ProtocolError" });
        if (size === 0) this.state = "trailer";
        else {
          this.remaining = size;
          this.state = "data";
        }
      }
    }
    return out;
  }
}
