/**
 * How a `replicas.count` applied to a service is spread over its versions: the current version mix is kept, in
 * proportion to the instances running (largest remainder; ties go to the older version), and every version running
 * keeps at least one instance while the count allows it, so a scale never silently ends a canary. With nothing
 * running, all instances are of the newest version in the topology.
 */
export function planReplicas(current: ReadonlyArray<{ version: string; count: number }>, target: number, newest: string): Map<string, number> {
  const running = current.filter((c) => c.count > 0);
  const total = running.reduce((sum, c) => sum + c.count, 0);
  const plan = new Map<string, number>(current.map((c) => [c.version, 0]));
  if (total === 0) {
    plan.set(newest, target);
    return plan;
  }
  const shares = running.map((c, i) => ({ version: c.version, order: i, exact: (target * c.count) / total }));
  for (const s of shares) plan.set(s.version, Math.floor(s.exact));
  let left = target - shares.reduce((sum, s) => sum + Math.floor(s.exact), 0);
  const byRemainder = [...shares].sort((a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)) || a.order - b.order);
  for (const s of byRemainder) {
    if (left <= 0) break;
    plan.set(s.version, plan.get(s.version)! + 1);
    left--;
  }
  if (target >= running.length) {
    for (const s of shares) {
      if (plan.get(s.version)! > 0) continue;
      // Take one from the version with the most instances.
      const donor = shares.reduce((best, o) => (plan.get(o.version)! > plan.get(best.version)! ? o : best));
      plan.set(donor.version, plan.get(donor.version)! - 1);
      plan.set(s.version, 1);
    }
  }
  return plan;
}
