import { existsSync } from "node:fs";
import { ShedError } from "../api/errors.ts";
import { BROKER_ENV_FILE } from "./broker/guest-protocol.ts";
import { jsonLineLogger } from "../log/logger.ts";
import { type ListenSpec, parseListen, startListener } from "./listeners.ts";
import { LocalOps } from "./local-ops.ts";
import { watchRtcClock } from "./rtc-clock.ts";
import { Activity } from "./protocol/service.ts";

export const AGENT_USAGE = `usage: shed-agent serve --listen SPEC [--listen SPEC ...] [--user shed|root] [--log-level LEVEL] [--rtc-clock]
       shed-agent watch FILE [FILE ...]
       shed-agent version
SPEC: unix:PATH | vsock:PORT | stdio | serial:/dev/virtio-ports/NAME`;

export interface AgentOptions {
  listen: ListenSpec[];
  user: string;
  logLevel: "debug" | "info" | "warn" | "error";
  /** VM guests: step the clock forward from the RTC after the host slept (rtc-clock.ts). */
  rtcClock: boolean;
}

export function parseAgentArgs(argv: string[]): AgentOptions {
  const opts: AgentOptions = { listen: [], user: "shed", logLevel: "warn", rtcClock: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new ShedError("USAGE", `${flag} needs a value\n${AGENT_USAGE}`);
      return v;
    };
    if (flag === "--listen") opts.listen.push(parseListen(value()));
    else if (flag === "--user") opts.user = value();
    else if (flag === "--rtc-clock") opts.rtcClock = true;
    else if (flag === "--log-level") {
      const level = value();
      if (!["debug", "info", "warn", "error"].includes(level)) throw new ShedError("USAGE", `--log-level ${level}: use debug, info, warn or error`);
      opts.logLevel = level as AgentOptions["logLevel"];
    } else throw new ShedError("USAGE", `unknown argument ${arg}\n${AGENT_USAGE}`);
  }
  if (opts.listen.length === 0) throw new ShedError("USAGE", `serve needs at least one --listen\n${AGENT_USAGE}`);
  return opts;
}

/** Runs the agent until a shutdown request (or stdio's end); never returns normally. */
export async function runAgent(opts: AgentOptions, version: string): Promise<void> {
  const logger = jsonLineLogger(opts.logLevel);
  const activity = new Activity();
  const ops = new LocalOps({ version, user: opts.user, activity, logger, exit: (code) => process.exit(code) });
  for (const spec of opts.listen) {
    const listener = await startListener(spec, { ops, activity, logger });
    logger.info("listening", { on: listener.description });
  }
  if (opts.rtcClock) watchRtcClock({ logger });
  // Images with brokered credentials (broker.env) get the AWS endpoint; others never load it.
  if (existsSync(BROKER_ENV_FILE)) void import("./broker/aws-endpoint.ts").then((m) => m.serveAwsEndpoint(logger)).catch((err) => logger.warn("AWS endpoint not started", { error: String(err) }));
  process.on("SIGTERM", () => void ops.shutdown(5000));
  // Children are Bun's to reap; orphans go to the engine's init or systemd.
  await new Promise(() => {});
}
