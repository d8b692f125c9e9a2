import type { Config } from './config.js';
import type { ServiceResolver } from './resolve-service.js';
import type { CredentialProvider } from '../services/principal.js';
import type { MetadataStore } from '../storage/metadata.js';
import type { FileBlobStore } from '../storage/blobs.js';
import type { IamAccounts } from '../services/iam/state.js';

/** The long-lived parts every request can reach. */
export interface Runtime {
  config: Config;
  version: string;
  services: ServiceResolver;
  credentials: CredentialProvider;
  /** Every account's IAM entities in memory (also the credential provider). */
  iam: IamAccounts;
  store: MetadataStore;
  /** Nimbus's own URL on loopback (what functions get as AWS_ENDPOINT_URL); set once listening. */
  url: string;
  blobs: FileBlobStore;
}
