/**
 * The chat server: NodeServer on /chat, NDJSON with a Schema, every message broadcast to every
 * client. Each client has a bounded outbox (the oldest messages are dropped for a client that
 * cannot keep up), so one slow client can neither stall nor bloat the others. Plain HTTP
 * requests get the page.
 */
import { ByteChannel, Codec } from "@bytechannel/core"
import type { MessageSocket } from "@bytechannel/core"
import { NodeServer } from "@bytechannel/node"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import { readFile } from "node:fs/promises"
import type * as Http from "node:http"
import { extname, join, normalize } from "node:path"
import { ClientMessage, maxLineLength, ServerMessage } from "./protocol.js"

export interface ChatServerOptions {
  readonly host?: string | undefined
  readonly port?: number | undefined
  /** The built page (index.html and its assets). */
  readonly pageDir: string
  /** Messages queued for one client before its oldest are dropped. Default 256. */
  readonly outboxSize?: number | undefined
}

const types: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" }

const servePage = (pageDir: string) => (request: Http.IncomingMessage, response: Http.ServerResponse) => {
  const path = new URL(request.url ?? "/", "http://x").pathname
  const file = normalize(join(pageDir, path === "/" ? "index.html" : path))
  if (!file.startsWith(normalize(pageDir))) {
    response.writeHead(403).end()
    return
  }
  readFile(file).then(
    (body) => response.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(body),
    () => response.writeHead(404, { "content-type": "text/plain" }).end("not found\n")
  )
}

export const serveChat = (options: ChatServerOptions) =>
  Effect.gen(function*() {
    const clients = new Set<Queue.Queue<ServerMessage>>()
    // Who said what last, by name: lets an operator (or a test) cut a client's connection.
    const sockets = new Map<string, MessageSocket.MessageSocket>()
    const encode = Codec.ndjson(ServerMessage, { maxLength: maxLineLength })
    const decode = Codec.ndjson(ClientMessage, { maxLength: maxLineLength })

    const server = yield* NodeServer.serve({
      host: options.host,
      port: options.port,
      path: "/chat",
      maxPayload: 64 * 1024,
      onRequest: servePage(options.pageDir)
    }, (channel) =>
      Effect.gen(function*() {
        const outbox = yield* Queue.sliding<ServerMessage>(options.outboxSize ?? 256)
        clients.add(outbox)
        yield* Effect.addFinalizer(() => Effect.sync(() => clients.delete(outbox)))
        yield* Stream.fromQueue(outbox).pipe(Codec.encode(encode), Stream.run(channel.write), Effect.ignore, Effect.forkScoped)
        yield* ByteChannel.framed(channel, decode).messages.pipe(
          Stream.runForEach((message) =>
            Effect.gen(function*() {
              if (message._tag === "Ping") {
                yield* Queue.offer(outbox, { _tag: "Pong" })
                return
              }
              sockets.set(message.from, channel.socket)
              const said: ServerMessage = { _tag: "Said", from: message.from, text: message.text, at: yield* Clock.currentTimeMillis }
              for (const client of clients) client.unsafeOffer(said)
            })
          )
        )
      }))

    return {
      ...server,
      url: `http://${server.host}:${server.port}/`,
      clients: () => clients.size,
      /** Drops the connection of whoever last spoke as `name`, without a close frame. */
      kick: (name: string): Effect.Effect<void> => Effect.suspend(() => sockets.get(name)?.terminate ?? Effect.void)
    }
  })
