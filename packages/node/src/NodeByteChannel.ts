/**
 * A Node `Duplex` over a `ByteChannel`, for code written against Node streams, with
 * backpressure both ways: reads pull one chunk when the stream asks, writes complete when the
 * channel accepted the bytes.
 *
 * @since 0.1.0
 */
import type { ByteChannel } from "@bytechannel/core"
import type * as Effect from "effect/Effect"
import type * as Runtime from "effect/Runtime"
import type { Duplex } from "node:stream"
import * as internal from "./internal/duplex.js"

/**
 * The channel as a Node `Duplex` whose reads, writes and close run on the caller's runtime
 * (`Effect.runtime`), so the caller's tracer (spans nest under the current one), logger,
 * services and FiberRefs apply. Ending the writable side closes the channel with 1000;
 * destroying the stream with an error closes it with 1011.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toDuplex: (channel: ByteChannel.ByteChannel) => Effect.Effect<Duplex> = internal.toDuplex

/**
 * `toDuplex` on a given runtime, for code outside Effect (`Runtime.defaultRuntime`) or a
 * runtime captured earlier.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toDuplexWith: (channel: ByteChannel.ByteChannel, runtime: Runtime.Runtime<never>) => Duplex = internal.toDuplexWith
