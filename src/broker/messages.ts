import * as v from "valibot";

/**
 * What shed-server and `shed broker` say to each other over GET /api/broker: one JSON
 * document per line, both ways. The server asks (one request per brokered guest request),
 * the broker answers with the same id. Defined once; both ends validate what they read.
 */

const shed = v.pipe(v.string(), v.minLength(1), v.maxLength(128));
const id = v.pipe(v.number(), v.integer(), v.minValue(1));

export const BrokerRequestSchema = v.variant("kind", [
  /** One SSH agent protocol message (base64, without its length prefix): REQUEST_IDENTITIES or SIGN_REQUEST only. */
  v.object({ id, shed, kind: v.literal("ssh"), message: v.pipe(v.string(), v.base64(), v.maxLength(512 * 1024)) }),
  /** The docker credential helper's `get`: the registry the guest's Docker asks about. */
  v.object({ id, shed, kind: v.literal("docker"), serverURL: v.pipe(v.string(), v.minLength(1), v.maxLength(2048)) }),
  /** Short-lived AWS credentials from the user's configuration. */
  v.object({ id, shed, kind: v.literal("aws") }),
  /** What the broker can answer (shed-ext status). */
  v.object({ id, shed, kind: v.literal("status") }),
]);
export type BrokerRequest = v.InferOutput<typeof BrokerRequestSchema>;
export type BrokerKind = BrokerRequest["kind"];

export const BrokerReplySchema = v.union([
  v.object({ id, ok: v.literal(true), result: v.record(v.string(), v.unknown()) }),
  v.object({ id, ok: v.literal(false), code: v.string(), message: v.string() }),
]);
export type BrokerReply = v.InferOutput<typeof BrokerReplySchema>;

/** The server's first line: who the broker is talking to. */
export const BrokerWelcomeSchema = v.object({ welcome: v.object({ server: v.string(), version: v.string() }) });

/** The server's last line before it closes: why (another broker took this one's place, or one is already connected). */
export const BrokerByeSchema = v.object({ bye: v.object({ reason: v.string() }) });

/** The results, per kind. */
export const SshResultSchema = v.object({ message: v.pipe(v.string(), v.base64()) });
export const DockerResultSchema = v.object({ ServerURL: v.string(), Username: v.string(), Secret: v.string() });
/** The container credentials provider's shape (what AWS_CONTAINER_CREDENTIALS_FULL_URI answers). */
export const AwsResultSchema = v.object({ AccessKeyId: v.string(), SecretAccessKey: v.string(), Token: v.optional(v.string()), Expiration: v.optional(v.string()) });
export const StatusResultSchema = v.object({
  host: v.string(),
  ssh: v.string(),
  docker: v.string(),
  aws: v.string(),
});
export type StatusResult = v.InferOutput<typeof StatusResultSchema>;

/** Splits a byte stream into lines (JSON documents); a line past `max` bytes is an error. */
export class LineReader {
  private buf = "";
  private readonly decoder = new TextDecoder();

  constructor(private readonly max = 1024 * 1024) {}

  push(chunk: Uint8Array): string[] {
    this.buf += this.decoder.decode(chunk, { stream: true });
    const lines = this.buf.split("\n");
    this.buf = lines.pop()!;
    if (this.buf.length > this.max) throw new Error(`a line longer than ${this.max} bytes`);
    return lines.filter((l) => l.trim() !== "");
  }
}

export function encodeLine(doc: unknown): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(doc)}\n`);
}
