import * as v from "valibot";
import { defineEndpoints } from "../endpoint.ts";
import { ServerInfoSchema, SshHostKeySchema } from "../schemas/info.ts";

/** The server itself: what it is, its SSH host key, this API's own document. Public: no token needed. */
export const SERVER_API = defineEndpoints({
  getInfo: { method: "get", path: "/api/info", summary: "Server name, version, backends and features", response: ServerInfoSchema, public: true },
  getSshHostKey: {
    method: "get",
    path: "/api/ssh-host-key",
    summary: "The SSH door's host key (`ssh-ed25519 AAAA...`), for clients to pin",
    response: SshHostKeySchema,
    errors: ["UNSUPPORTED"],
    public: true,
  },
  getOpenApi: {
    method: "get",
    path: "/api/openapi.json",
    summary: "This document (OpenAPI 3.1), generated from the catalog the routes are mounted from",
    response: v.record(v.string(), v.unknown()),
    public: true,
  },
});
