import { describe, expect, it } from "vitest";
import type { ArgsDef } from "./command.ts";
import { closest, parseArgv } from "./parse.ts";

const defs: ArgsDef = {
  names: { type: "positional", multiple: true, required: true, description: "Shed names" },
  env: { type: "string", alias: "e", multiple: true, description: "" },
  force: { type: "boolean", alias: "f", description: "" },
  timeout: { type: "string", alias: "t", aliases: ["time"], description: "" },
  sync: { type: "boolean", default: true, description: "" },
};
const parse = (argv: string[], d: ArgsDef = defs) => parseArgv(argv, d, { command: "shed x" });

describe("the command-line parser", () => {
  it("keeps every value of a repeated flag, in order, in any spelling", () => {
    expect(parse(["a", "-e", "A=1", "--env", "B=2", "-eC=3", "--env=D=4"]).values.env).toEqual(["A=1", "B=2", "C=3", "D=4"]);
  });
  it("takes several names, flags between them, --no-X and long aliases", () => {
    const r = parse(["a", "-f", "b", "--no-sync", "--time", "5", "c"]).values;
    expect(r).toMatchObject({ names: ["a", "b", "c"], force: true, sync: false, timeout: "5" });
  });
  it("refuses unknown flags, naming the closest", () => {
    expect(() => parse(["a", "--forse"])).toThrow("shed x: unknown flag --forse; did you mean --force?");
    expect(() => parse(["a", "--bogus"])).toThrow(/unknown flag --bogus$/);
    expect(() => parse(["a", "-x"])).toThrow("unknown flag -x");
  });
  it("refuses extra and missing positionals, and flags without their value", () => {
    const one: ArgsDef = { name: { type: "positional", required: true, description: "Shed name" } };
    expect(() => parse(["a", "b"], one)).toThrow('unexpected argument "b": shed x takes NAME');
    expect(() => parse([], one)).toThrow("missing NAME (Shed name)");
    expect(() => parse(["a", "--timeout"])).toThrow("--timeout needs a value");
  });
  it("stops at the command's first word when asked (shed exec NAME ls -la)", () => {
    const exec: ArgsDef = {
      name: { type: "positional", required: true, description: "" },
      command: { type: "positional", multiple: true, description: "" },
      user: { type: "string", alias: "u", description: "" },
    };
    const r = parseArgv(["-u", "root", "box", "ls", "-la", "--", "x"], exec, { command: "shed exec", stopAtCommand: true });
    expect(r.values).toMatchObject({ name: "box", user: "root", command: ["ls", "-la"] });
    expect(r.rest).toEqual(["x"]);
  });
  it("suggests commands as it does flags", () => {
    expect(closest("lsit", ["list", "logs", "start"])).toBe("list");
    expect(closest("zzzz", ["list", "logs"])).toBeUndefined();
  });
});
