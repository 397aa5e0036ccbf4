import { CloseCode, Connector, Keepalive, type MessageSocket, SocketError, Transport } from "@bytechannel/core"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import type * as BrowserConnector from "../BrowserConnector.js"
import * as constants from "./constants.js"

/** The part of WebSocketStream (Chromium 124+) used here; TypeScript's DOM library lacks it. */
interface WebSocketStreamLike {
  readonly opened: Promise<{
    readonly readable: ReadableStream<string | ArrayBuffer | Uint8Array>
    readonly writable: WritableStream<string | Uint8Array>
    readonly protocol: string
  }>
  readonly closed: Promise<{ readonly closeCode: number; readonly reason: string }>
  close(info?: { readonly closeCode?: number; readonly reason?: string }): void
}
type WebSocketStreamConstructor = new(url: string, options?: {
  readonly protocols?: ReadonlyArray<string>
  readonly signal?: AbortSignal
}) => WebSocketStreamLike

const webSocketStream = (): WebSocketStreamConstructor | undefined =>
  (globalThis as unknown as { WebSocketStream?: WebSocketStreamConstructor }).WebSocketStream

/** @internal */
export const hasWebSocketStream = () => webSocketStream() !== undefined

const toProtocols = Connector.protocolList

// The connector adds the URL to these (`Open: cannot connect to ws://...: ...`), as on Node.
const openError = (detail: string | undefined, cause?: unknown, code?: number) =>
  new SocketError.SocketError({ reason: "Open", detail, cause, code })

/** @internal */
export const connectStream = (
  url: URL,
  options: BrowserConnector.BrowserConnectorOptions & { readonly protocols?: string | ReadonlyArray<string> | undefined }
): Effect.Effect<MessageSocket.MessageSocket, SocketError.SocketError, Scope.Scope> =>
  Effect.gen(function*() {
    const Constructor = webSocketStream()
    if (Constructor === undefined) return yield* openError("this browser has no WebSocketStream")
    const abort = new AbortController()
    let stream: WebSocketStreamLike
    try {
      stream = new Constructor(url.href, { protocols: toProtocols(options.protocols), signal: abort.signal })
    } catch (cause) {
      return yield* openError(undefined, cause)
    }
    const handshake = yield* Deferred.make<void, SocketError.SocketError>()
    let opened: Awaited<WebSocketStreamLike["opened"]> | undefined
    stream.opened.then(
      (value) => {
        opened = value
        Deferred.doneUnsafe(handshake, Exit.void)
      },
      (cause) => Deferred.doneUnsafe(handshake, Exit.fail(openError(undefined, cause)))
    )
    yield* Transport.awaitOpen(handshake, {
      timeout: options.openTimeout ?? constants.DEFAULT_OPEN_TIMEOUT_MILLIS,
      abort: () => abort.abort()
    })
    const { protocol, readable, writable } = opened!
    stream.closed.catch(() => {}) // observed below; keep unhandled-rejection noise away

    const reader = readable.getReader()
    const writer = writable.getWriter()
    let unsentBytes = 0
    let paused = false
    let pulling = false

    const controller = yield* Transport.makeScoped((controller) => {
      // Reads only while the engine wants messages: WebSocketStream then stops reading the network.
      const pull = async () => {
        if (pulling) return
        pulling = true
        try {
          while (!paused) {
            const { done, value } = await reader.read()
            if (done) break
            controller.onMessage(typeof value === "string" ? value : value instanceof Uint8Array ? value : new Uint8Array(value))
          }
        } catch {
          // The stream errored: `closed` reports how.
        } finally {
          pulling = false
        }
      }
      stream.closed.then(
        (info) => controller.onClose({ code: info.closeCode, reason: info.reason, wasClean: true }),
        (error: { readonly closeCode?: number; readonly reason?: string }) =>
          controller.onClose({ code: error?.closeCode ?? CloseCode.Abnormal, reason: error?.reason ?? "", wasClean: false })
      )
      pull()
      return {
        write: (message) => {
          const size = typeof message === "string" ? message.length : message.byteLength
          unsentBytes += size
          writer.write(message).then(
            () => {
              unsentBytes -= size
              controller.onDrain()
            },
            () => {}
          )
        },
        bufferedAmount: () => unsentBytes,
        sendClose: (code, reason) => {
          // Browsers may only send 1000 or 3000-4999; the local error keeps the real code.
          const wire = CloseCode.toBrowserWire(code, reason)
          stream.close({ closeCode: wire.code, reason: wire.reason })
        },
        // A browser cannot drop a connection; the engine reports it closed (1006) at once.
        terminate: () => stream.close({ closeCode: CloseCode.Normal, reason: "terminated" }),
        pause: () => {
          paused = true
        },
        resume: () => {
          paused = false
          pull()
        },
        protocol: () => protocol
      }
    }, { ...options, receiveOverflow: "pause" })
    yield* startHeartbeat(controller, options)
    return controller.socket
  })

