import { connect } from "node:net";
import * as v from "valibot";
import { isErrorCode, ShedError } from "../../api/errors.ts";
import { BROKER_SOCKET, type GuestReply, GuestReplySchema, type GuestRequest, NO_BROKER_MESSAGE } from "./guest-protocol.ts";

/** One request on the broker socket; the server's refusal comes back as a ShedError with its code. */
export function callBroker(req: GuestRequest, socketPath = BROKER_SOCKET): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let text = "";
    const sock = connect(socketPath);
    sock.setEncoding("utf8");
    sock.on("connect", () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on("data", (chunk: string) => {
      text += chunk;
      if (text.length > 1024 * 1024) sock.destroy(new Error("answer too long"));
    });
    sock.on("error", (err: NodeJS.ErrnoException) => {
      // No listener: the server has not attached this shed (it does when a broker connects).
      if (err.code === "ENOENT" || err.code === "ECONNREFUSED") reject(new ShedError("BROKER_UNAVAILABLE", NO_BROKER_MESSAGE));
      else reject(new ShedError("BROKER_UNAVAILABLE", `${socketPath}: ${err.message}`));
    });
    sock.on("end", () => {
      const line = text.split("\n")[0] ?? "";
      let reply: GuestReply;
      try {
        reply = v.parse(GuestReplySchema, JSON.parse(line));
      } catch {
        return reject(new ShedError("PROTOCOL_ERROR", `${socketPath} answered something other than a broker reply`));
      }
      if (reply.ok) resolve(reply.result);
      else reject(new ShedError(isErrorCode(reply.code) ? reply.code : "BROKER_REFUSED", reply.message));
    });
  });
}

