import type { Config } from './config.js';
import type { ServiceResolver } from './resolve-service.js';
import type { CredentialProvider } from '../services/principal.js';
import type { MetadataStore } from '../storage/metadata.js';
import type { FileBlobStore } from '../storage/blobs.js';

/** The long-lived parts every request can reach. */
export interface Runtime {
  config: Config;
  version: string;
  services: ServiceResolver;
  credentials: CredentialProvider;
  store: MetadataStore;
  blobs: FileBlobStore;
}
