import type { WireReader } from "./wire-reader.ts";

/**
 * The resource attributes meshloop reads (OpenTelemetry semantic conventions): who the service is, which instance,
 * and where it runs. Read once per resource, never per span, so plain strings are fine here.
 */
export interface ResourceInfo {
  /** Whether a `service.name` attribute is present at all (of any value type). */
  hasServiceName: boolean;
  serviceName: string | undefined;
  serviceNamespace: string | undefined;
  serviceVersion: string | undefined;
  serviceInstanceId: string | undefined;
  k8sPodName: string | undefined;
  k8sNamespaceName: string | undefined;
  k8sClusterName: string | undefined;
  hostName: string | undefined;
  cloudRegion: string | undefined;
  cloudAvailabilityZone: string | undefined;
  /** `deployment.environment.name`, or the older `deployment.environment`. */
  deploymentEnvironment: string | undefined;
  processExecutableName: string | undefined;
}

type StringKey = Exclude<keyof ResourceInfo, "hasServiceName">;

const KEYS: ReadonlyMap<string, StringKey> = new Map<string, StringKey>([
  ["service.name", "serviceName"],
  ["service.namespace", "serviceNamespace"],
  ["service.version", "serviceVersion"],
  ["service.instance.id", "serviceInstanceId"],
  ["k8s.pod.name", "k8sPodName"],
  ["k8s.namespace.name", "k8sNamespaceName"],
  ["k8s.cluster.name", "k8sClusterName"],
  ["host.name", "hostName"],
  ["cloud.region", "cloudRegion"],
  ["cloud.availability_zone", "cloudAvailabilityZone"],
  ["deployment.environment.name", "deploymentEnvironment"],
  ["deployment.environment", "deploymentEnvironment"],
  ["process.executable.name", "processExecutableName"],
]);

/** The value the OTel spec prescribes for a resource without `service.name`. */
export const UNKNOWN_SERVICE = "unknown_service";

export function emptyResourceInfo(): ResourceInfo {
  return {
    hasServiceName: false,
    serviceName: undefined,
    serviceNamespace: undefined,
    serviceVersion: undefined,
    serviceInstanceId: undefined,
    k8sPodName: undefined,
    k8sNamespaceName: undefined,
    k8sClusterName: undefined,
    hostName: undefined,
    cloudRegion: undefined,
    cloudAvailabilityZone: undefined,
    deploymentEnvironment: undefined,
    processExecutableName: undefined,
  };
}

/** Records one attribute if it is one of ours; a non-string value counts only as the presence of `service.name`. */
export function noteResourceAttribute(info: ResourceInfo, key: string, value: string | undefined): void {
  const field = KEYS.get(key);
  if (field === undefined) return;
  if (field === "serviceName") info.hasServiceName = true;
  // The newer deployment.environment.name wins over the deprecated key whichever comes first.
  if (field === "deploymentEnvironment" && key === "deployment.environment" && info.deploymentEnvironment !== undefined) {
    return;
  }
  if (value !== undefined) info[field] = value;
}

/**
 * Reads the attributes of interest from a Resource message: the reader is positioned at its body with `limit` at
 * its end. Several Resource fields in one parent merge in protobuf, so callers may call this once per occurrence.
 */
export function readResourceInfo(r: WireReader, info: ResourceInfo): void {
  while (r.more()) {
    const tag = r.tag();
    if (tag !== 0x0a) {
      r.skip(tag);
      continue;
    }
    const outer = r.enter(r.length());
    let keyStart = -1;
    let keyEnd = -1;
    let value: string | undefined;
    while (r.more()) {
      const kvTag = r.tag();
      if (kvTag === 0x0a) {
        keyStart = r.skipBytes();
        keyEnd = r.pos;
      } else if (kvTag === 0x12) {
        const anyOuter = r.enter(r.length());
        value = readStringValue(r);
        r.leave(anyOuter);
      } else {
        r.skip(kvTag);
      }
    }
    if (keyStart >= 0) noteResourceAttribute(info, r.buf.toString("utf8", keyStart, keyEnd), value);
    r.leave(outer);
  }
}

/** The string_value of an AnyValue body, or undefined when it holds another type. */
function readStringValue(r: WireReader): string | undefined {
  let value: string | undefined;
  while (r.more()) {
    const tag = r.tag();
    if (tag === 0x0a) {
      const start = r.skipBytes();
      value = r.buf.toString("utf8", start, r.pos);
    } else {
      r.skip(tag);
      // Another variant after a string: protobuf's last-one-wins for oneofs.
      if (tag >>> 3 <= 7) value = undefined;
    }
  }
  return value;
}

/**
 * The service name to report for a resource: its own, or `unknown_service:<process.executable.name>` /
 * `unknown_service` as the OTel resource semantic conventions prescribe when it has none.
 */
export function effectiveServiceName(info: ResourceInfo, fallback: string = UNKNOWN_SERVICE): string {
  if (info.serviceName !== undefined && info.serviceName !== "") return info.serviceName;
  return info.processExecutableName ? `${fallback}:${info.processExecutableName}` : fallback;
}
