import kafkajs from "kafkajs";
import { compressFrame, decompressFrame } from "lz4-napi";

let registered = false;

/**
 * kafkajs ships gzip only; other codecs are registered globally by the application. Kafka's LZ4 is the standard
 * LZ4 frame format, which lz4-napi (lz4_flex, prebuilt binaries from the npm registry) writes and reads.
 */
export function registerLz4Codec(): void {
  if (registered) return;
  registered = true;
  // A named import cannot reach CompressionCodecs: Node's CommonJS export detection misses it in kafkajs's index.
  kafkajs.CompressionCodecs[kafkajs.CompressionTypes.LZ4] = () => ({
    compress: (encoder: { buffer: Buffer }) => compressFrame(encoder.buffer),
    decompress: (buffer: Buffer) => decompressFrame(buffer),
  });
}
