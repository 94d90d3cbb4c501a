import { main } from "../commands/main.ts";

// No top-level await: the binary is compiled to bytecode (CommonJS), which starts faster.
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
