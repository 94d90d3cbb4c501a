// Generated from firecracker-api.yaml (Firecracker 1.14.1) by test/firecracker/gen-types.ts: do not edit.
/* eslint-disable */

export const FIRECRACKER_API_VERSION = "1.14.1";

/** Balloon device descriptor. */
export interface Balloon {
  /** Target balloon size in MiB. */
  amount_mib: number;
  /** Whether the balloon should deflate when the guest has memory pressure. */
  deflate_on_oom: boolean;
  /** Interval in seconds between refreshing statistics. A non-zero value will enable the statistics. Defaults to 0. */
  stats_polling_interval_s?: number;
  /** Whether the free page hinting feature is enabled. */
  free_page_hinting?: boolean;
  /** Whether the free page reporting feature is enabled. */
  free_page_reporting?: boolean;
}

/** Balloon device descriptor. */
export interface BalloonUpdate {
  /** Target balloon size in MiB. */
  amount_mib: number;
}

/** Describes the balloon device statistics. */
export interface BalloonStats {
  /** Target number of pages the device aims to hold. */
  target_pages: number;
  /** Actual number of pages the device is holding. */
  actual_pages: number;
  /** Target amount of memory (in MiB) the device aims to hold. */
  target_mib: number;
  /** Actual amount of memory (in MiB) the device is holding. */
  actual_mib: number;
  /** The amount of memory that has been swapped in (in bytes). */
  swap_in?: number;
  /** The amount of memory that has been swapped out to disk (in bytes). */
  swap_out?: number;
  /** The number of major page faults that have occurred. */
  major_faults?: number;
  /** The number of minor page faults that have occurred. */
  minor_faults?: number;
  /** The amount of memory not being used for any purpose (in bytes). */
  free_memory?: number;
  /** The total amount of memory available (in bytes). */
  total_memory?: number;
  /** An estimate of how much memory is available (in bytes) for starting new applications, without pushing the system to swap. */
  available_memory?: number;
  /** The amount of memory, in bytes, that can be quickly reclaimed without additional I/O. Typically these pages are used for caching files from disk. */
  disk_caches?: number;
  /** The number of successful hugetlb page allocations in the guest. */
  hugetlb_allocations?: number;
  /** The number of failed hugetlb page allocations in the guest. */
  hugetlb_failures?: number;
  /** OOM killer invocations, indicating critical memory pressure. */
  oom_kill?: number;
  /** Counter of Allocation enter a slow path to gain more memory page. The reclaim/scan metrics can reveal what is actually happening. */
  alloc_stall?: number;
  /** Amount of memory scanned asynchronously. */
  async_scan?: number;
  /** Amount of memory scanned directly. */
  direct_scan?: number;
  /** Amount of memory reclaimed asynchronously. */
  async_reclaim?: number;
  /** Amount of memory reclaimed directly. */
  direct_reclaim?: number;
}

/** Command used to start a free page hinting run. */
export interface BalloonStartCmd {
  /** If Firecracker should automatically acknowledge when the guest submits a done cmd. */
  acknowledge_on_stop?: boolean;
}

/** Describes the free page hinting status. */
export interface BalloonHintingStatus {
  /** The last command issued by the host. */
  host_cmd: number;
  /** The last command provided by the guest. */
  guest_cmd?: number;
}

/** Update the statistics polling interval, with the first statistics update scheduled immediately. Statistics cannot be turned on/off after boot. */
export interface BalloonStatsUpdate {
  /** Interval in seconds between refreshing statistics. */
  stats_polling_interval_s: number;
}

/** Boot source descriptor. */
export interface BootSource {
  /** Kernel boot arguments */
  boot_args?: string;
  /** Host level path to the initrd image used to boot the guest */
  initrd_path?: string;
  /** Host level path to the kernel image used to boot the guest */
  kernel_image_path: string;
}

/** The CPU Template defines a set of flags to be disabled from the microvm so that the features exposed to the guest are the same as in the selected instance type. This parameter has been deprecated and it will be removed in future Firecracker release. */
export type CpuTemplate = "C3" | "T2" | "T2S" | "T2CL" | "T2A" | "V1N1" | "None";

