// The transport contract (core's test/contract/suite.ts) on Deno: DenoServer as the subject against
// a plain `ws` client in a Node process (cross-runtime) and against our own client (core's
// WebSocketConnector on Deno's WebSocket); that client as the subject against a plain `ws` server in
// the Node process and against DenoServer.
import { inject } from "vitest"
import { transportContract } from "../../core/test/contract/suite.js"
import {
  connectorOpenSilent,
  connectorToDenoServer,
  connectorToNodeServer,
  DENO_SERVER,
  denoServerToConnector,
  denoServerToNodeClient,
  WHATWG
} from "./contract.js"

const servers = inject("servers")

transportContract("DenoServer ↔ plain ws client (Node)", {
  clock: "live",
  capabilities: DENO_SERVER,
  peerCanHang: true,
  connect: denoServerToNodeClient(servers.ws),
  omit: [
    // defect reported: Deno's server WebSocket drops the connection when a data frame arrives after its close(), before its close frame is written: a peer still sending at a 1009 sees 1006 (DenoServer.test.ts asserts the rest of the case)
    "receive overflow (fail)"
  ]
})

transportContract("DenoServer ↔ WebSocketConnector (Deno)", {
  clock: "live",
  capabilities: DENO_SERVER,
  // Our client answers every close frame.
  peerCanHang: false,
  connect: denoServerToConnector,
  omit: [
    // The peer cannot drop: a WHATWG WebSocket has no way to lose a connection without a close
    // frame (its `terminate` is a close 1000). The loss is covered against the plain ws client above.
    "send waiting when the connection is lost",
    "connection lost (1006)",
    // defect reported: as above (Deno drops a peer still sending after its close(), before the 1009 leaves)
    "receive overflow (fail)"
  ]
})

transportContract("WebSocketConnector (Deno) ↔ plain ws server (Node)", {
  clock: "live",
  capabilities: WHATWG,
  peerCanHang: true,
  connect: connectorToNodeServer(servers.ws),
  openSilent: connectorOpenSilent(servers.silent)
})

transportContract("WebSocketConnector (Deno) ↔ DenoServer", {
  clock: "live",
  capabilities: WHATWG,
  peerCanHang: false,
  connect: connectorToDenoServer
})
