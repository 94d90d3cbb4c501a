/**
 * Compiles the three executables with `bun build --compile`:
 *   dist/shed-agent   (first: shed-server embeds it)
 *   dist/shed-server  (embeds dist/shed-agent, so one copied binary is a whole install)
 *   dist/shed
 *   dist/client/shed-client.js  (the client library, ShedClient, for Node and Bun programs)
 * Usage: bun build.ts [--target linux-x64|linux-arm64|darwin-arm64] [--only shed|shed-server|shed-agent|client] [--agent PATH]
 */
import { mkdirSync, statSync } from "node:fs";
import pkg from "./package.json" with { type: "json" };

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const target = flag("--target");
const only = flag("--only");
const outDir = flag("--outdir") ?? "dist";
const version = process.env.SHED_VERSION ?? pkg.version;

mkdirSync(outDir, { recursive: true });

async function compile(name: string, entry: string, extra: string[] = []): Promise<void> {
  if (only && only !== name) return;
  const started = performance.now();
  const suffix = target ? `-${target}` : "";
  const outfile = `${outDir}/${name}${suffix}`;
  const result = await Bun.build({
    entrypoints: [entry, ...extra],
    compile: { outfile, ...(target ? { target: `bun-${target}` as "bun-linux-x64" } : {}) },
    minify: { syntax: true, whitespace: true },
    // Precompiled bytecode halves start-up (the CLI's exec path lives on it).
    bytecode: true,
    format: "esm",
    // Lazily imported modules become their own chunks, loaded (and resident) only when imported:
    // in one chunk, an idle shed-agent held node-tar's ~12 MB it only needs for copies.
    splitting: true,
    sourcemap: "none",
    define: { SHED_VERSION: JSON.stringify(version) },
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error(`build of ${name} failed`);
  }
  const mb = (statSync(outfile).size / 1e6).toFixed(0);
  console.log(`${outfile}  ${mb} MB  ${((performance.now() - started) / 1000).toFixed(1)}s`);
}


/** The client library (src/sdk/index.ts) as one ES module for Node 22+ and Bun: dist/client/shed-client.js. */
async function bundleClient(): Promise<void> {
  if ((only && only !== "client") || target) return;
  const result = await Bun.build({
    entrypoints: ["src/sdk/index.ts"],
    outdir: `${outDir}/client`,
    naming: "shed-client.js",
    target: "node",
    format: "esm",
    define: { SHED_VERSION: JSON.stringify(version) },
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error("build of the client library failed");
  }
  console.log(`${outDir}/client/shed-client.js  ${(statSync(`${outDir}/client/shed-client.js`).size / 1e3).toFixed(0)} kB`);
}

await bundleClient();
await compile("shed-agent", "src/bin/shed-agent.ts");
// --agent: the shed-agent to embed (a darwin-arm64 server carries the linux-arm64 agent its sheds run).
const agentBinary = flag("--agent") ?? `${outDir}/shed-agent${target ? `-${target}` : ""}`;
await compile("shed-server", "src/bin/shed-server.ts", (await Bun.file(agentBinary).exists()) ? [agentBinary] : []);
await compile("shed", "src/bin/shed.ts");
