/**
 * How local bytes become messages and received messages become local bytes, for each `--codec`
 * and for `--text`:
 *
 * - `raw`: each chunk read is one binary message; received bytes are written as they come.
 * - a codec (`lines`, `ndjson`, `length`, `varint`): the local bytes are cut into frames, each
 *   sent as one message; the received byte stream is cut into frames (a bad one closes the
 *   connection with 1007, or 1009 when it is over the bound) and each is written out whole.
 * - `text`: each local line is one text message; each received message is written followed by
 *   a newline.
 *
 * @internal
 */
import { ByteChannel, Codec, CodecError } from "@bytechannel/core"
import type { MessageSocket, SocketError } from "@bytechannel/core"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as constants from "./constants.js"

/** @internal */
export const CODECS = ["raw", "lines", "ndjson", "length", "varint"] as const

/** @internal */
export type CodecName = typeof CODECS[number]

/** @internal */
export interface Mode {
  readonly name: CodecName | "text"
  /** What the connection brings, as the bytes to write out (stdout, a process's stdin). */
  readonly incoming: (channel: ByteChannel.ByteChannel) => Stream.Stream<Uint8Array, ByteChannel.ReadError | CodecError.CodecError>
  /** Local bytes (stdin, a process's stdout) as the messages to send. */
  readonly outgoing: <E, R>(source: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<MessageSocket.Message, E | CodecError.CodecError, R>
  /** What the connection brings, as messages to pass on (echo, broadcast): whole messages, or whole frames. */
  readonly relay: (channel: ByteChannel.ByteChannel) => Stream.Stream<MessageSocket.Message, ByteChannel.ReadError | CodecError.CodecError>
  /** The codec, for `Reconnect.framed` (`raw` is `Codec.bytes`); absent for `text`, whose messages are not bytes. */
  readonly withCodec: (<R>(f: <A>(codec: Codec.Codec<A>) => R) => R) | undefined
}

const encoder = new TextEncoder()
const NEWLINE = 0x0a

/** Every message received, whole, in order; ends at the close (the channel's `closed` says how). */
export const messages = (socket: MessageSocket.MessageSocket): Stream.Stream<MessageSocket.Message, SocketError.SocketError> =>
  Stream.fromEffectRepeat(
    Effect.flatMap(socket.receive, Option.match({ onNone: () => Cause.done(), onSome: Effect.succeed }))
  )

/** A message followed by a newline, as bytes. */
const asLine = (message: MessageSocket.Message): Uint8Array => {
  const bytes = typeof message === "string" ? encoder.encode(message) : message
  const line = new Uint8Array(bytes.length + 1)
  line.set(bytes)
  line[bytes.length] = NEWLINE
  return line
}

/**
 * ndjson as a pipe carries it: each line checked as JSON, as `Codec.ndjson` checks it (a line that
 * does not parse is an `InvalidJson` DecodeError with its line number; blank lines are skipped),
 * and passed on as it came (but for `\r`s before its line break). Never parsed and written again,
 * which would change it: a number past 2^53, `1.0`, spacing and escapes would not come out as they
 * went in.
 */
const checkedJsonLines = (maxFrame: number | undefined): Codec.Codec<string> => {
  const lines = Codec.lines(maxFrame === undefined ? undefined : { maxLength: maxFrame })
  return {
    name: "ndjson",
    decoder: () => {
      const inner = lines.decoder()
      const cut: Array<string> = []
      let number = 0
      // After an error the decoder stays failed (Codec.Decoder's contract).
      let failure: CodecError.CodecError | undefined
      // The lines just cut, checked in order: the good ones before a bad one are still passed on.
      const check = (out: Array<string>): CodecError.DecodeError | undefined => {
        try {
          for (const line of cut) {
            number++
            if (line.trim().length === 0) continue
            try {
              JSON.parse(line)
            } catch (cause) {
              return new CodecError.DecodeError({ reason: "InvalidJson", frame: number, unit: "line", cause, detail: (cause as Error).message })
            }
            // A `\r` left before the line break (the lines decoder strips one) is JSON white space,
            // and one the lines encoder refuses: the line is passed on without it.
            out.push(line.endsWith("\r") ? line.replace(/\r+$/, "") : line)
          }
          return undefined
        } finally {
          cut.length = 0
        }
      }
      const step = (failed: CodecError.CodecError | undefined, out: Array<string>) =>
        (failure = check(out) ?? failed)
      return {
        decode: (chunk, out) => failure ?? step(inner.decode(chunk, cut), out),
        end: (out) => failure ?? step(inner.end(cut), out)
      }
    },
    encode: lines.encode
  }
}

/** The codec named by `--codec`, bounded by `--max-frame` when given. */
const codecWith = <R>(name: Exclude<CodecName, "raw">, maxFrame: number | undefined, f: <A>(codec: Codec.Codec<A>) => R): R => {
  switch (name) {
    case "lines":
      return f(Codec.lines(maxFrame === undefined ? undefined : { maxLength: maxFrame }))
    case "ndjson":
      return f(checkedJsonLines(maxFrame))
    case "length":
      return f(Codec.lengthDelimited(maxFrame === undefined ? undefined : { maxFrameLength: maxFrame }))
    case "varint":
      return f(Codec.varintDelimited(maxFrame === undefined ? undefined : { maxFrameLength: maxFrame }))
  }
}

const raw: Mode = {
  name: "raw",
  incoming: (channel) => channel.read,
  outgoing: (source) => source,
  relay: (channel) => messages(channel.socket),
  withCodec: (f) => f(Codec.bytes)
}

const text = (maxFrame: number | undefined): Mode => {
  const lines = Codec.lines(maxFrame === undefined ? undefined : { maxLength: maxFrame })
  return {
    name: "text",
    incoming: (channel) => Stream.map(messages(channel.socket), asLine),
    outgoing: (source) => Codec.decode(source, lines),
    relay: (channel) => messages(channel.socket),
    withCodec: undefined
  }
}

const framed = (name: Exclude<CodecName, "raw">, maxFrame: number | undefined): Mode =>
  codecWith(name, maxFrame, (codec) => ({
    name,
    // Through `ByteChannel.framed`, which closes with 1007 (1009 for a frame over the bound) on a bad frame.
    incoming: (channel) => Codec.encode(ByteChannel.framed(channel, codec).messages, codec),
    outgoing: (source) => Codec.encode(Codec.decode(source, codec), codec),
    relay: (channel) => Codec.encode(ByteChannel.framed(channel, codec).messages, codec),
    withCodec: (f) => f(codec)
  }))

/** The mode for `--codec` and `--text`. */
export const make = (options: {
  readonly codec: CodecName
  readonly text: boolean
  readonly maxFrame: number | undefined
}): Mode => options.text ? text(options.maxFrame) : options.codec === "raw" ? raw : framed(options.codec, options.maxFrame)

/**
 * Sends messages in order with backpressure: binary ones through the channel (split above
 * `maxMessageSize`, as the library does), text ones as text.
 */
export const sendAll = (
  channel: ByteChannel.ByteChannel,
  batch: ReadonlyArray<MessageSocket.Message>
): Effect.Effect<void, SocketError.SocketError> => {
  for (const message of batch) {
    if (typeof message !== "string" && message.length > constants.MAX_MESSAGE_SIZE) {
      return Effect.forEach(batch, (m) => (typeof m === "string" ? channel.socket.send(m) : channel.send(m)), { discard: true })
    }
  }
  return channel.socket.sendAll(batch)
}

/** Options of every channel the command line opens or serves. */
export const channelOptions = (onText: ByteChannel.TextPolicy): ByteChannel.ByteChannelOptions => ({
  text: onText,
  maxMessageSize: constants.MAX_MESSAGE_SIZE
})

/** The largest message accepted from the peer: room for a frame of `--max-frame` bytes. */
export const maxPayload = (maxFrame: number | undefined): number =>
  Math.max(constants.DEFAULT_MAX_PAYLOAD, (maxFrame ?? 0) + constants.FRAME_OVERHEAD)
