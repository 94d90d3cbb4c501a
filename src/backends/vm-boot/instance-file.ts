import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { writeFileAtomic } from "../../fs/atomic-file.ts";

/** instance.json in each VM instance dir: lets a backend's `list` find its VMs after a server restart. */
export interface InstanceFile<D> {
  name: string;
  serverId: string;
  data: D;
}

export function writeInstanceFile<D extends { dir: string }>(name: string, serverId: string, data: D): void {
  const meta: InstanceFile<D> = { name, serverId, data };
  writeFileAtomic(join(data.dir, "instance.json"), `${JSON.stringify(meta, null, 2)}\n`, 0o600);
}

/** The envelope every backend's file shares; its `data` is the backend's own and typed there. */
const Envelope = v.looseObject({
  name: v.string(),
  serverId: v.string(),
  data: v.looseObject({ dir: v.string() }),
});

/** Every readable instance file under `root`; unreadable or malformed ones go to `bad`. */
export function readInstanceFiles<D>(root: string, bad: (file: string, err: unknown) => void = () => {}): InstanceFile<D>[] {
  if (!existsSync(root)) return [];
  const out: InstanceFile<D>[] = [];
  for (const name of readdirSync(root)) {
    const file = join(root, name, "instance.json");
    if (!existsSync(file)) continue;
    try {
      const parsed = v.safeParse(Envelope, JSON.parse(readFileSync(file, "utf8")));
      if (!parsed.success) throw new Error(`not an instance file: ${v.summarize(parsed.issues)}`);
      out.push(parsed.output as unknown as InstanceFile<D>);
    } catch (err) {
      bad(file, err);
    }
  }
  return out;
}
