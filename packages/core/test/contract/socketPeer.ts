/**
 * A contract peer made of one of our own sockets (the memory pair's other side, or the other end
 * of a ws/TCP connection that is ours on both sides).
 */
import type * as MessageSocket from "@bytechannel/core/MessageSocket"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { floodMessage, type Peer } from "./suite.js"

/**
 * `socket` as a peer. It has real backpressure, so pausing is simply not reading (the engine
 * pauses its transport when its queue is full), and a flood waits in `send`. Background work
 * (floods, closes) runs in the scope the peer is made in.
 */
export const socketPeer = (
  socket: MessageSocket.MessageSocket,
  options?: {
    /** Never answers a close frame from now on (the memory pair's `ignoreCloseFrames`). */
    readonly hang?: Effect.Effect<void> | undefined
  }
): Effect.Effect<Peer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const background = (effect: Effect.Effect<unknown, unknown>) => Effect.asVoid(Effect.forkIn(Effect.ignore(effect), scope))
    return {
      send: (message) => Effect.ignore(socket.send(message)),
      flood: (count, size) =>
        Effect.gen(function*() {
          let handedOver = 0
          yield* background(Effect.forEach(
            Array.from({ length: count }, (_, i) => i),
            (i) => Effect.tap(socket.send(floodMessage(i, size)), () => Effect.sync(() => (handedOver += size))),
            { discard: true }
          ))
          return { held: Effect.sync(() => count * size - handedOver) }
        }),
      receive: Effect.catch(socket.receive, () => Effect.succeedNone),
      pause: Effect.void,
      resume: Effect.void,
      close: (code, reason) => background(socket.closeWithProtocolCode({ code, reason })),
      drop: socket.terminate,
      hang: options?.hang,
      closed: Effect.map(socket.closed, (info) => ({ code: info.code, reason: info.reason }))
    } satisfies Peer
  })
