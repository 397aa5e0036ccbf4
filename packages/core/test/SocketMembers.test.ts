// The engine's socket and controller, and a ByteChannel over them, hand out members made on first
// use (issue #23: an idle connection holds only what it used). Seen from outside: a member read
// twice is the same value, and a method taken off its object (detached) still works.
import * as ByteChannel from "@bytechannel/core/ByteChannel"
import type * as MessageSocket from "@bytechannel/core/MessageSocket"
import * as Transport from "@bytechannel/core/Transport"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

const wired = Effect.gen(function*() {
  const written: Array<MessageSocket.Message> = []
  const controller = yield* Transport.make((controller) => ({
    write: (message) => {
      written.push(message)
    },
    bufferedAmount: () => 0,
    sendClose: (code, reason) => controller.onClose({ code, reason, wasClean: true }),
    terminate: () => controller.onClose({ code: 1006, reason: "", wasClean: false }),
    pause: () => {},
    resume: () => {}
  }))
  return { controller, socket: controller.socket, written }
})

describe("socket members", () => {
  it.effect("each member of a socket read twice is the same value", () =>
    Effect.gen(function*() {
      const { socket } = yield* wired
      for (const key of ["receive", "send", "sendAll", "close", "closeWithProtocolCode", "terminate", "closed", "events"] as const) {
        expect(socket[key], key).toBe(socket[key])
      }
    }))

  it.effect("socket methods and controller callbacks work detached", () =>
    Effect.gen(function*() {
      const { controller, socket, written } = yield* wired
      const { onMessage, onDrain, emit } = controller
      const { close, receive, send, sendAll } = socket
      onMessage("in")
      onDrain()
      emit({ _tag: "Pong", data: new Uint8Array(0) })
      expect(yield* receive).toEqual(Option.some("in"))
      yield* send("a")
      yield* sendAll(["b", "c"])
      expect(written).toEqual(["a", "b", "c"])
      const { onClose } = controller
      const { closed } = socket
      onClose({ code: 1001, reason: "bye", wasClean: true })
      expect(yield* closed).toMatchObject({ code: 1001, reason: "bye", local: false })
      expect(yield* close()).toMatchObject({ code: 1001 })
    }))

  it.effect("each member of a byte channel read twice is the same value, and its methods work detached", () =>
    Effect.gen(function*() {
      const { controller, socket, written } = yield* wired
      const channel = ByteChannel.fromSocket(socket)
      for (const key of ["read", "readChunk", "write", "send", "close", "closed", "events", "socket"] as const) {
        expect(channel[key], key).toBe(channel[key])
      }
      const { send, readChunk } = channel
      controller.onMessage(new Uint8Array([1, 2, 3]))
      expect(yield* readChunk(2)).toEqual(Option.some(new Uint8Array([1, 2])))
      expect(yield* readChunk()).toEqual(Option.some(new Uint8Array([3])))
      yield* send(new Uint8Array([9]))
      expect(written).toEqual([new Uint8Array([9])])
    }))

  it.effect("a bounded read kept from before another bound was asked keeps its own bound, with or without a leftover", () =>
    Effect.gen(function*() {
      const { controller, socket } = yield* wired
      const channel = ByteChannel.fromSocket(socket)
      const readTwo = channel.readChunk(2)
      expect(channel.readChunk(2)).toBe(readTwo) // the same bound again: the same read
      const readFour = channel.readChunk(4)
      controller.onMessage(new Uint8Array([1, 2, 3, 4, 5, 6, 7]))
      expect(yield* readTwo).toEqual(Option.some(new Uint8Array([1, 2])))
      expect(yield* readFour).toEqual(Option.some(new Uint8Array([3, 4, 5, 6])))
      expect(yield* readTwo).toEqual(Option.some(new Uint8Array([7])))
      controller.onMessage(new Uint8Array([8, 9, 10]))
      expect(yield* readTwo).toEqual(Option.some(new Uint8Array([8, 9])))
      expect(yield* readFour).toEqual(Option.some(new Uint8Array([10])))
    }))
})
