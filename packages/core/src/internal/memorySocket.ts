import * as Effect from "effect/Effect"
import type * as MemorySocket from "../MemorySocket.js"
import * as MessageSocket from "../MessageSocket.js"
import * as Transport from "../Transport.js"
import * as constants from "./constants.js"
import * as CloseCode from "../CloseCode.js"

interface Side {
  controller: Transport.Controller | undefined
  peer: Side | undefined
  closeFrameSent: boolean
  closeFrameReceived: boolean
  ignoreCloseFrames: boolean
  receivedClose: { code: number; reason: string } | undefined
}

const newSide = (): Side => ({
  controller: undefined,
  peer: undefined,
  closeFrameSent: false,
  closeFrameReceived: false,
  ignoreCloseFrames: false,
  receivedClose: undefined
})

const receiveCloseFrame = (side: Side, code: number, reason: string) => {
  if (side.ignoreCloseFrames || side.closeFrameReceived) return
  side.closeFrameReceived = true
  if (!side.closeFrameSent) {
    // Answer with the same code, as RFC 6455 §5.5.1 suggests and `ws` does.
    side.closeFrameSent = true
    receiveCloseFrame(side.peer!, code, reason)
  }
  side.controller!.onClose({ code, reason, wasClean: true })
}

const loseConnection = (side: Side) => {
  side.controller!.onClose({ code: CloseCode.Abnormal, reason: "", wasClean: false })
}

const makeTransport = (side: Side, options: MemorySocket.PairOptions | undefined): Transport.Transport => {
  const rechunk = options?.rechunk
  const protocol = options?.protocol ?? ""
  return {
    protocol: () => protocol,
    write: (message) => {
      const peer = side.peer!.controller!
      if (typeof message === "string") return peer.onMessage(message)
      // Copy, as a real socket would serialize: the sender may reuse its buffer once `send` returns.
      if (rechunk === undefined) return peer.onMessage(message.slice())
      for (const piece of rechunk(message)) peer.onMessage(piece.slice())
    },
    bufferedAmount: () => side.peer!.controller!.receiveQueueSize(),
    sendClose: (code, reason) => {
      if (side.closeFrameSent) return
      side.closeFrameSent = true
      receiveCloseFrame(side.peer!, code, reason)
    },
    terminate: () => {
      loseConnection(side)
      loseConnection(side.peer!)
    },
    pause: () => {},
    resume: () => side.peer!.controller!.onDrain()
  }
}

/** @internal */
export const makePair = (
  options?: MemorySocket.PairOptions
): Effect.Effect<readonly [MemorySocket.MemorySocket, MemorySocket.MemorySocket]> =>
  Effect.gen(function*() {
    const capacity = options?.capacity ?? constants.DEFAULT_MEMORY_CAPACITY
    if (!(capacity >= 1)) return yield* Effect.dieMessage(`MemorySocket: capacity must be at least 1, got ${capacity}`)
    const controllerOptions: Transport.TransportOptions = {
      // The receiver's queue is the sender's send buffer: the sender waits at `capacity`
      // messages and is woken by every take below it.
      receiveHighWaterMessages: capacity,
      receiveHighWaterBytes: Number.MAX_SAFE_INTEGER,
      receiveResumeRatio: (capacity - 1) / capacity,
      sendHighWaterMark: capacity,
      closeTimeout: options?.closeTimeout
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
    const toMemorySocket = (side: Side): MemorySocket.MemorySocket => ({
      ...side.controller!.socket,
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
    Effect.zipRight(MessageSocket.closeOnScopeClose(a), MessageSocket.closeOnScopeClose(b)))

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
