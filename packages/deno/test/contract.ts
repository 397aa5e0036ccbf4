/**
 * The Deno runs of the contract suite: DenoServer as the subject, and core's WebSocketConnector on
 * Deno's WebSocket as the client subject (core's test/contract/remote/runtimeTransports.ts).
 */
import { DenoServer } from "@bytechannel/deno"
import type { Capabilities } from "../../core/test/contract/suite.js"
import { serverTransports } from "../../core/test/contract/remote/runtimeTransports.js"

export { connectorOpenSilent, connectorToNodeServer, WHATWG } from "../../core/test/contract/remote/runtimeTransports.js"

/**
 * Deno's server WebSocket cannot pause (bounded by the fail policy, 1009); `send` waits on its
 * polled `bufferedAmount`; a server may send the protocol's codes as they are.
 */
export const DENO_SERVER: Capabilities = { messages: true, receiveOverflow: "fail", sendBackpressure: true, protocolCodesOnWire: "as-is" }

const deno = serverTransports(DenoServer.serve)

/** DenoServer ↔ a plain `ws` client in the Node peer host (`host` is its ws:// base). */
export const denoServerToNodeClient = deno.toNodeClient
/** DenoServer ↔ core's WebSocketConnector on Deno's own WebSocket (ours on both ends, in Deno). */
export const denoServerToConnector = deno.toConnector
/** WebSocketConnector (Deno's WebSocket) ↔ DenoServer: the subject is the client. */
export const connectorToDenoServer = deno.connectorToServer
