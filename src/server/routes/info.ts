import { Hono } from "hono";
import { ShedError } from "../../api/errors.ts";
import type { BackendInfo, ServerInfo } from "../../api/schemas/info.ts";
import type { ServerContext } from "../context.ts";

export const API_VERSION = 1;

export function infoRoutes(ctx: ServerContext): Hono {
  const app = new Hono();
  app.get("/info", async (c) => {
    const backends: BackendInfo[] = [];
    for (const [name, backend] of ctx.backends) {
      const probe = await backend.probe();
      backends.push({ name, available: probe.ok, reason: probe.reason, features: backend.features });
    }
    const info: ServerInfo = {
      name: ctx.config.name,
      version: ctx.version,
      apiVersion: API_VERSION,
      httpPort: ctx.httpPort,
      sshPort: ctx.sshPort,
      defaultBackend: ctx.defaultBackend,
      backends,
      auth: ctx.config.auth.mode,
      platform: { os: process.platform, arch: process.arch },
    };
    return c.json(info);
  });
  app.get("/ssh-host-key", (c) => {
    if (!ctx.sshHostKey) throw new ShedError("UNSUPPORTED", "this server's SSH door is disabled (ssh.enabled: false)");
    return c.json({ key: ctx.sshHostKey });
  });
  return app;
}
