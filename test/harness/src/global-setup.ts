// Used as `node --test --test-global-setup=...`: one infrastructure lease for a whole test run of a package.
import { acquireInfra } from "./infra.ts";
import type { InfraLease } from "./infra.ts";

let lease: InfraLease | undefined;

export async function globalSetup(): Promise<void> {
  lease = await acquireInfra();
}

export async function globalTeardown(): Promise<void> {
  await lease?.release();
}
