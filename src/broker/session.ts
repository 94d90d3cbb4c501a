import * as v from "valibot";
import type { Transport } from "../agent/protocol/transport.ts";
import { toShedError } from "../api/errors.ts";
import { type AnswerOptions, answer } from "./answer.ts";
import { BrokerByeSchema, type BrokerRequest, BrokerRequestSchema, BrokerWelcomeSchema, encodeLine, LineReader } from "./messages.ts";
import { inspectRequest } from "./ssh-agent-filter.ts";

export type BrokerEvent =
  | { kind: "welcome"; server: string; version: string }
  | { kind: "answered"; shed: string; what: string; ok: boolean; reason?: string };

/**
 * The broker's side of one connection to a server: read requests, answer each (in parallel:
 * a confirmation waiting on a person does not hold up a listing), write the replies. Resolves
 * when the connection ends: `bye` when the server sent this broker away (do not connect again),
 * else the reason if it broke.
 */
export function runBrokerSession(transport: Transport, opts: AnswerOptions, onEvent: (e: BrokerEvent) => void): Promise<{ bye?: string; error?: Error }> {
  return new Promise((resolve) => {
    let bye: string | undefined;
    const lines = new LineReader();
    const handle = async (req: BrokerRequest) => {
      const what = describe(req);
      try {
        const result = await answer(req, opts);
        transport.write(encodeLine({ id: req.id, ok: true, result }));
        onEvent({ kind: "answered", shed: req.shed, what, ok: true });
      } catch (err) {
        const e = toShedError(err, "BROKER_REFUSED");
        transport.write(encodeLine({ id: req.id, ok: false, code: e.code, message: e.message }));
        onEvent({ kind: "answered", shed: req.shed, what, ok: false, reason: e.message });
      }
    };
    transport.start({
      data: (chunk) => {
        let got: string[];
        try {
          got = lines.push(chunk);
        } catch (err) {
          transport.close();
          return resolve({ error: err as Error });
        }
        for (const line of got) {
          let doc: unknown;
          try {
            doc = JSON.parse(line);
          } catch {
            continue;
          }
          const welcome = v.safeParse(BrokerWelcomeSchema, doc);
          if (welcome.success) onEvent({ kind: "welcome", ...welcome.output.welcome });
          const gone = v.safeParse(BrokerByeSchema, doc);
          if (gone.success) bye = gone.output.bye.reason;
          const req = v.safeParse(BrokerRequestSchema, doc);
          if (req.success) void handle(req.output);
        }
      },
      end: (err) => resolve(bye !== undefined ? { bye } : err ? { error: err } : {}),
    });
  });
}

/** A request in words, for the broker's own log: never a secret. */
function describe(req: BrokerRequest): string {
  if (req.kind === "ssh") {
    const what = inspectRequest(Buffer.from(req.message, "base64"));
    return !what.allowed ? `ssh message ${what.type}` : what.kind === "sign" ? `ssh sign ${what.fingerprint}` : "ssh list keys";
  }
  if (req.kind === "docker") return `docker credentials for ${req.serverURL}`;
  return req.kind === "aws" ? "aws credentials" : "status";
}
