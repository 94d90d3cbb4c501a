import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { q, removeBuildDir, sh } from "./chroot.ts";
import { bootableKernel } from "./kernel.ts";
import { buildInitramfs } from "./initramfs.ts";
import type { OsStage } from "./os-stage.ts";
import type { Recipe } from "./recipe.ts";

/** Where a shed guest image keeps what the VM backends boot (documented in guest/README.md). */
export const BOOT_PATHS = {
  kernel: "/boot/shed/vmlinuz",
  initrd: "/boot/shed/initrd.img",
  /** JSON: kernel release, recipe, recommended kernel arguments. */
  manifest: "/boot/shed/boot.json",
} as const;

export const AGENT_PATH = "/usr/lib/shed/shed-agent";

/**
 * The fast half of an image build, redone every time (the agent changes often): shed-agent,
 * its systemd units, the first-boot identity unit, the network unit, and the kernel plus a
 * fresh initramfs at BOOT_PATHS. Returns a tar to stack on the OS stage as the top layer.
 */
export function buildShedLayer(opts: {
  recipe: Recipe;
  os: OsStage;
  /** guest/ of the tree the recipe comes from (init/, systemd/, README.md). */
  guestDir: string;
  agentPath: string;
  workDir: string;
  outTar: string;
}): void {
  const root = join(opts.workDir, "shed-layer");
  removeBuildDir(root);
  const put = (path: string, data: Uint8Array | string, mode = 0o644) => {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, data);
    chmodSync(full, mode);
  };
  const link = (path: string, target: string) => {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    symlinkSync(target, full);
  };
  const systemd = join(opts.guestDir, "systemd");

  mkdirSync(join(root, dirname(AGENT_PATH)), { recursive: true });
  copyFileSync(opts.agentPath, join(root, AGENT_PATH));
  chmodSync(join(root, AGENT_PATH), 0o755);
  put("usr/lib/shed/agent-start", readFileSync(join(systemd, "agent-start")), 0o755);
  put("usr/lib/shed/firstboot", readFileSync(join(systemd, "firstboot")), 0o755);
  put("usr/lib/shed/hostkeys", readFileSync(join(systemd, "hostkeys")), 0o755);
  put("usr/lib/shed/mss-clamp", readFileSync(join(systemd, "mss-clamp")), 0o755);
  put("usr/lib/shed/README.md", readFileSync(join(opts.guestDir, "README.md")));
  for (const unit of ["shed-agent.service", "shed-firstboot.service", "shed-hostkeys.service", "shed-mss-clamp.service"]) {
    put(`etc/systemd/system/${unit}`, readFileSync(join(systemd, unit)));
  }
  link("etc/systemd/system/multi-user.target.wants/shed-agent.service", "/etc/systemd/system/shed-agent.service");
  link("etc/systemd/system/sysinit.target.wants/shed-firstboot.service", "/etc/systemd/system/shed-firstboot.service");
  link("etc/systemd/system/multi-user.target.wants/shed-hostkeys.service", "/etc/systemd/system/shed-hostkeys.service");
  link("etc/systemd/system/multi-user.target.wants/shed-mss-clamp.service", "/etc/systemd/system/shed-mss-clamp.service");
  put("etc/systemd/network/80-shed.network", readFileSync(join(systemd, "80-shed.network")));
  put("etc/systemd/network/80-shed.link", readFileSync(join(systemd, "80-shed.link")));
  // The host keys shed-hostkeys makes; without this sshd would also look for an RSA one.
  put("etc/ssh/sshd_config.d/shed-host-keys.conf", "HostKey /etc/ssh/ssh_host_ed25519_key\nHostKey /etc/ssh/ssh_host_ecdsa_key\n");

  const version = readFileSync(join(opts.os.kernelDir, "version"), "utf8").trim();
  const initrd = buildInitramfs({
    initDir: join(opts.guestDir, "init"),
    modulesDir: join(opts.os.kernelDir, "modules", version),
  });
  put(BOOT_PATHS.kernel.slice(1), bootableKernel(readFileSync(join(opts.os.kernelDir, "vmlinuz"))));
  put(BOOT_PATHS.initrd.slice(1), initrd);
  put(
    BOOT_PATHS.manifest.slice(1),
    `${JSON.stringify(
      {
        kernelRelease: version,
        kernel: BOOT_PATHS.kernel,
        initrd: BOOT_PATHS.initrd,
        recipe: opts.recipe.name,
        recipeHash: opts.recipe.hash,
        // The lower (erofs image root) and upper (ext4) disks; see guest/init/init.
        cmdline: "console=ttyS0 shed.lower=/dev/vdb shed.upper=/dev/vda",
      },
      null,
      2,
    )}\n`,
  );
  put("etc/shed/image.json", `${JSON.stringify({ recipe: opts.recipe.name, hash: opts.recipe.hash }, null, 2)}\n`);

  // Every entry root-owned; directories get the usual 0755.
  sh(`find ${q(root)} -type d -exec chmod 0755 {} +`);
  sh(`tar -C ${q(root)} --numeric-owner --owner=0 --group=0 --sort=name -cf ${q(opts.outTar)} boot etc usr`);
  removeBuildDir(root);
}
