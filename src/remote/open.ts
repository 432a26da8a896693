import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { valueError } from '../project/config.js';
import type { Project } from '../project/project.js';
import { booleanValue, findRemote, jobsValue, parseRemoteUrl, readRemotes, remoteUrl, type RemoteConfig } from './config.js';
import { FolderRemoteStore } from './local.js';
import type { S3RemoteStore } from './s3.js';
import type { RemoteStore } from './store.js';

/** DVC's default: four transfers per core (they mostly wait on the network). */
export const defaultJobs = () => 4 * availableParallelism();

/** An open remote: its name, settings and store. */
export interface OpenRemote {
  readonly name: string;
  readonly config: RemoteConfig;
  readonly store: RemoteStore;
  readonly jobs: number;
}

/** Opens the remote `name` (or the default one) by its URL's scheme; `jobs` overrides the remote's. */
export async function openRemote(project: Project, name?: string, jobs?: number): Promise<OpenRemote> {
  const config = findRemote(project, name);
  const url = remoteUrl(config);
  const n = jobs ?? jobsValue(config) ?? defaultJobs();
  const store = url.scheme === 'local' ? new FolderRemoteStore(url.path) : await s3Store(config, url, n);
  return { name: config.name, config, store, jobs: n };
}

/** The S3 store of `url` with the remote's settings (DVC's keys); none: the SDK's defaults (AWS_* variables, ~/.aws). */
async function s3Store(config: RemoteConfig | undefined, url: { bucket: string; prefix: string }, jobs: number): Promise<S3RemoteStore> {
  const value = (key: string) => config?.values.get(key)?.value;
  const endpoint = config?.values.get('endpointurl');
  if (endpoint && !/^https?:\/\/[^/:]+(:\d+)?(\/.*)?$/.test(endpoint.value)) throw valueError(endpoint, `'${endpoint.value}' is not an http(s)://host[:port] URL`);
  const { S3RemoteStore } = await import('./s3.js');
  return new S3RemoteStore({
    bucket: url.bucket,
    prefix: url.prefix,
    endpointurl: value('endpointurl'),
    region: value('region'),
    profile: value('profile'),
    accessKeyId: value('access_key_id'),
    secretAccessKey: value('secret_access_key'),
    sessionToken: value('session_token'),
    useSsl: config && booleanValue(config, 'use_ssl'),
    sslVerify: config && booleanValue(config, 'ssl_verify'),
    jobs,
  });
}

/**
 * An S3 location outside the remotes (a database store's artifact root, `s3://bucket/prefix`), reached
 * with the settings of the remote on the same bucket (endpointurl, credentials...; the one whose
 * prefix is the longest that contains this one, else any on the bucket), or the SDK's defaults.
 */
export async function openS3Location(project: Pick<Project, 'root' | 'isDvcRepo'>, url: { bucket: string; prefix: string }): Promise<S3RemoteStore> {
  let best: { config: RemoteConfig; score: number } | undefined;
  for (const config of readRemotes(project).remotes.values()) {
    const raw = config.values.get('url');
    if (!raw) continue;
    const theirs = parseRemoteUrl(raw.value, dirname(raw.path));
    if (typeof theirs === 'string' || theirs.scheme !== 's3' || theirs.bucket !== url.bucket) continue;
    const score = url.prefix.startsWith(theirs.prefix) ? theirs.prefix.length + 1 : 0;
    if (!best || score > best.score) best = { config, score };
  }
  return s3Store(best?.config, url, defaultJobs());
}
