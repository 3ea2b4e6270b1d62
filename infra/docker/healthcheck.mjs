#!/usr/bin/env node
// Container health check for ai-monitor (used by the Dockerfile's HEALTHCHECK and the
// docker-compose healthchecks). Slim images have no curl, so this uses Node itself.
//
//   GET http://127.0.0.1:8765/health  -> exit 0 on HTTP 200 with {"status":"healthy"}, else 1
//
// The address follows the same environment as the server:
//   AI_MONITOR_PORT                       port (default 8765)
//   AI_MONITOR_HOST                       used when it names one address (not 0.0.0.0 / ::)
//   AI_MONITOR_TLS_CERT                   set -> https (the certificate is not verified here:
//                                         it is the server's own, reached over loopback)
//   AI_MONITOR_HEALTHCHECK_URL            overrides everything above
//   AI_MONITOR_HEALTHCHECK_TIMEOUT_MS     default 4000
// Note: when AI_MONITOR_ALLOWED_IPS is set, include 127.0.0.1 (and ::1) in it, or the
// server refuses this check.
import { request as httpsRequest } from 'node:https';

const TIMEOUT_MS = Number(process.env.AI_MONITOR_HEALTHCHECK_TIMEOUT_MS) || 4000;

function healthUrl() {
  if (process.env.AI_MONITOR_HEALTHCHECK_URL) return process.env.AI_MONITOR_HEALTHCHECK_URL;
  const port = process.env.AI_MONITOR_PORT || '8765';
  const configured = (process.env.AI_MONITOR_HOST || '').trim();
  const wildcard = ['', '0.0.0.0', '::', '[::]', '*'].includes(configured);
  let host = wildcard ? '127.0.0.1' : configured;
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  const scheme = process.env.AI_MONITOR_TLS_CERT ? 'https' : 'http';
  return `${scheme}://${host}:${port}/health`;
}

function verdict(status, body) {
  let parsed;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const healthy = status === 200 && (parsed === undefined || parsed.status === 'healthy');
  const line = `health ${status} ${body.slice(0, 300).replace(/\s+/g, ' ')}`;
  if (healthy) {
    console.log(line);
    process.exit(0);
  }
  console.error(line);
  process.exit(1);
}

function fail(err) {
  console.error(`health check failed: ${err && err.message ? err.message : err}`);
  process.exit(1);
}

const url = healthUrl();

if (url.startsWith('https:')) {
  // fetch() cannot skip certificate verification without extra packages; node:https can.
  const req = httpsRequest(url, { method: 'GET', rejectUnauthorized: false, timeout: TIMEOUT_MS }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => (body += chunk));
    res.on('end', () => verdict(res.statusCode ?? 0, body));
  });
  req.on('timeout', () => req.destroy(new Error(`timed out after ${TIMEOUT_MS} ms`)));
  req.on('error', fail);
  req.end();
} else {
  fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) })
    .then(async (res) => verdict(res.status, await res.text()))
    .catch(fail);
}
