import { connect } from "node:net";
import { ShedError } from "../api/errors.ts";
import { AgentFrameReader, frameMessage } from "./ssh-agent-filter.ts";

/**
 * One request to the user's own ssh-agent (SSH_AUTH_SOCK on the broker's machine): a new
 * connection per request, as ssh-add makes one, so nothing is shared between sheds.
 */
export function askLocalSshAgent(socketPath: string | undefined, msg: Uint8Array): Promise<Uint8Array> {
  if (!socketPath) return Promise.reject(new ShedError("BROKER_REFUSED", "the broker has no ssh-agent (SSH_AUTH_SOCK is not set where `shed broker` runs)"));
  return new Promise((resolve, reject) => {
    const reader = new AgentFrameReader();
    const sock = connect(socketPath);
    const fail = (err: Error) => {
      sock.destroy();
      reject(new ShedError("BROKER_REFUSED", `the broker's ssh-agent at ${socketPath} did not answer: ${err.message}`));
    };
    sock.setTimeout(30_000, () => fail(new Error("no answer in 30 s")));
    sock.on("error", fail);
    sock.on("connect", () => sock.write(frameMessage(msg)));
    sock.on("data", (chunk: Buffer) => {
      let msgs: Uint8Array[];
      try {
        msgs = reader.push(chunk);
      } catch (err) {
        return fail(err as Error);
      }
      if (msgs[0]) {
        sock.end();
        resolve(msgs[0]);
      }
    });
    sock.on("end", () => fail(new Error("it closed the connection")));
  });
}
