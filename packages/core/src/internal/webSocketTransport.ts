import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import * as CloseCode from "../CloseCode.js"
import * as Keepalive from "../Keepalive.js"
import type { MessageSocket } from "../MessageSocket.js"
import { SocketError } from "../SocketError.js"
import * as Transport from "../Transport.js"
import type * as WebSocketTransport from "../WebSocketTransport.js"
import * as constants from "./constants.js"

// readyState values (the WebSocket interface's constants; a runtime may lack the global).
const CONNECTING = 0
const OPEN = 1

/**
 * A close frame moves a WHATWG WebSocket to CLOSING, and its close event waits for the peer to
 * end TCP: Node's (undici) and Bun's wait for ever (measured). So a peer that sends its close and
 * holds TCP would leave `read` waiting for ever, and so would one that never answers a close this
 * side sent without the engine's close deadline (maxPayload, the receive bound). One sweep for
 * every socket looks at each every WEBSOCKET_CLOSING_SWEEP_MILLIS (no timer per connection): a
 * socket the runtime has been closing for `closeTimeout` with no close event is dropped where the
 * runtime can, and reported closed (1006). The sweep runs only while sockets are open, and never
 * keeps a process alive.
 */
const sweeping = new Set<(now: number) => boolean>()
let sweepTimer: ReturnType<typeof setInterval> | undefined

const sweep = () => {
  const now = Date.now()
  for (const check of sweeping) if (!check(now)) sweeping.delete(check)
  if (sweeping.size === 0) {
    clearInterval(sweepTimer)
    sweepTimer = undefined
  }
}

const watchClosing = (check: (now: number) => boolean): () => void => {
  sweeping.add(check)
  if (sweepTimer === undefined) {
    sweepTimer = setInterval(sweep, constants.WEBSOCKET_CLOSING_SWEEP_MILLIS)
    const timer = sweepTimer as unknown as { unref?: () => void }
    if (typeof timer.unref === "function") timer.unref()
    else (globalThis as { Deno?: { unrefTimer?: (id: unknown) => void } }).Deno?.unrefTimer?.(sweepTimer)
  }
  return () => void sweeping.delete(check)
}

/** @internal */
export const openTimeoutOf = (options: { readonly openTimeout?: Duration.Input | undefined } | undefined): Duration.Input =>
  options?.openTimeout ?? constants.DEFAULT_OPEN_TIMEOUT_MILLIS

/**
 * A close frame as `mode` puts it on the wire: `"in-reason"` as a browser must (1000 and
 * 3000–4999 as they are, any other code as 1000 with the code in the reason), `"as-is"` as it
 * is unless the runtime refuses it (then in the reason). @internal
 */
export const sendClose = (ws: WebSocket, mode: "in-reason" | "as-is", code: number, reason: string): void => {
  if (mode === "as-is") {
    try {
      return ws.close(code, CloseCode.truncateReason(reason))
    } catch {
      // A client WebSocket that accepts only the browser's codes (Deno's, Node's): in the reason.
    }
  }
  const wire = CloseCode.toBrowserWire(code, reason)
  try {
    ws.close(wire.code, wire.reason)
  } catch {
    ws.close()
  }
}

/**
 * A WHATWG WebSocket has no drain event: `bufferedAmount` is polled, backing off, while it is at
 * or above the high-water mark. Each poll's timer is set from a message task, never from the
 * previous timer: a timer set inside a timer is clamped to 4 ms after five levels (HTML timer
 * nesting; browsers and Deno), and poll, drain, write, poll is such a chain; at 4 ms the socket
 * ran dry between polls. The channel is made on the first poll (most connections never need
 * one) and closed with the connection.
 */
const makeDrainPoll = (ws: WebSocket, highWater: number, onDrain: () => void) => {
  let delay = 0 // 0 while not polling
  let ticks: MessageChannel | undefined
  const poll = () => {
    if (ws.readyState !== OPEN) return void (delay = 0)
    if (ws.bufferedAmount < highWater) {
      delay = 0
      onDrain()
    } else {
      delay = Math.min(delay * 2, constants.WEBSOCKET_DRAIN_POLL_MAX_MILLIS)
      tick()
    }
  }
  const tick = () => {
    if (typeof MessageChannel === "undefined") return void setTimeout(poll, delay)
    if (ticks === undefined) {
      ticks = new MessageChannel()
      ticks.port1.onmessage = () => setTimeout(poll, delay)
      // Node and Deno: the open socket keeps the process alive, not its poll.
      ;(ticks.port1 as { unref?: () => void }).unref?.()
    }
    ticks.port2.postMessage(null)
  }
  return {
    afterWrite: () => {
      if (delay === 0 && ws.bufferedAmount >= highWater) {
        delay = constants.WEBSOCKET_DRAIN_POLL_FIRST_MILLIS
        tick()
      }
    },
    stop: () => {
      ticks?.port1.close()
      ticks = undefined
    }
  }
}

