import { ShedError } from "../../api/errors.ts";
import { callBroker } from "./guest-call.ts";

/**
 * `docker-credential-shed` (shed-agent by another name): Docker's credential helper protocol,
 * answered by the user's broker. `get` reads the registry on stdin and prints
 * {ServerURL,Username,Secret}; the store is read-only, so `store` and `erase` refuse and
 * `list` is empty. Errors go to stdout, where Docker reads a helper's message.
 */
export const CREDENTIAL_HELPER_USAGE = "usage: docker-credential-shed get|store|erase|list|version";

export interface HelperIo {
  stdin: () => Promise<string>;
  stdout: (text: string) => void;
}

export async function runCredentialHelper(args: string[], io: HelperIo, call = callBroker): Promise<number> {
  const action = args[0];
  switch (action) {
    case "get": {
      const serverURL = (await io.stdin()).trim();
      if (!serverURL) return fail(io, "no server URL on stdin");
      try {
        const result = await call({ kind: "docker", serverURL });
        io.stdout(`${JSON.stringify({ ServerURL: result.ServerURL ?? serverURL, Username: result.Username, Secret: result.Secret })}\n`);
        return 0;
      } catch (err) {
        return fail(io, err instanceof ShedError ? err.message : String(err));
      }
    }
    case "store":
    case "erase":
      // Drain what Docker sends, then say why nothing changes.
      await io.stdin();
      return fail(io, `the shed credential store is read-only: ${action === "store" ? "log in" : "log out"} on your own machine, \`shed broker\` answers from there`);
    case "list":
      io.stdout("{}\n");
      return 0;
    case "version":
      io.stdout("docker-credential-shed (shed-agent)\n");
      return 0;
    default:
      return fail(io, CREDENTIAL_HELPER_USAGE);
  }
}

function fail(io: HelperIo, message: string): number {
  io.stdout(`${message}\n`);
  return 1;
}
