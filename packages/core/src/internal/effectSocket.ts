/**
 * Both ways between Effect 4's `effect/socket` and bytechannel: an effect `Socket` driving the
 * engine as a transport (`fromSocket`, `upgrade`), and a `ByteChannel` seen as an effect
 * `Socket` (`toSocket`).
 *
 * @internal
 */
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Latch from "effect/Latch"
import * as Scope from "effect/Scope"
import * as Socket from "effect/socket/Socket"
import type * as ByteChannel from "../ByteChannel.js"
import * as CloseCode from "../CloseCode.js"
import type * as MessageSocket from "../MessageSocket.js"
import type { CloseArgumentError } from "../SocketError.js"
import { SocketError } from "../SocketError.js"
import * as Transport from "../Transport.js"
import * as constants from "./constants.js"
import { sendAll } from "./byteChannel.js"
import { closeOnScopeClose } from "./close.js"
import { handle } from "./handle.js"
import { messageSize } from "./inbox.js"

// effect/socket -> MessageSocket ------------------------------------------------------------------

type Outgoing = MessageSocket.Message | Socket.CloseEvent

const sizeOf = (item: Outgoing): number => (Socket.isCloseEvent(item) ? 0 : messageSize(item))

/** Our error for an effect `SocketError` that ended the connection otherwise than by a close. */
const fromEffectError = (error: Socket.SocketError, side: "Read" | "Write"): SocketError => {
  const reason = error.reason
  switch (reason._tag) {
    case "SocketOpenError":
      return new SocketError({ reason: reason.kind === "Timeout" ? "OpenTimeout" : "Open", cause: error })
    case "SocketWriteError":
      return new SocketError({ reason: "Write", cause: error })
    case "SocketReadError":
    case "SocketUpgradeError":
      return new SocketError({ reason: "Read", cause: error })
    case "SocketCloseError":
      return new SocketError({ reason: side === "Read" ? "Closed" : "Write", code: reason.code, closeReason: reason.closeReason, cause: error })
  }
}

