import * as v from "valibot";
import { ShedError } from "../api/errors.ts";
import type { BackendName } from "../api/schemas/shed.ts";
import type { Backend, ProbeResult } from "../backends/backend.ts";
import { probeAll } from "../backends/detect.ts";
import { agentDialer } from "../backends/agent-dial.ts";
import type { AgentBundle, BackendContext } from "../backends/context.ts";
import type { ImageSource } from "../backends/image-source.ts";
import { backendDefinition, defaultBackends } from "../backends/registry.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { prepareAgentBundle } from "./agent-bundle.ts";
import { type ServerConfig, sectionOf, serverConfigSchema } from "./config/schema.ts";

/**
 * The enabled backends, each made by its definition's factory with the one BackendContext
 * every backend gets and its own config section: the server names none of them.
 */
export function makeBackends(
  config: ServerConfig,
  deps: { stateDir: string; serverId: string; logger: Logger; images: (backend: BackendName) => ImageSource },
): Map<BackendName, Backend> {
  const enabled = config.enabled_backends ?? defaultBackends();
  let bundle: Promise<AgentBundle> | undefined;
  const shared = {
    stateDir: deps.stateDir,
    serverId: deps.serverId,
    logger: deps.logger,
    // Made on first use: building it costs a copy.
    agentBundle: () => (bundle ??= prepareAgentBundle(deps.stateDir, config.agent_path)),
    dialAgent: agentDialer(deps.logger),
  };
  const backends = new Map<BackendName, Backend>();
  for (const name of enabled) {
    const definition = backendDefinition(name);
    if (!definition?.create) continue;
    const ctx: BackendContext = { ...shared, images: deps.images(name) };
    backends.set(name, definition.create(ctx, sectionOf(config, name)));
  }
  if (backends.size === 0) {
    throw new ShedError("INVALID_CONFIG", `none of the enabled backends (${enabled.join(", ")}) exist in this build`);
  }
  return backends;
}

/** The backend that builds Dockerfiles: the default one when it can, else the first enabled that can. */
export function imageBuilder(backends: Map<BackendName, Backend>, defaultBackend: BackendName): Backend | undefined {
  const preferred = backends.get(defaultBackend);
  if (preferred?.buildImage) return preferred;
  return [...backends.values()].find((b) => b.buildImage);
}

/**
 * What each backend's probe says on this host with the default config, before any server
 * runs (`shed-server install` writes it into the new server.yaml). Probes touch no images.
 */
export async function probeWithDefaults(stateDir: string): Promise<Map<BackendName, ProbeResult>> {
  const config = v.parse(serverConfigSchema(), { state_dir: stateDir });
  const none = (): never => {
    throw new ShedError("INTERNAL", "no images before the server runs");
  };
  const noImages: ImageSource = {
    expand: none,
    resolve: none,
    rootfs: none,
    file: none,
    get store(): never {
      return none();
    },
  };
  const backends = makeBackends(config, { stateDir, serverId: "probe", logger: silentLogger, images: () => noImages });
  return probeAll(backends);
}
