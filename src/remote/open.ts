import { availableParallelism } from 'node:os';
import { valueError } from '../project/config.js';
import type { Project } from '../project/project.js';
import { booleanValue, findRemote, jobsValue, remoteUrl, type RemoteConfig } from './config.js';
import { FolderRemoteStore } from './local.js';
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
  const value = (key: string) => config.values.get(key)?.value;
  let store: RemoteStore;
  if (url.scheme === 'local') store = new FolderRemoteStore(url.path);
  else {
    const endpoint = config.values.get('endpointurl');
    if (endpoint && !/^https?:\/\/[^/:]+(:\d+)?(\/.*)?$/.test(endpoint.value)) throw valueError(endpoint, `'${endpoint.value}' is not an http(s)://host[:port] URL`);
    const { S3RemoteStore } = await import('./s3.js');
    store = new S3RemoteStore({
      bucket: url.bucket,
      prefix: url.prefix,
      endpointurl: value('endpointurl'),
      region: value('region'),
      profile: value('profile'),
      accessKeyId: value('access_key_id'),
      secretAccessKey: value('secret_access_key'),
      sessionToken: value('session_token'),
      useSsl: booleanValue(config, 'use_ssl'),
      sslVerify: booleanValue(config, 'ssl_verify'),
      jobs: n,
    });
  }
  return { name: config.name, config, store, jobs: n };
}
