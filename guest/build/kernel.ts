import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { q, sh } from "./chroot.ts";

/**
 * Module trees a VM never needs (real hardware: GPUs, Wi-Fi, USB, sound, ...). Pruning them
 * takes the Debian kernel's modules from ~400 MB to roughly a quarter, in every image.
 * What stays: input (evdev carries the ACPI power button to logind), filesystems, networking (bridges, veth, tun, netfilter for Docker), crypto,
 * virtio and block drivers.
 */
const PRUNE = [
  "drivers/gpu", "drivers/media", "drivers/net/wireless", "drivers/net/ethernet", "drivers/net/usb",
  "drivers/net/can", "drivers/net/wwan", "drivers/infiniband", "drivers/staging", "drivers/usb",
  "drivers/bluetooth", "drivers/iio", "drivers/isdn", "drivers/hwmon", "drivers/mmc",
  "drivers/mtd", "drivers/nfc", "drivers/platform", "drivers/power", "drivers/thunderbolt",
  "drivers/video", "drivers/w1", "drivers/leds", "drivers/atm", "drivers/firewire", "drivers/edac",
  "drivers/pcmcia", "drivers/hid", "drivers/sound", "drivers/misc", "drivers/spi", "drivers/i2c",
  "drivers/gnss", "drivers/ata", "drivers/target", "drivers/soundwire", "drivers/ptp", "drivers/pinctrl",
  "drivers/mfd", "drivers/regulator", "drivers/extcon", "drivers/counter", "drivers/fpga",
  "sound", "net/bluetooth", "net/wireless", "net/mac80211", "net/nfc", "net/can",
];
/** Kept from pruned trees: drivers a VM does use. */
const KEEP: string[] = [];

/**
 * Puts the Debian kernel package's files into `root` without dpkg's maintainer scripts (no
 * initramfs-tools run in the chroot: shed makes its own initramfs), prunes hardware-only
 * modules, runs depmod, and copies the kernel and module tree to `outDir` for the
 * initramfs builder. Returns the kernel release.
 */
export function installKernel(root: string, pkg: string, outDir: string, run: (cmd: string) => void, log: string): string {
  run(
    `cd /tmp && real=$(apt-cache depends ${q(pkg)} | sed -n 's/^ *Depends: \\(linux-image-[0-9].*\\)$/\\1/p' | head -n1) && ` +
      `test -n "$real" && apt-get download -qq "$real"`,
  );
  const debs = readdirSync(join(root, "tmp")).filter((f) => f.startsWith("linux-image-") && f.endsWith(".deb"));
  if (debs.length !== 1) throw new Error(`expected one kernel package in the chroot's /tmp, found ${debs.length}`);
  // --keep-directory-symlink: Debian's /lib is a symlink to usr/lib; never replace it by a dir.
  sh(`dpkg-deb --fsys-tarfile ${q(join(root, "tmp", debs[0]!))} | tar -C ${q(root)} -x --keep-directory-symlink`, { log });
  rmSync(join(root, "tmp", debs[0]!));

  const versions = readdirSync(join(root, "lib/modules"));
  if (versions.length !== 1) throw new Error(`expected one kernel in ${root}/lib/modules, found: ${versions.join(", ")}`);
  const version = versions[0]!;
  const modules = join(root, "lib/modules", version);
  const kernelTree = join(modules, "kernel");
  const saved = join(root, "tmp/shed-keep");
  for (const keep of KEEP) {
    if (!existsSync(join(kernelTree, keep))) continue;
    mkdirSync(join(saved, keep, ".."), { recursive: true });
    sh(`cp -a ${q(join(kernelTree, keep))} ${q(join(saved, keep))}`);
  }
  for (const dir of PRUNE) rmSync(join(kernelTree, dir), { recursive: true, force: true });
  if (existsSync(saved)) {
    sh(`cp -a ${q(saved)}/. ${q(kernelTree)}/ && rm -rf ${q(saved)}`);
  }
  sh(`depmod -b ${q(root)} ${q(version)}`, { log });

  mkdirSync(outDir, { recursive: true });
  const vmlinuz = join(root, "boot", `vmlinuz-${version}`);
  if (!existsSync(vmlinuz)) throw new Error(`the kernel package has no /boot/vmlinuz-${version}`);
  copyFileSync(vmlinuz, join(outDir, "vmlinuz"));
  // The image carries the kernel once, at /boot/shed/vmlinuz (added by the shed layer).
  rmSync(vmlinuz);
  rmSync(join(root, "boot", `System.map-${version}`), { force: true });
  sh(`mkdir -p ${q(join(outDir, "modules"))} && cp -a ${q(modules)} ${q(join(outDir, "modules", version))}`);
  writeFileSync(join(outDir, "version"), `${version}\n`);
  return version;
}

/**
 * The kernel as the VM's loader takes it. Debian's arm64 vmlinuz is a gzipped `Image`, and
 * Virtualization.framework's Linux boot loader (vfkit `--bootloader linux`) boots only an
 * uncompressed one: gunzip it here, once, at build time. An x86 bzImage (its own decompressor
 * inside) is no gzip stream and passes as it is.
 */
export function bootableKernel(vmlinuz: Uint8Array<ArrayBuffer>): Uint8Array {
  return vmlinuz[0] === 0x1f && vmlinuz[1] === 0x8b ? Bun.gunzipSync(vmlinuz) : vmlinuz;
}

/**
 * Recipes name Debian's amd64 kernel meta-package; built on an arm64 host (debootstrap makes
 * the host's architecture) the same recipe takes the arm64 one.
 */
export function kernelPackageFor(pkg: string, arch: string): string {
  return arch === "arm64" ? pkg.replace(/-amd64$/, "-arm64") : pkg;
}
