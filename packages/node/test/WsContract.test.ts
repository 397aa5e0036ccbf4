// The transport contract (core's test/contract/suite.ts) on the ws transport: our client and our
// server, each against the other and against a plain `ws` end.
import { transportContract } from "../../core/test/contract/suite.js"
import {
  nodeServerToRawClient,
  nodeServerToWsClient,
  WEBSOCKET,
  wsClientToNodeServer,
  wsClientToRawServer,
  wsOpenSilent
} from "./contract/transports.js"

transportContract("ws client ↔ NodeServer", {
  clock: "live",
  capabilities: WEBSOCKET,
  // Our server's socket answers every close frame: the close timeout runs against a plain ws below.
  peerCanHang: false,
  connect: wsClientToNodeServer,
  openSilent: wsOpenSilent
})

transportContract("NodeServer ↔ ws client", {
  clock: "live",
  capabilities: WEBSOCKET,
  peerCanHang: false,
  connect: nodeServerToWsClient
})

transportContract("ws client ↔ plain ws server", {
  clock: "live",
  capabilities: WEBSOCKET,
  peerCanHang: true,
  connect: wsClientToRawServer
})

transportContract("NodeServer ↔ plain ws client", {
  clock: "live",
  capabilities: WEBSOCKET,
  peerCanHang: true,
  connect: nodeServerToRawClient
})
