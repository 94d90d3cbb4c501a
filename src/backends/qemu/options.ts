import { join } from "node:path";
import type { AgentConnection } from "../../agent/protocol/api.ts";
import { ShedError } from "../../api/errors.ts";
import type { Logger } from "../../log/logger.ts";
import type { QemuBackendOptions } from "./backend.ts";
import { ErofsBootImages, type ResolvedImage, resolveLayoutRef } from "./images.ts";
import { StoreBootImages, type StoreBootImagesDeps } from "./store-images.ts";

/** The qemu section of server.yaml (see src/server/config/schema.ts). */
export interface QemuSection {
  accel: "auto" | "kvm" | "tcg";
  binary?: string;
}

/**
 * Everything the qemu backend needs, from the server's config and services: one call in
 * serve.ts. Images come from the server's OCI store; refs of the form oci:/path/to/layout:tag
 * (a guest image just built by guest/build) straight from that layout.
 */
export function qemuBackendOptions(deps: {
  section: QemuSection;
  stateDir: string;
  serverId: string;
  logger: Logger;
  dialUnix: (path: string) => Promise<AgentConnection>;
  dialVsock?: (cid: number, port: number) => Promise<AgentConnection>;
  /** The server's image store; without it only oci:/path/to/layout:tag refs boot. */
  store?: Omit<StoreBootImagesDeps, "stateDir" | "layouts">;
  upperSize?: string;
}): QemuBackendOptions {
  const resolve = async (ref: string): Promise<ResolvedImage> => {
    const layout = resolveLayoutRef(ref);
    if (layout) return layout;
    throw new ShedError("IMAGE_NOT_FOUND", `image "${ref}" not found: pull or load it (shed image pull), or give an OCI layout as oci:/path/to/layout:tag`);
  };
  const layouts = new ErofsBootImages(join(deps.stateDir, "qemu", "images"), resolve);
  return {
    stateDir: deps.stateDir,
    serverId: deps.serverId,
    logger: deps.logger,
    accel: deps.section.accel,
    binary: deps.section.binary,
    upperSize: deps.upperSize,
    images: deps.store ? new StoreBootImages({ ...deps.store, stateDir: deps.stateDir, layouts }) : layouts,
    dialUnix: deps.dialUnix,
    dialVsock: deps.dialVsock,
  };
}
