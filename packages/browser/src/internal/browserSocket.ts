import { MessageSocket, SocketError } from "@bytechannel/core"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
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

/**
 * The longest prefix of `text` that is at most `maxBytes` in UTF-8, cut between characters
 * (never inside a surrogate pair). @internal
 */
export const truncateUtf8 = (text: string, maxBytes: number): string => {
  // Each UTF-16 unit is at most 3 UTF-8 bytes: short strings need no counting.
  if (text.length * 3 <= maxBytes) return text
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    // A high surrogate followed by a low one is one 4-byte character; a lone surrogate is
    // encoded as U+FFFD (3 bytes).
    const pair = unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    const size = pair ? 4 : unit < 0x80 ? 1 : unit < 0x800 ? 2 : 3
    if (bytes + size > maxBytes) return text.slice(0, i)
    bytes += size
    if (pair) i++
  }
  return text
}

// Browsers may only send 1000 or 3000-4999. A protocol code chosen here (1001, 1003, 1009,
// 1011) goes on the wire as 1000 with the code in the reason, cut to the 123 bytes a close
// frame allows (a longer reason makes close() throw); the local error keeps the code.
const wireClose = (code: number, reason: string) =>
  code === 1000 || (code >= 3000 && code <= 4999)
    ? { code, reason }
    : { code: 1000, reason: truncateUtf8(`${code}${reason ? `: ${reason}` : ""}`, constants.MAX_CLOSE_REASON_BYTES) }

