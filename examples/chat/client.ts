/**
 * The terminal chat client: lines typed on stdin are said, messages are printed on stdout.
 * It reconnects by itself (Reconnect.framed), so a server restart is a pause, not an exit; given
 * several servers (processes sharing a Redis), it moves to another when its own goes away.
 */
import { Codec, Connector, Reconnect } from "@bytechannel/core"
import type { MessageSocket, SocketError } from "@bytechannel/core"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { Interface } from "node:readline"
import { ClientMessage, maxLineLength, ServerMessage } from "./protocol.js"

/** A codec for what this side sends and one for what it receives, over the same NDJSON wire. */
export const clientCodec: Codec.Codec<ClientMessage | ServerMessage> = {
  name: "chat",
  decoder: () => Codec.ndjson(ServerMessage, { maxLength: maxLineLength }).decoder(),
  encode: (value) => Codec.ndjson(ClientMessage, { maxLength: maxLineLength }).encode(value as ClientMessage)
}

/**
 * A `Connector` over `base` that tries each of `urls` in turn, from the last one that worked
 * (whatever url it is asked for): `Reconnect` then fails over to another server by itself.
 */
export const failover = (base: Connector.Connector["Service"], urls: ReadonlyArray<string>): Connector.Connector["Service"] => {
  let current = 0
  const attempt = (
    tried: number,
    options: Connector.ConnectOptions | undefined
  ): Effect.Effect<MessageSocket.MessageSocket, SocketError.SocketError, Scope.Scope> => {
    const index = (current + tried) % urls.length
    return base.connect(urls[index]!, options).pipe(
      Effect.tap(() => Effect.sync(() => (current = index))),
      Effect.catch((error) => (tried + 1 < urls.length ? attempt(tried + 1, options) : Effect.fail(error)))
    )
  }
  return Connector.make((_url, options) => attempt(0, options))
}

/** The chat as a reconnecting, typed connection to the first of `urls` that answers. */
export const connectChat = (
  urls: ReadonlyArray<string>,
  onEvent?: (event: Reconnect.ReconnectEvent) => Effect.Effect<void>
) =>
  Connector.Connector.use((base) =>
    Reconnect.framed(urls[0]!, clientCodec, {
      schedule: Schedule.min([Schedule.exponential("200 millis"), Schedule.spaced("5 seconds")]),
      onEvent
    }).pipe(Effect.provideService(Connector.Connector, failover(base, urls))))

export const runClient = (urls: ReadonlyArray<string>, name: string, input: Interface, print: (line: string) => void) =>
  Effect.gen(function*() {
    const chat = yield* connectChat(urls, (event) =>
      Effect.sync(() => {
        if (event._tag === "Connected") print(`* connected`)
        if (event._tag === "Disconnected") print(`* disconnected (${event.info.code}), reconnecting`)
      }))
    yield* Effect.forkScoped(chat.messages.pipe(
      Stream.runForEach((message) =>
        Effect.sync(() => {
          if (message._tag === "Said") print(`${message.from}: ${message.text}`)
          if (message._tag === "Welcome") print(`* on server ${message.server}, ${message.online} online`)
        })
      )
    ))
    yield* Stream.fromAsyncIterable(input, () => "input closed").pipe(
      Stream.filter((line) => line.trim() !== ""),
      Stream.runForEach((text) => Effect.ignore(chat.send({ _tag: "Say", from: name, text })))
    )
  }).pipe(Effect.scoped)
