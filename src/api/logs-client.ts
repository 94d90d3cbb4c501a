import * as v from "valibot";
import type { ApiClient } from "./client.ts";
import { type ShedLogs, ShedLogsSchema } from "./schemas/logs.ts";

/** GET /api/sheds/{name}/logs through the CLI's API client. */
export async function getShedLogs(client: ApiClient, name: string, tailBytes?: number): Promise<ShedLogs> {
  const body = await client.request("GET", `/sheds/${encodeURIComponent(name)}/logs`, {
    query: { tail: tailBytes === undefined ? undefined : String(tailBytes) },
  });
  return v.parse(ShedLogsSchema, body);
}
