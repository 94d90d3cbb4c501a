import { defineCommand } from "../cli/command.ts";
import { runBrokerLoop } from "../cli/broker-loop.ts";

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
      "Sheds whose image carries /etc/shed/broker.env (the experimental variant) see SSH_AUTH_SOCK, docker-credential-shed and AWS_CONTAINER_CREDENTIALS_FULL_URI; each request comes here over this one connection. Keys never leave your ssh-agent; only listing keys and signing are passed on. One broker per server: a newer one takes over and this one ends. Runs until interrupted.",
    examples: ["shed broker", "shed broker --confirm", "shed broker --aws-profile dev"],
  },
  args: {
    confirm: { type: "boolean", description: "Ask on this terminal before each signature (refused when there is none)" },
    "aws-profile": { type: "string", valueHint: "NAME", description: "AWS profile whose credentials sheds get (default: $AWS_PROFILE, else default)" },
  },
  async run({ args }) {
    await runBrokerLoop({ confirm: args.confirm, awsProfile: args["aws-profile"] });
  },
});
