import { CloseCode, Connector, type MessageSocket, SocketError, Transport, WebSocketTransport } from "@bytechannel/core"
import * as Deferred from "effect/Deferred"
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
    if (options.heartbeat !== undefined) yield* WebSocketTransport.heartbeat(controller, options.heartbeat)
    return controller.socket
  })
