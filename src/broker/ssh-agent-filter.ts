import { createHash } from "node:crypto";

/**
 * The part of the SSH agent protocol (draft-miller-ssh-agent) a brokered shed may use:
 * listing keys and asking for a signature. Everything else (adding, removing, locking keys,
 * extensions) is answered SSH_AGENT_FAILURE without reaching the user's agent. Both the
 * server and the broker check every message with this.
 */
export const SSH_AGENT_FAILURE = 5;
export const SSH_AGENTC_REQUEST_IDENTITIES = 11;
export const SSH_AGENT_IDENTITIES_ANSWER = 12;
export const SSH_AGENTC_SIGN_REQUEST = 13;
export const SSH_AGENT_SIGN_RESPONSE = 14;

/** Largest message either side takes (OpenSSH's own agent limit). */
export const MAX_AGENT_MESSAGE = 256 * 1024;

export type AgentRequest =
  | { allowed: true; kind: "identities" }
  | { allowed: true; kind: "sign"; fingerprint: string; keyType: string }
  | { allowed: false; type: number };

/** What a message (type byte and contents, no length prefix) asks for, and whether it may. */
export function inspectRequest(msg: Uint8Array): AgentRequest {
  const type = msg[0] ?? -1;
  if (type === SSH_AGENTC_REQUEST_IDENTITIES && msg.length === 1) return { allowed: true, kind: "identities" };
  if (type === SSH_AGENTC_SIGN_REQUEST) {
    const r = new Reader(msg, 1);
    const blob = r.string();
    const data = r.string();
    const flags = r.uint32();
    if (blob && data && flags !== undefined && r.done()) return { allowed: true, kind: "sign", fingerprint: fingerprint(blob), keyType: keyType(blob) };
  }
  return { allowed: false, type };
}

/** A reply the broker's own agent gave, checked to be one a listing or a signature may get. */
export function replyFits(request: AgentRequest, reply: Uint8Array): boolean {
  if (!request.allowed) return false;
  if (reply[0] === SSH_AGENT_FAILURE) return reply.length === 1;
  return request.kind === "identities" ? reply[0] === SSH_AGENT_IDENTITIES_ANSWER : reply[0] === SSH_AGENT_SIGN_RESPONSE;
}

export interface Identity {
  blob: Uint8Array;
  comment: string;
}

export function parseIdentities(reply: Uint8Array): Identity[] {
  if (reply[0] !== SSH_AGENT_IDENTITIES_ANSWER) return [];
  const r = new Reader(reply, 1);
  const n = r.uint32() ?? 0;
  const out: Identity[] = [];
  for (let i = 0; i < n; i++) {
    const blob = r.string();
    const comment = r.string();
    if (!blob || !comment) break;
    out.push({ blob, comment: new TextDecoder().decode(comment) });
  }
  return out;
}

export function identitiesAnswer(ids: Identity[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(SSH_AGENT_IDENTITIES_ANSWER), u32(ids.length)];
  for (const id of ids) parts.push(sshString(id.blob), sshString(new TextEncoder().encode(id.comment)));
  return Buffer.concat(parts);
}

/**
 * The listing a shed gets when no broker is connected: one stand-in key whose comment is the
 * message, so `ssh-add -l` in the guest says what to do (the agent protocol has no error text).
 * Its public half is all zeros: nothing can sign with it, a sign request for it fails.
 */
export function placeholderIdentities(message: string): Uint8Array {
  const blob = Buffer.concat([sshString(new TextEncoder().encode("ssh-ed25519")), sshString(new Uint8Array(32))]);
  return identitiesAnswer([{ blob, comment: message }]);
}

/** SHA256:base64 (no padding) of a public key blob, as ssh-keygen -l prints it. */
export function fingerprint(blob: Uint8Array): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

function keyType(blob: Uint8Array): string {
  const t = new Reader(blob, 0).string();
  return t ? new TextDecoder().decode(t) : "unknown";
}

/** Length-prefixed messages out of a byte stream. */
export class AgentFrameReader {
  private buf: Uint8Array = new Uint8Array(0);

  /** The complete messages in what has arrived so far; throws past MAX_AGENT_MESSAGE. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.buf.length < 4) break;
      const len = new DataView(this.buf.buffer, this.buf.byteOffset, 4).getUint32(0);
      if (len === 0 || len > MAX_AGENT_MESSAGE) throw new Error(`an SSH agent message of ${len} bytes`);
      if (this.buf.length < 4 + len) break;
      out.push(this.buf.slice(4, 4 + len));
      this.buf = this.buf.subarray(4 + len);
    }
    return out;
  }
}

/** A message with its length prefix, for the wire. */
export function frameMessage(msg: Uint8Array): Uint8Array {
  return Buffer.concat([u32(msg.length), msg]);
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function sshString(data: Uint8Array): Uint8Array {
  return Buffer.concat([u32(data.length), data]);
}

class Reader {
  constructor(
    private readonly buf: Uint8Array,
    private at: number,
  ) {}

  uint32(): number | undefined {
    if (this.at + 4 > this.buf.length) return undefined;
    const n = new DataView(this.buf.buffer, this.buf.byteOffset + this.at, 4).getUint32(0);
    this.at += 4;
    return n;
  }

  string(): Uint8Array | undefined {
    const len = this.uint32();
    if (len === undefined || this.at + len > this.buf.length) return undefined;
    const s = this.buf.subarray(this.at, this.at + len);
    this.at += len;
    return s;
  }

  done(): boolean {
    return this.at === this.buf.length;
  }
}