/** @internal */
export const fromSocket = (
  socket: Socket.Socket,
  options?: MessageSocket.SocketOptions
): Effect.Effect<MessageSocket.MessageSocket, SocketError, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const context = yield* Effect.context<never>()
    // The connection: acquiring the reader opens it (an upgrade answers its 101 here); closing
    // this scope drops it. Forked first, so it is closed last: after the close handshake.
    const connection = yield* Scope.fork(scope)
    const reader = yield* Scope.provide(socket.reader, connection).pipe(
      // A socket that could not open leaves nothing behind, even in a long-lived scope.
      Effect.tapError(() => Scope.close(connection, Exit.void)),
      Effect.mapError((error) => fromEffectError(error, "Read"))
    )
    const writer = yield* Scope.provide(socket.writer, connection)

    const drop = () => {
      const finalize = Scope.closeUnsafe(connection, Exit.void)
      if (finalize !== undefined) Effect.runForkWith(context)(Effect.uninterruptible(finalize))
    }

    // Outgoing messages wait here for the writer fiber; their bytes are the send buffer the
    // engine's backpressure sees. An effect WebSocket's writer takes them at once (it does not
    // wait for `ws.bufferedAmount`), a Node TCP writer when the socket drains.
    let outbox: Array<Outgoing> = []
    let queuedBytes = 0
    let wakeWriter: (() => void) | undefined
    const push = (item: Outgoing) => {
      outbox.push(item)
      queuedBytes += sizeOf(item)
      if (wakeWriter !== undefined) {
        const wake = wakeWriter
        wakeWriter = undefined
        wake()
      }
    }
    const takeOutbox = () => {
      const batch = outbox
      outbox = []
      return batch
    }
    const nextBatch = Effect.callback<Array<Outgoing>>((resume) => {
      if (outbox.length > 0) return resume(Effect.succeed(takeOutbox()))
      // Taken when the writer runs, so what was pushed meanwhile goes in the same batch.
      wakeWriter = () => resume(Effect.sync(takeOutbox))
      return Effect.sync(() => {
        wakeWriter = undefined
      })
    })

    // The receive side pulls only while the engine's queue has room: `pause` closes the latch.
    const pulling = Latch.makeUnsafe(true)

    const controller = yield* Transport.make(() => ({
      write: push,
      bufferedAmount: () => queuedBytes,
      sendClose: (code, reason) => push(new Socket.CloseEvent(code, reason)),
      terminate: drop,
      pause: () => {
        pulling.closeUnsafe()
      },
      resume: () => {
        pulling.openUnsafe()
      }
    }), { ...options, receiveOverflow: "pause" })

    // Runs of messages go in `writeAll`s of at most EFFECT_SOCKET_WRITE_BATCH_BYTES; a close
    // event goes on its own, in order. What each write took leaves `bufferedAmount` as it is
    // taken, so a slow reader shows progress to the send-stall rule batch by batch.
    const written = (items: ReadonlyArray<Outgoing>) => {
      for (let i = 0; i < items.length; i++) queuedBytes -= sizeOf(items[i]!)
      controller.onDrain()
    }
    const writeBatch = (batch: Array<Outgoing>): Effect.Effect<void, Socket.SocketError> =>
      Effect.gen(function*() {
        let start = 0
        let bytes = 0
        for (let i = 0; i <= batch.length; i++) {
          const item = batch[i]
          const isMessage = item !== undefined && !Socket.isCloseEvent(item)
          if (isMessage && (i === start || bytes < constants.EFFECT_SOCKET_WRITE_BATCH_BYTES)) {
            bytes += sizeOf(item)
            continue
          }
          if (i > start) {
            const run = batch.slice(start, i)
            yield* writer.writeAll(run as unknown as NonEmptyReadonlyArray<MessageSocket.Message>)
            written(run)
          }
          if (isMessage) {
            start = i
            bytes = sizeOf(item)
            continue
          }
          if (item !== undefined) {
            yield* writer.write(item)
            written([item])
          }
          start = i + 1
          bytes = 0
        }
      })

    const writeLoop = Effect.gen(function*() {
      while (true) yield* writeBatch(yield* nextBatch)
    }).pipe(
      Effect.catch((error) =>
        Effect.sync(() => {
          // A close ends the connection, and the reader reports it; anything else is a failure.
          if (error.reason._tag === "SocketCloseError") return
          controller.onError(fromEffectError(error, "Write"))
          drop()
        })
      )
    )

    const readLoop = Effect.gen(function*() {
      while (true) {
        yield* pulling.await
        const frames = yield* reader.pull
        for (let i = 0; i < frames.length; i++) controller.onMessage(frames[i]!)
      }
    }).pipe(
      Effect.catch((error) =>
        Effect.sync(() => {
          const reason = error.reason
          if (reason._tag === "SocketCloseError") {
            controller.onClose({ code: reason.code, reason: reason.closeReason ?? "", wasClean: reason.code !== CloseCode.Abnormal })
            return
          }
          controller.onError(fromEffectError(error, "Read"))
          controller.onClose({ code: CloseCode.Abnormal, reason: "", wasClean: false })
        })
      )
    )

    yield* Effect.forkIn(writeLoop, scope)
    yield* Effect.forkIn(readLoop, scope)
    // Registered last, so it runs first when the scope closes: the close handshake, while the
    // loops still move the close frames; then the loops stop and the connection is dropped.
    yield* closeOnScopeClose(controller.socket)
    return controller.socket
  })

/** @internal */
export const upgrade = <E, R>(
  handler: (channel: ByteChannel.ByteChannel) => Effect.Effect<void, E, R>,
  options?: MessageSocket.SocketOptions & { readonly channel?: ByteChannel.ByteChannelOptions | undefined }
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest | Exclude<R, Scope.Scope>> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const socket = yield* request.upgrade
    yield* Effect.scoped(Effect.flatMap(fromSocket(socket, options), (messages) => handle(messages, handler, { channel: options?.channel })))
    return HttpServerResponse.empty()
  }).pipe(
    // Not an upgrade, or a handshake that failed: nothing was served.
    Effect.catch(() => Effect.succeed(HttpServerResponse.empty({ status: 400 })))
  )

// ByteChannel -> effect/socket --------------------------------------------------------------------

const utf8 = new TextEncoder()

const closeError = (code: number, reason: string | undefined) =>
  new Socket.SocketError({ reason: new Socket.SocketCloseError({ code, closeReason: reason === "" ? undefined : reason }) })

