import { connect } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../log/logger.ts";
import { LocalOps } from "../local-ops.ts";
import { connectAgent } from "./client.ts";
import { Activity, serveAgent } from "./service.ts";
import { memoryPair } from "./transports/memory.ts";

/**
 * A listener the host holds open (SSH_AUTH_SOCK, the broker's sockets) and an accept still
 * waiting are not work: a shutdown's drain must not wait for them. A connection that arrives
 * counts until it ends.
 */
// listenUnix gives its socket to a user (chown): root only.
const skipped = process.getuid?.() !== 0 ? "skipped: needs root (the listener chowns its socket)" : undefined;
if (skipped) console.warn(skipped);

describe.skipIf(skipped !== undefined)("standing streams (listen, a waiting accept)", () => {
  it("count as no activity; an accepted connection does while it lasts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "shed-standing-"));
    const activity = new Activity();
    const ops = new LocalOps({ version: "t", user: "root", activity, logger: silentLogger, exit: () => {} });
    const [hostSide, agentSide] = memoryPair();
    serveAgent(agentSide, ops, { activity });
    const conn = await connectAgent(hostSide, {});
    const path = join(dir, "sock", "agent.sock");
    try {
      const listener = await conn.listenUnix(path, { user: "root" });
      const accepted = conn.acceptUnix(path);
      // The accept's OPEN has reached the agent once health (sent after it) answers; the one
      // active stream is the health request itself.
      expect((await conn.health()).activeStreams).toBe(1);
      const client = connect(path);
      const duplex = await accepted;
      expect(activity.active).toBe(1);
      client.destroy();
      await duplex.readable.cancel().catch(() => {});
      await duplex.writable.abort().catch(() => {});
      await activity.drained(10_000);
      expect(activity.active).toBe(0);
      listener.close();
      expect((await conn.health()).activeStreams).toBe(1);
    } finally {
      conn.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
