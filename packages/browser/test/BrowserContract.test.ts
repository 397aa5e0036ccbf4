// The transport contract (core's test/contract/suite.ts) on both browser strategies in Chromium,
// each against a plain `ws` end in the Node test server (test/globalSetup.ts), driven from here.
import type { MessageSocket } from "@bytechannel/core"
import { BrowserConnector } from "@bytechannel/browser"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { inject } from "vitest"
import { transportContract, type ContractTransport } from "../../core/test/contract/suite.js"
import { remotePeer } from "./contract/remotePeer.js"

const servers = inject("servers")

const connect = (strategy: BrowserConnector.Strategy): ContractTransport["connect"] => (bounds: MessageSocket.SocketOptions) =>
  Effect.gen(function*() {
    const remote = yield* remotePeer(servers.ws)
    // The subject in a scope of its own, closed by `release` (or with the case's scope).
    const scope = yield* Scope.fork(yield* Effect.scope, "sequential")
    const subject = yield* BrowserConnector.make({ strategy, ...bounds }).connect(remote.url).pipe(Scope.provide(scope))
    yield* remote.attached
    return { subject, peer: remote.peer, release: Scope.close(scope, Exit.void) }
  })

const openSilent = (strategy: BrowserConnector.Strategy): ContractTransport["openSilent"] => (openTimeout) =>
  BrowserConnector.make({ strategy, openTimeout }).connect(`${servers.silent}/`)

transportContract("browser WebSocketStream", {
  clock: "live",
  // Pulls only while the receive queue has room; browsers send protocol codes as 1000 + reason.
  capabilities: { messages: true, receiveOverflow: "pause", sendBackpressure: true, protocolCodesOnWire: "in-reason" },
  peerCanHang: true,
  connect: connect("websocketstream"),
  openSilent: openSilent("websocketstream"),
  omit: [
    // defect reported: the page crashes when the server drops the connection while MiBs of resolved WebSocketStream writes are unsent (Chromium; raw WebSocketStream too)
    "send waiting when the connection is lost"
  ]
})

transportContract("browser WebSocket", {
  clock: "live",
  // Cannot pause: bounded by the fail policy (README, "Browser").
  capabilities: { messages: true, receiveOverflow: "fail", sendBackpressure: true, protocolCodesOnWire: "in-reason" },
  peerCanHang: true,
  connect: connect("websocket"),
  openSilent: openSilent("websocket")
})
