import type { Duplex, Writable } from "node:stream";
import type { ExecProcess } from "../../agent/protocol/api.ts";
import { pumpFromNode, pumpToNode } from "../../api/stream-pump.ts";

/** Runs a process on a session channel: stdin, stdout, stderr, then exit-status or exit-signal. */
export async function relayProcess(channel: Duplex & { stderr: Writable; exit(...args: unknown[]): void }, proc: ExecProcess): Promise<void> {
  let exited = false;
  channel.once("close", () => {
    // The client went away (ssh killed, laptop closed): hang up as a terminal would.
    if (!exited) proc.signal("SIGHUP");
  });
  pumpFromNode(channel, proc.stdin);
  await Promise.all([pumpToNode(proc.stdout, channel), pumpToNode(proc.stderr, channel.stderr)]);
  const status = await proc.exit;
  exited = true;
  if (channel.destroyed) return;
  if (status.signal) channel.exit(status.signal.replace(/^SIG/, ""), false, "");
  else channel.exit(status.code);
  channel.end();
}
