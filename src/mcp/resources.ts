import { ShedError } from "../api/errors.ts";
import type { ShedClient } from "../sdk/shed-client.ts";

/**
 * MCP resources: each shed's info, its provisioning logs (why a create warned: the clone's
 * and each hook's output, kept in /var/log/shed in the shed), and its console output.
 */

export interface ResourceContent {
  uri: string;
  mimeType: string;
  text: string;
}

const KINDS = {
  info: { suffix: "", mimeType: "application/json", title: "info", description: "The shed as shed_info returns it (JSON)" },
  provisioning: {
    suffix: "/provisioning",
    mimeType: "text/plain",
    title: "provisioning logs",
    description: "The create's warnings, then the output of its repository clone and provisioning hooks (/var/log/shed/*.log in the shed)",
  },
  console: { suffix: "/console", mimeType: "text/plain", title: "console", description: "What the shed's VM console or container printed" },
} as const;
type Kind = keyof typeof KINDS;

export const RESOURCE_TEMPLATES = Object.values(KINDS).map((k) => ({
  uriTemplate: `shed://sheds/{name}${k.suffix}`,
  name: `shed ${k.title}`,
  description: k.description,
  mimeType: k.mimeType,
}));

export async function listResources(client: ShedClient) {
  const sheds = await client.list();
  return sheds.flatMap((s) =>
    Object.values(KINDS).map((k) => ({ uri: `shed://sheds/${s.name}${k.suffix}`, name: `${s.name} ${k.title}`, description: k.description, mimeType: k.mimeType })),
  );
}

/** The script that prints every provisioning log, each under its name (run as root: the logs are root's). */
const PRINT_LOGS = 'for f in /var/log/shed/*.log; do [ -f "$f" ] || continue; printf "== %s\\n" "$f"; cat "$f"; echo; done';

export async function readResource(client: ShedClient, uri: string): Promise<ResourceContent> {
  const m = /^shed:\/\/sheds\/([a-z0-9][a-z0-9-]{0,62})(\/provisioning|\/console)?$/.exec(uri);
  if (!m) throw new ShedError("NOT_FOUND", `no such resource: ${uri} (they are shed://sheds/NAME, shed://sheds/NAME/provisioning, shed://sheds/NAME/console)`);
  const name = m[1]!;
  const kind: Kind = m[2] === "/provisioning" ? "provisioning" : m[2] === "/console" ? "console" : "info";
  const { mimeType } = KINDS[kind];
  if (kind === "info") return { uri, mimeType, text: JSON.stringify(await client.get(name), null, 2) };
  if (kind === "console") return { uri, mimeType, text: await client.logs(name) };
  const shed = await client.get(name);
  const warnings = shed.warnings?.length ? `warnings of the create:\n${shed.warnings.map((w) => `- ${w}`).join("\n")}\n\n` : "no warnings from the create\n\n";
  if (shed.state !== "running") return { uri, mimeType, text: `${warnings}(the shed is ${shed.state}: start it to read its provisioning logs)\n` };
  const r = await client.exec(name, { argv: ["sh", "-c", PRINT_LOGS], user: "root", login: false, maxOutputBytes: 1024 * 1024 });
  return { uri, mimeType, text: warnings + (r.stdout.text || "(no provisioning logs: nothing was cloned or hooked)\n") };
}
