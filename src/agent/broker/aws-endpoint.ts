import { readFileSync } from "node:fs";
import { ShedError, toShedError } from "../../api/errors.ts";
import { sameSecret } from "../../api/same-secret.ts";
import type { Logger } from "../../log/logger.ts";
import { callBroker } from "./guest-call.ts";
import { BROKER_ENV_FILE, parseBrokerEnv } from "./guest-protocol.ts";

/**
 * The AWS container credentials endpoint in the guest (AWS_CONTAINER_CREDENTIALS_FULL_URI of
 * broker.env, loopback only): each GET asks the user's broker for credentials and answers
 * them as they came; nothing is kept, in memory or on disk. When broker.env also sets
 * AWS_CONTAINER_AUTHORIZATION_TOKEN, requests must carry it in Authorization, as the SDKs send it.
 */
export function serveAwsEndpoint(logger: Logger, envFile = BROKER_ENV_FILE): { stop(): void } | undefined {
  let env: Record<string, string>;
  try {
    env = parseBrokerEnv(readFileSync(envFile, "utf8"));
  } catch {
    return undefined;
  }
  const uri = env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  if (!uri) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    logger.warn("broker.env: AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL", { uri });
    return undefined;
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (url.protocol !== "http:" || !["127.0.0.1", "localhost", "::1"].includes(host)) {
    logger.warn("broker.env: the AWS endpoint must be http on loopback", { uri });
    return undefined;
  }
  const token = env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
  const server = Bun.serve({
    hostname: host === "localhost" ? "127.0.0.1" : host,
    port: Number(url.port || 80),
    fetch: async (req) => {
      const path = new URL(req.url).pathname;
      if (req.method !== "GET" || path !== url.pathname) return errorResponse(new ShedError("NOT_FOUND", `only GET ${url.pathname} is served here`));
      if (token && !sameSecret(req.headers.get("authorization") ?? "", token)) return errorResponse(new ShedError("UNAUTHORIZED", "Authorization does not carry AWS_CONTAINER_AUTHORIZATION_TOKEN"));
      try {
        return Response.json(await callBroker({ kind: "aws" }), { headers: { "cache-control": "no-store" } });
      } catch (err) {
        return errorResponse(toShedError(err));
      }
    },
  });
  logger.info("AWS credentials endpoint", { url: uri });
  return { stop: () => server.stop(true) };
}

function errorResponse(err: ShedError): Response {
  return Response.json({ code: err.code, message: err.message }, { status: err.status, headers: { "cache-control": "no-store" } });
}
