import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Socket from "@effect/platform/Socket"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import type * as ByteChannel from "../ByteChannel.js"
import type * as MessageSocket from "../MessageSocket.js"
import * as Transport from "../Transport.js"
import { SocketError } from "../SocketError.js"
import { handle } from "./handle.js"
import * as CloseCode from "../CloseCode.js"

type Outgoing = MessageSocket.Message | Socket.CloseEvent

const sizeOf = (item: Outgoing) => (typeof item === "string" ? item.length : item instanceof Uint8Array ? item.byteLength : 0)

/** @internal */
export const fromSocket = (
  socket: Socket.Socket,
  options?: MessageSocket.SocketOptions
): Effect.Effect<MessageSocket.MessageSocket, never, Scope.Scope> =>
  Effect.gen(function*() {
    const outbox = yield* Queue.unbounded<Outgoing>()
    let queuedBytes = 0
    let runFiber: Fiber.RuntimeFiber<void, unknown> | undefined
    // The platform socket cannot pause: receiving is bounded by the "fail" policy instead.
    const controller = yield* Transport.makeScoped(() => ({
      write: (message) => {
        queuedBytes += sizeOf(message)
        outbox.unsafeOffer(message)
      },
      bufferedAmount: () => queuedBytes,
      sendClose: (code, reason) => {
        outbox.unsafeOffer(new Socket.CloseEvent(code, reason))
      },
      terminate: () => {
        if (runFiber) Effect.runFork(Fiber.interrupt(runFiber))
      },
      pause: () => {},
      resume: () => {}
    }), { ...options, receiveOverflow: "fail" })

    const write = yield* socket.writer
    yield* Effect.forkScoped(
      Effect.forever(Effect.flatMap(Queue.take(outbox), (item) =>
        Effect.zipRight(
          Effect.ignore(write(item)),
          Effect.sync(() => {
            queuedBytes -= sizeOf(item)
            controller.onDrain()
          })
        )))
    )

    runFiber = yield* Effect.forkScoped(
      socket.runRaw((data) => {
        controller.onMessage(data)
      }).pipe(
        Effect.onExit((exit) =>
          Effect.sync(() => {
            if (Exit.isSuccess(exit)) return controller.onClose({ code: CloseCode.Normal, reason: "", wasClean: true })
            const error = Option.getOrUndefined(Cause.failureOption(exit.cause))
            if (error && error.reason === "Close") {
              return controller.onClose({ code: error.code, reason: error.closeReason ?? "", wasClean: error.code !== CloseCode.Abnormal })
            }
            if (error) controller.onError(new SocketError({ reason: error.reason === "Write" ? "Write" : "Read", cause: error }))
            controller.onClose({ code: CloseCode.Abnormal, reason: "", wasClean: false })
          })
        )
      )
    )
    return controller.socket
  })

/** @internal */
export const upgrade = <E, R>(
  handler: (channel: ByteChannel.ByteChannel) => Effect.Effect<void, E, R>,
  options?: MessageSocket.SocketOptions & { readonly channel?: ByteChannel.ByteChannelOptions | undefined }
) =>
  Effect.gen(function*() {
    const socket = yield* HttpServerRequest.upgrade
    return yield* Effect.scoped(Effect.gen(function*() {
      const messageSocket = yield* fromSocket(socket, options)
      yield* handle(messageSocket, handler, { channel: options?.channel })
      return HttpServerResponse.empty()
    }))
  }).pipe(Effect.catchAll(() => Effect.succeed(HttpServerResponse.empty({ status: 400 }))))
