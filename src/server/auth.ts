import { sameSecret } from "../api/same-secret.ts";
import type { MiddlewareHandler } from "hono";
import { ENDPOINTS } from "../api/endpoints.ts";
import { ShedError } from "../api/errors.ts";
import type { ServerContext } from "./context.ts";

/** Endpoints a client may call without credentials: to find out what it is talking to. */
const PUBLIC_PATHS = new Set(ENDPOINTS.filter((e) => e.public).map((e) => e.path));

/**
 * The API's credentials check. open: none. token: `Authorization: Bearer shed_...`, checked
 * against the token store's hashes (every route, the agent WebSocket and the SSE streams go
 * through here). mtls: the TLS layer already refused a client without a valid certificate the
 * server's CA signed; the token that came with that certificate is checked here too, so a
 * revoked certificate is refused at once (Bun does not show a handler the peer certificate).
 * Never logs the token; a refusal says what to do.
 */
export function requireCredentials(ctx: ServerContext): MiddlewareHandler {
  const tokens = ctx.tokens;
  return async (c, next) => {
    if (ctx.config.auth.mode === "open" || !tokens || PUBLIC_PATHS.has(c.req.path)) return next();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
    if (!match) {
      const what = ctx.config.auth.mode === "mtls" ? "the token that comes with its client certificate" : "a token";
      throw new ShedError("UNAUTHORIZED", `this server needs ${what}: add it with \`shed server add HOST\` (mints one over SSH), or \`shed server update NAME --refetch\``);
    }
    if (ctx.internalToken && sameSecret(match[1]!, ctx.internalToken)) return next();
    const check = tokens.check(match[1]!);
    if (check.ok) return next();
    if (check.reason === "expired") throw new ShedError("TOKEN_EXPIRED", "the token has expired: the CLI gets a new one over SSH (`shed server update NAME --refetch`)");
    throw new ShedError("UNAUTHORIZED", "the token was not accepted by the server (revoked, or from another server): get a new one with `shed server update NAME --refetch`");
  };
}
