import { ShedError } from "../../api/errors.ts";
import type { BackendName, CreateShedRequest } from "../../api/schemas/shed.ts";
import type { InstanceSpec } from "../../backends/backend.ts";
import { parseUpperSize } from "../../rootfs/upper.ts";
import type { ServerConfig } from "../config/schema.ts";

/** Request + the backend's config section -> the full spec: image alias, defaults. */
export function resolveSpec(config: ServerConfig, backend: BackendName, req: CreateShedRequest): InstanceSpec {
  const section = config[backend];
  const requested = req.image ?? section.default_image;
  if (!requested) {
    throw new ShedError(
      "INVALID_REQUEST",
      `no image given and ${backend}.default_image is not set in server.yaml; pass --image`,
    );
  }
  const image = section.image_aliases[requested] ?? requested;
  return {
    name: req.name,
    image,
    cpus: req.cpus ?? section.default_cpus,
    memoryMb: req.memoryMb ?? section.default_memory_mb,
    env: req.env ?? {},
    ...(req.upperSize !== undefined ? { upperSizeBytes: parseUpperSize(req.upperSize) } : {}),
    ...("pids_limit" in section ? { pidsLimit: section.pids_limit } : {}),
  };
}
