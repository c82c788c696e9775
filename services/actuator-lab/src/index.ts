export { ADMIN_TARGETS_PATH, LabAdminClient, LabAdminError } from "./lab-admin-client.ts";
export type { LabAdminClientOptions, LabAdminLogger, LabAnswer } from "./lab-admin-client.ts";
export { LabApplier, ROUTE_TABLE_KIND } from "./lab-applier.ts";
export type { LabApplierOptions } from "./lab-applier.ts";
