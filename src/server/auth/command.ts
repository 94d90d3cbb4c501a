import { defineCommand } from "citty";
import { resolve } from "node:path";
import { ShedError } from "../../api/errors.ts";
import { loadServerConfig } from "../config/load.ts";
import { TokenStore } from "./tokens.ts";

const common = {
  config: { type: "string", description: "Path of server.yaml (default: search ./, ~/.config/shed/, /etc/shed/)" },
  "state-dir": { type: "string", description: "State directory (overrides state_dir)" },
  json: { type: "boolean", description: "One JSON document on stdout" },
} as const;

function store(args: { config?: string; "state-dir"?: string }): TokenStore {
  const { config } = loadServerConfig(args.config);
  return new TokenStore(resolve(args["state-dir"] ?? config.state_dir));
}

/** Prints a table or, with --json, one document. */
function print(json: boolean | undefined, doc: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(doc)}\n` : `${text}\n`);
}

const list = defineCommand({
  meta: { name: "list", description: "List the minted API tokens and mtls client certificates (ids, who got them, expiry; never the secrets)" },
  args: common,
  run({ args }) {
    const now = Date.now();
    const tokens = store(args)
      .list()
      .map(({ hash: _hash, ...r }) => ({ ...r, kind: r.certSerial ? ("cert" as const) : ("token" as const), expired: Date.parse(r.expiresAt) <= now }));
    const rows = tokens.map((t) => `${t.id}  ${t.kind.padEnd(5)}  ${t.expired ? "expired" : "valid  "}  ${t.expiresAt}  ${t.label}${t.certSerial ? ` (serial ${t.certSerial})` : ""}`);
    print(args.json, { tokens }, tokens.length ? `ID            KIND   STATE    EXPIRES                   ISSUED TO\n${rows.join("\n")}` : "No tokens.");
  },
});

const revoke = defineCommand({
  meta: { name: "revoke", description: "Revoke one token or client certificate by ID, or every one with --all (the server refuses them at once)" },
  args: {
    ...common,
    id: { type: "positional", description: "Token ID (from `shed-server token list`)", required: false },
    all: { type: "boolean", description: "Revoke every token" },
  },
  run({ args }) {
    const tokens = store(args);
    if (args.all) {
      if (args.id) throw new ShedError("USAGE", "give a token ID or --all, not both");
      const n = tokens.revokeAll();
      return print(args.json, { revoked: n }, `Revoked ${n} token${n === 1 ? "" : "s"}.`);
    }
    if (!args.id) throw new ShedError("USAGE", "give a token ID (see `shed-server token list`) or --all");
    if (!tokens.revoke(args.id)) throw new ShedError("NOT_FOUND", `no token with ID ${args.id} (see \`shed-server token list\`)`);
    print(args.json, { revoked: 1, id: args.id }, `Revoked token ${args.id}.`);
  },
});

export const tokenCommand = defineCommand({
  meta: { name: "token", description: "The API tokens (auth.mode token) and client certificates (mtls) minted over the SSH door" },
  subCommands: { list, revoke },
});
