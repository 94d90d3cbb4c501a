import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  AgentFrameReader,
  frameMessage,
  identitiesAnswer,
  inspectRequest,
  parseIdentities,
  placeholderIdentities,
  replyFits,
  SSH_AGENT_FAILURE,
} from "./ssh-agent-filter.ts";

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const str = (s: string | Uint8Array) => {
  const b = typeof s === "string" ? Buffer.from(s) : Buffer.from(s);
  return Buffer.concat([u32(b.length), b]);
};
const blob = Buffer.concat([str("ssh-ed25519"), str(new Uint8Array(32).fill(7))]);
const sign = (extra: Buffer = Buffer.alloc(0)) => Buffer.concat([Buffer.of(13), str(blob), str("session data"), u32(0), extra]);

describe("SSH agent message filter", () => {
  it("lets a listing and a well-formed sign request through, with the key's SHA256 fingerprint", () => {
    expect(inspectRequest(Buffer.of(11))).toEqual({ allowed: true, kind: "identities" });
    const want = `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
    expect(inspectRequest(sign())).toEqual({ allowed: true, kind: "sign", fingerprint: want, keyType: "ssh-ed25519" });
  });

  it("refuses adding, removing, locking keys and extensions", () => {
    // ADD_IDENTITY 17, REMOVE_IDENTITY 18, REMOVE_ALL 19, LOCK 22, UNLOCK 23, ADD_ID_CONSTRAINED 25, EXTENSION 27
    for (const type of [17, 18, 19, 22, 23, 25, 27, 1, 9]) {
      expect(inspectRequest(Buffer.concat([Buffer.of(type), str("x")]))).toEqual({ allowed: false, type });
    }
  });

  it("refuses malformed requests: a listing with a body, a truncated or padded sign", () => {
    expect(inspectRequest(Buffer.of(11, 0)).allowed).toBe(false);
    expect(inspectRequest(sign().subarray(0, 20)).allowed).toBe(false);
    expect(inspectRequest(sign(Buffer.of(1))).allowed).toBe(false);
    expect(inspectRequest(Buffer.alloc(0)).allowed).toBe(false);
  });

  it("checks that a reply fits the request it answers", () => {
    const list = inspectRequest(Buffer.of(11));
    const sig = inspectRequest(sign());
    expect(replyFits(list, identitiesAnswer([]))).toBe(true);
    expect(replyFits(sig, Buffer.concat([Buffer.of(14), str("sig")]))).toBe(true);
    expect(replyFits(list, Buffer.concat([Buffer.of(14), str("sig")]))).toBe(false);
    expect(replyFits(sig, Buffer.of(SSH_AGENT_FAILURE))).toBe(true);
    expect(replyFits({ allowed: false, type: 17 }, Buffer.of(6))).toBe(false);
  });

  it("round-trips a listing, and the stand-in listing carries the message as the comment", () => {
    const ids = [{ blob, comment: "me@laptop" }];
    const [back] = parseIdentities(identitiesAnswer(ids));
    expect(Buffer.from(back!.blob).equals(blob)).toBe(true);
    expect(back!.comment).toBe("me@laptop");
    const [placeholder] = parseIdentities(placeholderIdentities("no broker connected"));
    expect(placeholder?.comment).toBe("no broker connected");
    expect(inspectRequest(Buffer.concat([Buffer.of(13), str(placeholder!.blob), str("d"), u32(0)])).allowed).toBe(true);
  });

  it("splits length-prefixed messages across chunk boundaries and refuses oversized ones", () => {
    const wire = Buffer.concat([frameMessage(Buffer.of(11)), frameMessage(sign())]);
    const r = new AgentFrameReader();
    const got = [...r.push(wire.subarray(0, 3)), ...r.push(wire.subarray(3, 10)), ...r.push(wire.subarray(10))];
    expect(got.map((m) => Buffer.from(m).toString("hex"))).toEqual([Buffer.of(11).toString("hex"), sign().toString("hex")]);
    expect(() => new AgentFrameReader().push(u32(10_000_000))).toThrow(/SSH agent message/);
  });
});
