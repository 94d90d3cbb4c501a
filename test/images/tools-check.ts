import { join } from "node:path";
import { buildImage, DEFAULT_CACHE, VERSION_ANNOTATION } from "../../guest/build/build.ts";
import { lineage, loadRecipe } from "../../guest/build/recipe.ts";
import { DOCKER_RUN_CHECK, toolsFor } from "../../guest/build/tools.ts";
import { startServer } from "../harness/index.ts";
import { makeTestNetwork } from "../harness/netns.ts";
import { agentPath } from "../qemu/guest-image.ts";

/**
 * Builds a variant's image, boots a qemu (TCG) shed of it in a network namespace, and runs every
 * tool of guest/build/tools.ts as the `shed` user in a login shell, then `docker run` of an image
 * built inside the shed. Used by test/images/base-tools.test.ts and `make image-check-all`
 * (`bun test/images/tools-check.ts VARIANT...`: prints one line per check, exits 1 on a failure).
 */
export interface CheckResult {
  name: string;
  ok: boolean;
  output: string;
}

const GUEST = join(import.meta.dirname, "../../guest");

export async function checkVariant(variant: string, say: (line: string) => void = () => {}): Promise<CheckResult[]> {
  const recipe = loadRecipe(join(GUEST, variant));
  const image = await buildImage({
    recipe: recipe.dir,
    agentPath: agentPath(),
    cacheDir: process.env.SHED_IMAGE_CACHE ?? DEFAULT_CACHE,
    ref: `shed/${variant}:check`,
    say,
  });
  const versions: Record<string, string> = Object.assign({}, ...lineage(recipe).map((r) => r.versions));
  const net = makeTestNetwork();
  const server = await startServer({
    netns: net.host,
    config: {
      enabled_backends: ["qemu"],
      default_backend: "qemu",
      qemu: { accel: "tcg", default_cpus: 2, default_memory_mb: 2048, stop_timeout: 90, image_aliases: { [variant]: `oci:${image.dir}:${image.ref}` } },
    },
  });
  const results: CheckResult[] = [];
  try {
    say(`${variant}: booting a shed (TCG)`);
    const created = await server.shed(["create", "check", "--image", variant], { timeoutMs: 900_000 });
    if (created.code !== 0) throw new Error(`shed create failed: ${created.stdout}${created.stderr}`);
    // By the alias the shed was made from: the image is in the server's store by now.
    const inspect = await server.shed(["image", "inspect", variant, "--json"], { timeoutMs: 120_000 });
    let annotations: Record<string, string> = {};
    try {
      annotations = JSON.parse(inspect.stdout).annotations ?? {};
    } catch {}
    for (const [tool, ver] of Object.entries(versions)) {
      const got = annotations[`${VERSION_ANNOTATION}${tool}`];
      const output = got === ver ? ver : `${got ?? "missing"} (want ${ver}) ${inspect.stderr.trim()}`;
      results.push({ name: `annotation ${VERSION_ANNOTATION}${tool}`, ok: got === ver, output });
    }
    const run = async (cmd: string) => {
      const r = await server.shed(["exec", "check", "--", "sudo", "-iu", "shed", "sh", "-c", cmd], { timeoutMs: 300_000 });
      return { ok: r.code === 0, output: `${r.stdout}${r.stderr}`.trim().split("\n")[0] ?? "" };
    };
    for (const tool of toolsFor(variant)) {
      const r = await run(tool.cmd);
      const want = tool.version ? versions[tool.version] : undefined;
      const ok = r.ok && (!want || r.output.includes(want));
      results.push({ name: tool.name, ok, output: want && !ok ? `${r.output} (want ${want})` : r.output });
    }
    const docker = await run(DOCKER_RUN_CHECK);
    results.push({ name: "docker run (image built in the shed)", ok: docker.ok && docker.output.includes("docker-run-ok"), output: docker.output });
    await server.shed(["delete", "check", "--force"], { timeoutMs: 300_000 });
  } finally {
    await server.stop();
    await net.remove();
  }
  return results;
}

if (import.meta.main) {
  let failed = 0;
  for (const variant of process.argv.slice(2)) {
    const results = await checkVariant(variant, (l) => console.log(`[${variant}] ${l}`));
    for (const r of results) {
      if (!r.ok) failed++;
      console.log(`${variant}\t${r.ok ? "ok  " : "FAIL"}\t${r.name}\t${r.output}`);
    }
  }
  process.exit(failed ? 1 : 0);
}
