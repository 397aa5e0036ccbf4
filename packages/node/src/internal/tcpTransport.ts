import { CloseCode, type MessageSocket, SocketError, Transport } from "@bytechannel/core"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Net from "node:net"
import * as constants from "./constants.js"

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
      let failed = false
      socket.on("data", (chunk: Buffer) => controller.onMessage(chunk))
      socket.on("drain", controller.onDrain)
      // The peer ended its side: end ours (the TCP close handshake).
      socket.on("end", () => {
        if (!socket.writableEnded) socket.end()
      })
      socket.on("error", () => {
        failed = true
      })
      socket.on("close", (hadError: boolean) => {
        const clean = !hadError && !failed
        controller.onClose({ code: clean ? CloseCode.Normal : CloseCode.Abnormal, reason: "", wasClean: clean })
      })
      return {
        write: (message) => {
          socket.write(message)
        },
        bufferedAmount: () => socket.writableLength,
        sendClose: () => {
          socket.end()
        },
        // A reset, not a FIN: the peer must see a lost connection (1006), never a clean end.
        terminate: () => {
          if (socket.destroyed) return
          socket.resetAndDestroy()
        },
        pause: () => {
          socket.pause()
        },
        resume: () => {
          socket.resume()
        }
      }
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