/** The CPU configuration template defines a set of bit maps as modifiers of flags accessed by register to be disabled/enabled for the microvm. */
export interface CpuConfig {
  /** A collection of KVM capabilities to be added or removed (both x86_64 and aarch64) */
  kvm_capabilities?: string[];
  /** A collection of CPUID leaf modifiers (x86_64 only) */
  cpuid_modifiers?: CpuidLeafModifier[];
  /** A collection of model specific register modifiers (x86_64 only) */
  msr_modifiers?: MsrModifier[];
  /** A collection of register modifiers (aarch64 only) */
  reg_modifiers?: ArmRegisterModifier[];
  /** A collection of vCPU features to be modified (aarch64 only) */
  vcpu_features?: VcpuFeatures[];
}

/** Modifier for a CPUID leaf and subleaf (x86_64) */
export interface CpuidLeafModifier {
  /** CPUID leaf index as hex, binary, or decimal string (e.g., "0x0", "0b0", "0")) */
  leaf: string;
  /** CPUID subleaf index as hex, binary, or decimal string (e.g., "0x0", "0b0", "0") */
  subleaf: string;
  /** KVM feature flags for this leaf-subleaf */
  flags: number;
  /** Register modifiers for this CPUID leaf */
  modifiers: CpuidRegisterModifier[];
}

/** Modifier for a specific CPUID register within a leaf (x86_64) */
export interface CpuidRegisterModifier {
  /** Target CPUID register name */
  register: "eax" | "ebx" | "ecx" | "edx";
  /** 32-bit bitmap string defining which bits to modify. Format is "0b" followed by 32 characters where '0' = clear bit, '1' = set bit, 'x' = don't modify. Example "0b00000000000000000000000000000001" or "0bxxxxxxxxxxxxxxxxxxxxxxxxxxxx0001" */
  bitmap: string;
}

/** Modifier for a model specific register (x86_64) */
export interface MsrModifier {
  /** 32-bit MSR address as hex, binary, or decimal string (e.g., "0x10a", "0b100001010", "266") */
  addr: string;
  /** 64-bit bitmap string defining which bits to modify. Format is "0b" followed by 64 characters where '0' = clear bit, '1' = set bit, 'x' = don't modify. Underscores can be used for readability. Example "0b0000000000000000000000000000000000000000000000000000000000000001" */
  bitmap: string;
}

/** Modifier for an ARM register (aarch64) */
export interface ArmRegisterModifier {
  /** 64-bit register address as hex, binary, or decimal string (e.g., "0x0", "0b0", "0") */
  addr: string;
  /** 128-bit bitmap string defining which bits to modify. Format is "0b" followed by up to 128 characters where '0' = clear bit, '1' = set bit, 'x' = don't modify. Underscores can be used for readability. Example "0b0000000000000000000000000000000000000000000000000000000000000001" */
  bitmap: string;
}

/** vCPU feature modifier (aarch64) */
export interface VcpuFeatures {
  /** Index in the kvm_vcpu_init.features array */
  index: number;
  /** 32-bit bitmap string defining which bits to modify. Format is "0b" followed by 32 characters where '0' = clear bit, '1' = set bit, 'x' = don't modify. Example "0b00000000000000000000000001100000" */
  bitmap: string;
}

export interface Drive {
  drive_id: string;
  /** Represents the unique id of the boot partition of this device. It is optional and it will be taken into account only if the is_root_device field is true. */
  partuuid?: string;
  is_root_device: boolean;
  /** Represents the caching strategy for the block device. */
  cache_type?: "Unsafe" | "Writeback";
  /** Is block read only. This field is required for virtio-block config and should be omitted for vhost-user-block configuration. */
  is_read_only?: boolean;
  /** Host level path for the guest drive. This field is required for virtio-block config and should be omitted for vhost-user-block configuration. */
  path_on_host?: string;
  rate_limiter?: RateLimiter;
  /** Type of the IO engine used by the device. "Async" is supported on host kernels newer than 5.10.51. This field is optional for virtio-block config and should be omitted for vhost-user-block configuration. */
  io_engine?: "Sync" | "Async";
  /** Path to the socket of vhost-user-block backend. This field is required for vhost-user-block config should be omitted for virtio-block configuration. */
  socket?: string;
}

