import { describe, expect, it } from "vitest";
import type { AgentConnection } from "../agent/protocol/api.ts";
import { waitForAgent } from "./agent-wait.ts";

describe("waitForAgent", () => {
  it("a health call that never answers ends in TIMEOUT at the deadline, and its late connection is closed, not kept", async () => {
    let closed = 0;
    let kept = 0;
    let answer!: () => void;
    const conn = {
      health: () => new Promise((resolve) => (answer = () => resolve({ ok: true }))),
      close: () => {
        closed++;
      },
    } as unknown as AgentConnection;
    const wait = waitForAgent({ dial: async () => conn, timeoutMs: 200, alive: async () => undefined, keep: () => kept++ });
    await expect(wait).rejects.toMatchObject({ code: "TIMEOUT" });
    answer();
    await Bun.sleep(0);
    expect(kept).toBe(0);
    expect(closed).toBe(1);
  });

  it("a dial that never settles ends in TIMEOUT too", async () => {
    const wait = waitForAgent({ dial: () => new Promise<AgentConnection>(() => {}), timeoutMs: 100, alive: async () => undefined });
    await expect(wait).rejects.toMatchObject({ code: "TIMEOUT", message: expect.stringContaining("still waiting") });
  });
});
