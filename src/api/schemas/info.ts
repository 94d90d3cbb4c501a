import * as v from "valibot";
import { BackendNameSchema } from "./shed.ts";

export const BackendFeaturesSchema = v.object({
  /** Host directories can be mounted (--local-dir, --add-dir, directory mounts from the config). */
  localDir: v.boolean(),
  /** Single host files can be mounted; where not, config mounts of files are copied in on create and start. */
  fileMounts: v.boolean(),
  snapshots: v.boolean(),
  suspend: v.boolean(),
  vsock: v.boolean(),
  shutdownHook: v.boolean(),
  vm: v.boolean(),
});
export type BackendFeatures = v.InferOutput<typeof BackendFeaturesSchema>;

export const BackendInfoSchema = v.object({
  name: BackendNameSchema,
  available: v.boolean(),
  reason: v.optional(v.string()),
  features: BackendFeaturesSchema,
});
export type BackendInfo = v.InferOutput<typeof BackendInfoSchema>;

export const ServerInfoSchema = v.object({
  name: v.string(),
  version: v.string(),
  apiVersion: v.number(),
  httpPort: v.number(),
  sshPort: v.number(),
  defaultBackend: BackendNameSchema,
  backends: v.array(BackendInfoSchema),
  auth: v.picklist(["open", "token"]),
  platform: v.object({ os: v.string(), arch: v.string() }),
});
export type ServerInfo = v.InferOutput<typeof ServerInfoSchema>;

export const SshHostKeySchema = v.object({ key: v.string() });
export type SshHostKey = v.InferOutput<typeof SshHostKeySchema>;
