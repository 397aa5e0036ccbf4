import { CloseCode, type MessageSocket, SocketError, Transport } from "@bytechannel/core"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Net from "node:net"
import * as constants from "./constants.js"

// Each socket carries its link under this key: the listeners below are shared by every
// connection, not closures made per connection.
const LINK = Symbol.for("@bytechannel/node/netLink")
const linkOf = (socket: Net.Socket): NetLink => (socket as unknown as { [LINK]: NetLink })[LINK]

/** One TCP socket as the engine's transport (its methods), with its controller. */
class NetLink implements Transport.Transport {
  failed = false
  constructor(readonly socket: Net.Socket, readonly controller: Transport.Controller) {
    ;(socket as unknown as { [LINK]: NetLink })[LINK] = this
  }
  write(message: MessageSocket.Message) {
    this.socket.write(message)
  }
  bufferedAmount() {
    return this.socket.writableLength
  }
  sendClose() {
    this.socket.end()
  }
  // A reset, not a FIN: the peer must see a lost connection (1006), never a clean end.
  terminate() {
    if (this.socket.destroyed) return
    this.socket.resetAndDestroy()
  }
  pause() {
    this.socket.pause()
  }
  resume() {
    this.socket.resume()
  }
}

function onData(this: Net.Socket, chunk: Buffer) {
  linkOf(this).controller.onMessage(chunk)
}
function onDrain(this: Net.Socket) {
  linkOf(this).controller.onDrain()
}
// The peer ended its side: end ours (the TCP close handshake).
function onEnd(this: Net.Socket) {
  if (!this.writableEnded) this.end()
}
function onError(this: Net.Socket) {
  linkOf(this).failed = true
}
function onClose(this: Net.Socket, hadError: boolean) {
  const link = linkOf(this)
  const clean = !hadError && !link.failed
  link.controller.onClose({ code: clean ? CloseCode.Normal : CloseCode.Abnormal, reason: "", wasClean: clean })
}

/**
 * A TCP socket as a transport. TCP has no messages and no close codes: each chunk read is a
 * message, an orderly end (FIN both ways) is a 1000 close, anything else 1006.
 * @internal
 */
export const fromNetSocket = (
  socket: Net.Socket,
  options?: MessageSocket.SocketOptions
): Effect.Effect<MessageSocket.MessageSocket, never, Scope.Scope> =>
  Effect.map(
    Transport.makeScoped((controller) => {
      socket.on("data", onData)
      socket.on("drain", onDrain)
      socket.on("end", onEnd)
      socket.on("error", onError)
      socket.on("close", onClose)
      return new NetLink(socket, controller)
    }, { ...options, receiveOverflow: "pause" }),
    (controller) => controller.socket
  )

/** Opens a tcp://host:port connection. @internal */
export const connect = (
  url: URL,
  options: { readonly openTimeout?: Duration.Input | undefined } & MessageSocket.SocketOptions
): Effect.Effect<MessageSocket.MessageSocket, SocketError.SocketError, Scope.Scope> =>
  Effect.gen(function*() {
    const port = Number(url.port)
    if (!url.port || !Number.isInteger(port)) {
      return yield* new SocketError.SocketError({ reason: "Open", detail: `a tcp:// URL needs a port: ${url.href}` })
    }
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname
    const opened = yield* Deferred.make<void, SocketError.SocketError>()
    const socket = Net.connect({ host, port, allowHalfOpen: true, noDelay: true })
    socket.once("connect", () => Deferred.doneUnsafe(opened, Effect.void))
    socket.once("error", (error) =>
      Deferred.doneUnsafe(opened, Effect.fail(new SocketError.SocketError({ reason: "Open", cause: error, detail: error.message }))))
    const messageSocket = yield* fromNetSocket(socket, options)
    yield* Transport.awaitOpen(opened, {
      timeout: options.openTimeout ?? constants.DEFAULT_OPEN_TIMEOUT_MILLIS,
      what: "connection",
      abort: () => socket.destroy()
    })
    return messageSocket
  })
