// Runs the inference service in a child process for the fault tests (kill -9, SIGTERM, restart):
// argv[2] is JSON { model, cacheDir, graceMs, service: ServiceOptions }. Prints {"url": …} once
// listening; on SIGTERM/SIGINT drains (graceMs) and exits 0.
import { DepthAnything3, createInferenceService, serveInferenceService, untilStopSignal } from '@da3js/node';

const cfg = JSON.parse(process.argv[2]);
const model = await DepthAnything3.fromPretrained(cfg.model, { cacheDir: cfg.cacheDir });
const service = await createInferenceService(model, cfg.service);
const serving = await serveInferenceService(service, { port: 0 });
process.stdout.write(`${JSON.stringify({ url: serving.url })}\n`);
await untilStopSignal();
await serving.close(cfg.graceMs);
await model.dispose();
process.exit(0);
