/**
 * One keepalive for every transport: every `interval` a probe goes out (a WebSocket ping where
 * there is one, an application heartbeat where there is not); a connection that shows no sign
 * of life within `timeout` fails `receive` with code 1006 and is dropped. Any message counts as
 * alive, and so does a receive pause (the answer may wait behind data the reader has not taken).
 * It runs on Effect's `Clock`, so tests drive it with `TestClock`.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/keepalive.js"
import type * as Transport from "./Transport.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface KeepaliveOptions {
  /** How often a probe goes out. */
  readonly interval: Duration.Input
  /** How long to wait for a sign of life after a probe. Default: `interval`. */
  readonly timeout?: Duration.Input | undefined
}

/**
 * What a transport gives the keepalive: how to send a probe, whether it can now, and a count of
 * the answers it has seen (pongs).
 *
 * @since 0.1.0
 * @category models
 */
export interface Probe {
  /** What answers a probe, for the error's message ("pong", "message"). */
  readonly answer: string
  readonly send: () => void
  /** False while a probe cannot be sent yet (a handshake still under way). */
  readonly ready: () => boolean
  /** Answers seen so far (0 forever where there are none: then messages are the signs of life). */
  readonly answers: () => number
}

/**
 * Runs the keepalive of one connection in the current scope (it ends with the scope or when the
 * connection closes).
 *
 * @since 0.1.0
 * @category constructors
 */
export const run: (
  controller: Transport.Controller,
  probe: Probe,
  options: KeepaliveOptions
) => Effect.Effect<void, never, Scope.Scope> = internal.run
