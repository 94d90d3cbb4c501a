import type { KernelChoice } from "../vm-boot/boot-image.ts";

/** Firecracker boots an uncompressed vmlinux (x86_64: ELF, PVH entry); images carry it here (make kernel-fc). */
export const VMLINUX: KernelChoice = {
  path: "/boot/shed/vmlinux",
  label: "dev.shed.boot.vmlinux",
  file: "vmlinux",
  advice: "Firecracker boots an uncompressed vmlinux: build one (make kernel-fc) and set firecracker.kernel_path in server.yaml, or use an image that carries /boot/shed/vmlinux",
};
