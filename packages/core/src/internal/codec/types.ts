/**
 * The shape every codec implements: an incremental decoder over byte chunks and a one-frame
 * encoder.
 *
 * @since 0.1.0
 */
import type * as Either from "effect/Either"
import type { CodecError } from "../../CodecError.js"

/**
 * A stateful, incremental decoder. Plain TypeScript: no Effect per byte or per frame.
 *
 * @since 0.1.0
 * @category models
 */
export interface Decoder<A> {
  /**
   * Decodes what `chunk` completes and pushes the frames to `out`. Returns an error to stop;
   * after an error the decoder stays failed. Frames may be views into `chunk`; bytes kept
   * across calls are copied.
   */
  decode(chunk: Uint8Array, out: Array<A>): CodecError | undefined
  /** End of input: pushes a final frame (a tail line) or reports a truncated frame. */
  end(out: Array<A>): CodecError | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Codec<A> {
  /** A short name for diagnostics: `lines`, `lengthDelimited`, `ndjson`, ... */
  readonly name: string
  /** A fresh decoder, one per stream. */
  readonly decoder: () => Decoder<A>
  /** One value as the bytes of one frame (prefix and payload together). */
  readonly encode: (value: A) => Either.Either<Uint8Array, CodecError>
}
