import { dirname } from "node:path";
import * as v from "valibot";
import { BROKER_ENV_FILE, BROKER_SOCKET, type GuestRequest, GuestRequestSchema, NO_BROKER_MESSAGE, parseBrokerEnv } from "../../agent/broker/guest-protocol.ts";
import type { AgentConnection, ByteDuplex } from "../../agent/protocol/api.ts";
import { toShedError } from "../../api/errors.ts";
import { registryHost } from "../../broker/docker-credentials.ts";
import { encodeLine, LineReader } from "../../broker/messages.ts";
import { AgentFrameReader, frameMessage, inspectRequest, placeholderIdentities, SSH_AGENT_FAILURE } from "../../broker/ssh-agent-filter.ts";
import type { Logger } from "../../log/logger.ts";
import { readSmallFile } from "../provision/small-file.ts";
import type { BrokerHub } from "./hub.ts";

/**
 * A shed whose image carries broker.env gets its brokered sockets when its agent connects:
 * SSH_AUTH_SOCK and BROKER_SOCKET, listened on through the agent protocol (no new network
 * path into the shed), each connection answered here and relayed to the broker. The
 * sockets live as long as the agent connection; whether a broker is connected is asked per
 * request, so a shed without one gets the clear message instead of a dead socket.
 */
export async function attachBrokerSockets(shed: string, conn: AgentConnection, hub: BrokerHub, logger: Logger): Promise<boolean> {
  const text = await readSmallFile(conn, BROKER_ENV_FILE, 64 * 1024).catch(() => undefined);
  if (typeof text !== "string") return false;
  const env = parseBrokerEnv(text);
  const ssh = env.SSH_AUTH_SOCK;
  const sockets: [string, (d: ByteDuplex) => Promise<void>][] = [[BROKER_SOCKET, (d) => serveGuestRequest(shed, d, hub)]];
  // The agent's listener owns its socket's directory (made 0700, removed at close): only the broker's own.
  if (ssh && dirname(ssh) === dirname(BROKER_SOCKET) && ssh !== BROKER_SOCKET) sockets.push([ssh, (d) => serveSshAgent(shed, d, hub, logger)]);
  else if (ssh) logger.warn(`broker: SSH_AUTH_SOCK in ${BROKER_ENV_FILE} must be a socket in ${dirname(BROKER_SOCKET)}/; no ssh-agent for this shed`, { shed, path: ssh });
  for (const [path, serve] of sockets) {
    try {
      await listenWhenFree(conn, path);
    } catch (err) {
      logger.warn("broker: cannot listen in the shed", { shed, path, error: (err as Error).message });
      continue;
    }
    void acceptLoop(conn, path, serve, logger, shed);
  }
  logger.debug("broker sockets attached", { shed });
  return true;
}

/**
 * A connection that replaced the shed's previous one may ask before the agent has seen the old
 * one's listen stream end: "already listens" is waited out briefly.
 */
async function listenWhenFree(conn: AgentConnection, path: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await conn.listenUnix(path, { user: "shed" });
      return;
    } catch (err) {
      if (attempt >= 10 || !/already listens/.test((err as Error).message)) throw err;
      await Bun.sleep(300);
    }
  }
}

async function acceptLoop(conn: AgentConnection, path: string, serve: (d: ByteDuplex) => Promise<void>, logger: Logger, shed: string): Promise<void> {
  for (;;) {
    const d = await conn.acceptUnix(path).catch(() => undefined);
    if (!d) return;
    serve(d).catch((err) => {
      logger.debug("broker: a guest connection failed", { shed, path, error: (err as Error).message });
      void d.writable.abort().catch(() => {});
    });
  }
}

/** The SSH agent protocol, message by message: only listings and signatures reach the broker. */
async function serveSshAgent(shed: string, d: ByteDuplex, hub: BrokerHub, logger: Logger): Promise<void> {
  const reader = new AgentFrameReader();
  const writer = d.writable.getWriter();
  try {
    for await (const chunk of d.readable) {
      for (const msg of reader.push(chunk)) await writer.write(frameMessage(await answerSsh(shed, msg, hub, logger)));
    }
  } finally {
    await writer.close().catch(() => {});
  }
}

async function answerSsh(shed: string, msg: Uint8Array, hub: BrokerHub, logger: Logger): Promise<Uint8Array> {
  const what = inspectRequest(msg);
  if (!what.allowed) {
    logger.info("brokered request refused: SSH agent message not brokered", { shed, kind: "ssh", type: String(what.type) });
    return Uint8Array.of(SSH_AGENT_FAILURE);
  }
  const audit: Record<string, string> = what.kind === "sign" ? { op: "sign", key: what.fingerprint } : { op: "list" };
  try {
    const result = await hub.request(shed, { kind: "ssh", message: Buffer.from(msg).toString("base64") }, audit);
    return Buffer.from(String(result.message), "base64");
  } catch (err) {
    // No error text in the agent protocol: a listing shows the message as a key's comment.
    if (what.kind === "identities" && toShedError(err).code === "BROKER_UNAVAILABLE") return placeholderIdentities(NO_BROKER_MESSAGE);
    return Uint8Array.of(SSH_AGENT_FAILURE);
  }
}

/** One JSON line in, one out (docker-credential-shed, shed-ext, the AWS endpoint). */
async function serveGuestRequest(shed: string, d: ByteDuplex, hub: BrokerHub): Promise<void> {
  const lines = new LineReader(64 * 1024);
  let line: string | undefined;
  for await (const chunk of d.readable) {
    line = lines.push(chunk)[0];
    if (line !== undefined) break;
  }
  const writer = d.writable.getWriter();
  let reply: unknown;
  try {
    const req = v.parse(GuestRequestSchema, JSON.parse(line ?? ""));
    reply = { ok: true, result: await answerGuest(shed, req, hub) };
  } catch (err) {
    const e = err instanceof v.ValiError || err instanceof SyntaxError ? toShedError(err, "INVALID_REQUEST") : toShedError(err);
    reply = { ok: false, code: e.code, message: e.message };
  }
  await writer.write(encodeLine(reply));
  await writer.close();
}

async function answerGuest(shed: string, req: GuestRequest, hub: BrokerHub): Promise<Record<string, unknown>> {
  switch (req.kind) {
    case "docker":
      return hub.request(shed, req, { registry: registryHost(req.serverURL) });
    case "aws":
      return hub.request(shed, req);
    case "status": {
      const broker = hub.status();
      if (!broker.connected) return { broker: { connected: false, message: NO_BROKER_MESSAGE } };
      return { ...(await hub.request(shed, req)), broker };
    }
  }
}
