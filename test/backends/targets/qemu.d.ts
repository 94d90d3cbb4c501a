import type { LifecycleTarget } from "../target.ts";
/**
 * qemu in the lifecycle suite: real VMs under TCG booted from the base guest image, the
 * server in a network namespace the test made (its isolated VM network makes a bridge and
 * nftables rules there), the instance its QEMU process and instance dir.
 */
export declare const qemuTarget: LifecycleTarget;
