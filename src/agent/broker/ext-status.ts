import * as v from "valibot";
import { ShedError } from "../../api/errors.ts";
import { callBroker } from "./guest-call.ts";
import { GuestStatusSchema, NO_BROKER_MESSAGE } from "./guest-protocol.ts";

export const EXT_USAGE = "usage: shed-ext status [--json]";

/**
 * `shed-ext status`: whether a broker is connected for this shed and what each of its paths
 * (ssh-agent, Docker credentials, AWS credentials) can answer. Exit 0 only when one is connected.
 */
export async function runExt(args: string[], out: (text: string) => void, call = callBroker): Promise<number> {
  if (args[0] !== "status") throw new ShedError("USAGE", EXT_USAGE);
  const json = args.includes("--json");
  let status: v.InferOutput<typeof GuestStatusSchema>;
  try {
    status = v.parse(GuestStatusSchema, await call({ kind: "status" }));
  } catch (err) {
    if (!(err instanceof ShedError) || err.code !== "BROKER_UNAVAILABLE") throw err;
    status = { broker: { connected: false, message: err.message || NO_BROKER_MESSAGE } };
  }
  if (json) out(`${JSON.stringify(status)}\n`);
  else if (!status.broker.connected) out(`broker: not connected (${status.broker.message})\n`);
  else {
    const lines = [
      `broker: connected (${status.host ?? status.broker.peer}, since ${status.broker.since})`,
      `ssh-agent: ${status.ssh ?? "unknown"}`,
      `docker: ${status.docker ?? "unknown"}`,
      `aws: ${status.aws ?? "unknown"}`,
    ];
    out(`${lines.join("\n")}\n`);
  }
  return status.broker.connected ? 0 : 1;
}
