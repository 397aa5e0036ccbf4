/**
 * The Effect shell around the plain codec loops of `internal/codec/*`: it turns their plain
 * failures into the public `CodecError`s, a `PlainCodec` into the public `Codec` (and back), a
 * `Schema` into the plain checks of the JSON codecs, and decoders into `Stream` combinators.
 *
 * @internal
 */
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Codec from "../Codec.js"
import { DecodeError, EncodeError, FrameTooLarge } from "../CodecError.js"
import type { CodecError } from "../CodecError.js"
import * as bytesCodec from "./codec/bytes.js"
import * as jsonCodec from "./codec/json.js"
import * as lengthDelimitedCodec from "./codec/lengthDelimited.js"
import * as linesCodec from "./codec/lines.js"
import { isFailure } from "./codec/types.js"
import type { Failure, PlainCodec, PlainDecoder } from "./codec/types.js"
import * as varintCodec from "./codec/varintDelimited.js"
import { valueSchema } from "./codecSchema.js"

// ---------------------------------------------------------------------------------------------
// Failures and errors

/** The public error for a plain failure. @internal */
export const toError = (failure: Failure): CodecError => {
  if (failure.error !== undefined) return failure.error as CodecError
  switch (failure._tag) {
    case "FrameTooLarge":
      return new FrameTooLarge(failure.fields)
    case "DecodeError":
      return new DecodeError(failure.fields)
    case "EncodeError":
      return new EncodeError(failure.fields)
  }
}

/** A public error as a plain failure, for a codec written against the public interface. */
const fromError = (error: CodecError): Failure => ({ _tag: error._tag, fields: error, error }) as Failure

// ---------------------------------------------------------------------------------------------
// Plain codecs and public codecs

const PlainId = Symbol.for("@bytechannel/core/Codec/plain")

interface WithPlain<A> extends Codec.Codec<A> {
  readonly [PlainId]: PlainCodec<A>
}

/**
 * The public face of a plain decoder. A decoder stays failed after a failure and answers the
 * same failure again: the same error object again, too.
 */
class PublicDecoder<A> implements Codec.Decoder<A> {
  private failure: Failure | undefined
  private error: CodecError | undefined

  constructor(private readonly plain: PlainDecoder<A>) {}

  /** Bytes held across chunks, for the bounds tests. @internal */
  get retained(): number | undefined {
    return this.plain.retained
  }

  private errorOf(failure: Failure): CodecError {
    if (failure !== this.failure) {
      this.failure = failure
      this.error = toError(failure)
    }
    return this.error!
  }

  decode(chunk: Uint8Array, out: Array<A>): CodecError | undefined {
    const failure = this.plain.decode(chunk, out)
    return failure === undefined ? undefined : this.errorOf(failure)
  }

  end(out: Array<A>): CodecError | undefined {
    const failure = this.plain.end(out)
    return failure === undefined ? undefined : this.errorOf(failure)
  }
}

/** The public codec of plain loops. @internal */
export const fromPlain = <A>(plain: PlainCodec<A>): Codec.Codec<A> => {
  const codec: WithPlain<A> = {
    [PlainId]: plain,
    name: plain.name,
    decoder: () => new PublicDecoder(plain.decoder()),
    encode: (value) => {
      const frame = plain.encode(value)
      return isFailure(frame) ? Either.left(toError(frame)) : Either.right(frame)
    }
  }
  return codec
}

