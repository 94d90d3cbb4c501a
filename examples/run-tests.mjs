#!/usr/bin/env node
// Runs a repository's tests in a fresh shed and reports the result, as an agent framework
// would: create a shed (a repo cloned into /workspace, or a directory of the server's host
// as /workspace), run the test command, collect exit code and output, delete the shed.
//
//   node examples/run-tests.mjs --repo owner/repo --test "make test"
//   bun examples/run-tests.mjs --local-dir /srv/src/app --test "npm test" --server http://127.0.0.1:8080
//
// Needs `make build` (dist/client/shed-client.js) and Node 22+ or Bun. Prints one JSON
// document; exits with the tests' exit code (125 when shed itself failed).
import { ShedClient, ShedError } from "../dist/client/shed-client.js";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith("--") ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
const client = new ShedClient({ url: args.server ?? process.env.SHED_URL ?? "http://127.0.0.1:8080", token: process.env.SHED_TOKEN });
const name = args.name ?? `tests-${Date.now().toString(36)}`;

try {
  const shed = await client.create(
    { name, ...(args.repo ? { repo: args.repo } : {}), ...(args["local-dir"] ? { localDir: args["local-dir"] } : {}), ...(args.image ? { image: args.image } : {}) },
    { onProgress: (e) => process.stderr.write(`${e.id}: ${e.status}\n`) },
  );
  // A failed clone is a warning, not a failed create: no point running tests without the code.
  if (shed.warnings?.length) throw new ShedError("INVALID_REQUEST", `the shed was made with warnings: ${shed.warnings.join("; ")}`);
  const result = await client.exec(name, { command: args.test ?? "make test", cwd: "/workspace", timeoutSeconds: Number(args.timeout ?? 1800) });
  console.log(
    JSON.stringify({
      shed: name,
      passed: result.exitCode === 0,
      exitCode: result.exitCode,
      timedOut: result.timedOut,
      durationMs: result.durationMs,
      stdout: result.stdout.text,
      stderr: result.stderr.text,
      truncated: result.stdout.truncated || result.stderr.truncated,
    }),
  );
  process.exitCode = result.exitCode;
} catch (err) {
  console.log(JSON.stringify({ shed: name, error: err instanceof ShedError ? { code: err.code, message: err.message } : String(err) }));
  process.exitCode = 125;
} finally {
  await client.delete(name, { force: true }).catch(() => {});
  client.close();
}