const toProtocols = (protocols: string | ReadonlyArray<string> | undefined) =>
  protocols === undefined ? [] : typeof protocols === "string" ? [protocols] : [...protocols]

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
    const openTimeout = Duration.decode(options.openTimeout ?? constants.DEFAULT_OPEN_TIMEOUT_MILLIS)
    const opened = yield* Effect.tryPromise({
      try: () => stream.opened,
      catch: (cause) => openError(undefined, cause)
    }).pipe(
      Effect.timeoutFail({
        duration: openTimeout,
        onTimeout: () => new SocketError.SocketError({ reason: "OpenTimeout", detail: `no handshake within ${Duration.format(openTimeout)}` })
      }),
      Effect.onExit((exit) => (exit._tag === "Failure" ? Effect.sync(() => abort.abort()) : Effect.void))
    )
    stream.closed.catch(() => {}) // observed below; keep unhandled-rejection noise away

    const reader = opened.readable.getReader()
    const writer = opened.writable.getWriter()
    let controller: MessageSocket.Controller | undefined
    let unsentBytes = 0
    let paused = false
    let pulling = false

    // Reads only while the engine wants messages: WebSocketStream then stops reading the network.
    const pull = async () => {
      if (pulling) return
      pulling = true
      try {
        while (!paused) {
          const { done, value } = await reader.read()
          if (done) break
          controller!.offer(typeof value === "string" ? value : value instanceof Uint8Array ? value : new Uint8Array(value))
        }
      } catch {
        // The stream errored: `closed` reports how.
      } finally {
        pulling = false
      }
    }

    const engine = yield* MessageSocket.make({
      write: (message) => {
        const size = typeof message === "string" ? message.length : message.byteLength
        unsentBytes += size
        writer.write(message).then(
          () => {
            unsentBytes -= size
            controller?.drained()
          },
          () => {}
        )
      },
      bufferedAmount: () => unsentBytes,
      sendClose: (code, reason) => {
        const wire = wireClose(code, reason)
        stream.close({ closeCode: wire.code, reason: wire.reason })
      },
      // A browser cannot drop a connection; the engine reports it closed (1006) at once.
      terminate: () => stream.close({ closeCode: 1000, reason: "terminated" }),
      pause: () => {
        paused = true
      },
      resume: () => {
        paused = false
        pull()
      },
      protocol: () => opened.protocol
    }, options)
    controller = engine
    stream.closed.then(
      (info) => engine.closed({ code: info.closeCode, reason: info.reason, wasClean: true }),
      (error: { readonly closeCode?: number; readonly reason?: string }) =>
        engine.closed({ code: error?.closeCode ?? 1006, reason: error?.reason ?? "", wasClean: false })
    )
    pull()
    yield* startHeartbeat(engine, options)
    yield* MessageSocket.closeOnScopeClose(engine.socket)
    return engine.socket
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
    let controller: MessageSocket.Controller | undefined
    let polling = false
    const sendHighWater = options.sendHighWaterMark ?? 1024 * 1024

    // A browser WebSocket has no drain event: poll bufferedAmount, backing off, while it is high.
    const pollDrain = (delay: number) => {
      setTimeout(() => {
        if (ws.readyState !== WebSocket.OPEN) return void (polling = false)
        if (ws.bufferedAmount < sendHighWater) {
          polling = false
          controller?.drained()
        } else pollDrain(Math.min(delay * 2, constants.DRAIN_POLL_MAX_MILLIS))
      }, delay)
    }

    const engine = yield* MessageSocket.make({
      write: (message) => {
        ws.send(message)
        if (!polling && ws.bufferedAmount >= sendHighWater) {
          polling = true
          pollDrain(constants.DRAIN_POLL_FIRST_MILLIS)
        }
      },
      bufferedAmount: () => ws.bufferedAmount,
      sendClose: (code, reason) => {
        const wire = wireClose(code, reason)
        ws.close(wire.code, wire.reason)
      },
      terminate: () => ws.close(1000, "terminated"),
      // The browser WebSocket cannot pause: the "fail" policy bounds what is queued instead.
      pause: () => {},
      resume: () => {},
      protocol: () => ws.protocol
    }, {
      receiveHighWaterMessages: options.receiveLimitMessages ?? constants.DEFAULT_RECEIVE_LIMIT_MESSAGES,
      receiveHighWaterBytes: options.receiveLimitBytes ?? constants.DEFAULT_RECEIVE_LIMIT_BYTES,
      ...options,
      // What this transport can do is not the user's to change.
      receiveOverflow: "fail"
    })
    controller = engine
    ws.onmessage = (event: MessageEvent) => {
      const data = event.data as string | ArrayBuffer
      engine.offer(typeof data === "string" ? data : new Uint8Array(data))
    }
    ws.onopen = () => Deferred.unsafeDone(opened, Effect.void)
    ws.onerror = () => Deferred.unsafeDone(opened, Effect.fail(openError("the connection failed (a browser does not say why)")))
    ws.onclose = (event: CloseEvent) => {
      Deferred.unsafeDone(opened, Effect.fail(openError("closed before the handshake completed", undefined, event.code)))
      engine.closed({ code: event.code, reason: event.reason, wasClean: event.wasClean })
    }
    const openTimeout = Duration.decode(options.openTimeout ?? constants.DEFAULT_OPEN_TIMEOUT_MILLIS)
    yield* Deferred.await(opened).pipe(
      Effect.timeoutFail({
        duration: openTimeout,
        onTimeout: () => new SocketError.SocketError({ reason: "OpenTimeout", detail: `no handshake within ${Duration.format(openTimeout)}` })
      }),
      Effect.onExit((exit) => (exit._tag === "Failure" ? Effect.sync(() => ws.close()) : Effect.void))
    )
    yield* startHeartbeat(engine, options)
    yield* MessageSocket.closeOnScopeClose(engine.socket)
    return engine.socket
  })

/**
 * Browsers have no ping API: an optional application-level heartbeat sends `heartbeat.message`
 * every `interval`, and treats `idleTimeout` without any message received as a dead peer.
 */
const startHeartbeat = (engine: MessageSocket.Controller, options: BrowserConnector.BrowserConnectorOptions) =>
  Effect.gen(function*() {
    const heartbeat = options.heartbeat
    if (heartbeat === undefined) return
    const interval = Duration.decode(heartbeat.interval)
    const idle = Duration.decode(heartbeat.idleTimeout ?? Duration.times(interval, 2))
    let lastCount = -1
    let lastSeen = Date.now()
    yield* Effect.forkScoped(Effect.gen(function*() {
      while (engine.state() === "open") {
        yield* Effect.sleep(interval)
        if (heartbeat.message !== undefined) yield* Effect.ignore(engine.socket.send(heartbeat.message))
        const count = engine.receivedMessages()
        if (count !== lastCount) {
          lastCount = count
          lastSeen = Date.now()
        } else if (Date.now() - lastSeen >= Duration.toMillis(idle) && engine.state() === "open") {
          engine.fail(new SocketError.SocketError({ reason: "Read", code: 1006, detail: `nothing received for ${Duration.format(idle)}` }))
          yield* engine.socket.terminate
        }
      }
    }))
  })