/** A public codec as plain loops: its own, or an adapter for a codec written against the interface. @internal */
export const toPlain = <A>(codec: Codec.Codec<A>): PlainCodec<A> => {
  const plain = (codec as Partial<WithPlain<A>>)[PlainId]
  if (plain !== undefined) return plain
  return {
    name: codec.name,
    decoder: () => {
      const decoder = codec.decoder()
      return {
        decode: (chunk, out) => {
          const error = decoder.decode(chunk, out)
          return error === undefined ? undefined : fromError(error)
        },
        end: (out) => {
          const error = decoder.end(out)
          return error === undefined ? undefined : fromError(error)
        },
        get retained() {
          return (decoder as { readonly retained?: number }).retained
        }
      }
    },
    encode: (value) => {
      const encoded = codec.encode(value)
      return Either.isLeft(encoded) ? fromError(encoded.left) : encoded.right
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Constructors

/** @internal */
export const lines = (options?: Codec.LinesOptions): Codec.Codec<string> => fromPlain(linesCodec.lines(options))

/** @internal */
export const lengthDelimited = (options?: Codec.LengthDelimitedOptions): Codec.Codec<Uint8Array> =>
  fromPlain(lengthDelimitedCodec.lengthDelimited(options))

/** @internal */
export const varintDelimited = (options?: Codec.VarintDelimitedOptions): Codec.Codec<Uint8Array> =>
  fromPlain(varintCodec.varintDelimited(options))

/** @internal */
export const json = <A, I>(schema: Schema.Schema<A, I, never>, options?: Codec.JsonOptions): Codec.Codec<A> =>
  fromPlain(jsonCodec.json(valueSchema(schema), options?.framing === undefined ? undefined : toPlain(options.framing)))

/** @internal */
export const ndjson = <A, I>(schema: Schema.Schema<A, I, never>, options?: Codec.NdjsonOptions): Codec.Codec<A> =>
  fromPlain(jsonCodec.ndjson(valueSchema(schema), options))

/** @internal */
export const bytes: Codec.Codec<Uint8Array> = fromPlain(bytesCodec.bytes)

// ---------------------------------------------------------------------------------------------
// Stream combinators

const emit = <A>(out: Array<A>) => (out.length > 0 ? Channel.write(Chunk.unsafeFromArray(out)) : Channel.void)

/** @internal */
export const decoderChannel = <A, E>(codec: Codec.Codec<A>) =>
  Channel.suspend(() => {
    const decoder = toPlain(codec).decoder()
    const loop: Channel.Channel<Chunk.Chunk<A>, Chunk.Chunk<Uint8Array>, E | CodecError, E, unknown, unknown> = Channel
      .readWithCause({
        onInput: (input: Chunk.Chunk<Uint8Array>) => {
          const out: Array<A> = []
          let failure: Failure | undefined
          for (const bytes of input) {
            failure = decoder.decode(bytes, out)
            if (failure) break
          }
          return failure ? Channel.zipRight(emit(out), Channel.fail(toError(failure))) : Channel.zipRight(emit(out), loop)
        },
        onFailure: Channel.failCause,
        onDone: () => {
          const out: Array<A> = []
          const failure = decoder.end(out)
          return failure ? Channel.zipRight(emit(out), Channel.fail(toError(failure))) : emit(out)
        }
      })
    return loop
  })

/** @internal */
export const decode = dual(
  2,
  <A, E, R>(self: Stream.Stream<Uint8Array, E, R>, codec: Codec.Codec<A>): Stream.Stream<A, E | CodecError, R> =>
    Stream.pipeThroughChannelOrFail(self, decoderChannel<A, E>(codec))
)

/** @internal */
export const encode = dual(
  2,
  <A, E, R>(self: Stream.Stream<A, E, R>, codec: Codec.Codec<A>): Stream.Stream<Uint8Array, E | CodecError, R> => {
    const plain = toPlain(codec)
    return Stream.mapChunksEffect(self, (chunk) => {
      const out: Array<Uint8Array> = []
      for (const value of chunk) {
        const frame = plain.encode(value)
        if (isFailure(frame)) return Either.left(toError(frame))
        out.push(frame)
      }
      return Either.right(Chunk.unsafeFromArray(out))
    })
  }
)

/** @internal */
export const decodeAll = <A>(codec: Codec.Codec<A>, chunks: Iterable<Uint8Array>): Either.Either<Array<A>, CodecError> => {
  const decoder = toPlain(codec).decoder()
  const out: Array<A> = []
  for (const chunk of chunks) {
    const failure = decoder.decode(chunk, out)
    if (failure) return Either.left(toError(failure))
  }
  const failure = decoder.end(out)
  return failure ? Either.left(toError(failure)) : Either.right(out)
}