/**
 * The close code of a protocol error a runtime names in its error event; `undefined` for anything
 * else (a lost connection, which the close event reports: "Unexpected EOF", "Connection reset").
 * Measured: Deno 2.9's sockets ("Invalid UTF-8", "Frame too large", "Reserved bits are not zero",
 * "Invalid value" (a reserved opcode), "Invalid close code", "Invalid close frame", "Invalid
 * continuation frame", "Control frame must not be fragmented", "Ping frame too large", "No response
 * from ping frame."), Node 22's (undici: "Expected RSV1 to be clear.", "Unexpected continuation
 * frame", "Invalid status code", "Received close frame with a 1-byte body.", "Received payload
 * length > 2^31 bytes.", ...) and Bun 1.4's client ("WebSocket connection to '<url>' failed:
 * Protocol error - ...", "... failed: Payload length over 2^53 - 1", "... failed: Server sent
 * invalid UTF8"). @internal
 */
export const protocolErrorCode = (message: string | undefined): number | undefined => {
  if (message === undefined || message === "") return undefined
  // Bun names the URL first: its path is not the error ("/protocol" would read as one).
  const text = message.replace(/^WebSocket connection to '.*' failed: /s, "")
  // Control-frame rules first: "Ping frame too large" breaks one (125 bytes), not a size bound.
  if (
    /ping frame too large|control frame|close frame|close code|status code|reserved bit|\brsv[123]?\b|opcode|mask|fragment|continuation|protocol|^invalid value$/i
      .test(text)
  ) {
    return CloseCode.ProtocolError
  }
  if (/too (large|big)|max(imum)? (message|frame|payload)|payload length/i.test(text)) return CloseCode.MessageTooBig
  if (/utf-?8/i.test(text)) return CloseCode.InvalidPayload
  if (/no response from ping/i.test(text)) return CloseCode.Abnormal
  return undefined
}

/** A message's size as on the wire: a string's UTF-8 bytes (a string received is valid UTF-16). @internal */
export const wireSize = (message: string | Uint8Array): number => {
  if (typeof message !== "string") return message.byteLength
  let bytes = 0
  for (let i = 0; i < message.length; i++) {
    const unit = message.charCodeAt(i)
    // One half of a surrogate pair: 2 of the pair's 4 bytes.
    bytes += unit < 0x80 ? 1 : unit < 0x800 || (unit >= 0xd800 && unit <= 0xdfff) ? 2 : 3
  }
  return bytes
}

/** Whether a message is over `maxPayload` bytes; a string is counted only when its length cannot say. */
const overMaxPayload = (message: string | Uint8Array, maxPayload: number): boolean =>
  typeof message !== "string"
    ? message.byteLength > maxPayload
    : message.length > maxPayload || (message.length * 3 > maxPayload && wireSize(message) > maxPayload)

