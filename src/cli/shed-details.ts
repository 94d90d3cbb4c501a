import { openShedAgent } from "../api/agent-client.ts";
import type { ApiClient } from "../api/client.ts";
import type { Shed } from "../api/schemas/shed.ts";
import { runInShed } from "../agent/protocol/run-in-shed.ts";

/** What the agent of a running shed says about it (for `list -v` and `info`). */
export interface ShedDetails {
  ip?: string;
  uptimeSeconds?: number;
  agentOk?: boolean;
  agentVersion?: string;
  /** The provisioning logs in the shed (/var/log/shed/*.log), by step. */
  provisionLogs?: string[];
}

/** Asked of the agent; a shed that does not answer just has no details (and agentOk false). */
export async function shedDetails(client: ApiClient, shed: Shed): Promise<ShedDetails> {
  if (shed.state !== "running") return {};
  try {
    const conn = await openShedAgent(client, shed.name);
    try {
      const [health, addr, logs] = await Promise.all([
        conn.health(),
        runInShed(conn, { argv: ["sh", "-c", "hostname -I 2>/dev/null || hostname -i 2>/dev/null"], login: false }),
        runInShed(conn, { argv: ["sh", "-c", "ls /var/log/shed 2>/dev/null"], login: false, user: "root" }),
      ]);
      return {
        ip: addr.stdout.trim().split(/\s+/).filter((a) => a && !a.startsWith("127.")).join(",") || undefined,
        uptimeSeconds: Math.round(health.uptimeMs / 1000),
        agentOk: health.ok,
        agentVersion: conn.info.version,
        provisionLogs: logs.stdout.split("\n").filter((l) => l.endsWith(".log")).map((l) => l.replace(/\.log$/, "")),
      };
    } finally {
      conn.close();
    }
  } catch {
    return { agentOk: false };
  }
}
