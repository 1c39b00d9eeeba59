/**
 * Connections to Temporal, from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS and API-key
 * settings) or the local dev stack. Used by the CLI and the worker; never by workflow code.
 */
import { readFile } from 'node:fs/promises';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporalSettings, type TemporalSettings } from './env';

async function tlsOptions(settings: TemporalSettings): Promise<ConnectionOptions['tls']> {
  if (!settings.tls) return undefined;
  const { certPath, keyPath, serverName, serverRootCaPath } = settings.tls;
  return {
    ...(certPath && keyPath
      ? { clientCertPair: { crt: await readFile(certPath), key: await readFile(keyPath) } }
      : {}),
    ...(serverName ? { serverNameOverride: serverName } : {}),
    ...(serverRootCaPath ? { serverRootCACertificate: await readFile(serverRootCaPath) } : {}),
  };
}

export async function connectClient(settings: TemporalSettings = temporalSettings()): Promise<Client> {
  const connection = await Connection.connect({
    address: settings.address,
    tls: (await tlsOptions(settings)) ?? (settings.apiKey ? true : undefined),
    apiKey: settings.apiKey,
    connectTimeout: '10 seconds',
  });
  return new Client({ connection, namespace: settings.namespace });
}

export async function connectNative(
  settings: TemporalSettings = temporalSettings(),
): Promise<NativeConnection> {
  const tls = await tlsOptions(settings);
  return NativeConnection.connect({
    address: settings.address,
    tls: tls ?? (settings.apiKey ? true : undefined),
    apiKey: settings.apiKey,
  });
}

/** Link to a workflow in the Temporal Web UI, when the UI address is known. */
export function workflowUiLink(
  settings: TemporalSettings,
  workflowId: string,
  runId?: string,
): string | undefined {
  if (!settings.uiUrl) return undefined;
  const base = `${settings.uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
