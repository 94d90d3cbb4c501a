import { hostname, userInfo } from "node:os";
import { createInterface } from "node:readline/promises";
import { BROKER_API } from "../api/endpoints/broker.ts";
import { toShedError } from "../api/errors.ts";
import { AwsCredentialSource } from "../broker/aws-credentials.ts";
import { type BrokerEvent, runBrokerSession } from "../broker/session.ts";
import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";

/** How long to wait before connecting again after the server went away. */
const RECONNECT_MS = 3000;

/**
 * `shed broker`: runs on the user's machine and answers the server's sheds from the user's
 * own ssh-agent, Docker credentials and AWS configuration, so no long-lived secret enters a
 * shed. One connection to the server; it reconnects when the server restarts.
 */
export default defineCommand({
  meta: {
    name: "broker",
    description: "Answer sheds' ssh-agent, Docker and AWS credential requests from this machine",
    details:
      "Sheds whose image carries /etc/shed/broker.env (the experimental variant) see SSH_AUTH_SOCK, docker-credential-shed and AWS_CONTAINER_CREDENTIALS_FULL_URI; each request comes here over this one connection. Keys never leave your ssh-agent; only listing keys and signing are passed on. Runs until interrupted.",
    examples: ["shed broker", "shed broker --confirm", "shed broker --aws-profile dev"],
  },
  args: {
    confirm: { type: "boolean", description: "Ask on this terminal before each signature (refused when there is none)" },
    "aws-profile": { type: "string", valueHint: "NAME", description: "AWS profile whose credentials sheds get (default: $AWS_PROFILE, else default)" },
  },
  async run({ args }) {
    const { out } = cli();
    const client = cli().client();
    const aws = new AwsCredentialSource(args["aws-profile"] ?? process.env.AWS_PROFILE ?? "default");
    const opts = { sshAuthSock: process.env.SSH_AUTH_SOCK, aws, env: process.env, ...(args.confirm ? { confirmSign: askOnTerminal() } : {}) };
    const onEvent = (e: BrokerEvent) => {
      if (e.kind === "welcome") out.note(`Brokering for server ${e.server} (ssh-agent: ${opts.sshAuthSock ? "yes" : "no SSH_AUTH_SOCK"}; aws: ${aws.describe()}). Ctrl-C stops.`);
      else out.note(`${e.shed}: ${e.what}${e.ok ? "" : ` refused (${e.reason})`}`);
    };
    for (;;) {
      let reason: Error | undefined;
      try {
        const transport = await client.call(BROKER_API.connectBroker, { query: { peer: `${userInfo().username}@${hostname()}` } });
        reason = await runBrokerSession(transport, opts, onEvent);
      } catch (err) {
        const e = toShedError(err);
        // Only a server that is away is waited for; a refused token or bad config ends here.
        if (!["SERVER_UNREACHABLE", "CONNECTION_LOST", "TIMEOUT", "NO_SERVER"].includes(e.code)) throw e;
        reason = e;
      }
      out.warn(`disconnected from the server${reason ? ` (${reason.message})` : ""}; connecting again in ${RECONNECT_MS / 1000} s`);
      await Bun.sleep(RECONNECT_MS);
    }
  },
});

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