/** @internal */
export const connectWebSocket = (
  url: URL,
  options: BrowserConnector.BrowserConnectorOptions & { readonly protocols?: string | ReadonlyArray<string> | undefined }
): Effect.Effect<MessageSocket.MessageSocket, SocketError.SocketError, Scope.Scope> =>
  Effect.gen(function*() {
    let ws: WebSocket
    try {
      ws = new WebSocket(url.href, toProtocols(options.protocols))
    } catch (cause) {
      return yield* openError(undefined, cause)
    }
    // Never Blob: Blob messages are read asynchronously and can be reordered.
    ws.binaryType = "arraybuffer"
    const opened = yield* Deferred.make<void, SocketError.SocketError>()
    const sendHighWater = options.sendHighWaterMark ?? constants.DEFAULT_SEND_HIGH_WATER_BYTES

    // A browser WebSocket has no drain event: bufferedAmount is polled, backing off, while it is
    // high. Each poll's timer is set from a message task, never from the previous timer: a timer
    // set inside a timer is clamped to 4 ms after five levels (HTML timer nesting), and poll,
    // drain, write, poll is such a chain; at 4 ms the socket ran dry between polls.
    const pollTicks = new MessageChannel()
    yield* Effect.addFinalizer(() => Effect.sync(() => pollTicks.port1.close()))

    const controller = yield* Transport.makeScoped((controller) => {
      let pollDelay = 0 // 0 while not polling
      const pollDrain = () => {
        if (ws.readyState !== WebSocket.OPEN) return void (pollDelay = 0)
        if (ws.bufferedAmount < sendHighWater) {
          pollDelay = 0
          controller.onDrain()
        } else {
          pollDelay = Math.min(pollDelay * 2, constants.DRAIN_POLL_MAX_MILLIS)
          pollTicks.port2.postMessage(null)
        }
      }
      pollTicks.port1.onmessage = () => setTimeout(pollDrain, pollDelay)
      ws.onmessage = (event: MessageEvent) => {
        const data = event.data as string | ArrayBuffer
        controller.onMessage(typeof data === "string" ? data : new Uint8Array(data))
      }
      ws.onopen = () => Deferred.doneUnsafe(opened, Exit.void)
      ws.onerror = () => Deferred.doneUnsafe(opened, Exit.fail(openError("the connection failed (a browser does not say why)")))
      ws.onclose = (event: CloseEvent) => {
        Deferred.doneUnsafe(opened, Exit.fail(openError("closed before the handshake completed", undefined, event.code)))
        controller.onClose({ code: event.code, reason: event.reason, wasClean: event.wasClean })
      }
      return {
        write: (message) => {
          ws.send(message)
          if (pollDelay === 0 && ws.bufferedAmount >= sendHighWater) {
            pollDelay = constants.DRAIN_POLL_FIRST_MILLIS
            pollTicks.port2.postMessage(null)
          }
        },
        bufferedAmount: () => ws.bufferedAmount,
        sendClose: (code, reason) => {
          // Browsers may only send 1000 or 3000-4999; the local error keeps the real code.
          const wire = CloseCode.toBrowserWire(code, reason)
          ws.close(wire.code, wire.reason)
        },
        terminate: () => ws.close(CloseCode.Normal, "terminated"),
        // The browser WebSocket cannot pause: the "fail" policy bounds what is queued instead.
        pause: () => {},
        resume: () => {},
        protocol: () => ws.protocol
      }
    }, {
      receiveHighWaterMessages: options.receiveLimitMessages ?? constants.DEFAULT_RECEIVE_LIMIT_MESSAGES,
      receiveHighWaterBytes: options.receiveLimitBytes ?? constants.DEFAULT_RECEIVE_LIMIT_BYTES,
      ...options,
      // What this transport can do is not the user's to change.
      receiveOverflow: "fail"
    })
    yield* Transport.awaitOpen(opened, {
      timeout: options.openTimeout ?? constants.DEFAULT_OPEN_TIMEOUT_MILLIS,
      abort: () => ws.close()
    })
    yield* startHeartbeat(controller, options)
    return controller.socket
  })

/**
 * Browsers have no ping API: an optional application-level heartbeat on the shared keepalive
 * sends `heartbeat.message` (if any) every `interval`, and fails the connection when nothing at
 * all was received within `idleTimeout` (default twice the interval) after one.
 */
const startHeartbeat = (controller: Transport.Controller, options: BrowserConnector.BrowserConnectorOptions) => {
  const heartbeat = options.heartbeat
  if (heartbeat === undefined) return Effect.void
  const message = heartbeat.message
  return Keepalive.run(controller, {
    answer: "message",
    send: () => {
      if (message !== undefined) Effect.runFork(Effect.ignore(controller.socket.send(message)))
    },
    ready: () => true,
    answers: () => 0
  }, {
    interval: heartbeat.interval,
    timeout: heartbeat.idleTimeout ?? Duration.times(Duration.fromInputUnsafe(heartbeat.interval), 2)
  })
}
