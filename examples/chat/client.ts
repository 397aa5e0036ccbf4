/**
 * The terminal chat client: lines typed on stdin are said, messages are printed on stdout.
 * It reconnects by itself (Reconnect.framed), so a server restart is a pause, not an exit.
 */
import { Codec, Reconnect } from "@bytechannel/core"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { Interface } from "node:readline"
import { ClientMessage, maxLineLength, ServerMessage } from "./protocol.js"

/** A codec for what this side sends and one for what it receives, over the same NDJSON wire. */
const clientCodec: Codec.Codec<ClientMessage | ServerMessage> = {
  name: "chat",
  decoder: () => Codec.ndjson(ServerMessage, { maxLength: maxLineLength }).decoder(),
  encode: (value) => Codec.ndjson(ClientMessage, { maxLength: maxLineLength }).encode(value as ClientMessage)
}

export const runClient = (url: string, name: string, input: Interface, print: (line: string) => void) =>
  Effect.gen(function*() {
    const chat = yield* Reconnect.framed(url, clientCodec, {
      schedule: Schedule.exponential("200 millis").pipe(Schedule.either(Schedule.spaced("5 seconds"))),
      onEvent: (event) =>
        Effect.sync(() => {
          if (event._tag === "Connected") print(`* connected to ${url}`)
          if (event._tag === "Disconnected") print(`* disconnected (${event.info.code}), reconnecting`)
        })
    })
    yield* Effect.forkScoped(chat.messages.pipe(
      Stream.runForEach((message) => Effect.sync(() => message._tag === "Said" && print(`${message.from}: ${message.text}`)))
    ))
    yield* Stream.fromAsyncIterable(input, () => "input closed").pipe(
      Stream.filter((line) => line.trim() !== ""),
      Stream.runForEach((text) => Effect.ignore(chat.send({ _tag: "Say", from: name, text })))
    )
  }).pipe(Effect.scoped)
