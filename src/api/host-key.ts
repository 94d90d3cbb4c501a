import type { ApiClient } from "./client.ts";
import { SERVER_API } from "./endpoints/server.ts";
import { ShedError } from "./errors.ts";

/** The server's SSH host key line (/api/ssh-host-key); undefined when it has no SSH door. */
export async function fetchHostKey(client: ApiClient): Promise<string | undefined> {
  try {
    return (await client.call(SERVER_API.getSshHostKey)).key.trim();
  } catch (err) {
    // An older server without the route, or one whose SSH door is off.
    if (err instanceof ShedError && (err.code === "NOT_FOUND" || err.code === "UNSUPPORTED")) return undefined;
    throw err;
  }
}

/** What SSH connections to the server are checked against: the key `shed server add` pinned, else the one it serves. */
export async function trustedHostKey(client: ApiClient): Promise<string> {
  const key = client.endpoint.hostKey?.trim() ?? (await fetchHostKey(client));
  if (!key) throw new ShedError("SSH_FAILED", `server ${client.endpoint.name} has no SSH door (ssh.enabled is false in its server.yaml)`);
  return key;
}