export interface Pmem {
  /** Identificator for this device. */
  id: string;
  /** Host level path for the virtio-pmem device to use as a backing file. */
  path_on_host: string;
  /** Flag to make this device be the root device for VM boot. Setting this flag will fail if there is another device configured to be a root device already. */
  root_device?: boolean;
  /** Flag to map backing file in read-only mode. */
  read_only?: boolean;
}

export interface Error {
  /** A description of the error condition */
  fault_message?: string;
}

export interface FullVmConfiguration {
  balloon?: Balloon;
  /** Configurations for all block devices. */
  drives?: Drive[];
  "boot-source"?: BootSource;
  "cpu-config"?: CpuConfig;
  logger?: Logger;
  "machine-config"?: MachineConfiguration;
  metrics?: Metrics;
  "memory-hotplug"?: MemoryHotplugConfig;
  "mmds-config"?: MmdsConfig;
  /** Configurations for all net devices. */
  "network-interfaces"?: NetworkInterface[];
  /** Configurations for all pmem devices. */
  pmem?: Pmem[];
  vsock?: Vsock;
  entropy?: EntropyDevice;
}

/** Variant wrapper containing the real action. */
export interface InstanceActionInfo {
  /** Enumeration indicating what type of action is contained in the payload */
  action_type: "FlushMetrics" | "InstanceStart" | "SendCtrlAltDel";
}

/** Describes MicroVM instance information. */
export interface InstanceInfo {
  /** Application name. */
  app_name: string;
  /** MicroVM / instance ID. */
  id: string;
  /** The current detailed state (Not started, Running, Paused) of the Firecracker instance. This value is read-only for the control-plane. */
  state: "Not started" | "Running" | "Paused";
  /** MicroVM hypervisor build version. */
  vmm_version: string;
}

/** Describes the configuration option for the logging capability. */
export interface Logger {
  /** Set the level. The possible values are case-insensitive. */
  level?: "Error" | "Warning" | "Info" | "Debug" | "Trace" | "Off";
  /** Path to the named pipe or file for the human readable log output. */
  log_path?: string;
  /** Whether or not to output the level in the logs. */
  show_level?: boolean;
  /** Whether or not to include the file path and line number of the log's origin. */
  show_log_origin?: boolean;
  /** The module path to filter log messages by. */
  module?: string;
}

/** Describes the number of vCPUs, memory size, SMT capabilities, huge page configuration and the CPU template. */
export interface MachineConfiguration {
  cpu_template?: CpuTemplate;
  /** Flag for enabling/disabling simultaneous multithreading. Can be enabled only on x86. */
  smt?: boolean;
  /** Memory size of VM */
  mem_size_mib: number;
  /** Enable dirty page tracking. If this is enabled, then incremental guest memory snapshots can be created. These belong to diff snapshots, which contain, besides the microVM state, only the memory dirtied since a previous snapshot. Full snapshots each contain a full copy of the guest memory. */
  track_dirty_pages?: boolean;
  /** Number of vCPUs (either 1 or an even number) */
  vcpu_count: number;
  /** Which huge pages configuration (if any) should be used to back guest memory. */
  huge_pages?: "None" | "2M";
}

export interface MemoryBackend {
  backend_type: "File" | "Uffd";
  /** Based on 'backend_type' it is either 1) Path to the file that contains the guest memory to be loaded 2) Path to the UDS where a process is listening for a UFFD initialization control payload and open file descriptor that it can use to serve this process's guest memory page faults */
  backend_path: string;
}

/** Describes the configuration option for the metrics capability. */
export interface Metrics {
  /** Path to the named pipe or file where the JSON-formatted metrics are flushed. */
  metrics_path: string;
}

/** Defines the MMDS configuration. */
export interface MmdsConfig {
  /** Enumeration indicating the MMDS version to be configured. */
  version?: "V1" | "V2";
  /** List of the network interface IDs capable of forwarding packets to the MMDS. Network interface IDs mentioned must be valid at the time of this request. The net device model will reply to HTTP GET requests sent to the MMDS address via the interfaces mentioned. In this case, both ARP requests and TCP segments heading to `ipv4_address` are intercepted by the device model, and do not reach the associated TAP device. */
  network_interfaces: string[];
  /** A valid IPv4 link-local address. */
  ipv4_address?: string;
  /** MMDS operates compatibly with EC2 IMDS (i.e. responds "text/plain" content regardless of Accept header in requests). */
  imds_compat?: boolean;
}

