import { SHED_API } from "../api/endpoints/sheds.ts";
import { cli } from "../cli/context.ts";
import { defineCommand } from "../cli/command.ts";
import { eachShed } from "../cli/each-shed.ts";
import { parseDuration } from "../cli/values.ts";

export default defineCommand({
  meta: {
    name: "start",
    preconnect: true,
    description: "Start stopped sheds and wait until each is ready",
    examples: ["shed start hello", "shed start web db --timeout 5m"],
  },
  args: {
    names: { type: "positional", multiple: true, required: true, description: "Shed names", complete: "shed" },
    timeout: { type: "string", valueHint: "DURATION", description: "Give up when a shed is not ready by then, e.g. 2m (default: wait)" },
  },
  async run({ args }) {
    const { out } = cli();
    const seconds = args.timeout === undefined ? undefined : parseDuration("--timeout", args.timeout);
    return eachShed(
      args.names,
      (name) => withDeadline(cli().client().call(SHED_API.startShed, { params: { name }, onProgress: out.progress }), seconds, name),
      (shed) => `Started ${shed.name}.`,
    );
  },
});

/** The CLI's own bound on a start: past it the command fails (the server keeps going). */
export async function withDeadline<T>(p: Promise<T>, seconds: number | undefined, name: string): Promise<T> {
  if (seconds === undefined) return p;
  const { ShedError } = await import("../api/errors.ts");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ShedError("TIMEOUT", `${name} was not ready within ${seconds}s (--timeout); it may still come up: shed list`)), seconds * 1000);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
