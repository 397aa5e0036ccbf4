/**
 * Helpers of the runtime servers' own tests (Bun, Deno): bounded waits, a well-behaved client that
 * checks the server still serves, masked client frames, and the end of a raw socket.
 */
import { ByteChannel, WebSocketConnector } from "@bytechannel/core"
import { expect } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Net from "node:net"
import { closePayload, frame } from "./raw.js"

/** A bounded wait: fails naming `what` rather than hang the case. */
export const within = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>, seconds = 10) =>
  Effect.timeoutOrElse(effect, { duration: `${seconds} seconds`, orElse: () => Effect.fail(new Error(`no ${what} within ${seconds} seconds`)) })

/** A channel over core's WebSocketConnector (the runtime's own WebSocket). */
export const connect = (url: string, options?: WebSocketConnector.WebSocketConnectorOptions) =>
  Effect.map(WebSocketConnector.make(options).connect(url), (socket) => ByteChannel.fromSocket(socket))

/** A well-behaved client still gets its echo: the server survived. */
export const stillServes = (url: string) =>
  Effect.scoped(Effect.gen(function*() {
    const channel = yield* connect(url)
    yield* channel.send(new Uint8Array([1, 2, 3]))
    const back = yield* within("echo", channel.readChunk())
    expect(Option.map(back, (chunk) => [...chunk])).toEqual(Option.some([1, 2, 3]))
  }))

/** A masked client frame. */
export const binary = (payload: Uint8Array | string, opcode = 0x2) => frame({ opcode, payload, mask: true })
export const close = (code: number, reason = "") => frame({ opcode: 0x8, payload: closePayload(code, reason), mask: true })

/** Waits for a socket to end (the server dropped it); false when it did not within 5 s. */
export const ends = (socket: Net.Socket) =>
  Effect.callback<boolean>((resume) => {
    if (socket.destroyed) return resume(Effect.succeed(true))
    socket.once("close", () => resume(Effect.succeed(true)))
  }).pipe(Effect.timeoutOrElse({ duration: "5 seconds", orElse: () => Effect.succeed(false) }))
