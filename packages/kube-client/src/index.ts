export { APPLY_CONTENT_TYPE, KubeClient } from "./client.ts";
export type { KubeObjectLike, Scale, WriteOptions } from "./client.ts";
export { ConflictError, errorFromResponse, FieldManagerConflictError, KubeApiError, NotFoundError } from "./errors.ts";
export type { KubeErrorContext, StatusCause } from "./errors.ts";
export { groupVersionPath, knownResource, resourcePath } from "./resources.ts";
export type { ResourceInfo, ResourceRef, TypeRef } from "./resources.ts";
export { createSend, inClusterOptions, tokenSource } from "./transport.ts";
export type { HttpResponse, KubeClientOptions, Send } from "./transport.ts";
