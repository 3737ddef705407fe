/**
 * The deployment's health checks (worker/healthcheck.ts): which pollers count as this host's
 * worker, and the webhook check against a real HTTP server answering 200, 503 or nothing.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { checkWebhooks, HealthCheckError, pollersOfHost } from '../../worker/healthcheck.js';
import { parseConfig } from '../../worker/config.js';

const REPOS = { demo: { url: 'https://github.com/acme/demo.git', github: 'acme/demo', testCommand: 'npm test', budget: { minutes: 5, tokens: 100_000, usd: 1 } } };
const GATEWAY = { prices: { 'claude-sonnet-4-5': { input: 3, output: 15 } } };

describe('pollersOfHost', () => {
  const now = 1_000_000;
  test('a poller <pid>@<host> seen within the window counts; other hosts, stale pollers and look-alike names do not', () => {
    const pollers = [
      { identity: '1@host-a', lastAccessMs: now - 5_000 },
      { identity: '7@host-b', lastAccessMs: now - 1_000 },
      { identity: '9@host-a', lastAccessMs: now - 300_000 },
      { identity: '3@xhost-a', lastAccessMs: now },
    ];
    assert.deepEqual(pollersOfHost(pollers, 'host-a', now, 120_000).map((p) => p.identity), ['1@host-a']);
    assert.deepEqual(pollersOfHost(pollers, 'host-c', now, 120_000), []);
  });
});

describe('checkWebhooks', () => {
  async function serve(status: number): Promise<Server> {
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? status : 404;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }
  const configOn = (port: number, host = '0.0.0.0') => parseConfig({ http: { port, host }, gateway: GATEWAY, repos: REPOS });

  test('200 on /healthz is healthy (a wildcard http.host is checked on 127.0.0.1)', async () => {
    const server = await serve(200);
    try {
      await checkWebhooks(configOn((server.address() as AddressInfo).port));
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  test('another status, or nothing listening, is WEBHOOKS_UNHEALTHY', async () => {
    const server = await serve(503);
    const port = (server.address() as AddressInfo).port;
    try {
      await assert.rejects(checkWebhooks(configOn(port, '127.0.0.1')), (e: unknown) => e instanceof HealthCheckError && e.code === 'WEBHOOKS_UNHEALTHY' && e.details.status === 503);
    } finally {
      await new Promise((r) => server.close(r));
    }
    await assert.rejects(checkWebhooks(configOn(port)), (e: unknown) => e instanceof HealthCheckError && e.code === 'WEBHOOKS_UNHEALTHY' && e.cause instanceof Error);
  });
});
