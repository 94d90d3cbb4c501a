import type { SHED_API } from "../../api/endpoints/sheds.ts";
import type { ServerContext } from "../context.ts";
import { killTmuxSession, listTmuxSessions } from "../sessions/tmux.ts";
import type { Handlers } from "./mount.ts";

/** /api/sheds: the lifecycle, the logs, and the tmux sessions (through the shed's agent). The agent socket is agent-socket.ts. */
export function shedHandlers(ctx: ServerContext): Handlers<Omit<typeof SHED_API, "connectShedAgent">> {
  const { sheds } = ctx;
  return {
    listSheds: async () => ({ sheds: await sheds.list() }),
    createShed: ({ body }) => (progress) => sheds.create(body, progress),
    getShed: ({ params }) => sheds.get(params.name),
    deleteShed: ({ params, query }) => (progress) => sheds.delete(params.name, query.force === "true", progress),
    startShed: ({ params }) => (progress) => sheds.start(params.name, progress),
    stopShed: ({ params, body }) => sheds.stop(params.name, body.timeoutSeconds),
    resetShed: ({ params }) => (progress) => sheds.reset(params.name, progress),
    getShedLogs: async ({ params, query }) => ({ name: params.name, text: await sheds.logs(params.name, { tailBytes: query.tail, since: query.since }) }),
    followShedLogs: async ({ params, query }) => ({ stream: await sheds.followLogs(params.name, query.lines) }),
    listSessions: async ({ params }) => ({ shed: params.name, sessions: await listTmuxSessions(await sheds.agent(params.name)) }),
    killSession: async ({ params }) => {
      await killTmuxSession(await sheds.agent(params.name), params.session);
    },
  };
}
