import * as v from "valibot";
import type { ApiClient } from "./client.ts";
import { type SessionList, SessionListSchema } from "./schemas/session.ts";

/** /api/sheds/{name}/sessions through the CLI's API client. */
export async function listSessions(client: ApiClient, shed: string): Promise<SessionList> {
  return v.parse(SessionListSchema, await client.request("GET", `/sheds/${encodeURIComponent(shed)}/sessions`));
}

export async function killSession(client: ApiClient, shed: string, session: string): Promise<void> {
  await client.request("DELETE", `/sheds/${encodeURIComponent(shed)}/sessions/${encodeURIComponent(session)}`);
}
