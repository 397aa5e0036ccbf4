import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Stream from "effect/Stream"
import type { CodecError } from "../CodecError.js"
import type { Codec } from "./codec/types.js"

const emit = <A>(out: Array<A>) => (out.length > 0 ? Channel.write(Chunk.unsafeFromArray(out)) : Channel.void)

/** @internal */
export const decoderChannel = <A, E>(codec: Codec<A>) =>
  Channel.suspend(() => {
    const decoder = codec.decoder()
    const loop: Channel.Channel<Chunk.Chunk<A>, Chunk.Chunk<Uint8Array>, E | CodecError, E, unknown, unknown> = Channel
      .readWithCause({
        onInput: (input: Chunk.Chunk<Uint8Array>) => {
          const out: Array<A> = []
          let error: CodecError | undefined
          for (const bytes of input) {
            error = decoder.decode(bytes, out)
            if (error) break
          }
          return error ? Channel.zipRight(emit(out), Channel.fail(error)) : Channel.zipRight(emit(out), loop)
        },
        onFailure: Channel.failCause,
        onDone: () => {
          const out: Array<A> = []
          const error = decoder.end(out)
          return error ? Channel.zipRight(emit(out), Channel.fail(error)) : emit(out)
        }
      })
    return loop
  })

/** @internal */
export const decode = dual(
  2,
  <A, E, R>(self: Stream.Stream<Uint8Array, E, R>, codec: Codec<A>): Stream.Stream<A, E | CodecError, R> =>
    Stream.pipeThroughChannelOrFail(self, decoderChannel<A, E>(codec))
)

/** @internal */
export const encode = dual(
  2,
  <A, E, R>(self: Stream.Stream<A, E, R>, codec: Codec<A>): Stream.Stream<Uint8Array, E | CodecError, R> =>
    Stream.mapChunksEffect(self, (chunk) => {
      const out: Array<Uint8Array> = []
      for (const value of chunk) {
        const encoded = codec.encode(value)
        if (Either.isLeft(encoded)) return Either.left(encoded.left)
        out.push(encoded.right)
      }
      return Either.right(Chunk.unsafeFromArray(out))
    })
)

/** @internal */
export const decodeAll = <A>(codec: Codec<A>, chunks: Iterable<Uint8Array>): Either.Either<Array<A>, CodecError> => {
  const decoder = codec.decoder()
  const out: Array<A> = []
  for (const chunk of chunks) {
    const error = decoder.decode(chunk, out)
    if (error) return Either.left(error)
  }
  const error = decoder.end(out)
  return error ? Either.left(error) : Either.right(out)
}
