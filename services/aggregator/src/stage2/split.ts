import type { ResourceGauges, WindowAggregate } from "@meshloop/contracts";
import { aggregateId } from "@meshloop/contracts";
import type { SeriesLists } from "../series/series-set.ts";
import { emptySpanCounts } from "../series/series-set.ts";

export type AggregateHead = Pick<WindowAggregate, "service" | "target" | "windowStartMs" | "windowMs" | "completeness">;

type Item =
  | { list: "series"; value: WindowAggregate["series"][number] }
  | { list: "routes"; value: WindowAggregate["routes"][number] }
  | { list: "inbound" | "outbound"; value: WindowAggregate["inbound"][number] }
  | { list: "resources"; value: ResourceGauges };

/**
 * One window's aggregate as records of at most `maxBytes` of JSON each. Parts share the head (service, target,
 * window, completeness) and split the lists between them in order; the span counts are in part 0 only (zeros in
 * the others), so that summing over all records stays exact. One series larger than the limit on its own (which
 * the bounded sketch prevents in practice) still gets a part of its own rather than being dropped.
 */
export function splitAggregate(
  head: AggregateHead,
  lists: SeriesLists,
  resources: ResourceGauges[],
  maxBytes: number,
): WindowAggregate[] {
  const whole = build(head, lists, resources, 0, 1, true);
  if (jsonBytes(whole) <= maxBytes) return [whole];

  const items: Item[] = [
    ...lists.series.map((value) => ({ list: "series", value }) as const),
    ...lists.routes.map((value) => ({ list: "routes", value }) as const),
    ...lists.inbound.map((value) => ({ list: "inbound", value }) as const),
    ...lists.outbound.map((value) => ({ list: "outbound", value }) as const),
    ...resources.map((value) => ({ list: "resources", value }) as const),
  ];
  // The empty frame with the longest id the split could produce, and the span counts of part 0.
  const frame = build(head, emptyLists(lists), [], 999_999, 1_000_000, true);
  const budget = maxBytes - jsonBytes(frame);
  const groups: Item[][] = [];
  let current: Item[] = [];
  let used = 0;
  for (const item of items) {
    const size = jsonBytes(item.value) + 1; // and a comma
    if (current.length > 0 && used + size > budget) {
      groups.push(current);
      current = [];
      used = 0;
    }
    current.push(item);
    used += size;
  }
  if (current.length > 0) groups.push(current);

  return groups.map((group, index) => {
    const part: SeriesLists = emptyLists(lists);
    const partResources: ResourceGauges[] = [];
    for (const item of group) {
      if (item.list === "resources") partResources.push(item.value);
      else if (item.list === "series") part.series.push(item.value);
      else if (item.list === "routes") part.routes.push(item.value);
      else part[item.list].push(item.value);
    }
    return build(head, part, partResources, index, groups.length, index === 0);
  });
}

function emptyLists(lists: SeriesLists): SeriesLists {
  return { series: [], routes: [], inbound: [], outbound: [], spans: { ...lists.spans } };
}

function build(
  head: AggregateHead,
  lists: SeriesLists,
  resources: ResourceGauges[],
  index: number,
  count: number,
  withSpans: boolean,
): WindowAggregate {
  return {
    id: aggregateId(head.service, head.windowStartMs, head.windowMs, index, count),
    service: head.service,
    target: head.target,
    windowStartMs: head.windowStartMs,
    windowMs: head.windowMs,
    series: lists.series,
    routes: lists.routes,
    inbound: lists.inbound,
    outbound: lists.outbound,
    spans: withSpans ? lists.spans : emptySpanCounts(),
    resources,
    completeness: head.completeness,
    part: { index, count },
  };
}

export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), "utf8");
}
