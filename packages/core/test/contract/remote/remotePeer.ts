/**
 * A contract `Peer` that is a plain `ws` end in the peer host (host.ts, a Node process), driven
 * from the subject's runtime (a browser page, Bun, Deno) through a control connection (a plain
 * WHATWG `WebSocket`): binary frames are messages to send, JSON frames are commands; what the
 * peer receives comes back the same way.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import type { Peer, PeerClose } from "../suite.js"

type Received = Option.Option<string | Uint8Array>

type ControlEvent =
  | { readonly ev: "open" }
  | { readonly ev: "error"; readonly message: string }
  | { readonly ev: "ack" }
  | { readonly ev: "text"; readonly data: string }
  | { readonly ev: "close"; readonly code: number; readonly reason: string }
  | { readonly ev: "held"; readonly bytes: number }

let peers = 0

/** A peer driven over the control connection at `controlUrl`; `attached` completes once its connection is up. */
const controlled = (controlUrl: string): Effect.Effect<
  { readonly attached: Effect.Effect<void, Error>; readonly peer: Peer },
  Error,
  Scope.Scope
> =>
  Effect.gen(function*() {
    const inbox = yield* Queue.unbounded<Received>()
    const closed = yield* Deferred.make<PeerClose>()
    const attached = yield* Deferred.make<void, Error>()
    // Replies come in the order the commands went: one waiter per command that expects one.
    const replies: Array<(event: ControlEvent) => void> = []

    const control = yield* Effect.acquireRelease(
      Effect.callback<WebSocket, Error>((resume) => {
        const ws = new WebSocket(controlUrl)
        ws.binaryType = "arraybuffer"
        ws.onmessage = (event: MessageEvent) => {
          if (typeof event.data !== "string") return Queue.offerUnsafe(inbox, Option.some(new Uint8Array(event.data as ArrayBuffer)))
          const message = JSON.parse(event.data) as ControlEvent
          switch (message.ev) {
            case "open":
              return Deferred.doneUnsafe(attached, Exit.void)
            case "error":
              return Deferred.doneUnsafe(attached, Exit.fail(new Error(`the peer host could not connect: ${message.message}`)))
            case "text":
              return Queue.offerUnsafe(inbox, Option.some(message.data))
            case "close":
              Queue.offerUnsafe(inbox, Option.none())
              return Deferred.doneUnsafe(closed, Exit.succeed({ code: message.code, reason: message.reason }))
            case "ack":
            case "held":
              return replies.shift()?.(message)
          }
        }
        ws.onopen = () => resume(Effect.succeed(ws))
        ws.onerror = () => resume(Effect.fail(new Error("the contract control connection failed")))
      }),
      (ws) => Effect.sync(() => ws.close())
    )

    const command = (op: string, fields?: object) => Effect.sync(() => control.send(JSON.stringify({ op, ...fields })))
    const request = (op: string, fields?: object) =>
      Effect.callback<ControlEvent>((resume) => {
        replies.push((event) => resume(Effect.succeed(event)))
        control.send(JSON.stringify({ op, ...fields }))
      })
    const acknowledged = (op: string) => Effect.asVoid(request(op, { ack: true }))

    const peer: Peer = {
      send: (message) =>
        typeof message === "string" ? command("send", { text: message }) : Effect.sync(() => control.send(message)),
      flood: (count, size) =>
        Effect.as(request("flood", { count, size, ack: true }), {
          held: Effect.map(request("held"), (event) => (event.ev === "held" ? event.bytes : -1))
        }),
      // After the end, every later `receive` sees it too.
      receive: Effect.tap(Queue.take(inbox), (next) => (Option.isNone(next) ? Queue.offer(inbox, next) : Effect.void)),
      pause: acknowledged("pause"),
      resume: acknowledged("resume"),
      close: (code, reason) => command("close", { code, reason }),
      drop: command("drop"),
      hang: acknowledged("hang"),
      closed: Deferred.await(closed)
    }
    return { attached: Deferred.await(attached), peer }
  })

const nextId = () => `p${Date.now()}-${peers++}`

/**
 * A server-side peer: `url` is where the subject (a client) connects; `attached` completes once
 * the subject's connection reached the peer. Closed with the scope.
 */
export const remotePeer = (server: string): Effect.Effect<
  { readonly url: string; readonly attached: Effect.Effect<void, Error>; readonly peer: Peer },
  Error,
  Scope.Scope
> =>
  Effect.suspend(() => {
    const id = nextId()
    return Effect.map(controlled(`${server}/contract-control?peer=${id}`), (remote) => ({
      url: `${server}/contract-peer?peer=${id}`,
      ...remote
    }))
  })

/**
 * A client-side peer: the host connects a plain `ws` client to `url` (the subject is the server's
 * end), offering `protocols`; `attached` completes once it is open, or fails if it could not
 * connect. Closed with the scope.
 */
export const remoteClientPeer = (
  server: string,
  url: string,
  options?: { readonly protocols?: ReadonlyArray<string> | undefined }
): Effect.Effect<{ readonly attached: Effect.Effect<void, Error>; readonly peer: Peer }, Error, Scope.Scope> =>
  Effect.suspend(() => {
    const query = new URLSearchParams({ peer: nextId(), connect: url, protocols: (options?.protocols ?? []).join(",") })
    return controlled(`${server}/contract-control?${query}`)
  })
