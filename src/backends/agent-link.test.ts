import { describe, expect, it } from "vitest";
import type { AgentConnection } from "../agent/protocol/api.ts";
import { SharedAgentLink } from "./agent-link.ts";

function fakeConnection(): AgentConnection & { end: () => void } {
  let end!: () => void;
  const closed = new Promise<void>((r) => (end = r));
  return { closed, close: () => end(), end, info: {} } as unknown as AgentConnection & { end: () => void };
}

describe("SharedAgentLink", () => {
  it("an adopted connection is the one handed out, without a dial; once it ends, the next caller dials", async () => {
    let dials = 0;
    const dialed = fakeConnection();
    const link = new SharedAgentLink(async () => {
      dials++;
      return dialed;
    });
    const adopted = fakeConnection();
    link.adopt(adopted);
    const first = await link.acquire();
    expect(first.info).toBe(adopted.info);
    expect(dials).toBe(0);
    adopted.end();
    await Bun.sleep(0);
    const second = await link.acquire();
    expect(second.info).toBe(dialed.info);
    expect(dials).toBe(1);
  });
});
