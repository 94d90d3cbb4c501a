import * as v from "valibot";
import { ShedError } from "../../api/errors.ts";
import type { BackendSection } from "../../backends/config-section.ts";
import type { BackendDefinition } from "../../backends/definition.ts";
import { BUILT_IN, backendDefinitions } from "../../backends/registry.ts";

/**
 * server.yaml, defined once: the type, the validation and the defaults all come from here.
 * Every section is a strictObject: an unknown key (a typo such as `mount_root:`) is refused
 * with its line and the closest known key (load.ts), never silently ignored. Each backend's
 * section (`docker:`, `qemu:`, ...) is the one its folder defines, composed from the registry.
 */

const MountSchema = v.strictObject({
  source: v.string(),
  target: v.pipe(v.string(), v.startsWith("/", "must be an absolute path in the shed")),
  readonly: v.optional(v.boolean(), false),
});

const Count = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** A duration in seconds: a number, or a string such as 30s, 15m, 24h, 7d. */
const DurationSchema = v.pipe(
  v.union([v.number(), v.pipe(v.string(), v.regex(/^\d+[smhd]?$/, "a duration such as 2s, 15m, 24h or 7d"))]),
  v.transform((d) => (typeof d === "number" ? d : Number.parseInt(d, 10) * (DURATION_UNITS[d.replace(/^\d+/, "")] ?? 1))),
  v.integer(),
  v.minValue(1, "must be at least 1 second"),
  v.maxValue(366 * 86_400, "must be at most a year"),
);

/** The SSH front door (ssh_port). */
const SshSectionSchema = v.strictObject({
  enabled: v.optional(v.boolean(), true),
  /** off: any key; warn: any key, unknown ones logged; enforce: authorized_keys only. Default: enforce unless bound to loopback (then warn). */
  auth: v.optional(v.picklist(["off", "warn", "enforce"])),
  authorized_keys: v.optional(v.array(v.string()), ["~/.ssh/authorized_keys"]),
  /** Connections not yet authenticated; past it the oldest is dropped, so a real user always gets in. */
  max_unauthenticated: v.optional(Count(1, 10_000), 64),
  login_grace_seconds: v.optional(Count(1, 600), 30),
  max_auth_tries: v.optional(Count(1, 100), 6),
});
export type SshConfig = v.InferOutput<typeof SshSectionSchema>;

/** The keys of server.yaml that are the server's own (every backend's section is added to them). */
const SERVER_PLACE = {
  name: v.optional(v.pipe(v.string(), v.minLength(1)), "shed-server"),
  bind_address: v.optional(v.string(), "127.0.0.1"),
  http_port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535)), 8080),
  ssh_port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535)), 2222),
  /** The HTTPS API in auth.mode token and mtls (http_port then only says to use HTTPS). */
  https_port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535)), 8443),
  state_dir: v.optional(v.string(), "/var/lib/shed"),
};

/** The rest of the server's keys (after default_backend and enabled_backends, as in a server.yaml). */
const SERVER_SETTINGS = {
  /**
   * open: plain HTTP, no credentials (loopback only unless allow_insecure_exposure). token:
   * HTTPS, every call but /api/info needs a token minted over the SSH door. mtls: HTTPS with
   * client certificates the SSH door signs.
   */
  auth: v.optional(
    v.strictObject({
      mode: v.optional(v.picklist(["open", "token", "mtls"]), "open"),
      /** How long a minted token (or client certificate) is good for: seconds, or 30s, 15m, 24h, 7d. */
      token_ttl: v.optional(DurationSchema, "24h"),
    }),
    {},
  ),
  /** Lets auth.mode open listen beyond loopback: only on a network that is itself trusted. */
  allow_insecure_exposure: v.optional(v.boolean(), false),
  /** Your own certificate and key (PEM) for HTTPS; by default the server makes one on first start. */
  tls_cert_file: v.optional(v.string()),
  tls_key_file: v.optional(v.string()),
  /** Extra names and addresses the made certificate carries (clients pin it, so they are for others' tools). */
  tls_names: v.optional(v.array(v.pipe(v.string(), v.regex(/^[A-Za-z0-9.:*-]+$/, "a host name or an address"))), []),
  /** Host directories or files mounted into every shed. `credentials` is the deprecated name. */
  mounts: v.optional(v.record(v.string(), MountSchema), {}),
  credentials: v.optional(v.record(v.string(), MountSchema)),
  env_file: v.optional(v.string()),
  /**
   * Host directories under which --local-dir, --add-dir and `mounts` sources must lie (after
   * symlinks are resolved). Default: the home of the user running the server. `/`, `/etc` and
   * the state dir are refused whatever this says.
   */
  mount_roots: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
  /** Largest JSON request body (bytes); past it 413 before the body is read. */
  max_body_bytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024), v.maxValue(1 << 30)), 1 << 20),
  /** Largest image archive or build context sent to /api/images/load and /build (bytes). */
  max_archive_bytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1 << 20), v.maxValue(2 ** 50)), 64 * 2 ** 30),
  /** Path of shed-agent to put in sheds; by default the one beside shed-server or embedded in it. */
  agent_path: v.optional(v.string()),
  pull_concurrency: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(16)), 3),
  /** Registries (host[:port]) spoken to over plain HTTP; loopback ones always are. */
  insecure_registries: v.optional(v.array(v.pipe(v.string(), v.regex(/^[^/\s]+$/, "a registry is host[:port]"))), []),
  ssh: v.optional(SshSectionSchema, {}),
  /**
   * How VM root filesystems (erofs, one per image) are compressed. none (default): the fastest
   * to build (mkfs.erofs does no compression work) and to read under TCG, where the guest pays
   * for every decompression; lz4: about 10% larger than lz4hc, built ~5x faster; lz4hc: the
   * smallest, the slowest to build.
   */
  rootfs_compression: v.optional(v.picklist(["none", "lz4", "lz4hc"]), "none"),
  log_level: v.optional(v.picklist(["debug", "info", "warn", "error"]), "info"),
};

type Definitions = readonly BackendDefinition<BackendSection, string>[];
type Sections<D extends Definitions> = { [K in D[number] as K["name"]]: v.OptionalSchema<K["section"], Record<never, never>> };

/** server.yaml for these backends: the server's keys, default_backend and enabled_backends over their names, a section each. */
function composeSchema<const D extends Definitions>(definitions: D) {
  const names = definitions.map((d) => d.name) as [string, ...string[]];
  const sections = Object.fromEntries(definitions.map((d) => [d.name, v.optional(d.section, {})])) as Sections<D>;
  return v.strictObject({
    ...SERVER_PLACE,
    default_backend: v.optional(v.picklist(["detect", ...names]), "detect"),
    enabled_backends: v.optional(v.array(v.picklist(names))),
    ...SERVER_SETTINGS,
    ...sections,
  });
}

/** The schema of the built-in backends (its type is ServerConfig's). */
export const ServerConfigSchema = composeSchema(BUILT_IN);

/** The schema with every registered backend (a test's too): what server.yaml is parsed with. */
export function serverConfigSchema(): typeof ServerConfigSchema {
  return composeSchema(backendDefinitions()) as unknown as typeof ServerConfigSchema;
}

export type ServerConfig = v.InferOutput<typeof ServerConfigSchema>;

/** The section of backend `name` (its common keys are what the server reads). */
export function sectionOf(config: ServerConfig, name: string): BackendSection {
  const section = (config as unknown as Record<string, BackendSection | undefined>)[name];
  if (!section) throw new ShedError("UNSUPPORTED", `this server has no backend "${name}" (a state file of another server's backend?)`);
  return section;
}
