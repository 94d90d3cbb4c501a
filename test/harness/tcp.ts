import { connect } from "node:net";

/**
 * Reads from a forwarded port on 127.0.0.1 until `ok(text)`: each try connects, collects what
 * arrives until `ok`, the peer's close or 3 s, and the tries repeat (up to 50, 200 ms apart)
 * while the forward is still being set up. Returns the last text read.
 */
export async function readForwardedPort(port: number, ok: (text: string) => boolean): Promise<string> {
  let text = "";
  for (let i = 0; i < 50 && !ok(text); i++) {
    await Bun.sleep(200);
    text = await new Promise<string>((resolve) => {
      const s = connect(port, "127.0.0.1");
      let buf = "";
      const finish = () => {
        clearTimeout(timer);
        s.destroy();
        resolve(buf);
      };
      const timer = setTimeout(finish, 3000);
      s.on("data", (d) => {
        buf += d.toString();
        if (ok(buf)) finish();
      });
      s.on("close", finish);
      s.on("error", () => {
        buf = "";
        finish();
      });
    });
  }
  return text;
}
