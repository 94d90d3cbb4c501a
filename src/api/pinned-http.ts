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

/** What a request hears from its connection. */
interface ConnectionEvents {
  /** The handshake is done and the peer is the pin: the request may be written. */
  ready(): void;
  drain(): void;
  data(chunk: Uint8Array): void;
  closed(): void;
  failed(err: unknown): void;
}

type TlsSocketLike = { end(): void; write(data: Uint8Array): number; ref(): void; unref(): void };

/**
 * One TLS connection to a pinned server, for one request. It may be opened before the request
 * is known (`preconnect`), so the handshake overlaps the CLI's own start-up; until a request
 * takes it, it holds no reference on the event loop and nothing is written on it.
 */
export class PinnedConnection {
  private socket: TlsSocketLike | undefined;
  private events: ConnectionEvents | undefined;
  private verified = false;
  private failure: unknown;
  private over = false;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly pin: PinnedTls,
  ) {
    Bun.connect({
      hostname: host,
      port,
      // The pinned certificate as the only CA: no system bundle is loaded (that is the saving);
      // rejectUnauthorized is ours to decide in handshake (a self-signed pin without the
      // address in its names is still the pin).
      tls: {
        ca: pin.certificate,
        rejectUnauthorized: false,
        ...(/^[\d.:]+$/.test(host) ? {} : { serverName: host }),
        ...(pin.clientCert && pin.clientKey ? { cert: pin.clientCert, key: pin.clientKey } : {}),
      },
      socket: {
        open: (s) => {
          this.socket = s;
          if (!this.events) s.unref();
        },
        handshake: (s, _success, authorizationError) => {
          const presented = (s as unknown as { getPeerCertificate(): { fingerprint256?: string } | undefined }).getPeerCertificate()?.fingerprint256;
          if (!pinAccepts(pin, presented, authorizationError as { code?: string } | null)) return this.fail(new PinMismatch(presented));
          this.verified = true;
          this.events?.ready();
        },
        drain: () => this.events?.drain(),
        data: (_s, chunk) => this.events?.data(chunk),
        end: () => this.socket?.end(),
        close: () => {
          this.over = true;
          this.events?.closed();
        },
        error: (_s, err) => this.fail(err),
        connectError: (_s, err) => this.fail(err),
      },
    }).catch((err) => this.fail(err));
  }

  /** Whether a request can still take it: not failed, not closed, not taken. */
  get usable(): boolean {
    return !this.failure && !this.over && !this.events;
  }

  /** For the same server, pin and client certificate. */
  fits(host: string, port: number, pin: PinnedTls): boolean {
    const same = this.pin;
    return this.host === host && this.port === port && same.fingerprint === pin.fingerprint && same.clientCert === pin.clientCert && same.clientKey === pin.clientKey;
  }

  attach(events: ConnectionEvents): void {
    this.events = events;
    this.socket?.ref();
    if (this.failure) events.failed(this.failure);
    else if (this.over) events.closed();
    else if (this.verified) events.ready();
  }

  write(bytes: Uint8Array): number {
    return this.socket?.write(bytes) ?? 0;
  }

  end(): void {
    this.socket?.end();
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = err;
    this.socket?.end();
    this.events?.failed(err);
  }
}

/** The connection opened ahead of its request, if any (a CLI process makes one or two calls). */
let warm: PinnedConnection | undefined;

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

/** Opens the connection for a coming request now, so the handshake runs while the command starts. */
export function preconnect(host: string, pin: PinnedTls): void {
  if (!warm?.usable) warm = new PinnedConnection(host, pin.port, pin);
}

/** One request on its own connection (`connection: close`), answered as a fetch Response whose body streams. */
export function pinnedFetch(req: PinnedRequest, pin: PinnedTls): Promise<Response> {
  const host = hostOf(req.url);
  const port = Number(req.url.port || 443);
  let conn: PinnedConnection;
  if (warm?.usable && warm.fits(host, port, pin)) {
    conn = warm;
    warm = undefined;
  } else conn = new PinnedConnection(host, port, pin);
  return new Promise<Response>((resolve, reject) => {
    let settled = false;
    let head: Buffer | undefined = Buffer.alloc(0);
    let body: BodyDecoder | undefined;
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let pending = requestBytes(req);
    const fail = (err: unknown) => {
      conn.end();
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
      conn.end();
    };
    const flush = () => {
      if (pending.length === 0) return;
      const n = conn.write(pending);
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
    conn.attach({
      ready: flush,
      drain: flush,
      data(chunk) {
        if (head) onHead(chunk);
        else if (body) deliver(chunk);
      },
      closed() {
        if (body?.finished) return;
        if (body?.untilClose) {
          body.finished = true;
          controller?.close();
          return finish();
        }
        fail(closedEarly());
      },
      failed: fail,
    });
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