/** Describes the contents of MMDS in JSON format. */
export type MmdsContentsObject = Record<string, unknown>;

/** Defines a network interface. */
export interface NetworkInterface {
  guest_mac?: string;
  /** Host level path for the guest network interface */
  host_dev_name: string;
  iface_id: string;
  rx_rate_limiter?: RateLimiter;
  tx_rate_limiter?: RateLimiter;
}

export interface PartialDrive {
  drive_id: string;
  /** Host level path for the guest drive. This field is optional for virtio-block config and should be omitted for vhost-user-block configuration. */
  path_on_host?: string;
  rate_limiter?: RateLimiter;
}

/** Defines a partial network interface structure, used to update the rate limiters for that interface, after microvm start. */
export interface PartialNetworkInterface {
  iface_id: string;
  rx_rate_limiter?: RateLimiter;
  tx_rate_limiter?: RateLimiter;
}

/** Defines an IO rate limiter with independent bytes/s and ops/s limits. Limits are defined by configuring each of the _bandwidth_ and _ops_ token buckets. This field is optional for virtio-block config and should be omitted for vhost-user-block configuration. */
export interface RateLimiter {
  /** Token bucket with bytes as tokens */
  bandwidth?: TokenBucket;
  /** Token bucket with operations as tokens */
  ops?: TokenBucket;
}

export interface SnapshotCreateParams {
  /** Path to the file that will contain the guest memory. */
  mem_file_path: string;
  /** Path to the file that will contain the microVM state. */
  snapshot_path: string;
  /** Type of snapshot to create. It is optional and by default, a full snapshot is created. */
  snapshot_type?: "Full" | "Diff";
}

/** Allows for changing the backing TAP device of a network interface during snapshot restore. */
export interface NetworkOverride {
  /** The name of the interface to modify */
  iface_id: string;
  /** The new host device of the interface */
  host_dev_name: string;
}

/** Defines the configuration used for handling snapshot resume. Exactly one of the two `mem_*` fields must be present in the body of the request. */
export interface SnapshotLoadParams {
  /** (Deprecated) Enable dirty page tracking to improve space efficiency of diff snapshots */
  enable_diff_snapshots?: boolean;
  /** Enable dirty page tracking to improve space efficiency of diff snapshots */
  track_dirty_pages?: boolean;
  /** Path to the file that contains the guest memory to be loaded. It is only allowed if `mem_backend` is not present. This parameter has been deprecated and it will be removed in future Firecracker release. */
  mem_file_path?: string;
  /** Configuration for the backend that handles memory load. If this field is specified, `mem_file_path` is forbidden. Either `mem_backend` or `mem_file_path` must be present at a time. */
  mem_backend?: MemoryBackend;
  /** Path to the file that contains the microVM state to be loaded. */
  snapshot_path: string;
  /** When set to true, the vm is also resumed if the snapshot load is successful. */
  resume_vm?: boolean;
  /** Network host device names to override */
  network_overrides?: NetworkOverride[];
}

/** Defines a token bucket with a maximum capacity (size), an initial burst size (one_time_burst) and an interval for refilling purposes (refill_time). The refill-rate is derived from size and refill_time, and it is the constant rate at which the tokens replenish. The refill process only starts happening after the initial burst budget is consumed. Consumption from the token bucket is unbounded in speed which allows for bursts bound in size by the amount of tokens available. Once the token bucket is empty, consumption speed is bound by the refill_rate. */
export interface TokenBucket {
  /** The initial size of a token bucket. */
  one_time_burst?: number;
  /** The amount of milliseconds it takes for the bucket to refill. */
  refill_time: number;
  /** The total number of tokens this bucket can hold. */
  size: number;
}

/** Defines the microVM running state. It is especially useful in the snapshotting context. */
export interface Vm {
  state: "Paused" | "Resumed";
}

