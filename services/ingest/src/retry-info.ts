import { WireWriter } from "@meshloop/otlp";

const RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo";

/**
 * The `grpc-status-details-bin` trailer that tells an OTLP/gRPC exporter how long to wait:
 * google.rpc.Status { code = 1; message = 2; details = 3: Any { type_url = 1; value = 2: RetryInfo { retry_delay = 1:
 * Duration { seconds = 1; nanos = 2 } } } }. Exporters retry UNAVAILABLE anyway; RetryInfo sets the delay.
 */
export function retryInfoStatus(code: number, message: string, delayMs: number): Buffer {
  const duration = new WireWriter(16);
  const seconds = Math.floor(delayMs / 1000);
  const nanos = (delayMs % 1000) * 1_000_000;
  if (seconds > 0) {
    duration.tag(1, 0);
    duration.varint(seconds);
  }
  if (nanos > 0) {
    duration.tag(2, 0);
    duration.varint(nanos);
  }
  const retryInfo = new WireWriter(24);
  retryInfo.tag(1, 2);
  retryInfo.bytes(duration.finish());
  const any = new WireWriter(64);
  any.tag(1, 2);
  any.string(RETRY_INFO_TYPE);
  any.tag(2, 2);
  any.bytes(retryInfo.finish());
  const status = new WireWriter(96 + message.length * 3);
  status.tag(1, 0);
  status.varint(code);
  status.tag(2, 2);
  status.string(message);
  status.tag(3, 2);
  status.bytes(any.finish());
  return status.finish();
}
