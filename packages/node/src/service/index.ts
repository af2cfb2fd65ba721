/** The inference service of `da3 backend` and apps/gpu-worker (job protocol v1). */
export { type InferenceService, type SubmitResult, createInferenceService } from './service.js';
export { type ServiceOptions, hostAllowed } from './options.js';
export { type ServiceModel, contentTypeOf } from './runner.js';
export { type ServeOptions, type ServingService, serveInferenceService, untilStopSignal } from './serve.js';
export { createServiceApp } from './app.js';