/** An effect `SocketError` for one of ours: a close keeps its code and reason. */
const toEffectError = (error: ByteChannel.ReadError | CloseArgumentError, side: "Read" | "Write"): Socket.SocketError => {
  if (error._tag === "SocketError") {
    switch (error.reason) {
      case "Closed":
        if (error.code !== undefined) return closeError(error.code, error.closeReason)
        break
      case "Open":
      case "OpenTimeout":
        return new Socket.SocketError({
          reason: new Socket.SocketOpenError({ kind: error.reason === "OpenTimeout" ? "Timeout" : "Unknown", cause: error })
        })
      case "Read":
      case "ReceiveOverflow":
        return new Socket.SocketError({ reason: new Socket.SocketReadError({ cause: error }) })
      case "Write":
      case "SendTimeout":
        return new Socket.SocketError({ reason: new Socket.SocketWriteError({ cause: error }) })
    }
  }
  return new Socket.SocketError({
    reason: side === "Read" ? new Socket.SocketReadError({ cause: error }) : new Socket.SocketWriteError({ cause: error })
  })
}

/** How a reader's scope ended decides the close, as a server's handler does (`handle`). */
const releaseClose = (exit: Exit.Exit<unknown, unknown>): MessageSocket.CloseOptions =>
  Exit.isSuccess(exit)
    ? { code: CloseCode.Normal }
    : Cause.hasInterruptsOnly(exit.cause)
    ? { code: CloseCode.GoingAway, reason: "socket reader interrupted" }
    : { code: CloseCode.InternalError, reason: "socket reader failed" }

/** @internal */
export const toSocket = (channel: ByteChannel.ByteChannel): Socket.Socket => {
  // Set once the connection is over: a later reader fails with it at once (one connection, no
  // reconnect, like effect's `disableReconnects`).
  let terminal: Socket.SocketError | undefined
  const end = (error: Socket.SocketError) => (terminal ??= error)

  const endOfInput: Effect.Effect<never, Socket.SocketError> = Effect.flatMap(
    channel.closed,
    (info) => Effect.fail(end(closeError(info.code, info.reason)))
  )

  // One chunk per pull, taken from the channel only when pulled: nothing is read ahead, so the
  // channel's receive bounds (and the transport's pause) hold whatever the consumer does.
  const read: Effect.Effect<NonEmptyReadonlyArray<Uint8Array>, Socket.SocketError> = Effect.matchEffect(
    channel.readChunk(),
    {
      onFailure: (error) => Effect.fail(end(toEffectError(error, "Read"))),
      onSuccess: (next) => next._tag === "Some" ? Effect.succeed([next.value] as const) : endOfInput
    }
  )
  const pull = Effect.suspend(() => terminal !== undefined ? Effect.fail(terminal) : read)

  // The reader's scope owns the connection, as effect/socket's contract says: closing it closes
  // the channel (the close handshake within its deadline). A pull waiting in another fiber
  // fails when that close completes.
  const release = (exit: Exit.Exit<unknown, unknown>) =>
    channel.socket.closeWithProtocolCode(releaseClose(exit)).pipe(
      Effect.matchEffect({
        onSuccess: (info) => Effect.sync(() => end(closeError(info.code, info.reason))),
        onFailure: () => channel.socket.terminate
      }),
      Effect.uninterruptible
    )

  const reader: Socket.Socket["reader"] = Effect.suspend(() => {
    if (terminal !== undefined) return Effect.fail(terminal)
    return Effect.flatMap(Effect.scope, (scope) =>
      Effect.as(Scope.addFinalizerExit(scope, release), {
        pull,
        upgrade: Socket.SocketUpgradeError.unsupported
      } satisfies Socket.Reader<Uint8Array>))
  })

  const send = (bytes: Uint8Array) => Effect.mapError(channel.send(bytes), (error) => toEffectError(error, "Write"))

  const write = (chunk: Uint8Array | string | Socket.CloseEvent): Effect.Effect<void, Socket.SocketError> => {
    if (typeof chunk === "string") return send(utf8.encode(chunk))
    if (Socket.isCloseEvent(chunk)) {
      // Protocol codes too (RpcServer closes with 1009): a server speaks through this socket.
      return channel.socket.closeWithProtocolCode({ code: chunk.code, reason: chunk.reason }).pipe(
        Effect.mapError((error) => toEffectError(error, "Write")),
        Effect.asVoid
      )
    }
    return send(chunk)
  }

  const writeAll = (chunks: NonEmptyReadonlyArray<Uint8Array | string>): Effect.Effect<void, Socket.SocketError> =>
    Effect.mapError(
      sendAll(channel, chunks.map((chunk) => typeof chunk === "string" ? utf8.encode(chunk) : chunk)),
      (error) => toEffectError(error, "Write")
    )

  return Socket.make({
    reader,
    // A WebSocket cannot half-close: releasing the writer's scope leaves the connection to the reader's.
    writer: Effect.succeed({ write, writeAll })
  })
}