/** Defines an entropy device. */
export interface EntropyDevice {
  rate_limiter?: RateLimiter;
}

/** The configuration of the serial device */
export interface SerialDevice {
  /** Path to a file or named pipe on the host to which serial output should be written. */
  serial_out_path?: string;
}

/** The configuration of the hotpluggable memory device (virtio-mem) */
export interface MemoryHotplugConfig {
  /** Total size of the hotpluggable memory in MiB. */
  total_size_mib?: number;
  /** Slot size for the hotpluggable memory in MiB. This will determine the granularity of hot-plug memory from the host. Refer to the device documentation on how to tune this value. */
  slot_size_mib?: number;
  /** (Logical) Block size for the hotpluggable memory in MiB. This will determine the logical granularity of hot-plug memory for the guest. Refer to the device documentation on how to tune this value. */
  block_size_mib?: number;
}

/** An update to the size of the hotpluggable memory region. */
export interface MemoryHotplugSizeUpdate {
  /** New target region size. */
  requested_size_mib?: number;
}

/** The status of the hotpluggable memory device (virtio-mem) */
export interface MemoryHotplugStatus {
  /** Total size of the hotpluggable memory in MiB. */
  total_size_mib?: number;
  /** Slot size for the hotpluggable memory in MiB. */
  slot_size_mib?: number;
  /** (Logical) Block size for the hotpluggable memory in MiB. */
  block_size_mib?: number;
  /** Plugged size for the hotpluggable memory in MiB. */
  plugged_size_mib?: number;
  /** Requested size for the hotpluggable memory in MiB. */
  requested_size_mib?: number;
}

/** Describes the Firecracker version. */
export interface FirecrackerVersion {
  /** Firecracker build version. */
  firecracker_version: string;
}

/** Defines a vsock device, backed by a set of Unix Domain Sockets, on the host side. For host-initiated connections, Firecracker will be listening on the Unix socket identified by the path `uds_path`. Firecracker will create this socket, bind and listen on it. Host-initiated connections will be performed by connection to this socket and issuing a connection forwarding request to the desired guest-side vsock port (i.e. `CONNECT 52\n`, to connect to port 52). For guest-initiated connections, Firecracker will expect host software to be bound and listening on Unix sockets at `uds_path_<PORT>`. E.g. "/path/to/host_vsock.sock_52" for port number 52. */
export interface Vsock {
  /** Guest Vsock CID */
  guest_cid: number;
  /** Path to UNIX domain socket, used to proxy vsock connections. */
  uds_path: string;
  /** This parameter has been deprecated and it will be removed in future Firecracker release. */
  vsock_id?: string;
}

/** Every operation's body by `METHOD /path` (path parameters in braces). */
export interface FirecrackerBodies {
  "PUT /actions": InstanceActionInfo;
  "PUT /balloon": Balloon;
  "PATCH /balloon": BalloonUpdate;
  "PATCH /balloon/statistics": BalloonStatsUpdate;
  "PATCH /balloon/hinting/start": BalloonStartCmd;
  "PUT /boot-source": BootSource;
  "PUT /cpu-config": CpuConfig;
  "PUT /drives/{drive_id}": Drive;
  "PATCH /drives/{drive_id}": PartialDrive;
  "PUT /pmem/{id}": Pmem;
  "PUT /logger": Logger;
  "PUT /machine-config": MachineConfiguration;
  "PATCH /machine-config": MachineConfiguration;
  "PUT /metrics": Metrics;
  "PUT /mmds": MmdsContentsObject;
  "PATCH /mmds": MmdsContentsObject;
  "PUT /mmds/config": MmdsConfig;
  "PUT /entropy": EntropyDevice;
  "PUT /serial": SerialDevice;
  "PUT /hotplug/memory": MemoryHotplugConfig;
  "PATCH /hotplug/memory": MemoryHotplugSizeUpdate;
  "PUT /network-interfaces/{iface_id}": NetworkInterface;
  "PATCH /network-interfaces/{iface_id}": PartialNetworkInterface;
  "PUT /snapshot/create": SnapshotCreateParams;
  "PUT /snapshot/load": SnapshotLoadParams;
  "PATCH /vm": Vm;
  "PUT /vsock": Vsock;
}
