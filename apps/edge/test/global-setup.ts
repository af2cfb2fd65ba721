/**
 * Node side of the edge tests: two real GPU workers (the inference service of @da3js/node with the
 * tiny fixture model) on loopback, their callbacks signed with a secret the edge knows, and the
 * fixture images the tests submit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWebhookSecret } from '@da3js/core/protocol';
import { DepthAnything3, type ServingService, createInferenceService, serveInferenceService } from '@da3js/node';
import sharp from 'sharp';
import type { TestProject } from 'vitest/node';
import { FIXTURES, loadTensors } from '../../../test-utils/fixtures.js';

export default async function setup(project: TestProject) {
  const work = mkdtempSync(join(tmpdir(), 'da3js-edge-'));
  const workerWebhookSecret = generateWebhookSecret();
  const model = await DepthAnything3.fromPretrained(join(FIXTURES, 'tiny'), { cacheDir: join(work, 'cache') });
  const servings: ServingService[] = [];
  const backends = [];
  for (let i = 0; i < 2; i++) {
    const token = `gpu-token-${i}-0123456789abcdef`;
    const service = await createInferenceService(model, { token, stateDir: join(work, `state${i}`), webhookSecret: workerWebhookSecret, maxQueue: 64 });
    const serving = await serveInferenceService(service, { port: 0 });
    servings.push(serving);
    backends.push({ type: 'da3-worker', name: `gpu${i}`, url: serving.url, token });
  }
  const inputs = await loadTensors('tiny/multi/inputs.safetensors');
  const [S, H, W] = inputs.image_u8.shape;
  const pngs = await Promise.all(
    Array.from({ length: S }, async (_, s) =>
      (await sharp(Buffer.from((inputs.image_u8.data as Uint8Array).subarray(s * H * W * 3, (s + 1) * H * W * 3)), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer()).toString('base64'),
    ),
  );
  // A user's webhook receiver: records deliveries; GET /deliveries returns them (the tests run in workerd).
  const deliveries: { headers: Record<string, string>; body: string }[] = [];
  const receiver = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(deliveries));
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      deliveries.push({ headers: req.headers as Record<string, string>, body });
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
  project.provide('receiverUrl', `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`);
  project.provide('backends', backends);
  project.provide('webhookSecret', generateWebhookSecret());
  project.provide('workerWebhookSecret', workerWebhookSecret);
  project.provide('fixturePngs', pngs);
  return async () => {
    receiver.closeAllConnections();
    receiver.close();
    for (const s of servings) await s.close(1000);
    await model.dispose();
    rmSync(work, { recursive: true, force: true });
  };
}
