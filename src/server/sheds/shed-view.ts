import type { AgentConnection, ExecRequest } from "../../agent/protocol/api.ts";
import type { Shed } from "../../api/schemas/shed.ts";
import type { Instance } from "../../backends/backend.ts";
import type { ShedRecord } from "../state/shed-record.ts";

/** What the backend gets for a shed: its spec as created and its own data. */
export function instanceOf(record: ShedRecord): Instance {
  return { name: record.name, spec: record.spec, data: record.backendData };
}

/** The API view of a record. */
export function toApi(record: ShedRecord): Shed {
  const { spec, backendData: data, provision: _provision, pending: _pending, name, backend, state, ...rest } = record;
  const digest = data.imageDigest ?? (typeof data.image === "string" && data.image.startsWith("sha256:") ? data.image : undefined);
  // In the order of ShedSchema, as the API always printed it.
  return {
    name,
    backend,
    image: spec.image,
    state,
    cpus: spec.cpus,
    memoryMb: spec.memoryMb,
    ...rest,
    ...(typeof digest === "string" ? { imageDigest: digest } : {}),
    ...(spec.mounts.length ? { mounts: spec.mounts } : {}),
    ...(Object.keys(spec.env).length ? { envNames: Object.keys(spec.env) } : {}),
    limits: { cpus: spec.cpus, memoryMb: spec.memoryMb, ...(spec.pidsLimit !== undefined ? { pids: spec.pidsLimit } : {}) },
  };
}

/** The agent with the shed's own environment (create -e) under each exec's, as `docker exec` gets `docker run -e`'s. */
export function withShedEnv(conn: AgentConnection, env: Record<string, string>): AgentConnection {
  if (Object.keys(env).length === 0) return conn;
  const withEnv = (req: ExecRequest) => ({ ...req, env: { ...env, ...req.env } });
  // The relay's fast path (exec socket) opens its exec streams with the same environment.
  const splice: AgentConnection["splice"] =
    conn.splice &&
    ((request, host, onDone) => conn.splice!(request.op === "exec" ? withEnv(request as ExecRequest) : request, host, onDone));
  return Object.create(conn, {
    exec: { value: (req: ExecRequest) => conn.exec(withEnv(req)) },
    splice: { value: splice },
  }) as AgentConnection;
}
