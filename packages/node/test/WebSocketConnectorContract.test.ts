// The transport contract (core's test/contract/suite.ts) on core's WebSocketConnector over Node 22's
// global WHATWG WebSocket (undici): the subject is the client, against a plain `ws` server (which
// can hang) and against NodeServer. On Bun and Deno the same connector runs the contract in their
// packages' tests (packages/bun/test, packages/deno/test), against a Node-hosted plain ws peer.
import { type ByteChannel, type MessageSocket, WebSocketConnector } from "@bytechannel/core"
import { NodeServer } from "@bytechannel/node"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type * as Net from "node:net"
import { socketPeer } from "../../core/test/contract/socketPeer.js"
import { type Capabilities, type Connection, type ContractTransport, transportContract } from "../../core/test/contract/suite.js"
import { rawNetServer, wsPeer } from "./contract/rawPeers.js"
import { rawServer } from "./fixtures.js"

/**
 * A WHATWG WebSocket cannot pause (bounded by the fail policy) and, as a client, may send only 1000
 * and 3000–4999 (the default `closeCodes: "in-reason"`).
 */
const WHATWG: Capabilities = { messages: true, receiveOverflow: "fail", sendBackpressure: true, protocolCodesOnWire: "in-reason" }

/** The subject in a scope of its own, closed by `release` (or with the case's scope). */
const clientSubject = (bounds: MessageSocket.SocketOptions, url: string) =>
  Effect.gen(function*() {
    const scope = yield* Scope.fork(yield* Effect.scope, "sequential")
    const subject = yield* WebSocketConnector.make(bounds).connect(url).pipe(Scope.provide(scope))
    return { subject, release: Scope.close(scope, Exit.void) }
  })

const toRawServer: ContractTransport["connect"] = (bounds) =>
  Effect.gen(function*() {
    const accepted = yield* Deferred.make<ReturnType<typeof wsPeer>>()
    const { url } = yield* rawServer((ws) => Deferred.doneUnsafe(accepted, Effect.succeed(wsPeer(ws))))
    const { release, subject } = yield* clientSubject(bounds, url)
    return { subject, peer: yield* Deferred.await(accepted), release } satisfies Connection
  })

const toNodeServer: ContractTransport["connect"] = (bounds) =>
  Effect.gen(function*() {
    const accepted = yield* Deferred.make<ByteChannel.ByteChannel>()
    const released = yield* Deferred.make<void>()
    const { url } = yield* NodeServer.serve({ port: 0 }, (channel) =>
      Effect.andThen(Deferred.succeed(accepted, channel), Effect.raceFirst(Deferred.await(released), Effect.asVoid(channel.closed))))
    const { release, subject } = yield* clientSubject(bounds, url)
    const peer = yield* socketPeer((yield* Deferred.await(accepted)).socket)
    yield* Effect.addFinalizer(() => Deferred.succeed(released, undefined))
    return { subject, peer, release } satisfies Connection
  })

const openSilent: NonNullable<ContractTransport["openSilent"]> = (openTimeout) =>
  Effect.gen(function*() {
    const silent = yield* rawNetServer((socket: Net.Socket) => socket)
    return yield* WebSocketConnector.make({ openTimeout }).connect(`ws://127.0.0.1:${silent.port}/`)
  })

transportContract("WebSocketConnector (global WebSocket) ↔ plain ws server", {
  clock: "live",
  capabilities: WHATWG,
  peerCanHang: true,
  connect: toRawServer,
  openSilent
})

transportContract("WebSocketConnector (global WebSocket) ↔ NodeServer", {
  clock: "live",
  capabilities: WHATWG,
  // Our server's socket answers every close frame.
  peerCanHang: false,
  connect: toNodeServer
})
