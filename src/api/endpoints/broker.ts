import * as v from "valibot";
import { defineEndpoints } from "../endpoint.ts";

/** /api/broker: the user's `shed broker`, answering brokered credential requests of this server's sheds. */
export const BROKER_API = defineEndpoints({
  connectBroker: {
    method: "get",
    path: "/api/broker",
    query: v.object({ peer: v.optional(v.pipe(v.string(), v.maxLength(200))), ifNone: v.optional(v.picklist(["true", "false"])) }),
    summary:
      "Connect the broker: the server relays its sheds' ssh-agent, Docker and AWS credential requests here (query peer=user@host names it in logs and shed-ext status; ifNone=true: only when no broker is connected, else the server says bye at once)",
    websocket:
      "one JSON document per line both ways (src/broker/messages.ts): the server sends requests {id, shed, kind, ...}, the broker answers {id, ok, result} or {id, ok: false, code, message}; a newer connection replaces this one, which is sent {bye: {reason}} first",
    errors: ["UNAUTHORIZED"],
  },
});
