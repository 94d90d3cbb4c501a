import { ShedError } from "../../api/errors.ts";
import type { BackendName, CreateShedRequest } from "../../api/schemas/shed.ts";
import type { Backend, InstanceSpec } from "../../backends/backend.ts";
import { parseUpperSize } from "../../backends/vm-boot/upper-disk.ts";
import { type ServerConfig, sectionOf } from "../config/schema.ts";

/** Request + the backend's config section and spec defaults -> the full spec: image alias, defaults. */
export function resolveSpec(config: ServerConfig, backendName: BackendName, backend: Pick<Backend, "specDefaults">, req: CreateShedRequest): InstanceSpec {
  const section = sectionOf(config, backendName);
  const requested = req.image ?? section.default_image;
  if (!requested) {
    throw new ShedError(
      "INVALID_REQUEST",
      `no image given and ${backendName}.default_image is not set in server.yaml; pass --image`,
    );
  }
  const image = section.image_aliases[requested] ?? requested;
  return {
    ...backend.specDefaults,
    name: req.name,
    image,
    cpus: req.cpus ?? section.default_cpus,
    memoryMb: req.memoryMb ?? section.default_memory_mb,
    env: req.env ?? {},
    mounts: [],
    ...(req.upperSize !== undefined ? { upperSizeBytes: parseUpperSize(req.upperSize) } : {}),
  };
}
