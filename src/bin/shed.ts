import { main } from "../cli/main.ts";

// No top-level await: the binary is compiled to bytecode (CommonJS), which starts faster.
// Exit as soon as main is done, once stdout and stderr are written: an open socket or a
// stdin listener left behind by a failed command must never keep the process alive.
main(process.argv.slice(2)).then((code) => {
  let pending = 2;
  const exit = () => --pending === 0 && process.exit(code);
  process.stdout.write("", exit);
  process.stderr.write("", exit);
});
