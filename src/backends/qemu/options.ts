import type { AgentConnection } from "../../agent/protocol/api.ts";
import type { Logger } from "../../log/logger.ts";
import { VmNetwork } from "../vm-network/index.ts";
import type { QemuBackendOptions } from "./backend.ts";
import { StoreBootImages, type StoreBootImagesDeps } from "./store-images.ts";

/** The qemu section of server.yaml (see src/server/config/schema.ts). */
export interface QemuSection {
  accel: "auto" | "kvm" | "tcg";
  binary?: string;
  network: "isolated" | "none";
  bridge: string;
  subnet: string;
  run_as?: string;
}

/**
 * Everything the qemu backend needs, from the server's config and services: one call in
 * serve.ts. Images come from the server's OCI store (oci:/path/to/layout:tag refs, a guest
 * image just built by guest/build, are copied into it first).
 */
export function qemuBackendOptions(deps: {
  section: QemuSection;
  stateDir: string;
  serverId: string;
  logger: Logger;
  dialUnix: (path: string) => Promise<AgentConnection>;
  dialVsock?: (cid: number, port: number) => Promise<AgentConnection>;
  store: Omit<StoreBootImagesDeps, "stateDir">;
  upperSize?: string;
}): QemuBackendOptions {
  const { section } = deps;
  return {
    stateDir: deps.stateDir,
    serverId: deps.serverId,
    logger: deps.logger,
    accel: section.accel,
    binary: section.binary,
    upperSize: deps.upperSize,
    images: new StoreBootImages({ ...deps.store, stateDir: deps.stateDir }),
    dialUnix: deps.dialUnix,
    dialVsock: deps.dialVsock,
    network:
      section.network === "isolated"
        ? new VmNetwork({ bridge: section.bridge, subnet: section.subnet, stateDir: deps.stateDir, serverId: deps.serverId, logger: deps.logger })
        : undefined,
    runAs: section.run_as,
  };
}
