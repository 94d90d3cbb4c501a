import * as v from "valibot";
import { CpusSchema, MemoryMbSchema } from "../../api/schemas/shed.ts";

/**
 * server.yaml, defined once: the type, the validation and the defaults all come from here.
 * Every section is a strictObject: an unknown key (a typo such as `mount_root:`) is refused
 * with its line and the closest known key (load.ts), never silently ignored.
 */

const MountSchema = v.strictObject({
  source: v.string(),
  target: v.pipe(v.string(), v.startsWith("/", "must be an absolute path in the shed")),
  readonly: v.optional(v.boolean(), false),
});

const BackendSectionSchema = v.strictObject({
  default_image: v.optional(v.string()),
  image_aliases: v.optional(v.record(v.string(), v.string()), {}),
  default_cpus: v.optional(CpusSchema, 2),
  default_memory_mb: v.optional(MemoryMbSchema, 4096),
  pull_policy: v.optional(v.picklist(["missing", "always", "never"]), "missing"),
  stop_timeout: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(3600, "must be at most 3600 s")), 10),
});

const DockerSectionSchema = v.strictObject({
  ...BackendSectionSchema.entries,
  socket: v.optional(v.string(), "/var/run/docker.sock"),
  /** Prefix of container and volume names (tests use their own, so parallel servers never clash). */
  name_prefix: v.optional(v.pipe(v.string(), v.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/)), "shed-"),
  /** Extra labels on every container and volume (tests add shed.test=1). */
  labels: v.optional(v.record(v.string(), v.string()), {}),
  /** Processes (and threads) a shed may have at once: a fork bomb in one shed cannot starve the host. */
  pids_limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(16, "must be at least 16"), v.maxValue(4_194_304, "must be at most 4194304")), 4096),
});

const QemuSectionSchema = v.strictObject({
  ...BackendSectionSchema.entries,
  accel: v.optional(v.picklist(["auto", "kvm", "tcg"]), "auto"),
  binary: v.optional(v.string()),
  /** isolated: a tap on shed's bridge, NAT out, nothing of the host reachable (README); none: no NIC. */
  network: v.optional(v.picklist(["isolated", "none"]), "isolated"),
  bridge: v.optional(v.pipe(v.string(), v.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/, "a network interface name of 1-15 characters")), "shed-br0"),
  subnet: v.optional(v.pipe(v.string(), v.regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/, "an IPv4 subnet such as 172.30.0.0/24")), "172.30.0.0/24"),
  /** The unprivileged user QEMU runs as (name or uid[:gid]); default: the shares' owner, else shed-vmm. */
  run_as: v.optional(v.string()),
});

const Count = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

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

export const ServerConfigSchema = v.strictObject({
  name: v.optional(v.pipe(v.string(), v.minLength(1)), "shed-server"),
  bind_address: v.optional(v.string(), "127.0.0.1"),
  http_port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535)), 8080),
  ssh_port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535)), 2222),
  state_dir: v.optional(v.string(), "/var/lib/shed"),
  default_backend: v.optional(
    v.picklist(["detect", "docker", "qemu", "firecracker", "vz"]),
    "detect",
  ),
  enabled_backends: v.optional(v.array(v.picklist(["docker", "qemu", "firecracker", "vz"]))),
  auth: v.optional(
    v.strictObject({
      mode: v.optional(v.picklist(["open", "token"]), "open"),
      token: v.optional(v.pipe(v.string(), v.minLength(16, "must be at least 16 characters"))),
      token_file: v.optional(v.string()),
    }),
    { mode: "open" },
  ),
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
  log_level: v.optional(v.picklist(["debug", "info", "warn", "error"]), "info"),
  docker: v.optional(DockerSectionSchema, {}),
  qemu: v.optional(QemuSectionSchema, {}),
  firecracker: v.optional(BackendSectionSchema, {}),
  vz: v.optional(BackendSectionSchema, {}),
});

export type ServerConfig = v.InferOutput<typeof ServerConfigSchema>;
export type BackendSection = v.InferOutput<typeof BackendSectionSchema>;
export type DockerSection = v.InferOutput<typeof DockerSectionSchema>;
