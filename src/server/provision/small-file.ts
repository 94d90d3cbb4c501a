import type { AgentConnection } from "../../agent/protocol/api.ts";
import { readTar } from "../../tar/reader.ts";

/**
 * One regular file of the shed as text, through the agent's archive of it. undefined when the
 * path is not a regular file; `{ tooLarge }` past `max` bytes (nothing more is read). Throws
 * when the agent cannot make the archive (a missing path is NOT_FOUND).
 */
export async function readSmallFile(agent: AgentConnection, path: string, max: number): Promise<string | { tooLarge: number } | undefined> {
  const archive = await agent.getArchive(path);
  // readTar cancels the archive when left early.
  for await (const entry of readTar(archive)) {
      // The archive is named by the path's last component: its first entry is the path itself.
      if (entry.type !== "file") return undefined;
      if (entry.size > max) return { tooLarge: entry.size };
      const chunks: Uint8Array[] = [];
      for await (const chunk of entry.body()) chunks.push(chunk);
      return Buffer.concat(chunks).toString("utf8");
  }
  return undefined;
}
