import * as v from "valibot";

/**
 * Brokered credentials as the guest sees them. An image that carries /etc/shed/broker.env
 * (the experimental variant) asks for them: the server then listens, through the agent, on
 * SSH_AUTH_SOCK and on BROKER_SOCKET, and relays what arrives to the user's `shed broker`.
 * BROKER_SOCKET takes one JSON line and answers one (docker-credential-shed, shed-ext, the
 * AWS endpoint the agent serves on AWS_CONTAINER_CREDENTIALS_FULL_URI).
 */
export const BROKER_ENV_FILE = "/etc/shed/broker.env";
export const BROKER_SOCKET = "/run/shed/broker.sock";

/** What every brokered path says in the guest when the user runs no broker. */
export const NO_BROKER_MESSAGE = "no broker connected: run `shed broker` on your machine";

export const GuestRequestSchema = v.variant("kind", [
  v.object({ kind: v.literal("docker"), serverURL: v.pipe(v.string(), v.minLength(1), v.maxLength(2048)) }),
  v.object({ kind: v.literal("aws") }),
  v.object({ kind: v.literal("status") }),
]);
export type GuestRequest = v.InferOutput<typeof GuestRequestSchema>;

export const GuestReplySchema = v.union([
  v.object({ ok: v.literal(true), result: v.record(v.string(), v.unknown()) }),
  v.object({ ok: v.literal(false), code: v.string(), message: v.string() }),
]);
export type GuestReply = v.InferOutput<typeof GuestReplySchema>;

/** What shed-ext status prints: the server's view, and the broker's own when one is connected. */
export const GuestStatusSchema = v.object({
  broker: v.union([v.object({ connected: v.literal(false), message: v.string() }), v.object({ connected: v.literal(true), since: v.string(), peer: v.string() })]),
  ssh: v.optional(v.string()),
  docker: v.optional(v.string()),
  aws: v.optional(v.string()),
  host: v.optional(v.string()),
});
export type GuestStatus = v.InferOutput<typeof GuestStatusSchema>;

/** KEY=VALUE lines of broker.env (comments, blank lines and `export` allowed; one pair of quotes removed). */
export function parseBrokerEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!m) continue;
    const value = m[2]!.trim();
    env[m[1]!] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
  }
  return env;
}
