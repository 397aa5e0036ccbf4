import * as Effect from "effect/Effect"
import type * as MemorySocket from "../MemorySocket.js"
import type * as MessageSocket from "../MessageSocket.js"
import { closeOnScopeClose } from "./close.js"
import * as Transport from "../Transport.js"
import * as constants from "./constants.js"
import { TypeId } from "./socketView.js"
import * as CloseCode from "../CloseCode.js"

// What travels from one side to the other, in order: messages, then perhaps a close frame.
type Frame = MessageSocket.Message | { readonly code: number; readonly reason: string }

interface Side {
  controller: Transport.Controller | undefined
  peer: Side | undefined
  closeFrameSent: boolean
  closeFrameReceived: boolean
  ignoreCloseFrames: boolean
  // A real pause, as a socket's: while this side is paused, what the peer sends waits in flight
  // (the peer's send buffer), close frame included, and is delivered in order on resume.
  paused: boolean
  inFlight: Array<Frame>
  lost: boolean
}

const newSide = (): Side => ({
  controller: undefined,
  peer: undefined,
  closeFrameSent: false,
  closeFrameReceived: false,
  ignoreCloseFrames: false,
  paused: false,
  inFlight: [],
  lost: false
})

const receiveCloseFrame = (side: Side, code: number, reason: string) => {
  if (side.ignoreCloseFrames || side.closeFrameReceived) return
  side.closeFrameReceived = true
  if (!side.closeFrameSent) {
    // Answer with the same code, as RFC 6455 §5.5.1 suggests and `ws` does.
    side.closeFrameSent = true
    deliver(side.peer!, { code, reason })
  }
  side.controller!.onClose({ code, reason, wasClean: true })
}

// Hands `frame` to `side`, or holds it in flight while `side` is paused (or frames wait before it).
const deliver = (side: Side, frame: Frame) => {
  if (side.lost) return
  if (side.paused || side.inFlight.length > 0) {
    side.inFlight.push(frame)
    return
  }
  receiveFrame(side, frame)
}

const receiveFrame = (side: Side, frame: Frame) => {
  if (typeof frame === "string" || frame instanceof Uint8Array) side.controller!.onMessage(frame)
  else receiveCloseFrame(side, frame.code, frame.reason)
}

// `side` resumed: what waited in flight is delivered in order until it pauses again.
const flush = (side: Side) => {
  let delivered = 0
  while (!side.paused && !side.lost && delivered < side.inFlight.length) {
    receiveFrame(side, side.inFlight[delivered++]!)
  }
  side.inFlight.splice(0, delivered)
}

const loseConnection = (side: Side) => {
  side.lost = true
  side.inFlight = []
  side.controller!.onClose({ code: CloseCode.Abnormal, reason: "", wasClean: false })
}

const makeTransport = (side: Side, options: MemorySocket.PairOptions | undefined): Transport.Transport => {
  const rechunk = options?.rechunk
  const protocol = options?.protocol ?? ""
  return {
    protocol: () => protocol,
    write: (message) => {
      const peer = side.peer!
      if (typeof message === "string") return deliver(peer, message)
      // Copy, as a real socket would serialize: the sender may reuse its buffer once `send` returns.
      if (rechunk === undefined) return deliver(peer, message.slice())
      for (const piece of rechunk(message)) deliver(peer, piece.slice())
    },
    // The receiver's queue and what waits in flight for it: the sender's send buffer.
    bufferedAmount: () => side.peer!.controller!.receiveQueueSize() + side.peer!.inFlight.length,
    sendClose: (code, reason) => {
      if (side.closeFrameSent) return
      side.closeFrameSent = true
      deliver(side.peer!, { code, reason })
    },
    terminate: () => {
      loseConnection(side)
      loseConnection(side.peer!)
    },
    pause: () => {
      side.paused = true
    },
    resume: () => {
      side.paused = false
      flush(side)
      side.peer!.controller!.onDrain()
    }
  }
}

const membersOf = (socket: MessageSocket.MessageSocket): MessageSocket.MessageSocket => ({
  [TypeId]: TypeId,
  get protocol() {
    return socket.protocol
  },
  receive: socket.receive,
  send: socket.send,
  sendAll: socket.sendAll,
  close: socket.close,
  closeWithProtocolCode: socket.closeWithProtocolCode,
  terminate: socket.terminate,
  closed: socket.closed,
  events: socket.events
})

/** @internal */
export const makePair = (
  options?: MemorySocket.PairOptions
): Effect.Effect<readonly [MemorySocket.MemorySocket, MemorySocket.MemorySocket]> =>
  Effect.gen(function*() {
    const capacity = options?.capacity ?? constants.DEFAULT_MEMORY_CAPACITY
    if (!(capacity >= 1)) return yield* Effect.die(new RangeError(`MemorySocket: capacity must be at least 1, got ${capacity}`))
    const controllerOptions: Transport.TransportOptions = {
      // The receiver's queue is the sender's send buffer: the sender waits at `capacity`
      // messages and is woken by every take below it.
      receiveHighWaterMessages: capacity,
      receiveHighWaterBytes: Number.MAX_SAFE_INTEGER,
      receiveResumeRatio: (capacity - 1) / capacity,
      sendHighWaterMark: capacity,
      closeTimeout: options?.closeTimeout,
      sendStallTimeout: options?.sendStallTimeout
    }
    const a = newSide()
    const b = newSide()
    a.peer = b
    b.peer = a
    for (const side of [a, b]) {
      yield* Transport.make((controller) => {
        side.controller = controller
        return makeTransport(side, options)
      }, controllerOptions)
    }
    // Every member copied (the socket's members live on its prototype, made on first use).
    const toMemorySocket = (side: Side): MemorySocket.MemorySocket => ({
      ...membersOf(side.controller!.socket),
      drop: Effect.sync(() => {
        loseConnection(side)
        loseConnection(side.peer!)
      }),
      ignoreCloseFrames: Effect.sync(() => {
        side.ignoreCloseFrames = true
      })
    })
    return [toMemorySocket(a), toMemorySocket(b)] as const
  })

/** @internal */
export const pair = (options?: MemorySocket.PairOptions) =>
  Effect.tap(makePair(options), ([a, b]) =>
    Effect.andThen(closeOnScopeClose(a), closeOnScopeClose(b)))

/** @internal */
export const randomRechunk = (options: { readonly maxChunkSize: number; readonly seed?: number | undefined }) => {
  const maxChunkSize = Math.max(1, Math.floor(options.maxChunkSize))
  // mulberry32: small, fast and reproducible; quality is ample for picking split points.
  let state = (options.seed ?? 0x9e3779b9) >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return (bytes: Uint8Array): ReadonlyArray<Uint8Array> => {
    if (bytes.length === 0) return [bytes]
    const pieces: Array<Uint8Array> = []
    let offset = 0
    while (offset < bytes.length) {
      const size = 1 + Math.floor(next() * maxChunkSize)
      pieces.push(bytes.subarray(offset, Math.min(bytes.length, offset + size)))
      offset += size
    }
    return pieces
  }
}
