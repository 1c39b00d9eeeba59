/**
 * The object store: any S3 (AWS, MinIO, versitygw, Ceph). Data files go through local scratch files;
 * only keys and small JSON documents cross the activity boundary.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  DeleteObjectsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3Settings, type S3Settings } from './env';
import { classifyWriteFailure } from './storageRefusal';

export interface StoredObject {
  key: string;
  size: number;
  etag: string;
}

export interface PutResult extends StoredObject {
  sha256: string;
}

/** Attempts per S3 request, first included (S3_MAX_ATTEMPTS overrides). */
export const S3_DEFAULT_MAX_ATTEMPTS = 5;

/** Above this size, uploads go multipart (parallel parts, resumable by the SDK). */
const MULTIPART_THRESHOLD = 32 * 1024 * 1024;

export class ObjectStore {
  readonly client: S3Client;

  constructor(
    readonly settings: S3Settings,
    client?: S3Client,
  ) {
    this.client =
      client ??
      new S3Client({
        endpoint: settings.endpoint,
        region: settings.region,
        forcePathStyle: settings.forcePathStyle,
        credentials: settings.credentials,
        // The SDK's default CRC32 on every PutObject is not understood by every S3-compatible server.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        // Two layers of retries, on purpose. The SDK rides out a blip (a 503 SlowDown, a reset connection)
        // within one request: a few attempts with jittered backoff ("standard" mode, whose retry quota stops
        // it from hammering a server that is down). Anything longer (S3 down for minutes) fails the request
        // and the stage attempt, and Temporal retries the stage with capped backoff for hours
        // (lib/stageRegistry.ts), which does not hold a worker slot while it waits.
        maxAttempts: settings.maxAttempts ?? S3_DEFAULT_MAX_ATTEMPTS,
        retryMode: 'standard',
        requestHandler: {
          // A refused or unanswered connect fails fast; a server that stops sending mid-body is noticed
          // before the activity's heartbeat timeout.
          connectionTimeout: 5_000,
          requestTimeout: 60_000,
        },
      });
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): ObjectStore {
    return new ObjectStore(s3Settings(env));
  }

  get bucket(): string {
    return this.settings.bucket;
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  keyFromUri(uri: string): string {
    const prefix = `s3://${this.bucket}/`;
    if (!uri.startsWith(prefix)) throw new Error(`${uri} is not in bucket ${this.bucket}`);
    return uri.slice(prefix.length);
  }

  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    }
  }

  /**
   * Whether the bucket answers a HEAD within a few seconds: tells storage that refuses writes (it answers)
   * from storage that is down (lib/storageRefusal.ts).
   */
  async bucketAnswers(): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), {
        abortSignal: AbortSignal.timeout(5_000),
      });
      return true;
    } catch {
      return false;
    }
  }

  /** A write whose server error, while the bucket answers reads, becomes StorageRefusesWritesError. */
  private async write<T>(key: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw await classifyWriteFailure(error, this.uri(key), () => this.bucketAnswers());
    }
  }

  async putFile(key: string, path: string, contentType = 'application/octet-stream'): Promise<PutResult> {
    return this.write(key, () => this.putFileOnce(key, path, contentType));
  }

  private async putFileOnce(key: string, path: string, contentType: string): Promise<PutResult> {
    const [{ size }, sha256] = await Promise.all([stat(path), sha256File(path)]);
    let etag: string | undefined;
    if (size > MULTIPART_THRESHOLD) {
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: createReadStream(path), ContentType: contentType },
        queueSize: 4,
        partSize: 16 * 1024 * 1024,
      });
      const result = await upload.done();
      etag = result.ETag;
    } else {
      const body = await readFile(path);
      const result = await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
      );
      etag = result.ETag;
    }
    return { key, size, etag: stripQuotes(etag), sha256 };
  }

  async putBytes(
    key: string,
    body: Uint8Array | string,
    contentType = 'application/octet-stream',
  ): Promise<PutResult> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const result = await this.write(key, () =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentType: contentType }),
      ),
    );
    return {
      key,
      size: bytes.byteLength,
      etag: stripQuotes(result.ETag),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
  }

  async putJson(key: string, value: unknown): Promise<PutResult> {
    return this.putBytes(key, JSON.stringify(value, null, 2) + '\n', 'application/json');
  }

  async getToFile(key: string, path: string): Promise<void> {
    const result = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    await mkdir(dirname(path), { recursive: true });
    await pipeline(result.Body as Readable, createWriteStream(path));
  }

  async getBytes(key: string): Promise<Uint8Array> {
    const result = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!result.Body) throw new Error(`empty body for ${this.uri(key)}`);
    return result.Body.transformToByteArray();
  }

  async getJson<T>(key: string): Promise<T> {
    const bytes = await this.getBytes(key);
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
  }

  /** The JSON document at key, or undefined when there is none. */
  async tryGetJson<T>(key: string): Promise<T | undefined> {
    try {
      return await this.getJson<T>(key);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const result = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: result.ContentLength ?? 0, etag: stripQuotes(result.ETag) };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Every object under prefix, sorted by key. */
  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const item of page.Contents ?? []) {
        if (item.Key) out.push({ key: item.Key, size: item.Size ?? 0, etag: stripQuotes(item.ETag) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** The immediate "folders" under prefix (which must end with '/'). */
  async listPrefixes(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          Delimiter: '/',
          ContinuationToken: token,
        }),
      );
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  async deletePrefix(prefix: string): Promise<number> {
    const objects = await this.list(prefix);
    for (let i = 0; i < objects.length; i += 1000) {
      const batch = objects.slice(i, i + 1000);
      await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((o) => ({ Key: o.key })), Quiet: true },
        }),
      );
    }
    return objects.length;
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export function isNotFound(error: unknown): boolean {
  if (error instanceof S3ServiceException) {
    return error.$metadata.httpStatusCode === 404 || error.name === 'NoSuchKey' || error.name === 'NotFound';
  }
  return false;
}

const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const TRANSIENT_S3_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);
const TRANSIENT_MESSAGES =
  /socket hang up|premature close|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|other side closed|network socket disconnected/i;

/**
 * A failure of the infrastructure rather than of the data or the code: S3 or the network down or slow,
 * S3 answering 5xx or throttling. Worth retrying for a long time; the same request will work later.
 * Looks through `cause` chains (stream errors wrap the socket error).
 */
export function isTransientInfrastructureError(error: unknown, depth = 0): boolean {
  if (depth > 5 || error === null || typeof error !== 'object') return false;
  const e = error as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  const status = e.$metadata?.httpStatusCode;
  if (status === 429 || (status !== undefined && status >= 500 && status <= 599)) return true;
  if (e.$retryable) return true;
  if (typeof e.code === 'string' && TRANSIENT_NETWORK_CODES.has(e.code)) return true;
  if (typeof e.name === 'string' && (TRANSIENT_S3_CODES.has(e.name) || TRANSIENT_NETWORK_CODES.has(e.name)))
    return true;
  if (typeof e.message === 'string' && TRANSIENT_MESSAGES.test(e.message)) return true;
  if (
    error instanceof AggregateError &&
    error.errors.some((x) => isTransientInfrastructureError(x, depth + 1))
  )
    return true;
  return isTransientInfrastructureError(e.cause, depth + 1);
}

function stripQuotes(etag: string | undefined): string {
  return (etag ?? '').replaceAll('"', '');
}

/** Run fn over items with at most `concurrency` in flight; results in input order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  });
  await Promise.all(workers);
  return results;
}
