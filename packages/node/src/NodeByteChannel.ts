/**
 * A Node `Duplex` over a `ByteChannel`, for code written against Node streams, with
 * backpressure both ways: reads pull one chunk when the stream asks, writes complete when the
 * channel accepted the bytes.
 *
 * @since 0.1.0
 */
import type { ByteChannel } from "@bytechannel/core"
import type * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { Duplex } from "node:stream"
import * as internal from "./internal/duplex.js"

/**
 * The channel as a Node `Duplex` whose reads, writes and close run with the caller's context
 * (`Effect.context`), so the caller's tracer (spans nest under the current one), logger,
 * services and references apply. Ending the writable side closes the channel with 1000;
 * destroying the stream with an error closes it with 1011.
 *
 * @example
 * ```ts
 * import { ByteChannel } from "@bytechannel/core"
 * import { NodeByteChannel, NodeConnector } from "@bytechannel/node"
 * import { Effect } from "effect"
 * import { createReadStream } from "node:fs"
 * import { pipeline } from "node:stream/promises"
 * import { createGzip } from "node:zlib"
 *
 * // A gzipped file through the channel with Node streams; the end of the pipeline closes it with 1000.
 * const upload = Effect.gen(function*() {
 *   const channel = yield* ByteChannel.connect("ws://127.0.0.1:8080/upload")
 *   const duplex = yield* NodeByteChannel.toDuplex(channel)
 *   yield* Effect.promise(() => pipeline(createReadStream("big.log"), createGzip(), duplex))
 * }).pipe(Effect.withSpan("upload"), Effect.scoped, Effect.provide(NodeConnector.layer))
 * ```
 *
 * @since 0.1.0
 * @category conversions
 */
export const toDuplex: (channel: ByteChannel.ByteChannel) => Effect.Effect<Duplex> = internal.toDuplex

/**
 * `toDuplex` with a given context, for code outside Effect (`Context.empty()`: the defaults)
 * or a context captured earlier (`Effect.context`). Effect 4 has no `Runtime` value: a context
 * is what an effect runs with.
 *
 * @example
 * ```ts
 * import { ByteChannel } from "@bytechannel/core"
 * import { NodeByteChannel } from "@bytechannel/node"
 * import { Context } from "effect"
 *
 * // From plain Node code: the operations run with the default services.
 * declare const channel: ByteChannel.ByteChannel
 * const duplex = NodeByteChannel.toDuplexWith(channel, Context.empty())
 * duplex.end("bye")
 * ```
 *
 * @since 0.1.0
 * @category conversions
 */
export const toDuplexWith: (channel: ByteChannel.ByteChannel, context: Context.Context<never>) => Duplex =
  internal.toDuplexWith
