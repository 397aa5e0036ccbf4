// The transport contract (core's test/contract/suite.ts) in Bun: BunServer as the subject against a
// plain `ws` client in a Node process (cross-runtime) and against our own client (WebSocketConnector
// on Bun's WebSocket); that client as the subject against a plain `ws` server in the Node process
// and against BunServer.
import { inject } from "vitest"
import { transportContract } from "../../core/test/contract/suite.js"
import {
  BUN_SERVER,
  bunServerToConnector,
  bunServerToNodeClient,
  connectorOpenSilent,
  connectorToBunServer,
  connectorToNodeServer,
  WHATWG
} from "./contract.js"

const servers = inject("servers")

transportContract("BunServer ↔ plain ws client (Node)", {
  clock: "live",
  capabilities: BUN_SERVER,
  peerCanHang: true,
  connect: bunServerToNodeClient(servers.ws),
  omit: [
    // By design, not a defect: Bun ends the connection right after its close frame, so a close
    // completes at once and there is no close timeout to reach (BunServer.test.ts asserts that).
    "close timeout"
  ]
})

transportContract("BunServer ↔ WebSocketConnector (Bun)", {
  clock: "live",
  capabilities: BUN_SERVER,
  // Our client answers every close frame.
  peerCanHang: false,
  connect: bunServerToConnector,
  omit: [
    // The peer cannot drop: a WHATWG WebSocket has no way to lose a connection without a close
    // frame (its `terminate` is a close 1000). The loss is covered against the plain ws client above.
    "send waiting when the connection is lost",
    "connection lost (1006)"
  ]
})

transportContract("WebSocketConnector (Bun) ↔ plain ws server (Node)", {
  clock: "live",
  capabilities: WHATWG,
  peerCanHang: true,
  connect: connectorToNodeServer(servers.ws),
  openSilent: connectorOpenSilent(servers.silent)
})

transportContract("WebSocketConnector (Bun) ↔ BunServer", {
  clock: "live",
  capabilities: WHATWG,
  peerCanHang: false,
  connect: connectorToBunServer
})
