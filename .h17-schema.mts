import { parseConfig } from './src/config/load.ts';
const base = 'environments: {}\n';
for (const extra of ['', 'temporal: { address: "x:1", profile: prod }\n', 'temporal: { adress: x }\n', 'worker: { maxCachedWorkflows: 1 }\n', 'worker: { maxCachedWorkflows: 4, maxConcurrentWorkflowTaskExecutions: 8 }\n', 'worker: { maxCachedWorkflows: "a", maxConcurrentWorkflowTaskExecutions: 8 }\n','temporal: { address: "http://x:1" }\n']) {
  try { const c = parseConfig(base + extra, '/tmp/x.yaml'); console.log(JSON.stringify(c.temporal), JSON.stringify(c.worker)); } catch (e) { console.log((e as Error).message); }
}
