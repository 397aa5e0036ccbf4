/**
 * The Bun runs of the contract suite: BunServer as the subject, and core's WebSocketConnector on
 * Bun's WebSocket as the client subject (core's test/contract/remote/runtimeTransports.ts).
 */
import { BunServer } from "@bytechannel/bun"
import type { Capabilities } from "../../core/test/contract/suite.js"
import { serverTransports } from "../../core/test/contract/remote/runtimeTransports.js"

export { connectorOpenSilent, connectorToNodeServer, WHATWG } from "../../core/test/contract/remote/runtimeTransports.js"

/** Real backpressure both ways (Bun pauses a ServerWebSocket's reads), codes as they are. */
export const BUN_SERVER: Capabilities = { messages: true, receiveOverflow: "pause", sendBackpressure: true, protocolCodesOnWire: "as-is" }

const bun = serverTransports(BunServer.serve)

/** BunServer ↔ a plain `ws` client in the Node peer host (`host` is its ws:// base). */
export const bunServerToNodeClient = bun.toNodeClient
/** BunServer ↔ core's WebSocketConnector on Bun's own WebSocket (ours on both ends, in Bun). */
export const bunServerToConnector = bun.toConnector
/** WebSocketConnector (Bun's WebSocket) ↔ BunServer: the subject is the client. */
export const connectorToBunServer = bun.connectorToServer
