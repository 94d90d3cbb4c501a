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
  /** Its logs carry times, so `shed logs --since` can pick lines by them (a VM console does not). */
  logSince: v.optional(v.boolean()),
});
export type BackendFeatures = v.InferOutput<typeof BackendFeaturesSchema>;

export const BackendInfoSchema = v.object({
  name: BackendNameSchema,
  available: v.boolean(),
  /** Available, but its VMs run emulated (slow): detection picks it only when nothing else runs. */
  emulated: v.optional(v.boolean()),
  /** Why it is not available, or not the default, in words a user can act on. */
  reason: v.optional(v.string()),
  /** Absent for a backend this server does not have (not built in, or not enabled). */
  features: v.optional(BackendFeaturesSchema),
});
export type BackendInfo = v.InferOutput<typeof BackendInfoSchema>;

export const ServerInfoSchema = v.object({
  name: v.string(),
  version: v.string(),
  apiVersion: v.number(),
  httpPort: v.number(),
  sshPort: v.number(),
  defaultBackend: BackendNameSchema,
  /** How the default was picked: default_backend in server.yaml, or what detection found. */
  defaultBackendReason: v.optional(v.string()),
  /** Every backend shed knows, in detection order, with what it can do here. */
  backends: v.array(BackendInfoSchema),
  /** open: plain HTTP; token and mtls: HTTPS on httpsPort, credentials minted over SSH (`shed server add`). */
  auth: v.picklist(["open", "token", "mtls"]),
  httpsPort: v.optional(v.number()),
  platform: v.object({ os: v.string(), arch: v.string() }),
});
export type ServerInfo = v.InferOutput<typeof ServerInfoSchema>;

export const SshHostKeySchema = v.object({ key: v.string() });
export type SshHostKey = v.InferOutput<typeof SshHostKeySchema>;
