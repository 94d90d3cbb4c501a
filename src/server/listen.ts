import type { Server } from "bun";
import type { Hono } from "hono";
import { ShedError } from "../api/errors.ts";
import type { ServerConfig } from "./config/schema.ts";
import type { ServerContext } from "./context.ts";
import { websocket } from "./websocket.ts";

export interface Listeners {
  http: Server<unknown>;
  https?: Server<unknown>;
  stop(): void;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function isLoopback(address: string): boolean {
  return LOOPBACK.test(address);
}

/**
 * auth.mode open serves anyone who reaches the port: only loopback, unless the operator says
 * the network itself is trusted. Refused before anything listens.
 */
export function checkExposure(config: ServerConfig): void {
  if (config.auth.mode !== "open" || isLoopback(config.bind_address) || config.allow_insecure_exposure) return;
  throw new ShedError(
    "INVALID_CONFIG",
    `auth.mode is open but bind_address ${config.bind_address} is not loopback: anyone who reaches it could run commands in your sheds; ` +
      "set auth.mode: token (HTTPS, tokens minted over SSH by `shed server add`), or allow_insecure_exposure: true if that network is trusted",
  );
}

/**
 * The API's sockets. open: the app on http_port. token and mtls: the app on https_port (TLS
 * 1.2 and up: Bun's default, checked by the tests with openssl s_client), and http_port
 * answering every request with HTTPS_REQUIRED (no redirect: a client that followed one
 * would have sent its token in the clear first).
 */
export function listen(ctx: ServerContext, app: Hono): Listeners {
  const config = ctx.config;
  const common = {
    hostname: config.bind_address,
    websocket,
    idleTimeout: 0,
    // Image archives and build contexts stream in as request bodies (Bun's default cap is
    // 128 MB); JSON bodies have their own, smaller cap (routes/body-limit.ts).
    maxRequestBodySize: config.max_archive_bytes,
  };
  if (config.auth.mode === "open") {
    const http = serve("HTTP", config.bind_address, config.http_port, "http_port (or --port)", () => Bun.serve({ ...common, port: config.http_port, fetch: app.fetch }));
    return { http, stop: () => http.stop(true) };
  }
  const tls = ctx.tls!;
  const https = serve("HTTPS", config.bind_address, config.https_port, "https_port (or --https-port)", () =>
    Bun.serve({
      ...common,
      port: config.https_port,
      fetch: app.fetch,
      tls: {
        cert: tls.cert,
        key: tls.key,
        ...(ctx.clientCa ? { ca: ctx.clientCa.cert, requestCert: true, rejectUnauthorized: true } : {}),
      },
    }),
  );
  const refusal = () => {
    const err = new ShedError(
      "HTTPS_REQUIRED",
      `this server takes HTTPS only (auth.mode ${config.auth.mode}), on port ${https.port}: add it with \`shed server add HOST\`, which pins its certificate over SSH`,
    );
    return Response.json(err.toJSON(), { status: err.status, headers: { "x-shed-https-port": String(https.port) } });
  };
  let http: Server<unknown>;
  try {
    http = serve("HTTP", config.bind_address, config.http_port, "http_port (or --port)", () => Bun.serve({ ...common, port: config.http_port, fetch: refusal }));
  } catch (err) {
    https.stop(true);
    throw err;
  }
  return {
    http,
    https,
    stop: () => {
      http.stop(true);
      https.stop(true);
    },
  };
}

function serve(what: string, host: string, port: number, key: string, start: () => Server<unknown>): Server<unknown> {
  try {
    return start();
  } catch (err) {
    const inUse = (err as NodeJS.ErrnoException).code === "EADDRINUSE" || /in use/i.test((err as Error).message);
    throw new ShedError(
      "INVALID_CONFIG",
      inUse
        ? `cannot listen for ${what} on ${host}:${port}: the port is in use; stop what uses it, or set ${key} to a free port`
        : `cannot listen for ${what} on ${host}:${port}: ${(err as Error).message}; check bind_address and ${key}`,
      { cause: err },
    );
  }
}
