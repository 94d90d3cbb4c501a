import type { SERVER_API } from "../../api/endpoints/server.ts";
import { ShedError } from "../../api/errors.ts";
import type { BackendInfo, ServerInfo } from "../../api/schemas/info.ts";
import { absentReason, detectionOrder, probeAll, whyNotChosen } from "../../backends/detect.ts";
import { backendNames, knownBackends } from "../../backends/registry.ts";
import type { ServerContext } from "../context.ts";
import type { Handlers } from "./mount.ts";

export const API_VERSION = 1;

export function infoHandlers(ctx: ServerContext): Handlers<Omit<typeof SERVER_API, "getOpenApi">> {
  const getInfo = async () => {
    const info: ServerInfo = {
      name: ctx.config.name,
      version: ctx.version,
      apiVersion: API_VERSION,
      httpPort: ctx.httpPort,
      sshPort: ctx.sshPort,
      defaultBackend: ctx.defaultBackend,
      ...(ctx.defaultBackendReason ? { defaultBackendReason: ctx.defaultBackendReason } : {}),
      backends: await backendInfo(ctx),
      auth: ctx.config.auth.mode,
      ...(ctx.httpsPort ? { httpsPort: ctx.httpsPort } : {}),
      platform: { os: process.platform, arch: process.arch },
    };
    return info;
  };
  const getSshHostKey = () => {
    if (!ctx.sshHostKey) throw new ShedError("UNSUPPORTED", "this server's SSH door is disabled (ssh.enabled: false)");
    return { key: ctx.sshHostKey };
  };
  return { getInfo, getSshHostKey };
}

/** Every backend shed knows (this platform's detection order first), probed now. */
async function backendInfo(ctx: ServerContext): Promise<BackendInfo[]> {
  const probes = await probeAll(ctx.backends);
  const order = [...new Set([...detectionOrder(), ...backendNames()])];
  const built = knownBackends();
  return order.map((name): BackendInfo => {
    const backend = ctx.backends.get(name);
    const probe = probes.get(name);
    if (!backend || !probe) return { name, available: false, reason: absentReason(name, built.includes(name)) };
    const reason = !probe.ok || name === ctx.defaultBackend
      ? probe.reason
      : whyNotChosen(name, ctx.defaultBackend, probe, ctx.config.default_backend !== "detect");
    return {
      name,
      available: probe.ok,
      ...(probe.emulated ? { emulated: true } : {}),
      ...(reason ? { reason } : {}),
      features: backend.features,
    };
  });
}
