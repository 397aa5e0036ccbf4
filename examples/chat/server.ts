/**
 * The chat server: the portable `Server` on /chat, NDJSON with a Schema, every message said
 * published to the room through the `Hub`. Which runtime serves it is the layer's choice
 * (`NodeServer.layerServer`, with the page: `layerWithPage` in page.ts; `BunServer.layerServer`,
 * `DenoServer.layerServer`: examples/runtimes). With `Hub.layer` the room lives in this process;
 * with `RedisHub.layer` it spans every server process sharing a Redis, and nothing here changes.
 *
 * Each connection subscribes to the room with a bounded buffer (the oldest messages are dropped
 * for a client that cannot keep up), so one slow client can neither stall nor bloat the
 * others. Servers tell each other how many people they have (the presence topic), so every
 * page shows who is online everywhere.
 */
import { ByteChannel, Codec, Hub, Server } from "@bytechannel/core"
import type { MessageSocket } from "@bytechannel/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { hostname } from "node:os"
import { ClientMessage, maxLineLength, Presence, ServerMessage } from "./protocol.js"

export interface ChatServerOptions {
  readonly host?: string | undefined
  readonly port?: number | undefined
  /** Messages queued for one client before its oldest are dropped. Default 256. */
  readonly outboxSize?: number | undefined
  /** How this server process is named on the page. Default "host:port (pid N)". */
  readonly serverName?: string | undefined
  /** How often servers tell each other their head count; a server silent for 3 intervals is gone. Default 2 seconds. */
  readonly presenceInterval?: Duration.Input | undefined
}

/** The room, and where servers count heads. */
export const ROOM = "chat"
export const PRESENCE = "chat:presence"

export const serveChat = (options: ChatServerOptions) =>
  Effect.gen(function*() {
    const hub = yield* Hub.Hub
    // Who said what last, by name: lets an operator (or a test) cut a client's connection.
    const sockets = new Map<string, MessageSocket.MessageSocket>()
    const codec = Codec.ndjson(ServerMessage, { maxLength: maxLineLength })
    const encode = (message: ServerMessage) => Result.getOrThrow(codec.encode(message))
    const decode = Codec.ndjson(ClientMessage, { maxLength: maxLineLength })
    const interval = Duration.fromInputUnsafe(options.presenceInterval ?? "2 seconds")
    const encodePresence = Schema.encodeSync(Presence)
    const decodePresence = Schema.decodeUnknownResult(Presence)

    // Presence: our own head count, the others' as last heard, the total for the pages.
    let here = 0
    const elsewhere = new Map<string, { online: number; at: number }>()
    const online = yield* SubscriptionRef.make(0)
    const recount = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      let total = here
      for (const [server, seen] of elsewhere) {
        if (now - seen.at > 3 * Duration.toMillis(interval)) elsewhere.delete(server)
        else total += seen.online
      }
      yield* SubscriptionRef.update(online, () => total)
    })
    let name = options.serverName ?? ""
    const announce = Effect.suspend(() => hub.publish(PRESENCE, new TextEncoder().encode(encodePresence({ server: name, online: here }))))
    const presence = yield* hub.subscribe(PRESENCE)
    yield* Effect.forkScoped(presence.pipe(
      Stream.runForEach((bytes) =>
        Effect.gen(function*() {
          const heard = decodePresence(new TextDecoder().decode(bytes))
          if (Result.isFailure(heard) || heard.success.server === name) return
          elsewhere.set(heard.success.server, { online: heard.success.online, at: yield* Clock.currentTimeMillis })
          yield* recount
        })
      )
    ))

    const server = yield* Server.serve({ host: options.host, port: options.port, path: "/chat", maxPayload: 64 * 1024 }, (channel) =>
      Effect.gen(function*() {
        // Subscribed before the Welcome: a client that has it gets everything said after.
        const room = yield* hub.subscribe(ROOM, { bufferSize: options.outboxSize ?? 256, overflow: "dropOldest" })
        const replies = yield* Queue.sliding<ServerMessage>(16)
        here++
        yield* Effect.addFinalizer(() => Effect.suspend(() => (here--, Effect.andThen(recount, announce))))
        yield* Effect.andThen(recount, announce)
        yield* channel.send(encode({ _tag: "Welcome", server: name, online: yield* SubscriptionRef.get(online) }))
        yield* Stream.mergeAll([
          room,
          Stream.fromQueue(replies).pipe(Stream.map(encode)),
          // Settled counts only: a crowd joining at once is one update, not one per person.
          SubscriptionRef.changes(online).pipe(Stream.changes, Stream.debounce("100 millis"), Stream.map((count) => encode({ _tag: "Online", count })))
        ], { concurrency: 3 }).pipe(Stream.run(channel.write), Effect.ignore, Effect.forkScoped)
        yield* ByteChannel.framed(channel, decode).messages.pipe(
          Stream.runForEach((message) =>
            Effect.gen(function*() {
              if (message._tag === "Ping") {
                yield* Queue.offer(replies, { _tag: "Pong" })
                return
              }
              sockets.set(message.from, channel.socket)
              const at = yield* Clock.currentTimeMillis
              yield* hub.publish(ROOM, encode({ _tag: "Said", from: message.from, text: message.text, at }))
            })
          )
        )
      }))
    if (name === "") name = `${hostname()}:${server.port} (pid ${process.pid})`
    yield* Effect.forkScoped(Effect.repeat(Effect.andThen(announce, recount), Schedule.spaced(interval)))

    return {
      ...server,
      url: `http://${server.host}:${server.port}/`,
      name,
      clients: () => here,
      /** Drops the connection of whoever last spoke as `name`, without a close frame. */
      kick: (who: string): Effect.Effect<void> => Effect.suspend(() => sockets.get(who)?.terminate ?? Effect.void)
    }
  })
