import type { Endpoint } from "./endpoint.ts";
import { BROKER_API } from "./endpoints/broker.ts";
import { IMAGE_API } from "./endpoints/images.ts";
import { SERVER_API } from "./endpoints/server.ts";
import { SHED_API } from "./endpoints/sheds.ts";
import { SNAPSHOT_API } from "./endpoints/snapshots.ts";
import { SYSTEM_API } from "./endpoints/system.ts";

export type { Endpoint } from "./endpoint.ts";

/**
 * The whole API catalog, by operationId: the server mounts every route from it, and
 * /api/openapi.json is generated from it. Clients import only the group they call
 * (endpoints/sheds.ts, images.ts, server.ts), so `shed exec` loads no image schemas.
 */
export const API = { ...SERVER_API, ...SHED_API, ...SNAPSHOT_API, ...SYSTEM_API, ...IMAGE_API, ...BROKER_API };

export const ENDPOINTS: Endpoint[] = Object.values(API);
