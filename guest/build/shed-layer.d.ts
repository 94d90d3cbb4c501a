import type { OsStage } from "./os-stage.ts";
import type { Recipe } from "./recipe.ts";
/** Where a shed guest image keeps what the VM backends boot (documented in guest/README.md). */
export declare const BOOT_PATHS: {
    readonly kernel: "/boot/shed/vmlinuz";
    readonly initrd: "/boot/shed/initrd.img";
    /** JSON: kernel release, recipe, recommended kernel arguments. */
    readonly manifest: "/boot/shed/boot.json";
};
export declare const AGENT_PATH = "/usr/lib/shed/shed-agent";
/**
 * The fast half of an image build, redone every time (the agent changes often): shed-agent,
 * its systemd units, the first-boot identity unit, the network unit, and the kernel plus a
 * fresh initramfs at BOOT_PATHS. Returns a tar to stack on the OS stage as the top layer.
 */
export declare function buildShedLayer(opts: {
    recipe: Recipe;
    os: OsStage;
    /** guest/ of the tree the recipe comes from (init/, systemd/, README.md). */
    guestDir: string;
    agentPath: string;
    workDir: string;
    outTar: string;
}): void;
