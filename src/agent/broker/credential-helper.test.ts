import { describe, expect, it } from "vitest";
import { ShedError } from "../../api/errors.ts";
import type { GuestRequest } from "./guest-protocol.ts";
import { runCredentialHelper } from "./credential-helper.ts";

function io(stdin: string) {
  const out: string[] = [];
  return { io: { stdin: async () => stdin, stdout: (t: string) => void out.push(t) }, out };
}

describe("docker-credential-shed (Docker's credential helper protocol)", () => {
  it("get: reads the server URL on stdin, asks the broker, prints {ServerURL,Username,Secret}", async () => {
    const asked: GuestRequest[] = [];
    const { io: h, out } = io("https://registry.example:5000\n");
    const code = await runCredentialHelper(["get"], h, async (req) => {
      asked.push(req);
      return { ServerURL: "https://registry.example:5000", Username: "alice", Secret: "s3cret" };
    });
    expect(code).toBe(0);
    expect(asked).toEqual([{ kind: "docker", serverURL: "https://registry.example:5000" }]);
    expect(JSON.parse(out.join(""))).toEqual({ ServerURL: "https://registry.example:5000", Username: "alice", Secret: "s3cret" });
  });

  it("get without a broker: exit 1 with the message on stdout, where Docker reads it", async () => {
    const { io: h, out } = io("registry.example");
    const code = await runCredentialHelper(["get"], h, async () => {
      throw new ShedError("BROKER_UNAVAILABLE", "no broker connected: run `shed broker` on your machine");
    });
    expect(code).toBe(1);
    expect(out.join("")).toContain("no broker connected: run `shed broker` on your machine");
  });

  it("store and erase refuse (read-only), list is empty, an unknown action is usage", async () => {
    const never = async () => {
      throw new Error("must not ask the broker");
    };
    for (const action of ["store", "erase"]) {
      const { io: h, out } = io('{"ServerURL":"r","Username":"u","Secret":"s"}');
      expect(await runCredentialHelper([action], h, never)).toBe(1);
      expect(out.join("")).toMatch(/read-only/);
    }
    const list = io("");
    expect(await runCredentialHelper(["list"], list.io, never)).toBe(0);
    expect(JSON.parse(list.out.join(""))).toEqual({});
    const bad = io("");
    expect(await runCredentialHelper(["frobnicate"], bad.io, never)).toBe(1);
    expect(bad.out.join("")).toMatch(/usage: docker-credential-shed/);
  });

  it("get with nothing on stdin fails without asking", async () => {
    const { io: h } = io("  \n");
    expect(await runCredentialHelper(["get"], h, async () => ({}))).toBe(1);
  });
});
