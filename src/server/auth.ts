import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { MiddlewareHandler } from "hono";
import { ShedError } from "../api/errors.ts";
import type { ServerContext } from "./context.ts";

/** Endpoints a client may call before it has a token: to find out what it is talking to. */
const PUBLIC_PATHS = new Set(["/api/info", "/api/ssh-host-key", "/api/openapi.json"]);

export function serverToken(config: ServerContext["config"]): string | undefined {
  if (config.auth.mode !== "token") return undefined;
  if (config.auth.token) return config.auth.token;
  return readFileSync(config.auth.token_file!, "utf8").trim();
}

/** Compares in constant time; hashing first makes the lengths equal without leaking them. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

export function requireToken(ctx: ServerContext): MiddlewareHandler {
  const expected = serverToken(ctx.config);
  return async (c, next) => {
    if (expected === undefined || PUBLIC_PATHS.has(c.req.path)) return next();
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) {
      throw new ShedError(
        "UNAUTHORIZED",
        "this server needs a token: add it with `shed server add <host> --token <token>`",
      );
    }
    if (!tokensEqual(match[1]!.trim(), expected)) {
      throw new ShedError("UNAUTHORIZED", "the token was not accepted by the server");
    }
    return next();
  };
}
