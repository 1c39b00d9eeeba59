/**
 * The Kubernetes examples of infra/README.md ("A fleet on Kubernetes") parse as YAML without errors, hold
 * the objects the README describes, agree with each other (the autoscalers target the worker Deployment,
 * scale on custflow's task queue) and set only environment variables the worker reads.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}

function load(name: string): K8sObject[] {
  const text = readFileSync(new URL(`../../../infra/kubernetes/${name}`, import.meta.url), 'utf8');
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) throw new Error(`${name}: not a YAML stream`);
  for (const document of documents) {
    expect(
      document.errors.map((e) => e.message),
      name,
    ).toEqual([]);
    expect(
      document.warnings.map((e) => e.message),
      name,
    ).toEqual([]);
  }
  return documents.map((d) => d.toJS() as K8sObject);
}

/** Environment variables the worker and the libraries it loads read (lib/env.ts, workers/). */
function variablesTheWorkerReads(): Set<string> {
  const names = new Set<string>(['TMPDIR']);
  for (const file of [
    'lib/env.ts',
    'lib/objectStore.ts',
    'workers/worker.ts',
    'workers/metrics.ts',
    'workers/hygiene.ts',
  ]) {
    const text = readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');
    for (const match of text.matchAll(/\b(?:env\.|env\[')([A-Z][A-Z0-9_]+)/g)) names.add(match[1]);
    for (const match of text.matchAll(/'((?:CUSTFLOW|TEMPORAL|S3|AWS)_[A-Z0-9_]+)'/g)) names.add(match[1]);
  }
  return names;
}

describe('Kubernetes examples', () => {
  const workers = load('workers.yaml');
  const hpa = load('workers-hpa.yaml');

  it('deploy workers with the variables the worker reads and memory for their slots', () => {
    expect(workers.map((o) => o.kind)).toEqual(['Deployment', 'TriggerAuthentication', 'ScaledObject']);
    const deployment = workers[0];
    expect(deployment.apiVersion).toBe('apps/v1');
    const template = deployment.spec.template as {
      spec: {
        containers: {
          env: { name: string; value?: string }[];
          resources: { limits: { memory: string } };
        }[];
      };
    };
    const [container] = template.spec.containers;
    const known = variablesTheWorkerReads();
    expect(known.has('TEMPORAL_ADDRESS')).toBe(true);
    for (const { name } of container.env) expect(known.has(name), `${name} is read by the worker`).toBe(true);
    // Slots x slot budget + the 1 GiB reserve must fit the container's limit, or the worker plans fewer.
    const value = (name: string) => Number(container.env.find((e) => e.name === name)?.value);
    const limitMiB = Number(container.resources.limits.memory.replace(/Gi$/, '')) * 1024;
    expect(value('CUSTFLOW_ACTIVITY_SLOTS') * value('CUSTFLOW_SLOT_MEMORY_MB') + 1024).toBeLessThanOrEqual(
      limitMiB,
    );
  });

  it('scale the worker Deployment on the backlog of custflow task queue', () => {
    const scaled = workers[2];
    expect(scaled.apiVersion).toBe('keda.sh/v1alpha1');
    expect((scaled.spec.scaleTargetRef as { name: string }).name).toBe(workers[0].metadata.name);
    const [trigger] = scaled.spec.triggers as {
      type: string;
      metadata: Record<string, string>;
      authenticationRef: { name: string };
    }[];
    expect(trigger.type).toBe('temporal');
    expect(trigger.metadata.taskQueue).toBe('custflow');
    expect(Number(trigger.metadata.targetQueueSize)).toBeGreaterThan(0);
    // KEDA reads metadata values as strings.
    for (const [key, v] of Object.entries(trigger.metadata)) expect(typeof v, key).toBe('string');
    expect(trigger.authenticationRef.name).toBe(workers[1].metadata.name);

    expect(hpa.map((o) => o.kind)).toEqual(['HorizontalPodAutoscaler']);
    expect(hpa[0].apiVersion).toBe('autoscaling/v2');
    expect((hpa[0].spec.scaleTargetRef as { name: string }).name).toBe(workers[0].metadata.name);
    const [metric] = hpa[0].spec.metrics as {
      type: string;
      external: { metric: { selector: { matchLabels: Record<string, string> } } };
    }[];
    expect(metric.type).toBe('External');
    expect(metric.external.metric.selector.matchLabels.taskqueue).toBe('custflow');
  });
});
