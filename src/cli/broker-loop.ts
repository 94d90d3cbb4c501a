import { hostname, userInfo } from "node:os";
import { createInterface } from "node:readline/promises";
import type { Transport } from "../agent/protocol/transport.ts";
import { BROKER_API } from "../api/endpoints/broker.ts";
import { ShedError, toShedError } from "../api/errors.ts";
import { AwsCredentialSource } from "../broker/aws-credentials.ts";
import { type BrokerEvent, runBrokerSession } from "../broker/session.ts";
import { cli } from "./context.ts";

/** How long to wait before connecting again after the server went away. */
const RECONNECT_MS = 3000;

export interface BrokerLoopOptions {
  /** Ask on the terminal before each signature (refused without one). */
  confirm?: boolean;
  awsProfile?: string;
  /** Beside a terminal session (console, attach): no lines per request, and only while no other broker is connected. */
  alongside?: boolean;
  /** Ends the loop (and its connection). */
  signal?: AbortSignal;
}

/**
 * The broker's connection to the current server, made again when the server goes away, until
 * `signal` aborts or the server sends it away (another broker took its place): then it
 * throws BROKER_REFUSED with the server's reason (alongside: it just ends).
 */
export async function runBrokerLoop(opts: BrokerLoopOptions = {}): Promise<void> {
  const { out } = cli();
  const client = cli().client();
  const aws = new AwsCredentialSource(opts.awsProfile ?? process.env.AWS_PROFILE ?? "default");
  const answers = { sshAuthSock: process.env.SSH_AUTH_SOCK, aws, env: process.env, ...(opts.confirm ? { confirmSign: askOnTerminal() } : {}) };
  const onEvent = (e: BrokerEvent) => {
    if (opts.alongside) return;
    if (e.kind === "welcome") out.note(`Brokering for server ${e.server} (ssh-agent: ${answers.sshAuthSock ? "yes" : "no SSH_AUTH_SOCK"}; aws: ${aws.describe()}). Ctrl-C stops.`);
    else out.note(`${e.shed}: ${e.what}${e.ok ? "" : ` refused (${e.reason})`}`);
  };
  let current: Transport | undefined;
  opts.signal?.addEventListener("abort", () => current?.close());
  const query = { peer: `${userInfo().username}@${hostname()}`, ...(opts.alongside ? { ifNone: "true" as const } : {}) };
  while (!opts.signal?.aborted) {
    let reason: Error | undefined;
    try {
      current = await client.call(BROKER_API.connectBroker, { query });
      if (opts.signal?.aborted) current.close();
      const ended = await runBrokerSession(current, answers, onEvent);
      if (ended.bye !== undefined) {
        if (opts.alongside) return;
        throw new ShedError("BROKER_REFUSED", `the server ended this broker: ${ended.bye}`);
      }
      reason = ended.error;
    } catch (err) {
      const e = toShedError(err);
      // Only a server that is away is waited for; a refused token or bad config ends here.
      if (!["SERVER_UNREACHABLE", "CONNECTION_LOST", "TIMEOUT"].includes(e.code)) throw e;
      reason = e;
    }
    if (opts.signal?.aborted) return;
    if (!opts.alongside) out.warn(`disconnected from the server${reason ? ` (${reason.message})` : ""}; connecting again in ${RECONNECT_MS / 1000} s`);
    await Bun.sleep(RECONNECT_MS);
  }
}

/**
 * `--broker` on console and attach: brokers while the session lasts, silently (the terminal
 * is the session's), and only when no other broker is connected. Returns its stop.
 */
export function brokerAlongside(): () => void {
  const stop = new AbortController();
  runBrokerLoop({ alongside: true, signal: stop.signal }).catch((err) => cli().out.debug(`broker: ${(err as Error).message}`));
  return () => stop.abort();
}

/** Prompts one at a time on the terminal; without a terminal every signature is refused. */
function askOnTerminal(): (question: string) => Promise<boolean> {
  let queue = Promise.resolve(false);
  return (question) => {
    queue = queue.then(async () => {
      if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
      } finally {
        rl.close();
      }
    });
    return queue;
  };
}