/** @internal */
export const fromWebSocket = (
  ws: WebSocket,
  options: WebSocketTransport.WebSocketTransportOptions = {}
): Effect.Effect<MessageSocket, SocketError, Scope.Scope> =>
  Effect.suspend(() => {
    if (ws.readyState > OPEN) return Effect.fail(new SocketError({ reason: "Open", detail: "the WebSocket is already closed" }))
    // Never Blob: Blob messages are read asynchronously and can be reordered.
    ws.binaryType = "arraybuffer"
    const opened = ws.readyState === CONNECTING ? Deferred.makeUnsafe<void, SocketError>() : undefined
    const closeCodes = options.closeCodes ?? "in-reason"
    const maxPayload = options.maxPayload ?? Infinity
    // Bun's client WebSocket can drop a connection (`terminate()`, not in the standard).
    const dropper = ws as unknown as { readonly terminate?: unknown }
    const terminate = options.terminate ??
      (typeof dropper.terminate === "function"
        ? () => (dropper as { terminate(): void }).terminate()
        : () => ws.close(CloseCode.Normal, "terminated"))
    const drain = makeDrainPoll(ws, options.sendHighWaterMark ?? constants.DEFAULT_SEND_HIGH_WATER_BYTES, () => controller.onDrain())
    let controller: Transport.Controller
    let isOpen = opened === undefined
    let failed = false
    const closeTimeoutMillis = Duration.toMillis(Duration.fromInputUnsafe(options.closeTimeout ?? constants.DEFAULT_CLOSE_TIMEOUT_MILLIS))
    // When the runtime was first seen closing the socket with no close event yet (0: not seen).
    let closingSince = 0
    const checkClosing = (now: number): boolean => {
      const state = controller.state()
      if (state === "closed") return false
      if (ws.readyState <= OPEN) return true
      if (closingSince === 0) closingSince = now
      if (now - closingSince < closeTimeoutMillis) return true
      drain.stop()
      try {
        terminate()
      } catch {
        // reported closed either way
      }
      controller.onClose({ code: CloseCode.Abnormal, reason: "", wasClean: false })
      return false
    }
    let unwatch: () => void

    const build = (engine: Transport.Controller): Transport.Transport => {
      controller = engine
      unwatch = watchClosing(checkClosing)
      ws.onmessage = (event: MessageEvent) => {
        const data = event.data as string | ArrayBuffer
        const message = typeof data === "string" ? data : new Uint8Array(data)
        if (overMaxPayload(message, maxPayload)) return tooBig(wireSize(message))
        engine.onMessage(message)
      }
      ws.onerror = (event: Event) => {
        if (!isOpen) {
          if (opened !== undefined) {
            Deferred.doneUnsafe(opened, Exit.fail(new SocketError({ reason: "Open", detail: "the connection failed (a WebSocket does not say why)" })))
          }
          return
        }
        // After the handshake a close event follows, which reports a lost connection (1006). A
        // runtime that says which protocol rule the peer broke (Deno's server) fails `read` with
        // the code of that rule; browsers say nothing.
        const code = protocolErrorCode((event as ErrorEvent).message)
        if (code === undefined) return
        failed = true
        engine.onError(new SocketError({ reason: "Read", code, detail: (event as ErrorEvent).message }))
      }
      ws.onclose = (event: CloseEvent) => {
        drain.stop()
        unwatch()
        if (opened !== undefined) {
          Deferred.doneUnsafe(opened, Exit.fail(new SocketError({ reason: "Open", code: event.code, detail: "closed before the handshake completed" })))
        }
        // A failed connection is 1006 (no close frame), however the runtime numbers it (0; Deno's
        // 1001 after its keepalive gave up).
        const code = event.code === 0 || (failed && !event.wasClean) ? CloseCode.Abnormal : event.code
        engine.onClose({ code, reason: event.reason, wasClean: event.wasClean })
      }
      ws.onopen = () => {
        isOpen = true
        if (opened !== undefined) Deferred.doneUnsafe(opened, Exit.void)
      }
      return {
        write: (message) => {
          ws.send(message as string | Uint8Array<ArrayBuffer>)
          drain.afterWrite()
        },
        bufferedAmount: () => ws.bufferedAmount,
        sendClose: (code, reason) => sendClose(ws, closeCodes, code, reason),
        // A WHATWG WebSocket cannot drop a connection unless its runtime says how; the engine
        // reports it closed (1006) at once.
        terminate: () => {
          try {
            terminate()
          } catch {
            // the engine reports the connection closed either way
          }
        },
        // It cannot pause: the "fail" policy bounds what is queued instead.
        pause: () => {},
        resume: () => {},
        protocol: () => ws.protocol
      }
    }

    // A message over maxPayload: read fails with 1009 and the connection closes with it.
    const tooBig = (size: number) => {
      controller.onError(
        new SocketError({ reason: "Read", code: CloseCode.MessageTooBig, detail: `a message of ${size} bytes, over maxPayload (${maxPayload})` })
      )
      sendClose(ws, closeCodes, CloseCode.MessageTooBig, "message too big")
    }

    return Effect.flatMap(
      Transport.makeScoped(build, {
        ...options,
        // The engine fails at its high-water mark; a limit is what may be unread: one past it fails.
        receiveHighWaterMessages: options.receiveHighWaterMessages ??
          (options.receiveLimitMessages ?? constants.WEBSOCKET_DEFAULT_RECEIVE_LIMIT_MESSAGES) + 1,
        receiveHighWaterBytes: options.receiveHighWaterBytes ??
          (options.receiveLimitBytes ?? constants.WEBSOCKET_DEFAULT_RECEIVE_LIMIT_BYTES) + 1,
        // What this transport can do is not the user's to change.
        receiveOverflow: "fail"
      }),
      (engine) => {
        const started = options.heartbeat === undefined ? Effect.void : heartbeat(engine, options.heartbeat)
        const socket = Effect.as(started, engine.socket)
        return opened === undefined
          ? socket
          : Effect.andThen(
            Transport.awaitOpen(opened, {
              timeout: openTimeoutOf(options),
              // A WebSocket that never opened has nothing to close: it is closed now (1006), not
              // after the close timeout when the scope closes.
              abort: () => {
                ws.close()
                engine.onClose({ code: CloseCode.Abnormal, reason: "", wasClean: false })
              }
            }),
            socket
          )
      }
    )
  })

/** @internal */
export const heartbeat = (
  controller: Transport.Controller,
  options: WebSocketTransport.Heartbeat
): Effect.Effect<void, never, Scope.Scope> => {
  const message = options.message
  return Keepalive.run(controller, {
    answer: "message",
    send: () => {
      if (message !== undefined) Effect.runFork(Effect.ignore(controller.socket.send(message)))
    },
    ready: () => true,
    answers: () => 0
  }, {
    interval: options.interval,
    timeout: options.idleTimeout ?? Duration.times(Duration.fromInputUnsafe(options.interval), 2)
  })
}
