/**
 * Flags every command takes, before or after the command name (`shed --json list` and
 * `shed list --json`). They are taken out of argv before citty sees it.
 */
export interface GlobalOptions {
  server?: string;
  verbose: boolean;
  json: boolean;
}

export function extractGlobalOptions(argv: string[]): { globals: GlobalOptions; rest: string[] } {
  const globals: GlobalOptions = { verbose: false, json: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === "--json") globals.json = true;
    else if (arg === "-v" || arg === "--verbose") globals.verbose = true;
    else if (arg === "-s" || arg === "--server") {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a server name`);
      globals.server = value;
    } else if (arg.startsWith("--server=")) globals.server = arg.slice("--server=".length);
    else rest.push(arg);
  }
  return { globals, rest };
}
