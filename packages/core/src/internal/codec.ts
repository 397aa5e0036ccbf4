/**
 * The Effect shell around the plain codec loops of `internal/codec/*`: it turns their plain
 * failures into the public `CodecError`s, a `PlainCodec` into the public `Codec` (and back), a
 * `Schema` into the plain checks of the JSON codecs, and decoders into `Stream` combinators.
 *
 * @internal
 */
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Pull from "effect/Pull"
import * as Result from "effect/Result"
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
      return isFailure(frame) ? Result.fail(toError(frame)) : Result.succeed(frame)
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
      return Result.isFailure(encoded) ? fromError(encoded.failure) : encoded.success
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
export const json = <A, I>(schema: Schema.Codec<A, I>, options?: Codec.JsonOptions): Codec.Codec<A> =>
  fromPlain(jsonCodec.json(valueSchema(schema), options?.framing === undefined ? undefined : toPlain(options.framing)))

/** @internal */
export const ndjson = <A, I>(schema: Schema.Codec<A, I>, options?: Codec.NdjsonOptions): Codec.Codec<A> =>
  fromPlain(jsonCodec.ndjson(valueSchema(schema), options))

/** @internal */
export const bytes: Codec.Codec<Uint8Array> = fromPlain(bytesCodec.bytes)

// ---------------------------------------------------------------------------------------------
// Stream combinators: a pull around the plain loops, as effect's own `Stream.splitLines` and
// `Ndjson.decode` are written

/**
 * The pull of `decoder` over the byte arrays of `upstream`: each array is decoded in one plain
 * loop; the frames before a failure are emitted, then the failure; at the end of upstream, the
 * decoder's `end` (a tail line, or a truncated frame).
 */
const decodePull = <A, E>(
  decoder: PlainDecoder<A>,
  upstream: Pull.Pull<Arr.NonEmptyReadonlyArray<Uint8Array>, E, void>
): Pull.Pull<Arr.NonEmptyReadonlyArray<A>, E | CodecError, void> => {
  let failure: CodecError | undefined
  let ended = false
  /** The frames of one step, or its failure when there are none (then it comes next pull). */
  const emit = (out: Array<A>, failed: Failure | undefined) => {
    if (failed !== undefined) failure = toError(failed)
    if (out.length > 0) return Effect.succeed(out as unknown as Arr.NonEmptyReadonlyArray<A>)
    return failure === undefined ? undefined : Effect.fail(failure)
  }
  const pull: Pull.Pull<Arr.NonEmptyReadonlyArray<A>, E | CodecError, void> = Effect.suspend(() => {
    if (failure !== undefined) return Effect.fail(failure)
    if (ended) return Cause.done()
    return Pull.matchEffect(upstream, {
      onSuccess: (chunks) => {
        const out: Array<A> = []
        let failed: Failure | undefined
        for (let i = 0; i < chunks.length && failed === undefined; i++) failed = decoder.decode(chunks[i]!, out)
        return emit(out, failed) ?? pull
      },
      onFailure: Effect.failCause,
      onDone: (): Pull.Pull<Arr.NonEmptyReadonlyArray<A>, CodecError, void> => {
        ended = true
        const out: Array<A> = []
        return emit(out, decoder.end(out)) ?? Cause.done()
      }
    })
  })
  return pull
}

/** The pull of `encode` over the values of `upstream`: the frames before a refused value, then its error. */
const encodePull = <A, E>(
  encode: PlainCodec<A>["encode"],
  upstream: Pull.Pull<Arr.NonEmptyReadonlyArray<A>, E, void>
): Pull.Pull<Arr.NonEmptyReadonlyArray<Uint8Array>, E | CodecError, void> => {
  let failure: CodecError | undefined
  const step = (values: Arr.NonEmptyReadonlyArray<A>) => {
    const out: Array<Uint8Array> = []
    for (let i = 0; i < values.length; i++) {
      const frame = encode(values[i]!)
      if (isFailure(frame)) {
        failure = toError(frame)
        break
      }
      out.push(frame)
    }
    return out.length > 0 ? Effect.succeed(out as unknown as Arr.NonEmptyReadonlyArray<Uint8Array>) : Effect.fail(failure!)
  }
  return Effect.suspend(() => (failure !== undefined ? Effect.fail(failure) : Effect.flatMap(upstream, step)))
}

/** @internal */
export const decode = dual(
  2,
  <A, E, R>(self: Stream.Stream<Uint8Array, E, R>, codec: Codec.Codec<A>): Stream.Stream<A, E | CodecError, R> =>
    Stream.transformPull(self, (upstream) => Effect.sync(() => decodePull(toPlain(codec).decoder(), upstream)))
)

/** @internal */
export const encode = dual(
  2,
  <A, E, R>(self: Stream.Stream<A, E, R>, codec: Codec.Codec<A>): Stream.Stream<Uint8Array, E | CodecError, R> =>
    Stream.transformPull(self, (upstream) => Effect.sync(() => encodePull(toPlain(codec).encode, upstream)))
)

/** @internal */
export const decodeAll = <A>(codec: Codec.Codec<A>, chunks: Iterable<Uint8Array>): Result.Result<Array<A>, CodecError> => {
  const decoder = toPlain(codec).decoder()
  const out: Array<A> = []
  for (const chunk of chunks) {
    const failure = decoder.decode(chunk, out)
    if (failure) return Result.fail(toError(failure))
  }
  const failure = decoder.end(out)
  return failure ? Result.fail(toError(failure)) : Result.succeed(out)
}
