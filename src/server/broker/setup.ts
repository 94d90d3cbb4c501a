import type { Logger } from "../../log/logger.ts";
import type { ShedService } from "../sheds/service.ts";
import { attachBrokerSockets } from "./guest-attach.ts";
import { BrokerHub } from "./hub.ts";

/**
 * The broker hub, tied to the sheds: every agent connection of a shed whose image asks for
 * brokering gets its sockets, and when a broker connects, running sheds without a pooled
 * connection (after a server restart) are dialed so theirs exist too.
 */
export function setUpBroker(sheds: ShedService, logger: Logger): BrokerHub {
  const hub = new BrokerHub(logger);
  sheds.onAgentConnected((name, conn) => {
    attachBrokerSockets(name, conn, hub, logger).catch((err) => logger.warn("broker: attaching a shed failed", { shed: name, error: String(err) }));
  });
  hub.onConnect(() => {
    void sheds.list().then((all) => {
      for (const s of all) if (s.state === "running") sheds.agent(s.name).catch(() => {});
    });
  });
  return hub;
}
